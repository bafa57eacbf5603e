"""SnapStart init under the real awslambdaric: the built artifact's handler, in a sandbox
started with ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``.

awslambdaric then imports the handler, runs the before-snapshot hooks, asks the
Runtime API to be restored (``GET /runtime/restore/next``), runs the
after-restore hooks and only then polls for work. Nothing is really
snapshotted: the same process carries on, as a restored sandbox would. The
emulator itself refuses that variable as function configuration (Lambda
does), so the sandbox is started directly with Lambda's environment plus it.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.target import Target
from coldbrew.emulate import EmulatorConfig, RuntimeEnvironment, ensure_runtime
from coldbrew.emulate.artifact import remove_task_root, unpack_artifact
from coldbrew.emulate.report import Status
from coldbrew.emulate.runtime_api import Invocation
from coldbrew.emulate.sandbox import Sandbox, SandboxSpec, lambda_environment
from coldbrew.errors import InterpreterNotFoundError

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path.home() / ".cache" / "coldbrew"  # the real cache: wheels and runtime reused


@pytest.fixture(scope="module")
def runtime() -> RuntimeEnvironment:
    try:
        return ensure_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")


@pytest.fixture(scope="module")
def task_root(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, runtime: RuntimeEnvironment
) -> Iterator[Path]:
    project = tmp_path_factory.mktemp("project")
    (project / "handlers").symlink_to(ROOT / "handlers")
    (project / "packaging").symlink_to(ROOT / "packaging")
    shutil.copytree(tiny_model_dir, project / "models" / "tiny" / "dist")
    options = BuildOptions(
        model="tiny",
        project_dir=project,
        out_dir=project / "dist",
        cache_dir=CACHE_DIR,
        target=Target("3.12", "x86_64"),
        prune=False,  # the shipped handler and wheels are what matter here, not the slimming
        strip=False,
    )
    report = build_artifact(options)
    root = unpack_artifact(Path(report.artifact), tmp_path_factory.mktemp("task") / "root")
    yield root
    remove_task_root(root)


def run_sandbox(
    task_root: Path, runtime: RuntimeEnvironment, init_type: str
) -> tuple[list[str], bytes]:
    """Start a sandbox with ``init_type``, wait for its init, invoke it once; its log and answer."""
    config = EmulatorConfig(artifact=task_root, cache_dir=CACHE_DIR)
    env = lambda_environment(config, task_root, runtime)
    env["AWS_LAMBDA_INITIALIZATION_TYPE"] = init_type
    logs: list[str] = []
    sandbox = Sandbox(SandboxSpec(runtime.python, task_root, config.handler, env), logs.append)
    sandbox.start()
    try:
        init = sandbox.wait_ready(30)
        assert init.ok, (init.error_type, init.error_message, logs)
        invocation = Invocation(
            request_id=str(uuid.uuid4()),
            payload=json.dumps({"inputs": ["the cat sat on the mat"]}).encode(),
            deadline_ms=int((time.time() + 30) * 1000),
            function_arn=config.function_arn,
            trace_id="Root=1-00000000-000000000000000000000000;Sampled=0",
        )
        answer = sandbox.invoke(invocation, 30)
        sandbox.drain_logs()
        assert answer.status is Status.SUCCESS, answer.body
        return logs, answer.body
    finally:
        sandbox.kill()


def hook_events(logs: list[str]) -> list[dict[str, object]]:
    events = []
    for line in logs:
        if '"snapstart_' in line:
            events.append(json.loads(line[line.index("{") :]))
    return events


def test_snap_start_init_warms_up_before_the_snapshot_and_reseeds_after_restore(
    task_root: Path, runtime: RuntimeEnvironment
) -> None:
    logs, body = run_sandbox(task_root, runtime, "snap-start")
    events = hook_events(logs)
    assert [e["event"] for e in events] == ["snapstart_before_snapshot", "snapstart_after_restore"]
    assert isinstance(events[0]["warm_up_ms"], float)
    reply = json.loads(body)
    assert reply["dimensions"] == 8 and len(reply["embeddings"]) == 1  # still answers


def test_on_demand_init_registers_no_hooks(task_root: Path, runtime: RuntimeEnvironment) -> None:
    logs, body = run_sandbox(task_root, runtime, "on-demand")
    assert hook_events(logs) == []
    assert json.loads(body)["dimensions"] == 8
