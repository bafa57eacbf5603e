"""Build an artifact: resolve -> sources -> rules -> bytecode -> zip -> report.

For AWS Lambda (a task root zip, or its layer and image layouts) or Google
Cloud Functions (a source archive): :mod:`coldbrew.artifact.packaging_targets`
says what differs between them.

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
from dataclasses import dataclass, field, replace
from pathlib import Path

import coldbrew
from coldbrew.artifact.bytecode import BytecodeResult, compile_tree
from coldbrew.artifact.inputs import inputs_key, reusable_report
from coldbrew.artifact.inventory import Inventory, take_inventory
from coldbrew.artifact.layout_choice import LayoutChoice
from coldbrew.artifact.layouts import (
    LayoutResult,
    target_compiler,
    write_chosen_layout,
    write_source_zip,
)
from coldbrew.artifact.packaging_targets import (
    GCF_FUNCTION_TARGET,
    PackagingTarget,
    packaging_target,
)
from coldbrew.artifact.plan import Plan, plan_removals
from coldbrew.artifact.report import BuildReport, PackageSize, RemovedFor, StepSize, report_path
from coldbrew.artifact.resolve import install_requirements, link_tree
from coldbrew.artifact.rules import Rules, load_rules, matches
from coldbrew.artifact.slimming import SlimOutcome, slim_and_verify
from coldbrew.artifact.target import Target
from coldbrew.artifact.trace import FunctionsFramework
from coldbrew.emulate.gcf_runtime import ensure_gcf_runtime
from coldbrew.errors import BuildError, InterpreterNotFoundError
from coldbrew.interpreters import Interpreter, find_interpreter

MODEL_DIR_IN_ARTIFACT = "model"
GATE_FILE = "gate.json"


@dataclass(frozen=True)
class BuildOptions:
    """Everything one build needs, decided at the CLI edge."""

    model: str
    project_dir: Path
    out_dir: Path
    cache_dir: Path
    target: Target = field(default_factory=Target)
    #: ``aws-lambda`` or ``gcf`` (:data:`coldbrew.artifact.packaging_targets.PLATFORM_NAMES`).
    platform: str = "aws-lambda"
    rules_file: Path | None = None
    via_s3: bool = False
    #: False builds the unslimmed baseline: the same sources over a raw
    #: ``pip install --target``, with no rules, no pruning and no bytecode.
    slim: bool = True
    #: Remove what a traced smoke invocation never touched (verified, or not shipped).
    prune: bool = True
    #: ``strip --strip-unneeded`` shared libraries (verified, or not shipped).
    strip: bool = True
    #: ``auto`` picks zip, layer + zip, or a container image recipe by Lambda's limits.
    layout: str = "auto"

    @property
    def packaging(self) -> PackagingTarget:
        """What the platform's artifact looks like (an error naming the platforms if unknown)."""
        return packaging_target(self.platform)

    @property
    def artifact_path(self) -> Path:
        """``dist/minilm-l6-v2-py312-x86_64.zip``; ``dist/minilm-l6-v2-gcf-py312-x86_64.zip``."""
        return self.out_dir / f"{self.model}-{self.packaging.name_prefix}{self.target.slug}.zip"

    def resolved_rules_file(self) -> Path:
        """The rules file: explicit, else the platform's in the project's ``packaging/``."""
        return self.rules_file or self.project_dir / "packaging" / self.packaging.rules_file


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


def _entry_point(options: BuildOptions) -> Path:
    entry = options.project_dir / options.packaging.entry_point
    if not entry.is_file():
        raise BuildError(
            f"the {options.platform} entry point {entry} is missing: pass the project that "
            "holds it with --project-dir"
        )
    return entry


def _copy_sources(options: BuildOptions, rules: Rules, stage: Path, model_dir: Path) -> None:
    packaging = options.packaging
    shutil.copyfile(_entry_point(options), stage / packaging.entry_name)
    for name, content in packaging.extra_files.items():
        (stage / name).write_text(content, encoding="utf-8")
    package = Path(coldbrew.__file__).parent
    for source in sorted(package.rglob("*.py")):
        relative = source.relative_to(package).as_posix()
        if matches(relative, rules.ship):
            dest = stage / "coldbrew" / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    # The gate reference stays behind: the builder uses it, the function never does.
    shutil.copytree(
        model_dir, stage / MODEL_DIR_IN_ARTIFACT, ignore=shutil.ignore_patterns(GATE_FILE)
    )


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


def _inputs_key(options: BuildOptions, rules: Rules, model_dir: Path) -> str:
    package = Path(coldbrew.__file__).parent
    shipped = sorted(
        p for p in package.rglob("*.py") if matches(p.relative_to(package).as_posix(), rules.ship)
    )
    try:
        interpreter = find_interpreter(options.target.python).version
    except InterpreterNotFoundError:
        interpreter = "missing"
    settings = {
        "model": options.model,
        "target": options.target.slug,
        "platform": options.platform,
        "extra_files": dict(options.packaging.extra_files),
        "slim": options.slim,
        "layout": options.layout,
        "via_s3": options.via_s3,
        "prune": options.prune,
        "strip": options.strip,
        "interpreter": interpreter,
        "coldbrew": coldbrew.__version__,
    }
    files = [
        *rules.files,
        _entry_point(options),
        model_dir / "manifest.json",
        *shipped,
    ]
    return inputs_key(settings=settings, files=files)


StepDone = Callable[..., Inventory]


def _slim(
    options: BuildOptions,
    rules: Rules,
    stage: Path,
    before: Inventory,
    model_dir: Path,
    say: Progress,
    step_done: StepDone,
) -> tuple[Plan, BytecodeResult, SlimOutcome]:
    """Rules, bytecode, then strip/prune/verify; the unslimmed baseline skips all of it."""
    if not options.slim:
        return (
            Plan(()),
            BytecodeResult(False, "not compiled: unslimmed baseline build"),
            SlimOutcome(stage, verification="not verified: unslimmed baseline build"),
        )
    say(f"applying rules from {rules.source.name}")
    plan = plan_removals(before.sizes, before.owners, rules)
    for removal in plan.removals:
        (stage / removal.path).unlink()
    _remove_empty_dirs(stage)
    step_done("apply rules")
    say(f"compiling bytecode for Python {options.target.python}")
    bytecode = compile_tree(stage, options.target.python)
    step_done("bytecode")
    outcome = slim_and_verify(
        stage,
        stage.parent,
        rules,
        options.target,
        gate_file=model_dir / GATE_FILE,
        prune=options.prune,
        strip=options.strip,
        say=say,
        step_done=step_done,
        framework_for=_framework_for(options, say),
    )
    return Plan(plan.removals + outcome.plan.removals), bytecode, outcome


def _framework_for(
    options: BuildOptions, say: Progress
) -> Callable[[Interpreter], FunctionsFramework] | None:
    """For a Cloud Functions source: how to get functions-framework for the probe."""
    if options.platform != "gcf":
        return None

    def framework(interpreter: Interpreter) -> FunctionsFramework:
        say(f"functions-framework for Python {interpreter.version} (cached after the first build)")
        # The same cached install `coldbrew serve --platform gcf` runs under.
        runtime = ensure_gcf_runtime(
            options.cache_dir, options.target.python, explicit_python=interpreter.path
        )
        entry = options.packaging.entry_name
        return FunctionsFramework(runtime.framework_dir, entry, GCF_FUNCTION_TARGET)

    return framework


def _write(
    options: BuildOptions, root: Path, bytecode: BytecodeResult
) -> tuple[LayoutChoice, LayoutResult]:
    compile = target_compiler(options.target) if bytecode.compiled else None
    name = options.artifact_path.stem
    if options.platform != "aws-lambda":
        code_root = options.packaging.code_root
        return write_source_zip(root, options.out_dir, name, code_root=code_root, compile=compile)
    return write_chosen_layout(
        root,
        options.out_dir,
        name,
        options.target,
        requested=options.layout,
        via_s3=options.via_s3,
        compile=compile,
    )


def build_artifact(options: BuildOptions, progress: Progress | None = None) -> BuildReport:
    """Build the artifact described by ``options``; returns the report (also written).

    An unchanged rebuild (same inputs key, artifact intact) returns the existing
    artifact's report with ``cached=True`` and touches nothing.
    """
    say = progress or (lambda _message: None)
    options.packaging.check(options.target.python, options.target.arch, options.layout)
    rules = load_rules(options.resolved_rules_file())
    model_dir = _verified_model_dir(options)
    key = _inputs_key(options, rules, model_dir)
    reused = reusable_report(options.artifact_path, key)
    if reused is not None:
        return replace(reused, cached=True)
    steps: list[StepSize] = []
    (options.cache_dir / "tmp").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-", dir=options.cache_dir / "tmp") as tmp:
        stage = Path(tmp) / "task"
        clock = time.perf_counter()

        def step_done(name: str, root: Path = stage) -> Inventory:
            nonlocal clock
            inventory = take_inventory(root)
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
        say(f"adding {options.packaging.entry_name}, coldbrew runtime and model")
        _copy_sources(options, rules, stage, model_dir)
        before = step_done("add sources and model")
        plan, bytecode, outcome = _slim(options, rules, stage, before, model_dir, say, step_done)
        final = take_inventory(outcome.root)
        say(f"writing the {options.layout} layout")
        choice, written = _write(options, outcome.root, bytecode)
    after = Inventory(final.sizes, before.owners)
    report = BuildReport(
        artifact=str(written.artifact),
        sha256=written.parts[0].sha256,
        model=options.model,
        python=options.target.python,
        arch=options.target.arch,
        handler=options.packaging.entry_point.parent.name,
        platform=options.platform,
        rules=str(rules.source),
        bytecode=bytecode.detail,
        zipped_bytes=written.zipped_bytes,
        unzipped_bytes=written.unzipped_bytes,
        files=sum(part.files for part in written.parts),
        steps=steps,
        packages=_package_sizes(before, after),
        removed=[RemovedFor(r, n, b) for r, (n, b) in sorted(plan.bytes_by_reason().items())],
        requirements=list(rules.requirements),
        verification=outcome.verification,
        accuracy=outcome.accuracy,
        stripped=outcome.stripped.stripped,
        largest_files=sorted(final.sizes.items(), key=lambda item: (-item[1], item[0]))[:20],
        inputs_key=key,
        layout=choice.to_json(),
        artifacts=written.to_json(),
    )
    report.write(report_path(options.artifact_path))
    return report
