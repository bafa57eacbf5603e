"""``coldbrew build``: the slimming builder."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from coldbrew.artifact.layout_choice import REQUESTS
from coldbrew.artifact.packaging_targets import AWS_LAMBDA, GCF, PLATFORM_NAMES, packaging_target
from coldbrew.artifact.target import ARCHES, PYTHONS, Target
from coldbrew.cli.options import cache_dir_option, option


@click.command("build")
@option(
    "--platform",
    env="PLATFORM",
    default="aws-lambda",
    show_default=True,
    metavar="|".join(PLATFORM_NAMES),
    help="Where the artifact deploys: aws-lambda (a Lambda zip, layer or image) or gcf "
    f"(a Google Cloud Functions 2nd gen source archive: Python {', '.join(GCF.limits.pythons)}; "
    f"{', '.join(GCF.limits.arches)}).",
)
@option(
    "--model",
    env="MODEL",
    default="minilm-l6-v2",
    show_default=True,
    help="Model recipe name (built with `coldbrew model build`).",
)
@option(
    "--python",
    "python",
    env="PYTHON",
    default="3.12",
    show_default=True,
    metavar="|".join(PYTHONS),
    help=f"Target Python (Lambda: {', '.join(AWS_LAMBDA.limits.pythons)}; "
    f"Cloud Functions: {', '.join(GCF.limits.pythons)}).",
)
@option(
    "--arch",
    env="ARCH",
    metavar="|".join(ARCHES),
    default="x86_64",
    show_default=True,
    help=f"Target CPU architecture (Cloud Functions: {', '.join(GCF.limits.arches)}).",
)
@option(
    "--out",
    "out_dir",
    env="OUT_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Where the zip and its .report.json go.",
)
@option(
    "--project-dir",
    env="PROJECT_DIR",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Holds handlers/, models/ and packaging/.",
)
@option(
    "--rules",
    "rules_file",
    env="RULES",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Slimming rules [default: packaging/aws-lambda.toml, or packaging/gcf.toml].",
)
@option(
    "--via-s3",
    env="VIA_S3",
    is_flag=True,
    help="Allow a zip over 50 MB (deployed through S3, as `cdk deploy` does).",
)
@option(
    "--prune/--no-prune",
    env="PRUNE",
    default=True,
    show_default=True,
    help="Remove files a traced smoke invocation never touched "
    "(shipped only if verification passes).",
)
@option(
    "--strip/--no-strip",
    env="STRIP",
    default=True,
    show_default=True,
    help="Strip shared libraries, except auditwheel's (shipped only if verification passes).",
)
@option(
    "--layout",
    env="LAYOUT",
    type=click.Choice(REQUESTS),
    default="auto",
    show_default=True,
    help="zip, layer (dependencies as a Lambda layer + a small function zip), "
    "image (a container image recipe), or auto: the first that fits Lambda's limits. "
    "Cloud Functions: zip only.",
)
@cache_dir_option
def command(
    platform: str,
    model: str,
    python: str,
    arch: str,
    out_dir: Path,
    project_dir: Path,
    rules_file: Path | None,
    via_s3: bool,
    prune: bool,
    strip: bool,
    layout: str,
    cache_dir: Path,
) -> None:
    """Build a slim, reproducible artifact for MODEL: for AWS Lambda, or Cloud Functions.

    Resolves wheels for the target (never the host), applies the slimming
    rules, precompiles bytecode with the target interpreter and writes a
    reproducible zip with a size report beside it.
    """
    from rich.console import Console

    from coldbrew.artifact.builder import BuildOptions, build_artifact
    from coldbrew.artifact.report import MB, render, report_path

    # Checked before anything else, in one line naming the values the platform takes.
    packaging_target(platform).check(python, arch, layout)
    _check_model_is_known(project_dir, model)
    console = Console(stderr=True)
    options = BuildOptions(
        model=model,
        project_dir=project_dir,
        out_dir=out_dir,
        cache_dir=cache_dir,
        target=Target(python, arch),
        platform=platform,
        rules_file=rules_file,
        via_s3=via_s3,
        prune=prune,
        strip=strip,
        layout=layout,
    )
    with console.status("building") as status:
        report = build_artifact(options, progress=status.update)
    if report.cached:
        console.print("unchanged inputs: reusing the artifact built from them")
    else:
        console.print(render(report))
    console.print(f"platform: {packaging_target(report.platform).limits.name}")
    console.print(f"bytecode: {report.bytecode}")
    if report.stripped:
        saved = sum(before - after for _, before, after in report.stripped)
        console.print(f"strip: {len(report.stripped)} libraries, {saved / MB:.1f} MB saved")
    console.print(f"verification: {report.verification}")
    if report.accuracy:
        console.print(f"accuracy: {report.accuracy}")
    if report.layout:
        console.print(f"layout: {report.layout.get('layout')}: {report.layout.get('reason')}")
    for part in report.artifacts.get("parts", [])[1:]:
        console.print(f"also written: {part['path']} ({part['role']})")
    console.print(
        f"[bold]{report.artifact}[/]  {report.zipped_bytes / MB:.1f} MB zipped, "
        f"{report.unzipped_bytes / MB:.1f} MB unzipped, sha256 {report.sha256}"
    )
    console.print(f"report: {report_path(Path(report.artifact))}")


def _check_model_is_known(project_dir: Path, model: str) -> None:
    """Refuse a model with neither a recipe nor a build, naming the recipes there are
    and a command that works (``coldbrew model build`` on an unknown name would not)."""
    from coldbrew.errors import ModelError
    from coldbrew.models.recipe import RECIPE_FILE, list_recipes

    models_dir = project_dir / "models"
    model_dir = models_dir / model
    if (model_dir / RECIPE_FILE).is_file() or (model_dir / "dist" / "manifest.json").is_file():
        return
    recipes = list_recipes(models_dir)
    if not recipes:
        raise ModelError(
            f"unknown model {model!r}, and {models_dir} holds no recipes: "
            f"add one as {models_dir}/<name>/{RECIPE_FILE}, or pass --project-dir"
        )
    known = recipes[0]
    built = (models_dir / known / "dist" / "manifest.json").is_file()
    # The first step that works: build the artifact if the model is built, else the model.
    if built:
        next_step = f"coldbrew build --model {known}"
        elsewhere = f" --project-dir {shlex.quote(str(project_dir))}"
    else:
        next_step = f"coldbrew model build {known}"
        elsewhere = f" --models-dir {shlex.quote(str(models_dir))}"
    if project_dir.resolve() != Path.cwd().resolve():
        next_step += elsewhere
    raise ModelError(
        f"unknown model {model!r}; recipes in {models_dir}: {', '.join(recipes)}: run `{next_step}`"
    )
