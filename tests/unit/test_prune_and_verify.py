"""Trace-guided pruning plans, probe comparison and artifact accuracy (pure)."""

from __future__ import annotations

import json
from pathlib import Path

from coldbrew.artifact.inputs import inputs_key
from coldbrew.artifact.prune import REASON, plan_prune
from coldbrew.artifact.smoke import EMBED_EVENT, embeddings_from, smoke_events
from coldbrew.artifact.trace import ProbeRun
from coldbrew.artifact.verify import artifact_accuracy, first_difference

SIZES = {
    "lambda_function.py": 1,
    "model/model.onnx": 100,
    "numpy/__init__.py": 10,
    "numpy/__pycache__/__init__.cpython-312.pyc": 12,
    "numpy/random/__init__.py": 5,
    "numpy/random/__pycache__/__init__.cpython-312.pyc": 6,
    "numpy/_core/_simd.cpython-312-x86_64-linux-gnu.so": 50,
    "numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so": 70,
    "tokenizers/data.txt": 3,
}


def test_untouched_files_go_and_twins_of_touched_ones_stay() -> None:
    touched = [
        "numpy/__pycache__/__init__.cpython-312.pyc",  # loaded from bytecode
        "numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so",
    ]
    plan = plan_prune(SIZES, touched, ("model/**", "lambda_function.py"), python_tag="cpython-312")
    assert {r.path for r in plan.removals} == {
        "numpy/random/__init__.py",
        "numpy/random/__pycache__/__init__.cpython-312.pyc",
        "numpy/_core/_simd.cpython-312-x86_64-linux-gnu.so",
        "tokenizers/data.txt",
    }
    assert {r.reason for r in plan.removals} == {REASON}


def test_a_touched_source_keeps_its_bytecode() -> None:
    plan = plan_prune(SIZES, ["numpy/random/__init__.py"], ("**",), python_tag="cpython-312")
    assert plan.removals == ()
    plan = plan_prune(SIZES, ["numpy/random/__init__.py"], (), python_tag="cpython-312")
    assert "numpy/random/__pycache__/__init__.cpython-312.pyc" not in plan.paths
    assert "lambda_function.py" in plan.paths  # nothing keeps it here


def _run(results: list[object], init_error: str | None = None) -> ProbeRun:
    return ProbeRun("3.12.1", init_error, results, frozenset())  # type: ignore[arg-type]


def test_first_difference() -> None:
    same = [{"ok": True, "value": {"statusCode": 200, "body": "[1]"}}]
    assert first_difference(_run(same), _run(list(same))) is None
    other = [{"ok": True, "value": {"statusCode": 200, "body": "[2]"}}]
    assert "event 0 answered differently" in (first_difference(_run(same), _run(other)) or "")
    broken = _run([], init_error="ImportError: no numpy")
    assert "failed to load: ImportError" in (first_difference(_run(same), broken) or "")
    raised = _run([{"ok": False, "value": "KeyError: x"}])
    assert "raised: KeyError" in (first_difference(_run(same), raised) or "")


def test_smoke_events_cover_every_path() -> None:
    events = smoke_events(["one", "two", "three"])
    paths = [e.get("rawPath") for e in events if isinstance(e, dict) and "rawPath" in e]
    assert {"/health", "/embed", "/nowhere"} <= set(paths)
    assert json.loads(events[EMBED_EVENT]["body"]) == {"inputs": ["one", "two", "three"]}
    assert any(e.get("isBase64Encoded") for e in events)
    assert {"inputs": ["two", "three"]} in events  # direct invocation


def _embed_result(vectors: list[list[float]]) -> list[dict[str, object]]:
    body = json.dumps({"embeddings": vectors})
    return [{"ok": True, "value": {}}, {"ok": True, "value": {"statusCode": 200, "body": body}}]


def test_artifact_accuracy_scores_against_the_gate() -> None:
    gate = {"threshold_mean": 0.99, "threshold_min": 0.98, "embeddings": [[1.0, 0.0], [0.0, 1.0]]}
    good = artifact_accuracy(_run(_embed_result([[1.0, 0.0], [0.0, 1.0]])), gate)
    assert good is not None and good.passed and good.min_cosine == 1.0
    bad = artifact_accuracy(_run(_embed_result([[1.0, 0.0], [0.6, 0.8]])), gate)
    assert bad is not None and not bad.passed
    assert abs(bad.min_cosine - 0.8) < 1e-9 and "min 0.8000" in bad.describe()
    assert artifact_accuracy(_run(_embed_result([[1.0, 0.0]])), {}) is None
    assert embeddings_from([{"ok": True}, {"ok": False, "value": "x"}]) is None


def test_inputs_key_follows_settings_and_contents(tmp_path: Path) -> None:
    source = tmp_path / "rules.toml"
    source.write_text("a")
    key = inputs_key(settings={"target": "py312-x86_64"}, files=[source])
    assert key == inputs_key(settings={"target": "py312-x86_64"}, files=[source])
    assert key != inputs_key(settings={"target": "py312-arm64"}, files=[source])
    source.write_text("b")
    assert key != inputs_key(settings={"target": "py312-x86_64"}, files=[source])
