"""``coldbrew bench`` end to end on a tiny artifact: it runs, and its JSON, PNG and
table are well-formed.

Never a timing threshold: this machine is noisy, and the bench's own ratios
(measured in one run) are how performance is judged. Baselines (a) and (c)
are built from the tiny artifact; (b), sentence-transformers on torch, is a
1 GB install measured only by the real bench run. The Cloud Functions variant
runs the tiny model's GCF zip under the real functions-framework. The page
cache is left alone (--no-drop-caches) so tests do not slow the rest of the
machine.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.target import Target
from coldbrew.bench.ratios import COLD_MEDIAN, WARM_P50
from coldbrew.bench.results import schema_problems
from coldbrew.cli import main
from coldbrew.errors import InterpreterNotFoundError
from coldbrew.interpreters import find_interpreter
from gcf_artifacts import build_tiny_lambda_zip, gcf_zip_from_lambda

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path.home() / ".cache" / "coldbrew"  # the real cache: wheels and runtimes reused


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> tuple[Path, Path]:
    """(project directory, slim artifact) for the tiny model."""
    try:
        find_interpreter("3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")
    project = tmp_path_factory.mktemp("bench-project")
    (project / "handlers").symlink_to(ROOT / "handlers")
    (project / "packaging").symlink_to(ROOT / "packaging")
    shutil.copytree(tiny_model_dir, project / "models" / "tiny" / "dist")
    options = BuildOptions(
        model="tiny",
        project_dir=project,
        out_dir=project / "dist",
        cache_dir=CACHE_DIR,
        target=Target("3.12", "x86_64"),
    )
    return project, Path(build_artifact(options).artifact)


@pytest.fixture(scope="module")
def tiny_gcf(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """The tiny model's Cloud Functions zip."""
    workdir = tmp_path_factory.mktemp("bench-gcf")
    lambda_zip = build_tiny_lambda_zip(workdir, tiny_model_dir)
    return gcf_zip_from_lambda(lambda_zip, workdir / "tiny-gcf-py312-x86_64.zip")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    return width, height


def test_bench_with_baselines_a_and_c_and_gcf(
    tiny: tuple[Path, Path], tiny_gcf: Path, tmp_path: Path
) -> None:
    project, artifact = tiny
    json_path = tmp_path / "out" / "bench.json"
    args = [
        "bench", str(artifact), "--baselines", "a,c", "--gcf-artifact", str(tiny_gcf),
        "--cold-runs", "3",
        "--warm-runs", "4", "--batch-runs", "2", "--throughput-requests", "6",
        "--no-drop-caches", "--project-dir", str(project), "--json", str(json_path),
        "--work-dir", str(CACHE_DIR / "bench"), "--cache-dir", str(CACHE_DIR),
    ]  # fmt: skip
    outcome = CliRunner().invoke(main, args, catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output

    data = json.loads(json_path.read_text())
    assert schema_problems(data) == []
    assert [v["key"] for v in data["variants"]] == ["coldbrew", "gcf", "a", "c"]
    coldbrew, gcf, unslimmed, floor = data["variants"]
    for variant in data["variants"]:
        samples = variant["cold_start"]["samples"]
        assert len(samples) == 3
        assert all(s["status"] == 200 and s["cold"] for s in samples), samples
        assert all(s["init_ms"] > 0 and s["latency_ms"] > 0 for s in samples)
        # The first answer comes after the instance is up: init is part of the latency.
        assert all(s["latency_ms"] > s["init_ms"] for s in samples if variant is gcf)
        assert not any(s["page_cache_dropped"] for s in samples)
        assert variant["failures"] == []
    for variant in (coldbrew, unslimmed, floor):
        assert variant["platform"] == "lambda" and variant["max_memory_mb"] > 0
    assert gcf["platform"] == "gcf" and gcf["max_memory_mb"] is None
    assert gcf["runtime_python"].startswith("3.12.")
    # The round-robin put each variant first in some round.
    firsts = {
        v["key"] for v in data["variants"] for s in v["cold_start"]["samples"] if s["position"] == 0
    }
    assert firsts == {"coldbrew", "gcf", "a"}
    for variant in (coldbrew, gcf, unslimmed):
        assert len(variant["warm"]["batch_1"]["samples_ms"]) == 4
        assert len(variant["warm"]["batch_32"]["samples_ms"]) == 2
        assert variant["throughput"]["requests"] == 6
        assert variant["throughput"]["clients"] == 2
        assert variant["throughput"]["requests_per_s"] > 0
    assert floor["embeds"] is False and floor["throughput"] is None
    assert floor["warm"]["batch_1"]["samples_ms"] == []
    assert unslimmed["unzipped_bytes"] > coldbrew["unzipped_bytes"]
    assert unslimmed["python"] == coldbrew["python"] == "3.12"
    ratios = {(r["figure"], r["baseline"]): r for r in data["ratios"]}
    for figure in (COLD_MEDIAN, WARM_P50):  # Lambda's coldbrew over Cloud Functions'
        assert ratios[(figure, "gcf")]["ratio"] > 0 and ratios[(figure, "gcf")]["target"] is None
    for baseline, target in (("a", 0.5), ("c", 1.15)):
        ratio = ratios[(COLD_MEDIAN, baseline)]
        assert ratio["target"] == target and ratio["ratio"] > 0
        assert isinstance(ratio["met"], bool)
    environment = data["environment"]
    assert environment["cores"] >= 1 and environment["cpu_model"]
    assert environment["page_cache"]["requested"] is False
    assert environment["pythons"]["coldbrew"].startswith("3.12.")

    width, height = _png_size(json_path.with_suffix(".png"))
    assert width > 500 and height > 300

    out = outcome.output
    assert "coldbrew bench: figures" in out and "coldbrew / baseline" in out
    assert "(a) unslimmed" in out and "(c) floor" in out
    assert "Cloud Functions" in out and "container start" in out
    assert "<= 0.5x" in out and "<= 1.15x" in out
    assert "page cache: not dropped (--no-drop-caches)" in out


def test_bench_reads_its_flags_from_the_environment(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    _, artifact = tiny
    chart = tmp_path / "chart.png"
    env = {
        "COLDBREW_BENCH_ARTIFACT": str(artifact),
        "COLDBREW_BENCH_BASELINES": "c",
        "COLDBREW_BENCH_COLD_RUNS": "1",
        "COLDBREW_BENCH_WARM_RUNS": "2",
        "COLDBREW_BENCH_BATCH_RUNS": "0",
        "COLDBREW_BENCH_THROUGHPUT_REQUESTS": "0",
        "COLDBREW_BENCH_CONCURRENCY": "1",
        "COLDBREW_BENCH_MEMORY_MB": "512",
        "COLDBREW_BENCH_DROP_CACHES": "false",
        "COLDBREW_BENCH_JSON": str(tmp_path / "env.json"),
        "COLDBREW_BENCH_CHART": str(chart),
        "COLDBREW_BENCH_WORK_DIR": str(CACHE_DIR / "bench"),
        "COLDBREW_CACHE_DIR": str(CACHE_DIR),
    }
    outcome = CliRunner().invoke(main, ["bench"], env=env, catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    data = json.loads((tmp_path / "env.json").read_text())
    assert schema_problems(data) == []
    assert [v["key"] for v in data["variants"]] == ["coldbrew", "c"]
    assert data["settings"]["concurrency"] == 1 and data["settings"]["memory_mb"] == 512
    coldbrew = data["variants"][0]
    assert len(coldbrew["cold_start"]["samples"]) == 1
    assert len(coldbrew["warm"]["batch_1"]["samples_ms"]) == 2
    assert coldbrew["throughput"] is None
    assert _png_size(chart)[0] > 0
