"""The layer and image layouts in the template and the cloud assembly: the exact built bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coldbrew.artifact.container import context_digest

if TYPE_CHECKING:
    from conftest import LayoutFactory, Matrix, Synth, SynthFactory


def assets(synth: Synth) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(
        (synth.outdir / f"{synth.stack.artifact_id}.assets.json").read_text()
    )
    return manifest


def staged_file(synth: Synth, s3_key: str) -> Path:
    """The file the cloud assembly uploads as ``s3_key``, as it sits in the assembly."""
    sources = [
        asset["source"]
        for asset in assets(synth)["files"].values()
        if any(dest["objectKey"] == s3_key for dest in asset["destinations"].values())
    ]
    assert len(sources) == 1
    assert sources[0]["packaging"] == "file"  # uploaded as-is, not re-zipped
    return synth.outdir / str(sources[0]["path"])


def test_the_layer_layout_attaches_its_layer(matrix: Matrix, layouts: dict[str, Path]) -> None:
    synth = matrix.get("layer", "none", False)
    layer_id, layer = synth.only("AWS::Lambda::LayerVersion")
    assert synth.function()["Layers"] == [{"Ref": layer_id}]
    # The layer's wheels and bytecode fit one runtime and CPU: it says which.
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    name = layouts["layer"].name.removesuffix(".report.json")
    dist = layouts["layer"].parent
    layer_zip = staged_file(synth, layer["Properties"]["Content"]["S3Key"])
    function_zip = staged_file(synth, synth.function()["Code"]["S3Key"])
    assert layer_zip.read_bytes() == (dist / f"{name}-layer.zip").read_bytes()
    assert function_zip.read_bytes() == (dist / f"{name}-function.zip").read_bytes()


def test_the_image_layout_stages_the_build_context_for_the_target_platform(
    matrix: Matrix, layouts: dict[str, Path]
) -> None:
    synth = matrix.get("image", "none", False)
    props = synth.function()
    assert props["PackageType"] == "Image"
    images = assets(synth)["dockerImages"]
    assert len(images) == 1
    (image,) = images.values()
    # Built at deploy time (cdk deploy / cdk-assets), for the function's CPU.
    assert image["source"]["platform"] == "linux/arm64"
    tag = next(iter(image["destinations"].values()))["imageTag"]
    assert tag in json.dumps(props["Code"]["ImageUri"])
    staged = synth.outdir / image["source"]["directory"]
    context = layouts["image"].with_name(
        layouts["image"].name.removesuffix(".report.json") + "-image"
    )
    assert (staged / "Dockerfile").read_text() == (context / "Dockerfile").read_text()
    staged_task = sorted(p.relative_to(staged) for p in (staged / "task").rglob("*") if p.is_file())
    built_task = sorted(
        p.relative_to(context) for p in (context / "task").rglob("*") if p.is_file()
    )
    assert staged_task == built_task
    assert all((staged / p).read_bytes() == (context / p).read_bytes() for p in built_task)


def test_an_x86_image_is_built_for_amd64(
    synth_factory: SynthFactory, layout_factory: LayoutFactory
) -> None:
    report = layout_factory("image", arch="x86_64", python="3.13")
    synth = synth_factory(report)
    (image,) = assets(synth)["dockerImages"].values()
    assert image["source"]["platform"] == "linux/amd64"
    assert synth.function()["Architectures"] == ["x86_64"]
    # The context was checked against the report before CDK hashed it.
    context = report.with_name(report.name.removesuffix(".report.json") + "-image")
    assert json.loads(report.read_text())["sha256"] == context_digest(context)


def test_a_new_environment_variable_publishes_a_new_version(matrix: Matrix) -> None:
    # The async path adds the result bucket's variables after the alias exists;
    # current_version is hashed at synthesis, so the version must change too.
    sync = matrix.get("zip", "none", False)
    with_queue = matrix.get("zip", "none", True)
    (sync_version,) = sync.resources("AWS::Lambda::Version")
    (async_version,) = with_queue.resources("AWS::Lambda::Version")
    assert sync_version != async_version
    assert sync.function()["Code"] == with_queue.function()["Code"]
