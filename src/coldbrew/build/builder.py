"""Build an artifact: resolve -> sources -> rules -> bytecode -> zip -> report.

The builder stages the task root in a temporary directory beside the cache
(so wheels can be hard-linked, not copied), plans removals before making
them, and writes the zip and its JSON report into the output directory.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import coldbrew
from coldbrew.build.archive import write_zip
from coldbrew.build.bytecode import BytecodeResult, compile_tree
from coldbrew.build.inventory import Inventory, take_inventory
from coldbrew.build.limits import check_limits
from coldbrew.build.plan import plan_removals
from coldbrew.build.report import BuildReport, PackageSize, RemovedFor, StepSize, report_path
from coldbrew.build.resolve import install_requirements, link_tree
from coldbrew.build.rules import Rules, load_rules, matches
from coldbrew.build.target import Target
from coldbrew.errors import BuildError, ConfigurationError

HANDLERS = {"aws": Path("handlers/aws/lambda_function.py")}
MODEL_DIR_IN_ARTIFACT = "model"


@dataclass(frozen=True)
class BuildOptions:
    """Everything one build needs, decided at the CLI edge."""

    model: str
    project_dir: Path
    out_dir: Path
    cache_dir: Path
    target: Target = field(default_factory=Target)
    handler: str = "aws"
    rules_file: Path | None = None
    via_s3: bool = False
    #: False builds the unslimmed baseline: the same sources over a raw
    #: ``pip install --target``, with no rules, no pruning and no bytecode.
    slim: bool = True

    @property
    def artifact_path(self) -> Path:
        """``dist/minilm-l6-v2-py312-x86_64.zip``."""
        return self.out_dir / f"{self.model}-{self.target.slug}.zip"

    def resolved_rules_file(self) -> Path:
        """The rules file: explicit, else ``packaging/aws-lambda.toml`` in the project."""
        return self.rules_file or self.project_dir / "packaging" / "aws-lambda.toml"


Progress = Callable[[str], None]


def _verified_model_dir(options: BuildOptions) -> Path:
    model_dir = options.project_dir / "models" / options.model / "dist"
    manifest_path = model_dir / "manifest.json"
    if not manifest_path.is_file():
        raise BuildError(
            f"model {options.model!r} is not built ({manifest_path} is missing): "
            f"run `coldbrew model build {options.model}` first"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name, meta in manifest.get("files", {}).items():
        path = model_dir / name
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
        if digest != meta.get("sha256"):
            raise BuildError(
                f"{path} does not match its manifest ({digest[:12]} != "
                f"{str(meta.get('sha256'))[:12]}): rebuild with "
                f"`coldbrew model build {options.model} --force`"
            )
    return model_dir


def _copy_sources(options: BuildOptions, rules: Rules, stage: Path, model_dir: Path) -> None:
    handler = HANDLERS.get(options.handler)
    if handler is None:
        raise ConfigurationError(
            f"unknown handler {options.handler!r}; known: {', '.join(sorted(HANDLERS))}"
        )
    shutil.copyfile(options.project_dir / handler, stage / handler.name)
    package = Path(coldbrew.__file__).parent
    for source in sorted(package.rglob("*.py")):
        relative = source.relative_to(package).as_posix()
        if matches(relative, rules.ship):
            dest = stage / "coldbrew" / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    shutil.copytree(model_dir, stage / MODEL_DIR_IN_ARTIFACT)


def _remove_empty_dirs(root: Path) -> None:
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def _package_sizes(before: Inventory, after: Inventory) -> list[PackageSize]:
    old = before.sizes_by_package()
    new = after.sizes_by_package()
    return [
        PackageSize(name, *old.get(name, (0, 0)), *new.get(name, (0, 0)))
        for name in sorted(set(old) | set(new))
    ]


def build_artifact(options: BuildOptions, progress: Progress | None = None) -> BuildReport:
    """Build the artifact described by ``options``; returns the report (also written)."""
    say = progress or (lambda _message: None)
    rules = load_rules(options.resolved_rules_file())
    model_dir = _verified_model_dir(options)
    steps: list[StepSize] = []
    (options.cache_dir / "tmp").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-", dir=options.cache_dir / "tmp") as tmp:
        stage = Path(tmp) / "task"
        clock = time.perf_counter()

        def step_done(name: str) -> Inventory:
            nonlocal clock
            inventory = take_inventory(stage)
            now = time.perf_counter()
            steps.append(
                StepSize(name, len(inventory.sizes), sum(inventory.sizes.values()), now - clock)
            )
            clock = now
            return inventory

        say(f"resolving {', '.join(rules.requirements)} for {options.target.slug}")
        site = install_requirements(rules.requirements, options.target, options.cache_dir)
        link_tree(site, stage)
        step_done("resolve wheels")
        say("adding handler, coldbrew runtime and model")
        _copy_sources(options, rules, stage, model_dir)
        before = step_done("add sources and model")
        if options.slim:
            say(f"applying rules from {rules.source.name}")
            plan = plan_removals(before.sizes, before.owners, rules)
            for removal in plan.removals:
                (stage / removal.path).unlink()
            _remove_empty_dirs(stage)
            step_done("apply rules")
            say(f"compiling bytecode for Python {options.target.python}")
            bytecode = compile_tree(stage, options.target.python)
            final = step_done("bytecode")
        else:
            plan = plan_removals({}, {}, rules)
            bytecode = BytecodeResult(False, "not compiled: unslimmed baseline build")
            final = before
        say("writing reproducible zip")
        archive = write_zip(stage, options.artifact_path)
    after = Inventory(final.sizes, before.owners)
    report = BuildReport(
        artifact=str(archive.path),
        sha256=archive.sha256,
        model=options.model,
        python=options.target.python,
        arch=options.target.arch,
        handler=options.handler,
        rules=str(rules.source),
        bytecode=bytecode.detail,
        zipped_bytes=archive.zipped_bytes,
        unzipped_bytes=archive.unzipped_bytes,
        files=archive.files,
        steps=steps,
        packages=_package_sizes(before, after),
        removed=[RemovedFor(r, n, b) for r, (n, b) in sorted(plan.bytes_by_reason().items())],
        requirements=list(rules.requirements),
    )
    report.write(report_path(archive.path))
    try:
        check_limits(archive.zipped_bytes, archive.unzipped_bytes, via_s3=options.via_s3)
    except BuildError:
        archive.path.unlink()  # never leave an undeployable artifact where deploys look
        raise
    return report
