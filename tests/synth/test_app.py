"""The ``python -m infra.app`` entry point, run as the CDK CLI runs it, and its cdk-nag plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from infra.app import build_app

if TYPE_CHECKING:
    from conftest import ArtifactFactory

# Not imported from conftest: with several conftest.py files, `conftest` is ambiguous.
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_bad_context_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    # A subprocess, not main() in-process: the app reads CDK_CONTEXT_JSON in
    # the jsii Node process, which is already running with the old environment.
    missing = tmp_path / "missing.zip"
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"coldbrew:artifact": str(missing)}),
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "src")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "infra.app"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"coldbrew infra: coldbrew:artifact: no artifact at {missing}; build it first with "
        "`coldbrew build`, or point coldbrew:artifact at its build report "
        "(NAME.report.json) or zip\n"
    )
    assert not list(tmp_path.glob("cdk.out/*.template.json"))


def test_an_unacknowledged_cdk_nag_finding_fails_the_synthesis(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    # The plugin is what makes every other synthesis a cdk-nag check: prove it
    # is registered by adding a topic that accepts publishing without TLS.
    _, stack = build_app(
        {"coldbrew:artifact": str(artifact_factory())}, outdir=str(tmp_path / "cdk.out")
    )
    sns.Topic(stack, "Plaintext")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        Template.from_stack(stack)
    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    (nag,) = report["pluginReports"]
    assert nag["conclusion"] == "failure"
    assert [v["ruleName"] for v in nag["violations"]] == ["AwsSolutions-SNS3"]
