"""The local Lambda emulator end to end: tiny handler artifacts run by the real
awslambdaric under Python 3.12, reached over real HTTP through the function URL
front (and directly through ``Emulator.invoke``).

Only behaviour is checked, never speed: this machine is noisy. Waits for
asynchronous effects (a process dying, requests becoming in-flight) poll with
generous deadlines.
"""

from __future__ import annotations

import base64
import http.client
import json
import math
import re
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coldbrew.cli import main
from coldbrew.emulate import (
    Emulator,
    EmulatorConfig,
    InvocationRecord,
    LocalFunctionUrl,
    RuntimeEnvironment,
    Status,
    check_arch,
    ensure_runtime,
)
from coldbrew.errors import (
    ConfigurationError,
    EmulationError,
    InterpreterNotFoundError,
    InvocationTimeoutError,
)

CACHE_DIR = Path.home() / ".cache" / "coldbrew"  # the real cache: the runtime venv is reused

ECHO = """
import base64, os, sys

print("echo: init")

def handler(event, context):
    path = event.get("rawPath", "")
    print("echo: handling", path)
    if path == "/exit":
        os._exit(3)
    if path == "/teapot":
        return {"statusCode": 418, "cookies": ["a=1", "b=2"], "isBase64Encoded": True,
                "headers": {"content-type": "application/octet-stream", "x-brew": "cold"},
                "body": base64.b64encode(bytes(range(256))).decode()}
    return {"event": event, "pid": os.getpid(), "env": dict(os.environ), "cwd": os.getcwd(),
            "path0": sys.path[0], "arn": context.invoked_function_arn,
            "request_id": context.aws_request_id, "memory": context.memory_limit_in_mb,
            "remaining_ms": context.get_remaining_time_in_millis()}
"""

SLOW = """
import os, subprocess, time

def handler(event, context):
    path = event.get("rawPath", "")
    if path == "/sleep":  # past any timeout, with a child in the process group
        child = subprocess.Popen(["sleep", "60"])
        with open(os.environ["CHILD_PID_FILE"], "w") as out:
            out.write(str(child.pid))
        time.sleep(60)
    if path == "/gate":  # hold the sandbox busy until the test opens the gate
        deadline = time.monotonic() + 20
        while not os.path.exists(os.environ["GATE_FILE"]) and time.monotonic() < deadline:
            time.sleep(0.01)
    return {"pid": os.getpid()}
"""

RAISES = """
import os

def handler(event, context):
    if event.get("rawPath") == "/ok":
        return {"pid": os.getpid()}
    raise ValueError("handler says no")
"""

IMPORT_FAILS = """
import module_that_does_not_exist

def handler(event, context):
    return "unreachable"
"""

REPORT_RE = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms"
    r"\tMemory Size: (?P<size>\d+) MB\tMax Memory Used: \d+ MB"
    r"(?P<init>\tInit Duration: \d+\.\d\d ms)?(\tStatus: \w+(\tError Type: \S+)?)?$"
)


# --- fixtures --------------------------------------------------------------------


@pytest.fixture(scope="module")
def runtime() -> RuntimeEnvironment:
    try:
        return ensure_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")


def _zip(directory: Path, source: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    artifact = directory / "function.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        info = zipfile.ZipInfo("lambda_function.py", date_time=(2020, 1, 2, 3, 4, 6))
        info.external_attr = 0o644 << 16
        zf.writestr(info, source)
    return artifact


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("artifacts")
    sources = {"echo": ECHO, "slow": SLOW, "raises": RAISES, "import_fails": IMPORT_FAILS}
    return {name: _zip(root / name, source) for name, source in sources.items()}


@dataclass
class Served:
    fn: LocalFunctionUrl
    logs: list[str] = field(default_factory=list)
    reports: list[InvocationRecord] = field(default_factory=list)

    def request(
        self,
        path: str = "/",
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        url = self.fn.url
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            conn.close()

    def json(self, path: str = "/", **kwargs: Any) -> Any:
        status, _, body = self.request(path, **kwargs)
        assert status == 200, body
        return json.loads(body)


@pytest.fixture
def serve(runtime: RuntimeEnvironment) -> Iterator[Callable[..., Served]]:
    started: list[LocalFunctionUrl] = []

    def start(
        artifact: Path, clock: Callable[[], float] = time.monotonic, **changes: Any
    ) -> Served:
        config = EmulatorConfig(
            artifact=artifact, cache_dir=CACHE_DIR, **{"timeout_s": 2.0, **changes}
        )
        logs: list[str] = []
        reports: list[InvocationRecord] = []
        fn = LocalFunctionUrl(
            config, on_log=logs.append, on_report=reports.append, runtime=runtime, clock=clock
        )
        started.append(fn)
        fn.start()
        return Served(fn, logs, reports)

    yield start
    for fn in started:
        fn.stop()


def _gone(pid: int, within_s: float = 10.0) -> bool:
    """Whether ``pid`` stops running (exits, or is a zombie) within the deadline."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


def _wait_until(condition: Callable[[], bool], within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


# --- cold and warm ------------------------------------------------------------------


def test_cold_then_warm_reuses_the_sandbox(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    served = serve(artifacts["echo"])
    first = served.json("/one")
    second = served.json("/two")
    assert first["pid"] == second["pid"]
    cold, warm = served.fn.records
    assert (cold.cold, warm.cold) == (True, False)
    assert cold.init_ms is not None and cold.init_ms > 0
    assert warm.init_ms is None
    assert cold.sandbox_pid == warm.sandbox_pid == first["pid"]
    reports = [line for line in served.logs if line.startswith("REPORT ")]
    assert len(reports) == 2
    assert "Init Duration" in reports[0] and "Init Duration" not in reports[1]
    # Init output before START; the handler's output between START and END.
    start = served.logs.index(f"START RequestId: {cold.request_id} Version: $LATEST")
    end = served.logs.index(f"END RequestId: {cold.request_id}")
    assert served.logs.index("echo: init") < start
    assert start < served.logs.index("echo: handling /one") < end


def test_report_records_are_well_formed(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    served = serve(artifacts["echo"], memory_mb=512)
    for _ in range(3):
        served.json()
    records = served.fn.records
    assert records == served.reports
    for record in records:
        assert record.status is Status.SUCCESS
        assert record.memory_size_mb == 512
        assert record.max_memory_mb is not None and 0 < record.max_memory_mb < 512
        assert record.duration_ms >= 0
        assert record.billed_ms == max(1, math.ceil(record.duration_ms))
    reports = [REPORT_RE.match(line) for line in served.logs if line.startswith("REPORT ")]
    assert all(reports), served.logs
    assert [m["id"] for m in reports if m] == [r.request_id for r in records]
    assert [bool(m["init"]) for m in reports if m] == [True, False, False]


# --- the event, the environment, the response -------------------------------------


def test_the_function_receives_a_function_url_event(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    served = serve(artifacts["echo"])
    status, headers, body = served.request(
        "/items/7?tag=a&tag=b",
        method="POST",
        body=b'{"inputs": ["hi"]}',
        headers={
            "Content-Type": "application/json",
            "Cookie": "session=abc; theme=dark",
            "X-Multi": "1",
        },
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    result = json.loads(body)
    event = result["event"]
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/items/7"
    assert event["rawQueryString"] == "tag=a&tag=b"
    assert event["queryStringParameters"] == {"tag": "a,b"}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["headers"]["x-multi"] == "1"
    assert event["body"] == '{"inputs": ["hi"]}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    # One request id throughout: response header, event, runtime context, record.
    request_id = headers["x-amzn-requestid"]
    assert event["requestContext"]["requestId"] == request_id == result["request_id"]
    assert served.fn.records[-1].request_id == request_id


def test_binary_bodies_travel_base64_both_ways(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    served = serve(artifacts["echo"])
    raw = b"\x00\xff\xfe binary"
    result = served.json(
        "/upload", method="PUT", body=raw, headers={"Content-Type": "application/octet-stream"}
    )
    assert result["event"]["isBase64Encoded"] is True
    assert base64.b64decode(result["event"]["body"]) == raw
    status, headers, body = served.request("/teapot")
    assert status == 418
    assert body == bytes(range(256))
    assert headers["x-brew"] == "cold"


def test_set_cookies_become_separate_headers(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    served = serve(artifacts["echo"])
    host, port = served.fn.url.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("GET", "/teapot")
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]


def test_the_sandbox_has_lambdas_environment_and_nothing_of_the_hosts(
    serve: Callable[..., Served],
    artifacts: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    runtime: RuntimeEnvironment,
) -> None:
    monkeypatch.setenv("COLDBREW_LEAK_CANARY", "1")
    served = serve(
        artifacts["echo"], env={"GREETING": "hello"}, function_name="brew-fn", region="eu-west-1"
    )
    result = served.json()
    env = result["env"]
    task_root = str(served.fn.emulator.task_root)
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "brew-fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/brew-fn"
    assert re.fullmatch(
        r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["LAMBDA_TASK_ROOT"] == task_root
    assert env["LAMBDA_RUNTIME_DIR"] == str(runtime.root)
    assert env["_HANDLER"] == "lambda_function.handler"
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["TZ"] == ":UTC"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONPATH"].split(":")[0] == task_root
    assert env["GREETING"] == "hello"
    assert "COLDBREW_LEAK_CANARY" not in env
    assert "HOME" not in env and "AWS_ACCESS_KEY_ID" not in env
    assert result["cwd"] == task_root == result["path0"]
    assert result["arn"] == "arn:aws:lambda:eu-west-1:000000000000:function:brew-fn"
    assert result["memory"] == "1024"
    assert 0 < result["remaining_ms"] <= 2000


def test_the_task_root_keeps_zip_modes_and_times(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    artifact = tmp_path / "modes.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        for name, mode in (("lambda_function.py", 0o644), ("bin/tool", 0o755)):
            info = zipfile.ZipInfo(name, date_time=(2021, 6, 7, 8, 9, 10))
            info.external_attr = mode << 16
            zf.writestr(info, "def handler(event, context):\n    return 1\n")
    served = serve(artifact)
    root = served.fn.emulator.task_root
    assert root is not None
    tool = (root / "bin" / "tool").stat()
    assert tool.st_mode & 0o777 == 0o555  # zip mode, less the write bits
    assert (root / "lambda_function.py").stat().st_mode & 0o777 == 0o444
    assert tool.st_mtime == 1623053350  # 2021-06-07T08:09:10Z
    served.fn.stop()
    assert not root.exists()


def test_a_directory_artifact_is_the_task_root_in_place(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    directory = tmp_path / "function"
    directory.mkdir()
    (directory / "lambda_function.py").write_text(ECHO)
    served = serve(directory)
    result = served.json("/dir")
    root = served.fn.emulator.task_root
    assert root == directory.resolve()
    assert result["cwd"] == str(root) == result["path0"]
    assert result["env"]["LAMBDA_TASK_ROOT"] == str(root)
    assert served.fn.records[-1].cold
    served.fn.stop()
    # Not copied, not made read-only, not deleted: the directory is the caller's.
    assert sorted(p.name for p in directory.iterdir()) == ["lambda_function.py"]
    assert (directory / "lambda_function.py").stat().st_mode & 0o200
    assert served.fn.emulator.task_root is None


def test_a_missing_directory_artifact_is_an_error(tmp_path: Path) -> None:
    from coldbrew.emulate.artifact import directory_task_root

    with pytest.raises(EmulationError, match="does not exist"):
        directory_task_root(tmp_path / "nowhere")


# --- failures -----------------------------------------------------------------------


def test_timeout_kills_the_sandbox_and_the_next_request_works(
    serve: Callable[..., Served], artifacts: dict[str, Path], tmp_path: Path
) -> None:
    child_pid_file = tmp_path / "child.pid"
    served = serve(artifacts["slow"], timeout_s=1.0, env={"CHILD_PID_FILE": str(child_pid_file)})
    first_pid = served.json()["pid"]
    status, headers, body = served.request("/sleep")
    assert status == 502
    error = json.loads(body)["error"]
    assert (error["code"], error["type"]) == ("function_error", "Sandbox.Timedout")
    assert "Task timed out after 1.00 seconds" in error["message"]
    assert error["request_id"] == headers["x-amzn-requestid"]
    assert any(
        line.endswith(f"{error['request_id']} Task timed out after 1.00 seconds")
        for line in served.logs
    )
    # The whole process group is gone: the runtime and the handler's child.
    assert _gone(first_pid)
    assert _gone(int(child_pid_file.read_text()))
    timed_out = served.fn.records[-1]
    assert timed_out.status is Status.TIMEOUT
    assert [line for line in served.logs if line.startswith("REPORT ")][-1].endswith(
        "\tStatus: timeout"
    )
    after = served.json()
    assert after["pid"] != first_pid
    assert served.fn.records[-1].cold


def test_handler_error_is_a_502_and_the_sandbox_stays_warm(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    served = serve(artifacts["raises"])
    status, headers, body = served.request("/boom")
    assert status == 502
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert (error["code"], error["type"]) == ("function_error", "ValueError")
    assert error["message"] == "handler says no"
    assert error["request_id"] == headers["x-amzn-requestid"]
    assert "[ERROR] ValueError: handler says no" in served.logs
    assert served.fn.records[-1].status is Status.FUNCTION_ERROR
    assert served.json("/ok")["pid"] == served.fn.records[0].sandbox_pid
    assert served.fn.records[-1].cold is False


def test_init_failure_is_a_502_and_does_not_wedge(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    served = serve(artifacts["import_fails"])
    for _ in range(2):
        status, headers, body = served.request()
        assert status == 502
        error = json.loads(body)["error"]
        assert error["type"] == "Runtime.ImportModuleError"
        assert "module_that_does_not_exist" in error["message"]
        assert error["request_id"] == headers["x-amzn-requestid"]
    assert [r.status for r in served.fn.records] == [Status.INIT_ERROR] * 2
    assert any(
        line.startswith("INIT_REPORT ") and "Runtime.ImportModuleError" in line
        for line in served.logs
    )
    assert served.fn.emulator.sandbox_counts() == (0, 0)


def test_a_crash_is_a_502_and_the_next_request_gets_a_new_sandbox(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    served = serve(artifacts["echo"])
    first_pid = served.json()["pid"]
    status, _, body = served.request("/exit")
    assert status == 502
    error = json.loads(body)["error"]
    assert error["type"] == "Runtime.ExitError"
    assert "exit status 3" in error["message"]
    assert served.json()["pid"] != first_pid


def test_a_body_over_6_mb_is_a_413(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    served = serve(artifacts["echo"])
    host, port = served.fn.url.removeprefix("http://").rstrip("/").split(":")
    # Announce the body but never send it: the front must refuse unread.
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7000000\r\n\r\n")
        reply = sock.makefile("rb").read()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    # Under 6 MB raw, but base64 grows it past the event limit.
    status, _, body = served.request(
        "/",
        method="POST",
        body=b"\xff" * (5 * 1024 * 1024),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert status == 413
    assert served.fn.records == []


# --- concurrency and reaping ----------------------------------------------------------


def _hold(served: Served, count: int) -> tuple[list[threading.Thread], list[Any]]:
    results: list[Any] = []

    def call() -> None:
        results.append(served.request("/gate"))

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, results


def test_concurrent_requests_get_a_second_sandbox(
    serve: Callable[..., Served], artifacts: dict[str, Path], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    served = serve(artifacts["slow"], timeout_s=30.0, env={"GATE_FILE": str(gate)})
    threads, results = _hold(served, 2)
    _wait_until(lambda: served.fn.emulator.sandbox_counts() == (0, 2))
    gate.touch()
    for thread in threads:
        thread.join()
    assert [status for status, _, _ in results] == [200, 200]
    pids = {json.loads(body)["pid"] for _, _, body in results}
    assert len(pids) == 2
    assert all(record.cold for record in served.fn.records)


def test_past_max_concurrency_a_request_is_throttled(
    serve: Callable[..., Served], artifacts: dict[str, Path], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    served = serve(
        artifacts["slow"],
        timeout_s=30.0,
        max_concurrency=1,
        queue_wait_s=0.0,
        env={"GATE_FILE": str(gate)},
    )
    threads, results = _hold(served, 1)
    _wait_until(lambda: served.fn.emulator.sandbox_counts() == (0, 1))
    status, _, body = served.request("/")
    assert status == 429
    assert json.loads(body)["error"]["type"] == "TooManyRequestsException"
    gate.touch()
    threads[0].join()
    assert results[0][0] == 200


def test_a_queued_request_waits_for_the_busy_sandbox(
    serve: Callable[..., Served], artifacts: dict[str, Path], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    served = serve(
        artifacts["slow"],
        timeout_s=30.0,
        max_concurrency=1,
        queue_wait_s=30.0,
        env={"GATE_FILE": str(gate)},
    )
    threads, results = _hold(served, 1)
    _wait_until(lambda: served.fn.emulator.sandbox_counts() == (0, 1))
    queued, queued_results = _hold(served, 1)
    gate.touch()
    for thread in threads + queued:
        thread.join()
    assert results[0][0] == queued_results[0][0] == 200
    assert json.loads(results[0][2])["pid"] == json.loads(queued_results[0][2])["pid"]
    assert [r.cold for r in served.fn.records] == [True, False]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_sandboxes_are_reaped_after_the_ttl(
    serve: Callable[..., Served], artifacts: dict[str, Path]
) -> None:
    clock = FakeClock()
    served = serve(artifacts["echo"], idle_ttl_s=60.0, clock=clock)
    pid = served.json()["pid"]
    emulator = served.fn.emulator
    assert emulator.idle_pids() == [pid]
    clock.now += 59
    assert emulator.reap_idle() == 0
    assert emulator.idle_pids() == [pid]
    clock.now += 2
    emulator.reap_idle()  # the background reaper may get there first: check the outcome
    assert emulator.idle_pids() == []
    assert _gone(pid)
    assert emulator.sandbox_counts() == (0, 0)
    assert served.json()["pid"] != pid
    assert served.fn.records[-1].cold


# --- direct invocation and lifecycle -------------------------------------------------------


def test_direct_invocation(
    runtime: RuntimeEnvironment, artifacts: dict[str, Path], tmp_path: Path
) -> None:
    config = EmulatorConfig(
        artifact=artifacts["slow"],
        cache_dir=CACHE_DIR,
        timeout_s=1.0,
        env={"CHILD_PID_FILE": str(tmp_path / "child.pid")},
    )
    with Emulator(config, runtime=runtime) as emulator:
        result = emulator.invoke({"rawPath": "/"})
        assert result.ok and result.record is not None and result.record.cold
        assert result.json()["pid"] == result.record.sandbox_pid
        result.raise_for_error()
        timed_out = emulator.invoke({"rawPath": "/sleep"})
        assert timed_out.status is Status.TIMEOUT
        with pytest.raises(InvocationTimeoutError, match="Task timed out"):
            timed_out.raise_for_error()
        pids = [r.sandbox_pid for r in emulator.records]
    assert all(pid is not None and _gone(pid) for pid in pids)
    with pytest.raises(EmulationError, match="not running"):
        emulator.invoke({})


def test_direct_invocation_of_a_failing_handler(
    runtime: RuntimeEnvironment, artifacts: dict[str, Path]
) -> None:
    config = EmulatorConfig(artifact=artifacts["raises"], cache_dir=CACHE_DIR)
    with Emulator(config, runtime=runtime) as emulator:
        result = emulator.invoke({"anything": 1})
    assert result.status is Status.FUNCTION_ERROR
    assert result.json()["errorType"] == "ValueError"
    assert result.json()["stackTrace"]  # the runtime's own error document
    with pytest.raises(EmulationError, match="handler says no"):
        result.raise_for_error()


def test_stopping_kills_every_sandbox(
    serve: Callable[..., Served], artifacts: dict[str, Path], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    served = serve(artifacts["slow"], timeout_s=30.0, env={"GATE_FILE": str(gate)})
    idle_pid = served.json()["pid"]
    threads, results = _hold(served, 1)
    _wait_until(lambda: served.fn.emulator.sandbox_counts() == (0, 1))
    served.fn.stop()  # with a request in flight
    threads[0].join()
    assert results[0][0] == 502
    busy_pid = served.fn.records[-1].sandbox_pid
    assert busy_pid is not None
    assert _gone(idle_pid) and _gone(busy_pid)


# --- configuration and the CLI edge --------------------------------------------------


def test_reserved_variables_cannot_be_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="reserved"):
        EmulatorConfig(artifact=tmp_path / "x.zip", cache_dir=tmp_path, env={"AWS_REGION": "x"})


def test_a_foreign_architecture_is_refused() -> None:
    assert check_arch("aarch64", host="arm64") == "arm64"
    with pytest.raises(EmulationError, match=r"built for arm64.*x86_64 host"):
        check_arch("arm64", host="x86_64")


def test_serve_refuses_an_artifact_built_for_another_arch(
    tmp_path: Path, artifacts: dict[str, Path]
) -> None:
    artifact = tmp_path / "fn.zip"
    artifact.write_bytes(artifacts["echo"].read_bytes())
    here = check_arch(None)
    other = "arm64" if here == "x86_64" else "x86_64"
    (tmp_path / "fn.report.json").write_text(json.dumps({"python": "3.12", "arch": other}))
    outcome = CliRunner().invoke(main, ["serve", str(artifact), "--port", "0"])
    assert outcome.exit_code != 0
    assert f"built for {other}" in outcome.output


def test_serve_refuses_a_bad_env_pair(artifacts: dict[str, Path]) -> None:
    outcome = CliRunner().invoke(main, ["serve", str(artifacts["echo"]), "--env", "NOEQUALS"])
    assert outcome.exit_code != 0
    assert "KEY=VALUE" in outcome.output
