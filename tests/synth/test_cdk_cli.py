"""The real CDK CLI, pinned in package.json, synthesizing the app offline."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Not imported from conftest: with several conftest.py files, `conftest` is ambiguous.
REPO_ROOT = Path(__file__).resolve().parents[2]

if TYPE_CHECKING:
    from conftest import ArtifactFactory

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"


@pytest.mark.skipif(not CDK.exists(), reason="node_modules/ is missing: run `npm ci` first")
def test_cdk_synth_writes_the_stack_template(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    artifact = artifact_factory()
    outdir = tmp_path / "cdk.out"
    env = {
        # No AWS credentials or profile: synth must not need them.
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        # The app imports this working tree's coldbrew, whatever is installed.
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "src")]),
    }
    context = {"coldbrew:artifact": str(artifact), "coldbrew:memory": "512"}
    args = [arg for key, value in context.items() for arg in ("-c", f"{key}={value}")]
    result = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "--quiet", *args, "-o", str(outdir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    template = json.loads((outdir / "coldbrew-minilm.template.json").read_text())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 1
    props = functions[0]["Properties"]
    assert (props["Handler"], props["Runtime"], props["MemorySize"]) == (
        "lambda_function.handler",
        "python3.12",
        512,
    )
    assert set(template["Outputs"]) == {"FunctionUrl", "FunctionName", "AliasArn"}
