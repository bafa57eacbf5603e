"""Fuzz the shipped handler in the emulator: direct invocations and function URL events.

The real handler file (``handlers/aws/lambda_function.py``) in an artifact built
for Python 3.12 over the tiny model, run by awslambdaric in the emulator's
sandbox, as Lambda would. Hypothesis sends hostile events (the same strategies
as the in-process fuzz, ``tests/contract_strategies.py``); every one must
answer without a 5xx or a function error, from the same sandbox (it never
dies), and a valid request must still succeed afterwards.

Bounded for ``make test``; ``COLDBREW_FUZZ_EXAMPLES=2000`` runs a longer fuzz.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.target import Target
from coldbrew.emulate import Emulator, EmulatorConfig, RuntimeEnvironment, ensure_runtime
from coldbrew.errors import InterpreterNotFoundError
from contract_strategies import FUZZ, bodies, direct_events, methods, paths, url_event

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path.home() / ".cache" / "coldbrew"  # the real cache: wheels and runtime reused
VALID = {"inputs": ["the cat sat on the mat"]}


@pytest.fixture(scope="module")
def runtime() -> RuntimeEnvironment:
    try:
        return ensure_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")


@pytest.fixture(scope="module")
def emulator(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, runtime: RuntimeEnvironment
) -> Iterator[Emulator]:
    project = tmp_path_factory.mktemp("project")
    (project / "handlers").symlink_to(ROOT / "handlers")
    (project / "packaging").symlink_to(ROOT / "packaging")
    shutil.copytree(tiny_model_dir, project / "models" / "tiny" / "dist")
    report = build_artifact(
        BuildOptions(
            model="tiny",
            project_dir=project,
            out_dir=project / "dist",
            cache_dir=CACHE_DIR,
            target=Target("3.12", "x86_64"),
            prune=False,  # the shipped handler is what is fuzzed, not the slimming
            strip=False,
        )
    )
    config = EmulatorConfig(
        artifact=Path(report.artifact), cache_dir=CACHE_DIR, max_concurrency=1, timeout_s=30.0
    )
    with Emulator(config, runtime=runtime) as running:
        first = running.invoke(VALID)
        assert first.ok, first.payload
        yield running


def sandbox_pid(emulator: Emulator) -> int | None:
    records = emulator.records
    return records[-1].sandbox_pid if records else None


def assert_alive_and_4xx(emulator: Emulator, pid: int | None, status: int, body: Any) -> None:
    assert status < 500, body
    if status >= 400:
        assert set(body["error"]) == {"code", "message", "request_id"}, body
    assert sandbox_pid(emulator) == pid  # the same sandbox answered: it never died


@FUZZ
@given(method=methods, path=paths, body=bodies, as_base64=st.booleans())
def test_function_url_events_never_5xx_or_kill_the_sandbox(
    emulator: Emulator, method: str, path: str, body: bytes, as_base64: bool
) -> None:
    pid = sandbox_pid(emulator)
    result = emulator.invoke(url_event(method, path, body, as_base64))
    assert result.ok, (result.error_type, result.error_message)
    answer = result.json()
    assert_alive_and_4xx(emulator, pid, answer["statusCode"], json.loads(answer["body"]))


@FUZZ
@given(event=direct_events)
def test_direct_invocations_never_5xx_or_kill_the_sandbox(emulator: Emulator, event: Any) -> None:
    if isinstance(event, dict) and ("Records" in event or "requestContext" in event):
        return  # other event sources
    try:
        # ensure_ascii: a lone surrogate travels as an escape, as any JSON client sends it.
        payload = json.dumps(event, allow_nan=False).encode()
    except ValueError:
        reject()  # NaN/Infinity are not JSON: Lambda's Invoke API refuses them before us
    pid = sandbox_pid(emulator)
    result = emulator.invoke_payload(payload)
    assert result.ok, (result.error_type, result.error_message)
    answer = result.json()
    if "embeddings" in answer:
        assert_alive_and_4xx(emulator, pid, 200, answer)
    else:
        status = answer.pop("status")
        assert_alive_and_4xx(emulator, pid, status, answer)


def test_a_valid_request_succeeds_after_the_fuzz(emulator: Emulator) -> None:
    # Runs after the fuzz tests above (file order): the sandbox still serves.
    result = emulator.invoke(VALID)
    assert result.ok
    answer = result.json()
    assert answer["dimensions"] == 8 and len(answer["embeddings"]) == 1
    url = emulator.invoke(url_event("POST", "/embed", json.dumps(VALID).encode(), False)).json()
    assert url["statusCode"] == 200
