"""Ratios of coldbrew to its baselines, and the acceptance targets (pure)."""

from __future__ import annotations

import math
from fractions import Fraction

from coldbrew.bench.ratios import (
    COLD_MEDIAN,
    COLD_P90,
    TARGETS,
    UNZIPPED,
    WARM_P50,
    ZIPPED,
    Ratio,
    compute_ratios,
)


def _figures(
    cold: float | None, warm: float | None, zipped: float | None
) -> dict[str, float | None]:
    return {
        COLD_MEDIAN: cold,
        COLD_P90: None if cold is None else cold * 1.2,
        WARM_P50: warm,
        UNZIPPED: 100.0,
        ZIPPED: zipped,
    }


def test_targets_are_the_acceptance_criteria() -> None:
    expected = {
        (COLD_MEDIAN, "a"): Fraction(1, 2),
        (COLD_MEDIAN, "b"): Fraction(1, 25),
        (COLD_MEDIAN, "c"): Fraction(115, 100),
    }
    assert dict(TARGETS) == expected


def test_ratio_is_coldbrew_over_baseline_and_checks_its_target() -> None:
    met = Ratio(COLD_MEDIAN, "a", 150.0, 400.0, Fraction(1, 2))
    assert met.value == 0.375 and met.met is True
    missed = Ratio(COLD_MEDIAN, "b", 300.0, 4000.0, Fraction(1, 25))
    assert missed.value == 0.075 and missed.met is False
    edge = Ratio(COLD_MEDIAN, "c", 115.0, 100.0, Fraction(115, 100))
    assert edge.met is True  # "at most" includes equality
    assert Ratio(WARM_P50, "a", 1.0, 2.0).met is None


def test_target_texts() -> None:
    assert Ratio(COLD_MEDIAN, "a", 1, 1, Fraction(1, 2)).target_text == "<= 0.5x"
    assert Ratio(COLD_MEDIAN, "b", 1, 1, Fraction(1, 25)).target_text == "<= 1/25x"
    assert Ratio(COLD_MEDIAN, "c", 1, 1, Fraction(115, 100)).target_text == "<= 1.15x"
    assert Ratio(WARM_P50, "a", 1, 1).target_text == ""


def test_missing_or_zero_figures_give_no_ratio() -> None:
    assert math.isnan(Ratio(COLD_MEDIAN, "a", 1.0, 0.0).value)
    assert math.isnan(Ratio(COLD_MEDIAN, "a", math.nan, 3.0).value)
    unmeasured = Ratio(COLD_MEDIAN, "a", math.nan, 3.0, Fraction(1, 2))
    assert unmeasured.met is None
    assert unmeasured.to_json()["ratio"] is None


def test_compute_ratios_skips_what_a_baseline_lacks_but_never_a_target() -> None:
    coldbrew = _figures(200.0, 8.0, 40.0)
    ratios = compute_ratios(
        coldbrew,
        {
            "a": _figures(400.0, 9.0, 60.0),
            "b": _figures(5000.0, 20.0, None),  # a directory: no zipped size
            "c": _figures(None, None, 40.0),  # its cold start failed; no warm figures
        },
    )
    by = {(r.figure, r.baseline): r for r in ratios}
    assert by[(COLD_MEDIAN, "a")].value == 0.5 and by[(COLD_MEDIAN, "a")].met is True
    assert by[(COLD_MEDIAN, "b")].value == 0.04 and by[(COLD_MEDIAN, "b")].met is True
    assert (ZIPPED, "b") not in by
    assert (WARM_P50, "c") not in by
    assert by[(COLD_MEDIAN, "c")].met is None  # listed, so the gap shows
    assert [r.baseline for r in ratios][:5] == ["a"] * 5
    json_row = by[(COLD_MEDIAN, "a")].to_json()
    assert json_row == {
        "figure": COLD_MEDIAN,
        "baseline": "a",
        "coldbrew": 200.0,
        "baseline_value": 400.0,
        "ratio": 0.5,
        "target": 0.5,
        "target_text": "<= 0.5x",
        "met": True,
    }
