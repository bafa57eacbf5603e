"""Percentiles and summaries for the bench (pure)."""

from __future__ import annotations

import math
import statistics

import pytest

from coldbrew.bench.stats import percentile, summarize


def test_percentile_interpolates_between_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 50) == 25.0
    assert percentile(values, 90) == pytest.approx(37.0)


def test_percentile_ignores_input_order_and_agrees_with_statistics() -> None:
    values = [7.0, 1.0, 9.0, 3.0, 5.0, 2.0, 8.0, 4.0, 6.0, 10.0]
    expected = statistics.quantiles(values, n=10, method="inclusive")[8]
    assert percentile(values, 90) == pytest.approx(expected)
    assert percentile(values, 50) == statistics.median(values)


def test_percentile_of_one_and_of_none() -> None:
    assert percentile([3.5], 99) == 3.5
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="0-100"):
        percentile([1.0], 101)


def test_summary_of_samples() -> None:
    summary = summarize([4.0, 1.0, 3.0, 2.0])
    assert (summary.count, summary.min, summary.max) == (4, 1.0, 4.0)
    assert summary.median == 2.5
    assert summary.mean == 2.5
    assert summary.min <= summary.median <= summary.p90 <= summary.p99 <= summary.max


def test_empty_summary_is_nan_and_null_in_json() -> None:
    summary = summarize([])
    assert summary.count == 0 and math.isnan(summary.median)
    assert summary.to_json() == {
        "count": 0,
        "min": None,
        "median": None,
        "p90": None,
        "p99": None,
        "max": None,
        "mean": None,
    }
