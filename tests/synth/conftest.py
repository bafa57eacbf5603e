"""Fixtures for the CDK synth tests.

Each stack is synthesized once per test session: the first synthesis starts
Node and costs seconds, later ones a fraction of a second. The artifact is a
tiny zip made here, never the real model build.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Callable, Mapping
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

from coldbrew.build.report import report_path  # noqa: E402
from infra.app import build_app  # noqa: E402
from infra.stacks import ColdbrewStack  # noqa: E402

HANDLER_SOURCE = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


def make_artifact(
    directory: Path, name: str = "tiny-py312-x86_64.zip", report: Mapping[str, Any] | None = None
) -> Path:
    """A minimal artifact zip (and, if given, its build report) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    artifact = directory / name
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("lambda_function.py", HANDLER_SOURCE)
    if report is not None:
        report_path(artifact).write_text(json.dumps(report), encoding="utf-8")
    return artifact


@pytest.fixture(scope="session")
def cdk_json() -> dict[str, Any]:
    """The context block of the repo's cdk.json."""
    return cdk_json_context()


def cdk_json_context() -> dict[str, Any]:
    """The context in the repo's cdk.json, so tests synthesize what the CLI does."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


@dataclass(frozen=True)
class Synth:
    """One synthesized app: its stack, template and cloud assembly directory."""

    app: App
    stack: ColdbrewStack
    template: Template
    artifact: Path
    outdir: Path

    def resources(self, type_: str) -> dict[str, Any]:
        found: dict[str, Any] = self.template.find_resources(type_)
        return found

    def only(self, type_: str) -> tuple[str, dict[str, Any]]:
        """The logical id and body of the one resource of ``type_``."""
        found = self.resources(type_)
        assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
        return next(iter(found.items()))


def synthesize(outdir: Path, artifact: Path, **context: Any) -> Synth:
    """Build the app in-process with cdk.json's context plus ``context`` and synth it."""
    full = {**cdk_json_context(), "coldbrew:artifact": str(artifact), **context}
    app, stack = build_app(full, outdir=str(outdir))
    # from_stack synthesizes the whole app, cdk-nag validation included.
    template = Template.from_stack(stack)
    return Synth(app=app, stack=stack, template=template, artifact=artifact, outdir=outdir)


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """cdk.json's defaults, an artifact without a build report."""
    root = tmp_path_factory.mktemp("default")
    return synthesize(root / "cdk.out", make_artifact(root / "dist"))


@pytest.fixture(scope="session")
def custom_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Every setting overridden from context, as ``-c`` passes them: as text."""
    root = tmp_path_factory.mktemp("custom")
    return synthesize(
        root / "cdk.out",
        make_artifact(root / "dist", "tiny-py313-arm64.zip"),
        **{
            "coldbrew:arch": "arm64",
            "coldbrew:python": "3.13",
            "coldbrew:memory": "2048",
            "coldbrew:timeout": "120",
            "coldbrew:auth": "NONE",
            "coldbrew:function_name": "coldbrew-test-fn",
            "coldbrew:stack_name": "coldbrew-custom",
            "coldbrew:log_retention_days": "30",
        },
    )


@pytest.fixture(scope="session")
def report_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Python and architecture taken from the build report, not from context."""
    root = tmp_path_factory.mktemp("report")
    artifact = make_artifact(root / "dist", "tiny.zip", report={"python": "3.13", "arch": "arm64"})
    return synthesize(root / "cdk.out", artifact)


ArtifactFactory = Callable[..., Path]


@pytest.fixture
def artifact_factory(tmp_path: Path) -> ArtifactFactory:
    """``make(name=..., report=...)``: a tiny artifact in this test's ``tmp_path/dist``."""

    def make(name: str = "tiny-py312-x86_64.zip", report: Mapping[str, Any] | None = None) -> Path:
        return make_artifact(tmp_path / "dist", name, report)

    return make
