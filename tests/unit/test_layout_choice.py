"""Choosing an artifact layout: every branch of auto, the reasons, and forced layouts."""

from __future__ import annotations

import pytest

from coldbrew.artifact.layout_choice import (
    REQUESTS,
    LayoutChoice,
    choose_layout,
    needs_layer_sizes,
    parse_layout,
)
from coldbrew.artifact.limits import DIRECT_UPLOAD_LIMIT, IMAGE_LIMIT, MB, UNZIPPED_LIMIT, Limits
from coldbrew.errors import BuildError, ConfigurationError, LambdaLimitError

GB = 1024 * MB


def _split(
    zipped: int,
    unzipped: int,
    function: int,
    layer: int,
    *,
    layer_unzipped: int | None = None,
    function_unzipped: int = 2 * MB,
    via_s3: bool = False,
    requested: str = "auto",
) -> LayoutChoice:
    """A choice with the layer split measured (function/layer are zipped sizes)."""
    return choose_layout(
        zipped,
        unzipped,
        function,
        layer,
        unzipped - function_unzipped if layer_unzipped is None else layer_unzipped,
        function_unzipped=function_unzipped,
        via_s3=via_s3,
        requested=requested,
    )


# --- auto -------------------------------------------------------------------------------


def test_zip_that_fits_direct_upload_is_chosen_without_the_split() -> None:
    choice = choose_layout(int(49.7 * MB), int(115.7 * MB))
    assert (choice.layout, choice.via_s3, choice.requested) == ("zip", False, "auto")
    assert "49.7 MB zipped" in choice.reason and "115.7 MB" in choice.reason
    assert "50 MB direct-upload" in choice.reason and "250 MB unzipped" in choice.reason


def test_limits_are_inclusive() -> None:
    assert choose_layout(DIRECT_UPLOAD_LIMIT, UNZIPPED_LIMIT).layout == "zip"
    assert choose_layout(DIRECT_UPLOAD_LIMIT + 1, UNZIPPED_LIMIT, 1, 1, 1).layout != "zip"


def test_layer_when_the_zip_is_too_big_but_both_parts_fit() -> None:
    choice = _split(60 * MB, 180 * MB, 5 * MB, 45 * MB)
    assert (choice.layout, choice.via_s3) == ("layer", False)
    assert "the zip is 60.0 MB zipped, over Lambda's 50 MB limit for direct upload" in (
        choice.reason
    )
    assert "function zip (5.0 MB)" in choice.reason and "layer (45.0 MB)" in choice.reason
    assert "180.0 MB together" in choice.reason


def test_layer_preferred_over_s3_when_both_fit() -> None:
    assert _split(60 * MB, 180 * MB, 5 * MB, 45 * MB, via_s3=True).layout == "layer"


def test_zip_via_s3_when_a_part_is_too_big_and_s3_is_allowed() -> None:
    choice = _split(120 * MB, 200 * MB, 5 * MB, 110 * MB, via_s3=True)
    assert (choice.layout, choice.via_s3) == ("zip", True)
    assert "the layer is 110.0 MB zipped" in choice.reason
    assert "--via-s3 allows a zip uploaded through S3" in choice.reason


def test_image_when_a_part_is_too_big_and_s3_is_not_allowed() -> None:
    choice = _split(120 * MB, 200 * MB, 5 * MB, 110 * MB)
    assert (choice.layout, choice.via_s3) == ("image", False)
    assert "S3 upload is not allowed (rebuild with --via-s3" in choice.reason
    assert "container image holds up to 10 GB" in choice.reason


def test_image_when_over_250_mb_unzipped_even_with_s3() -> None:
    choice = choose_layout(90 * MB, 300 * MB, via_s3=True)  # the split need not be measured
    assert choice.layout == "image"
    assert "the zip would unzip to 300.0 MB, over Lambda's 250 MB limit" in choice.reason
    assert "a layer does not help: a function and its layers share that limit" in choice.reason
    assert "S3 upload is not allowed" not in choice.reason  # S3 would not help


def test_layer_refused_when_the_parts_together_pass_250_mb() -> None:
    # Each part fits direct upload, but a function and its layers share the 250 MB.
    choice = _split(
        60 * MB, 240 * MB, 10 * MB, 45 * MB, function_unzipped=10 * MB, layer_unzipped=245 * MB
    )
    assert choice.layout == "image"
    assert "function and layer together would unzip to 255.0 MB" in choice.reason


def test_nothing_fits_past_the_image_limit() -> None:
    with pytest.raises(LambdaLimitError, match=r"over Lambda's 10 GB limit for a container image"):
        choose_layout(3 * GB, IMAGE_LIMIT + 1, via_s3=True)


def test_unmeasured_split_is_a_build_error_not_a_guess() -> None:
    with pytest.raises(BuildError, match="needs_layer_sizes"):
        choose_layout(60 * MB, 180 * MB)


def test_small_limits_reach_every_layout() -> None:
    limits = Limits(direct_upload=100, unzipped=1_000, image=5_000)
    assert choose_layout(100, 900, limits=limits).layout == "zip"
    assert choose_layout(150, 900, 20, 90, 880, function_unzipped=20, limits=limits).layout == (
        "layer"
    )
    assert choose_layout(150, 1_200, limits=limits).layout == "image"
    with pytest.raises(LambdaLimitError):
        choose_layout(150, 6_000, limits=limits)


# --- forced -----------------------------------------------------------------------------


def test_forced_layouts_that_fit() -> None:
    forced_zip = choose_layout(10 * MB, 30 * MB, requested="zip")
    assert (forced_zip.layout, forced_zip.requested) == ("zip", "zip")
    assert forced_zip.reason.startswith("--layout zip: the zip is 10.0 MB zipped")
    # The layer split is the user's call even when the single zip would fit.
    forced_layer = _split(10 * MB, 30 * MB, 1 * MB, 9 * MB, requested="layer")
    assert (forced_layer.layout, forced_layer.via_s3) == ("layer", False)
    forced_image = choose_layout(10 * MB, 30 * MB, requested="image")
    assert forced_image.layout == "image" and "within 10 GB" in forced_image.reason


def test_forced_zip_over_direct_upload_names_the_limit_and_what_fits() -> None:
    with pytest.raises(LambdaLimitError) as caught:
        _split(60 * MB, 180 * MB, 5 * MB, 45 * MB, requested="zip")
    message = caught.value.message
    assert "--layout zip does not fit: the zip is 60.0 MB zipped" in message
    assert "50 MB limit for direct upload" in message
    assert "Use --layout layer (what --layout auto picks) or --layout zip --via-s3" in message


def test_forced_zip_through_s3_fits() -> None:
    choice = choose_layout(60 * MB, 180 * MB, requested="zip", via_s3=True)
    assert (choice.layout, choice.via_s3) == ("zip", True)
    assert "uploaded through S3" in choice.reason


def test_forced_zip_over_250_mb_points_at_the_image() -> None:
    with pytest.raises(LambdaLimitError) as caught:
        choose_layout(90 * MB, 300 * MB, requested="zip", via_s3=True)
    message = caught.value.message
    assert "250 MB limit for a function and its layers" in message
    assert message.endswith("Use --layout image (what --layout auto picks)")
    assert "--layout zip --via-s3" not in message


def test_forced_layer_with_a_part_over_direct_upload() -> None:
    with pytest.raises(LambdaLimitError) as caught:
        _split(120 * MB, 200 * MB, 5 * MB, 110 * MB, requested="layer")
    message = caught.value.message
    assert "--layout layer does not fit: the layer is 110.0 MB zipped" in message
    assert "Use --layout image (what --layout auto picks) or --layout layer --via-s3" in message


def test_forced_layer_through_s3() -> None:
    choice = _split(120 * MB, 200 * MB, 5 * MB, 110 * MB, requested="layer", via_s3=True)
    assert (choice.layout, choice.via_s3) == ("layer", True)


def test_forced_layouts_past_10_gb() -> None:
    with pytest.raises(LambdaLimitError) as caught:
        choose_layout(3 * GB, 11 * GB, requested="image")
    assert caught.value.message == (
        "--layout image does not fit: the task root is 11.0 GB, over Lambda's 10 GB limit "
        "for a container image: quantize or shrink the model, or drop dependencies"
    )
    with pytest.raises(LambdaLimitError, match=r"--layout zip does not fit: .*no other layout"):
        choose_layout(3 * GB, 11 * GB, requested="zip")


def test_unknown_layout_is_a_configuration_error() -> None:
    assert [parse_layout(r) for r in REQUESTS] == ["auto", "zip", "layer", "image"]
    with pytest.raises(ConfigurationError, match="use one of auto, zip, layer, image"):
        choose_layout(1, 1, requested="tarball")


# --- when to measure the split ------------------------------------------------------------


@pytest.mark.parametrize(
    ("zipped", "unzipped", "requested", "via_s3", "expected"),
    [
        (40 * MB, 100 * MB, "auto", False, False),  # the zip fits: done
        (60 * MB, 100 * MB, "auto", False, True),
        (60 * MB, 100 * MB, "auto", True, True),  # the layer comes before S3
        (60 * MB, 300 * MB, "auto", False, False),  # the same files cannot fit 250 MB split
        (40 * MB, 100 * MB, "layer", False, True),
        (60 * MB, 100 * MB, "image", False, False),
        (60 * MB, 100 * MB, "zip", True, False),
        (60 * MB, 100 * MB, "zip", False, True),  # to name what fits instead
    ],
)
def test_needs_layer_sizes(
    zipped: int, unzipped: int, requested: str, via_s3: bool, expected: bool
) -> None:
    assert needs_layer_sizes(zipped, unzipped, requested, via_s3=via_s3) is expected


def test_every_measured_choice_is_answerable() -> None:
    """Whenever needs_layer_sizes says no, choose_layout answers without the split.

    It either picks a layout that needs no split (zip or image) or refuses with
    LambdaLimitError naming a Lambda limit; it never raises BuildError asking
    for the layer sizes it was told it would not need.
    """
    answered: list[str] = []
    refused: list[str] = []
    for zipped in (10 * MB, 60 * MB, 300 * MB):
        for unzipped in (100 * MB, 300 * MB, 11 * GB):
            for requested in REQUESTS:
                for via_s3 in (False, True):
                    if needs_layer_sizes(zipped, unzipped, requested, via_s3=via_s3):
                        continue
                    case = f"{zipped // MB} MB / {unzipped // MB} MB, {requested}, s3={via_s3}"
                    try:
                        choice = choose_layout(zipped, unzipped, via_s3=via_s3, requested=requested)
                    except LambdaLimitError as exc:
                        assert "limit" in str(exc) or "does not fit" in str(exc), case
                        refused.append(case)
                    except BuildError as exc:  # pragma: no cover - the failure this test is for
                        pytest.fail(f"{case}: asked for the layer split: {exc}")
                    else:
                        assert choice.layout in ("zip", "image"), case
                        assert choice.reason, case
                        answered.append(case)
    # Both outcomes occur, so the loop is not vacuous.
    assert answered
    assert refused


def test_choice_json() -> None:
    choice = choose_layout(60 * MB, 180 * MB, requested="zip", via_s3=True)
    assert choice.to_json() == {
        "layout": "zip",
        "requested": "zip",
        "via_s3": True,
        "reason": choice.reason,
    }
