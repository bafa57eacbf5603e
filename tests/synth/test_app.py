"""The ``python -m infra.app`` entry point, run as the CDK CLI runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
        "`coldbrew build`, or point coldbrew:artifact at an existing zip\n"
    )
    assert not list(tmp_path.glob("cdk.out/*.template.json"))
