"""Fixtures for the CDK synth tests.

Each stack is synthesized once per test session: the first synthesis starts
Node and costs seconds, later ones a fraction of a second. Artifacts are tiny
and made here, never the real model build: a bare zip, or one of the three
layouts written by the builder's own :func:`~coldbrew.artifact.layouts.write_layout`
from a four-file task root, with the report ``coldbrew build`` would write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii prints a banner on every start under Node 20; set before aws_cdk is imported.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO_ROOT = Path(__file__).resolve().parents[2]
# infra/ is an app run as `python -m infra.app` from the repo root, not an
# installed package, so only the repo root makes it importable.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from coldbrew.artifact.layout_choice import LayoutChoice  # noqa: E402
from coldbrew.artifact.layouts import write_layout  # noqa: E402
from coldbrew.artifact.report import BuildReport, report_path  # noqa: E402
from coldbrew.artifact.target import Target  # noqa: E402
from coldbrew.capacity.schedule import Schedule, ScheduleBlock, cron_at, write_schedule  # noqa: E402
from infra.app import build_app  # noqa: E402
from infra.stacks import ColdbrewStack  # noqa: E402

HANDLER_SOURCE = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"
#: cfn-lint checks these regions: one where everything exists, one where not all might.
LINT_REGIONS = ("us-east-1", "eu-west-1")
#: W3005 (DependsOn already implied by a GetAtt) is how CDK orders a function
#: after its role's policy; it is redundant, not wrong.
LINT_IGNORED = ("W3005",)
#: The schedule fixture's blocks: (start, end, level).
SCHEDULE_BLOCKS = (("00:00", "08:00", 1), ("08:00", "20:00", 4), ("20:00", "24:00", 2))


#: What a build report must say for infra to deploy a zip: its python and arch.
TINY_REPORT = {"python": "3.12", "arch": "x86_64"}


def make_artifact(
    directory: Path,
    name: str = "tiny-py312-x86_64.zip",
    report: Mapping[str, Any] | None = TINY_REPORT,
) -> Path:
    """A minimal artifact zip and its build report (``None``: no report) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    artifact = directory / name
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("lambda_function.py", HANDLER_SOURCE)
    if report is not None:
        report_path(artifact).write_text(json.dumps(report), encoding="utf-8")
    return artifact


def make_layout(
    directory: Path, layout: str, *, python: str = "3.12", arch: str = "arm64", name: str = ""
) -> Path:
    """Write ``layout`` of a tiny task root as ``coldbrew build`` does; return the report path.

    The task root has what the layer layout splits on: the handler, the
    ``coldbrew`` package and ``model/`` stay in the function, everything else
    (here one package, ``tinydep``) goes to the layer.
    """
    target = Target(python, arch)
    name = name or f"tiny-{layout}-{target.slug}"
    stage = directory / f".stage-{name}"
    for relative, text in {
        "lambda_function.py": HANDLER_SOURCE,
        "coldbrew/__init__.py": "",
        "model/model.txt": "weights\n",
        "tinydep/__init__.py": "VALUE = 1\n",
    }.items():
        (stage / relative).parent.mkdir(parents=True, exist_ok=True)
        (stage / relative).write_text(text, encoding="utf-8")
    result = write_layout(layout, stage, directory, name, target)
    report = BuildReport(
        artifact=str(result.artifact),
        sha256=result.parts[0].sha256,
        model="tiny",
        python=python,
        arch=arch,
        handler="aws",
        rules="none",
        bytecode=result.parts[0].bytecode,
        zipped_bytes=result.zipped_bytes,
        unzipped_bytes=result.unzipped_bytes,
        files=sum(part.files for part in result.parts),
        layout=LayoutChoice(result.layout, "forced by the test", requested=result.layout).to_json(),
        artifacts=result.to_json(),
    )
    path = report_path(directory / f"{name}.zip")
    report.write(path)
    return path


def make_schedule(
    path: Path, *, function: str = "embed", alias: str = "live", memory_mb: int = 1024
) -> Path:
    """A ``coldbrew tune`` schedule file with :data:`SCHEDULE_BLOCKS`, written by its writer."""
    blocks = tuple(
        ScheduleBlock(
            start=start,
            end=end,
            min_capacity=level,
            max_capacity=level,
            cron=cron_at(start),
            gcf_min_instance_count=level,
        )
        for start, end, level in SCHEDULE_BLOCKS
    )
    schedule = Schedule(
        function=function, alias=alias, block_minutes=60, memory_mb=memory_mb, blocks=blocks
    )
    return write_schedule(schedule, path)


def cdk_json_context() -> dict[str, Any]:
    """The context in the repo's cdk.json, so tests synthesize what the CLI does."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


@pytest.fixture(scope="session")
def cdk_json() -> dict[str, Any]:
    """The context block of the repo's cdk.json."""
    return cdk_json_context()


@dataclass(frozen=True)
class Synth:
    """One synthesized app: its stack, template and cloud assembly directory."""

    app: App
    stack: ColdbrewStack
    template: Template
    artifact: Path
    outdir: Path

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack.artifact_id}.template.json"

    def resources(self, type_: str) -> dict[str, Any]:
        found: dict[str, Any] = dict(self.template.find_resources(type_))
        return found

    def only(self, type_: str) -> tuple[str, dict[str, Any]]:
        """The logical id and body of the one resource of ``type_``."""
        found = self.resources(type_)
        assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
        return next(iter(found.items()))

    def function(self) -> dict[str, Any]:
        """The properties of the one Lambda function."""
        _, function = self.only("AWS::Lambda::Function")
        props: dict[str, Any] = function["Properties"]
        return props

    def nag_conclusions(self) -> dict[str, str]:
        report = json.loads((self.outdir / "validation-report.json").read_text())
        return {r["pluginName"]: r["conclusion"] for r in report["pluginReports"]}


def synthesize(outdir: Path, artifact: Path, **context: Any) -> Synth:
    """Build the app in-process with cdk.json's context plus ``context`` and synth it."""
    full = {**cdk_json_context(), "coldbrew:artifact": str(artifact), **context}
    app, stack = build_app(full, outdir=str(outdir))
    # from_stack synthesizes the whole app, cdk-nag validation included.
    template = Template.from_stack(stack)
    return Synth(app=app, stack=stack, template=template, artifact=artifact, outdir=outdir)


def cfn_lint(templates: Iterable[Path]) -> dict[Path, list[str]]:
    """cfn-lint's findings per template, from ONE cfn-lint process for all of them.

    Starting cfn-lint (loading its schemas and rules) costs about a second;
    each further template costs a fraction of that.
    """
    paths = [str(p) for p in templates]
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--format",
            "json",
            "--regions",
            *LINT_REGIONS,
            "--ignore-checks",
            *LINT_IGNORED,
            "--",
            *paths,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # 0: clean; 2, 4, 8 (or their sum): errors, warnings, informational found.
    assert result.returncode in range(16), result.stderr
    findings: dict[Path, list[str]] = {Path(p): [] for p in paths}
    for match in json.loads(result.stdout or "[]"):
        rule = match["Rule"]["Id"]
        where = match["Location"]["Path"]
        findings[Path(match["Filename"])].append(f"{rule} at {where}: {match['Message']}")
    return findings


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """cdk.json's defaults, an artifact whose report says python3.12 on x86_64."""
    root = tmp_path_factory.mktemp("default")
    return synthesize(root / "cdk.out", make_artifact(root / "dist"))


@pytest.fixture(scope="session")
def custom_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Every function setting overridden from context, as ``-c`` passes them: as text."""
    root = tmp_path_factory.mktemp("custom")
    return synthesize(
        root / "cdk.out",
        make_artifact(root / "dist", "tiny-py313-arm64.zip", report=None),
        **{
            "coldbrew:arch": "arm64",
            "coldbrew:python": "3.13",
            "coldbrew:memory": "2048",
            "coldbrew:timeout": "120",
            "coldbrew:ephemeral_storage": "4096",
            "coldbrew:intra_op_threads": "2",
            "coldbrew:reserved_concurrency": "25",
            "coldbrew:auth": "NONE",
            "coldbrew:cors_origins": "https://app.example.com,http://localhost:8080",
            "coldbrew:cors_methods": "POST",
            "coldbrew:function_name": "coldbrew-test-fn",
            "coldbrew:stack_name": "coldbrew-custom",
            "coldbrew:log_retention_days": "30",
            "coldbrew:p99_duration_ms": "2500",
            "coldbrew:alarm_email": "ops@example.com",
            "coldbrew:monthly_budget_usd": "12.5",
            "coldbrew:budget_thresholds": "80,100",
            "coldbrew:budget_email": "billing@example.com",
        },
    )


@pytest.fixture(scope="session")
def report_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Python and architecture taken from the build report, not from context."""
    root = tmp_path_factory.mktemp("report")
    artifact = make_artifact(root / "dist", "tiny.zip", report={"python": "3.13", "arch": "arm64"})
    return synthesize(root / "cdk.out", artifact)


@pytest.fixture(scope="session")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One build report per layout (python3.12, arm64), written once per session."""
    dist = tmp_path_factory.mktemp("layouts") / "dist"
    return {layout: make_layout(dist, layout) for layout in ("zip", "layer", "image")}


@pytest.fixture(scope="session")
def schedule_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A schedule file as ``coldbrew tune`` writes it, for alias live at 1024 MB."""
    return make_schedule(tmp_path_factory.mktemp("schedule") / "schedule.json")


ArtifactFactory = Callable[..., Path]


@pytest.fixture
def artifact_factory(tmp_path: Path) -> ArtifactFactory:
    """``make(name=..., report=...)``: a tiny artifact in this test's ``tmp_path/dist``."""

    def make(
        name: str = "tiny-py312-x86_64.zip", report: Mapping[str, Any] | None = TINY_REPORT
    ) -> Path:
        return make_artifact(tmp_path / "dist", name, report)

    return make


#: The matrix's layouts and cold-start strategies, and the context each strategy adds.
LAYOUTS = ("zip", "layer", "image")
COLD_STARTS = ("none", "snapstart", "provisioned-schedule", "provisioned-target")
TARGET_UTILIZATION = 0.7
TARGET_MIN, TARGET_MAX = 2, 20
#: AWS refuses SnapStart on container images: that cell is a ConfigurationError, not a stack.
REFUSED = frozenset({("image", "snapstart")})


def cold_start_context(cold_start: str, schedule: Path) -> dict[str, Any]:
    """The ``coldbrew:`` keys that select ``cold_start``."""
    contexts: dict[str, dict[str, Any]] = {
        "none": {},
        "snapstart": {"coldbrew:cold_start": "snapstart"},
        "provisioned-schedule": {
            "coldbrew:cold_start": "provisioned",
            "coldbrew:schedule": str(schedule),
        },
        "provisioned-target": {
            "coldbrew:cold_start": "provisioned",
            "coldbrew:target_utilization": TARGET_UTILIZATION,
            "coldbrew:provisioned_min": TARGET_MIN,
            "coldbrew:provisioned_max": TARGET_MAX,
        },
    }
    return contexts[cold_start]


class Matrix:
    """Every (layout, cold start, async) stack, each synthesized once, on first use."""

    def __init__(self, root: Path, layouts: Mapping[str, Path], schedule: Path) -> None:
        self.root = root
        self.layouts = layouts
        self.schedule = schedule
        self._synths: dict[tuple[str, str, bool], Synth] = {}

    @staticmethod
    def cells() -> list[tuple[str, str, bool]]:
        """Every combination that must synthesize (the refused ones excluded)."""
        return [
            (layout, cold_start, with_async)
            for layout in LAYOUTS
            for cold_start in COLD_STARTS
            for with_async in (False, True)
            if (layout, cold_start) not in REFUSED
        ]

    def context(self, cold_start: str, with_async: bool) -> dict[str, Any]:
        return {
            **cold_start_context(cold_start, self.schedule),
            **({"coldbrew:async": True} if with_async else {}),
        }

    def get(self, layout: str, cold_start: str, with_async: bool) -> Synth:
        key = (layout, cold_start, with_async)
        if key not in self._synths:
            outdir = self.root / f"{layout}-{cold_start}-{'async' if with_async else 'sync'}"
            self._synths[key] = synthesize(
                outdir, self.layouts[layout], **self.context(cold_start, with_async)
            )
        return self._synths[key]


@pytest.fixture(scope="session")
def matrix(
    tmp_path_factory: pytest.TempPathFactory, layouts: dict[str, Path], schedule_file: Path
) -> Matrix:
    """The synth matrix, shared by every test of the session."""
    return Matrix(tmp_path_factory.mktemp("matrix"), layouts, schedule_file)


ScheduleFactory = Callable[..., Path]
LayoutFactory = Callable[..., Path]


@pytest.fixture
def schedule_factory(tmp_path: Path) -> ScheduleFactory:
    """``make(name=..., function=..., alias=..., memory_mb=...)``: a schedule in ``tmp_path``."""

    def make(name: str = "schedule.json", **kwargs: Any) -> Path:
        return make_schedule(tmp_path / name, **kwargs)

    return make


@pytest.fixture
def layout_factory(tmp_path: Path) -> LayoutFactory:
    """``make(layout, python=..., arch=..., name=...)``: a layout's report in ``tmp_path/dist``."""

    def make(layout: str, **kwargs: Any) -> Path:
        return make_layout(tmp_path / "dist", layout, **kwargs)

    return make


SynthFactory = Callable[..., Synth]
Linter = Callable[[Iterable[Path]], dict[Path, list[str]]]


@pytest.fixture
def synth_factory(tmp_path: Path) -> SynthFactory:
    """``synth(artifact, **context)``: the app synthesized into ``tmp_path``, for one test."""
    count = 0

    def synth(artifact: Path, **context: Any) -> Synth:
        nonlocal count
        count += 1
        return synthesize(tmp_path / f"cdk.out.{count}", artifact, **context)

    return synth


@pytest.fixture(scope="session")
def lint() -> Linter:
    """:func:`cfn_lint`: one cfn-lint process for every template given."""
    return cfn_lint
