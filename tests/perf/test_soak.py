"""``tests/perf/soak.py`` on a tiny artifact: it runs, and its figures are real /proc reads.

Not a timed test and no threshold on memory: the soak is a benchmark, whose
figures are read by a person. This checks that it serves, sends the mix,
finds the sandboxes, and that what it reports comes from the kernel.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
from pathlib import Path

import pytest
import soak

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.target import Target
from coldbrew.errors import InterpreterNotFoundError
from coldbrew.interpreters import find_interpreter

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path.home() / ".cache" / "coldbrew"  # the real cache: wheels and runtimes reused


@pytest.fixture(scope="module")
def tiny_artifact(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    try:
        find_interpreter("3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")
    project = tmp_path_factory.mktemp("soak-project")
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
    return Path(build_artifact(options).artifact)


def test_memory_is_read_from_the_kernel() -> None:
    before = soak.read_memory(os.getpid())
    block = bytearray(64 * 1024 * 1024)  # zero-filled: every page touched, resident
    during = soak.read_memory(os.getpid())
    del block
    after = soak.read_memory(os.getpid())
    assert before is not None and during is not None and after is not None
    assert during.rss_kb - before.rss_kb >= 60 * 1024
    assert during.hwm_kb >= during.rss_kb
    assert during.rss_kb - after.rss_kb >= 60 * 1024  # handed back to the kernel
    # The high-water mark remembers (the kernel's counters are batched: a little slack).
    assert after.hwm_kb - before.rss_kb >= 60 * 1024
    # ru_maxrss is that high-water mark as getrusage(2) gives it, in kB on Linux.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before.rss_kb >= 60 * 1024
    assert soak.read_memory(2**22 + 1) is None  # above pid_max: no such process


def test_children_are_found_by_parent(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    for pid, ppid, comm in ((10, 1, "serve"), (11, 10, "py (x) y"), (12, 10, "z"), (13, 11, "w")):
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) S {ppid} {pid} {pid} 0\n")
    (proc / "self").mkdir()
    assert soak.children(10, proc) == [11, 12]


def test_a_soak_of_the_tiny_artifact(tiny_artifact: Path, tmp_path: Path) -> None:
    json_path = tmp_path / "soak.json"
    args = [str(tiny_artifact), "--requests", "80", "--warmup", "10", "--concurrency", "2",
            "--sample-every", "20", "--max-seconds", "120", "--json", str(json_path)]  # fmt: skip
    report = soak.main(args)
    assert json.loads(json_path.read_text()) == json.loads(json.dumps(report))
    assert report["requests"] == {"warmup": 10, "measured": 80}
    assert not report["stopped_by_time"]
    assert report["server_errors"] == 0, report["statuses"]
    assert report["unexpected"] == {}
    assert sum(report["statuses"].values()) == 90
    assert {"200", "400"} <= set(report["statuses"])  # the mix has both

    roles = [p["role"] for p in report["processes"]]
    assert roles[0] == "serve" and "sandbox" in roles
    serve = report["processes"][0]
    assert serve["pid"] == report["serve_pid"]
    # Every figure is a kernel read: positive, and RSS never above the high-water mark.
    for sample in report["samples"]:
        for read in sample["processes"].values():
            assert 0 < read["rss_kb"] <= read["hwm_kb"]
    reads = [s["requests"] for s in report["samples"]]
    # Read once the warm-up is done (the clients may be a request or two past it), every
    # 20 requests, and at the end.
    assert 0 <= reads[0] < 20 and reads[-1] == 80 and len(reads) >= 4
    assert reads == sorted(reads)
    for process in report["processes"]:
        assert process["peak_rss_kb"] >= max(process["start_rss_kb"], process["end_rss_kb"])
    assert serve["growth_kb_per_1000_requests"] is not None
    assert serve["second_half_growth_kb_per_1000_requests"] is not None
    # The serve process is gone once the soak returns: it stopped what it started.
    assert soak.read_memory(serve["pid"]) is None
    assert all(soak.read_memory(p["pid"]) is None for p in report["processes"])
