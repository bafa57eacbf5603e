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
    from conftest import ArtifactFactory, LayoutFactory

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
needs_cdk = pytest.mark.skipif(
    not CDK.exists(), reason="node_modules/ is missing: run `npm ci` first"
)


def cdk_synth(
    outdir: Path, context: dict[str, str], extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``npx cdk synth`` from the repository root, offline and without credentials."""
    env = {
        # No AWS credentials or profile: synth must not need them.
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        # The app imports this working tree's coldbrew, whatever is installed.
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "src")]),
        **(extra_env or {}),
    }
    args = [arg for key, value in context.items() for arg in ("-c", f"{key}={value}")]
    return subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "--quiet", *args, "-o", str(outdir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@needs_cdk
def test_cdk_synth_writes_the_stack_template(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    artifact = artifact_factory()
    outdir = tmp_path / "cdk.out"
    result = cdk_synth(outdir, {"coldbrew:artifact": str(artifact), "coldbrew:memory": "512"})
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


@needs_cdk
def test_cdk_synth_of_an_image_needs_no_docker(
    tmp_path: Path, layout_factory: LayoutFactory
) -> None:
    # A docker that records being called, first on PATH and named by CDK_DOCKER
    # (which CDK uses instead of `docker`): synth must never run it.
    calls = tmp_path / "docker-calls"
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 1\n')
    fake.chmod(0o755)
    outdir = tmp_path / "cdk.out"
    result = cdk_synth(
        outdir,
        {
            "coldbrew:artifact": str(layout_factory("image")),
            "coldbrew:cold_start": "provisioned",
            "coldbrew:target_utilization": "0.7",
        },
        {"CDK_DOCKER": str(fake), "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stderr
    assert not calls.exists(), calls.read_text()
    template = json.loads((outdir / "coldbrew-minilm.template.json").read_text())
    kinds = {r["Type"]: r for r in template["Resources"].values()}
    assert kinds["AWS::Lambda::Function"]["Properties"]["PackageType"] == "Image"
    assert "AWS::ApplicationAutoScaling::ScalingPolicy" in kinds
    assets = json.loads((outdir / "coldbrew-minilm.assets.json").read_text())
    (image,) = assets["dockerImages"].values()
    assert image["source"]["platform"] == "linux/arm64"
