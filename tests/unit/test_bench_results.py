"""The bench's result model, JSON, table and small helpers (pure, no processes but one)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from coldbrew.bench.measure import rotated, text
from coldbrew.bench.page_cache import PageCache
from coldbrew.bench.ratios import COLD_MEDIAN, compute_ratios
from coldbrew.bench.results import (
    BenchResult,
    ColdSample,
    Throughput,
    VariantResult,
    schema_problems,
)
from coldbrew.bench.table import ms, ratio_text, render
from coldbrew.bench.variants import Variant, parse_baselines
from coldbrew.errors import ConfigurationError


def _cold(latencies: list[float], *, failed: int = 0) -> list[ColdSample]:
    samples = [
        ColdSample(i, 0, 200, True, value, value - 10, 5.0, 100, False)
        for i, value in enumerate(latencies)
    ]
    samples += [ColdSample(99, 0, 502, True, 1.0, 1.0, 0.0, None, False)] * failed
    return samples


def _result() -> BenchResult:
    coldbrew = VariantResult(
        Variant("coldbrew", "slim", Path("x.zip"), "3.12", 90 * 2**20, 40 * 2**20),
        cold=_cold([200.0, 220.0, 240.0], failed=1),
        warm_b1_ms=[8.0, 9.0, 10.0],
        warm_b32_ms=[50.0, 60.0],
        throughput=Throughput(2, 100, 0, 2.0, [10.0] * 100),
        max_memory_mb=120,
        runtime_python="3.12.1",
    )
    floor = VariantResult(
        Variant("c", "floor", Path("f.zip"), "3.12", 89 * 2**20, 39 * 2**20, embeds=False),
        cold=_cold([190.0, 200.0, 210.0]),
        max_memory_mb=110,
        runtime_python="3.12.1",
    )
    st = VariantResult(
        Variant("b", "st", Path("st"), "3.11", 1400 * 2**20, notes=("runs on Python 3.11",)),
        cold=_cold([5000.0, 5500.0]),
        warm_b1_ms=[20.0],
        runtime_python="3.11.7",
    )
    variants = [coldbrew, st, floor]
    environment = {
        "cpu_model": "Test CPU",
        "cores": 2,
        "load_before": [0.1, 0.2, 0.3],
        "load_after": [0.4, 0.5, 0.6],
        "page_cache": PageCache(enabled=False).to_json(),
        "pythons": {v.variant.key: v.runtime_python for v in variants},
    }
    return BenchResult(
        started_at="2025-01-01T00:00:00+00:00",
        duration_s=61.0,
        settings={"concurrency": 2, "batch_size": 32, "order": "interleaved"},
        environment=environment,
        variants=variants,
        ratios=compute_ratios(
            coldbrew.figures(), {v.variant.key: v.figures() for v in variants[1:]}
        ),
    )


def test_only_fresh_200s_count_as_cold_starts() -> None:
    coldbrew = _result().variants[0]
    assert len(coldbrew.cold) == 4 and len(coldbrew.cold_ok) == 3
    assert coldbrew.cold_summary().median == 220.0
    assert coldbrew.init_summary().median == 210.0
    assert coldbrew.figures()[COLD_MEDIAN] == 220.0
    not_fresh = ColdSample(0, 0, 200, False, 5.0, None, 1.0, 10, False)
    assert not not_fresh.ok


def test_json_is_well_formed_and_round_trips() -> None:
    data = json.loads(json.dumps(_result().to_json(), allow_nan=False))
    assert schema_problems(data) == []
    coldbrew, st, floor = data["variants"]
    assert coldbrew["key"] == "coldbrew" and st["kind"] == "zip"  # Path("st") does not exist
    assert coldbrew["cold_start"]["latency_ms"]["median"] == 220.0
    assert len(coldbrew["cold_start"]["samples"]) == 4
    assert coldbrew["throughput"]["requests_per_s"] == 50.0
    assert floor["warm"]["batch_1"]["latency_ms"]["median"] is None
    assert floor["throughput"] is None
    assert st["zipped_bytes"] is None and st["notes"] == ["runs on Python 3.11"]
    assert data["environment"]["page_cache"]["requested"] is False
    assert {r["baseline"] for r in data["ratios"]} == {"b", "c"}


def test_schema_problems_name_what_is_missing() -> None:
    data = _result().to_json()
    del data["environment"]["load_after"]
    data["variants"][1]["cold_start"]["samples"][0]["latency_ms"] = "fast"
    data["schema"] = 99
    problems = schema_problems(data)
    assert "environment lacks 'load_after'" in problems
    assert "variant b: a cold sample has no numeric latency_ms" in problems
    assert any(p.startswith("schema is 99") for p in problems)
    assert schema_problems([]) == ["the document is not an object"]


def test_the_table_shows_every_variant_figure_and_target() -> None:
    console = Console(width=200, record=True)
    console.print(render(_result()))
    out = console.export_text()
    for heading in ("coldbrew", "(b) sentence-transformers", "(c) floor"):
        assert heading in out
    assert "200 / 220 / 236" in out  # min / median / p90
    assert "3 / 4" in out  # fresh sandboxes answered / run
    assert "1,400.0 (over 250 MB)" in out
    assert "<= 1/25x" in out and "<= 1.15x" in out
    assert "runs on Python 3.11" in out
    assert "page cache: not dropped (--no-drop-caches)" in out


def test_formatting() -> None:
    assert [ms(1234.4), ms(56.78), ms(8.912), ms(float("nan"))] == ["1,234", "56.8", "8.91", "n/a"]
    assert [ratio_text(0.5), ratio_text(0.0312), ratio_text(float("nan"))] == [
        "0.50x",
        "0.031x",
        "n/a",
    ]


def test_page_cache_records_what_happened(tmp_path: Path) -> None:
    control = tmp_path / "drop_caches"
    cache = PageCache(control=control, sync_first=False)
    assert cache.drop() and cache.drop()
    assert control.read_text() == "3\n"
    assert cache.to_json()["dropped"] is True and cache.drops == 2
    refused = PageCache(control=tmp_path / "missing" / "drop_caches", sync_first=False)
    assert refused.drop() is False
    assert refused.to_json()["dropped"] is False
    assert refused.state.startswith("could not be dropped")
    off = PageCache(enabled=False, control=control)
    assert off.drop() is False and off.state == "not dropped (--no-drop-caches)"


def test_round_robin_rotates_the_order() -> None:
    assert [rotated(3, r) for r in range(4)] == [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]
    assert rotated(0, 5) == []


def test_texts_are_unique() -> None:
    texts = {text(tag, n) for tag in ("warm", "batch 1") for n in range(500)}
    assert len(texts) == 1000


def test_baselines_parse_in_canonical_order() -> None:
    assert parse_baselines("c, a") == ("a", "c")
    assert parse_baselines("") == ()
    with pytest.raises(ConfigurationError, match="unknown baseline"):
        parse_baselines("a,z")


def test_bench_modules_do_not_load_matplotlib_until_charting() -> None:
    code = (
        "import sys, coldbrew.cli.bench_cmd, coldbrew.bench.run, coldbrew.bench.table\n"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
