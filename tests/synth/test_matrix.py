"""Every layout x cold-start strategy x (URL only | URL and queue) synthesizes, cleanly.

22 stacks (zip, layer, image) x (none, snapstart, provisioned with a schedule,
provisioned with target tracking) x (sync, async), less the two AWS refuses:
SnapStart on a container image. Each is synthesized once per session (cdk-nag
included, so an unacknowledged finding fails its synthesis), and cfn-lint
checks all of them in one process.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from coldbrew.errors import ConfigurationError
from coldbrew.runtime import settings as runtime_settings
from infra.app import build_app

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import Linter, Matrix

# Mirrors conftest.Matrix.cells(): parametrize ids are read before fixtures exist.
LAYOUTS = ("zip", "layer", "image")
COLD_STARTS = ("none", "snapstart", "provisioned-schedule", "provisioned-target")
CELLS = [
    pytest.param(layout, cold_start, with_async, id=f"{layout}-{cold_start}-{mode}")
    for layout in LAYOUTS
    for cold_start in COLD_STARTS
    for with_async, mode in ((False, "sync"), (True, "async"))
    if (layout, cold_start) != ("image", "snapstart")
]
FUNCTION = "AWS::Lambda::Function"


def test_the_cells_are_the_matrix(matrix: Matrix) -> None:
    assert [tuple(p.values) for p in CELLS] == matrix.cells()
    assert len(CELLS) == 3 * 4 * 2 - 2


@pytest.mark.parametrize(("layout", "cold_start", "with_async"), CELLS)
def test_each_cell_synthesizes_and_passes_cdk_nag(
    matrix: Matrix, layout: str, cold_start: str, with_async: bool
) -> None:
    synth = matrix.get(layout, cold_start, with_async)
    # Synthesis raises on an unacknowledged finding; a pack with acknowledged
    # findings is listed as a success, one with nothing to say is left out.
    assert synth.nag_conclusions() in ({}, {"AwsSolutions": "success"})
    synth.template.resource_count_is(FUNCTION, 1)
    synth.template.resource_count_is("AWS::Lambda::Alias", 1)
    synth.template.resource_count_is("AWS::Lambda::Url", 1)


@pytest.mark.parametrize(("layout", "cold_start", "with_async"), CELLS)
def test_each_cell_deploys_its_layout_on_the_report_architecture(
    matrix: Matrix, layout: str, cold_start: str, with_async: bool
) -> None:
    synth = matrix.get(layout, cold_start, with_async)
    props = synth.function()
    # The fixtures are built for arm64; nothing in context says so.
    assert props["Architectures"] == ["arm64"]
    assert props["EphemeralStorage"] == {"Size": 512}
    assert f"({layout} layout)" in props["Description"]
    layers = synth.resources("AWS::Lambda::LayerVersion")
    if layout == "image":
        assert props["PackageType"] == "Image"
        assert "ImageUri" in props["Code"]
        assert "Runtime" not in props and "Handler" not in props
    else:
        assert "PackageType" not in props
        assert (props["Runtime"], props["Handler"]) == ("python3.12", "lambda_function.handler")
        assert "S3Key" in props["Code"]
    if layout == "layer":
        (layer_id,) = layers
        assert props["Layers"] == [{"Ref": layer_id}]
    else:
        assert layers == {}
        assert "Layers" not in props


@pytest.mark.parametrize(("layout", "cold_start", "with_async"), CELLS)
def test_each_cell_has_its_cold_start_strategy(
    matrix: Matrix, layout: str, cold_start: str, with_async: bool
) -> None:
    synth = matrix.get(layout, cold_start, with_async)
    props = synth.function()
    if cold_start == "snapstart":
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    else:
        assert "SnapStart" not in props
    targets = synth.resources("AWS::ApplicationAutoScaling::ScalableTarget")
    policies = synth.resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    assert len(targets) == (1 if cold_start.startswith("provisioned") else 0)
    assert len(policies) == (1 if cold_start == "provisioned-target" else 0)
    scheduled = [t["Properties"].get("ScheduledActions", []) for t in targets.values()]
    assert bool(scheduled and scheduled[0]) == (cold_start == "provisioned-schedule")
    # Provisioned concurrency belongs to Application Auto Scaling, never to the template.
    _, alias = synth.only("AWS::Lambda::Alias")
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]


@pytest.mark.parametrize(("layout", "cold_start", "with_async"), CELLS)
def test_each_cell_has_the_queue_only_when_asked(
    matrix: Matrix, layout: str, cold_start: str, with_async: bool
) -> None:
    synth = matrix.get(layout, cold_start, with_async)
    props = synth.function()
    mappings = synth.resources("AWS::Lambda::EventSourceMapping")
    outputs = set(synth.template.find_outputs("*"))
    if not with_async:
        assert mappings == {}
        assert synth.resources("AWS::SQS::Queue") == {}
        assert "Environment" not in props
        assert outputs == {"FunctionUrl", "FunctionName", "AliasArn"}
        return
    alias_id, _ = synth.only("AWS::Lambda::Alias")
    (mapping,) = mappings.values()
    # The queue invokes alias live, like the URL: the same version and capacity.
    target = json.dumps(mapping["Properties"]["FunctionName"])
    assert f'{{"Ref": "{alias_id}"}}' in target
    assert target.endswith('":live"]]}')
    variables = props["Environment"]["Variables"]
    assert set(variables) == {runtime_settings.RESULT_BUCKET, runtime_settings.RESULT_PREFIX}
    bucket_id = variables[runtime_settings.RESULT_BUCKET]["Ref"]
    assert synth.resources("AWS::S3::Bucket")[bucket_id]
    assert outputs == {
        "FunctionUrl",
        "FunctionName",
        "AliasArn",
        "QueueUrl",
        "DeadLetterQueueUrl",
        "ResultBucket",
    }


@pytest.mark.parametrize("with_async", [False, True])
def test_snapstart_on_a_container_image_is_refused_at_synth(
    layouts: dict[str, Path], with_async: bool
) -> None:
    context = {
        "coldbrew:artifact": str(layouts["image"]),
        "coldbrew:cold_start": "snapstart",
        "coldbrew:async": with_async,
    }
    with pytest.raises(ConfigurationError, match="snapstart does not support container images"):
        build_app(context)


def test_cfn_lint_finds_no_problems_in_any_cell(matrix: Matrix, lint: Linter) -> None:
    templates = {cell: matrix.get(*cell).template_path for cell in matrix.cells()}
    findings = lint(templates.values())
    assert {cell: findings[path] for cell, path in templates.items() if findings[path]} == {}
