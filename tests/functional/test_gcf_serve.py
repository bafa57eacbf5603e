"""``coldbrew serve --platform gcf`` and ``coldbrew demo --platform gcf`` end to end:
the real CLI, Google's real functions-framework in Python 3.12, the tiny model.

Only behaviour is checked, never speed.
"""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_process import CliProcess
from coldbrew.cli import main
from coldbrew.emulate.gcf_runtime import ensure_gcf_runtime
from coldbrew.errors import InterpreterNotFoundError
from gcf_artifacts import CACHE_DIR, build_tiny_lambda_zip, gcf_zip_from_lambda


@pytest.fixture(scope="module")
def gcf_zip(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    try:
        ensure_gcf_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")
    workdir = tmp_path_factory.mktemp("gcf")
    return gcf_zip_from_lambda(build_tiny_lambda_zip(workdir, tiny_model_dir), workdir / "f.zip")


class _Serving(CliProcess):
    """``coldbrew serve --platform gcf`` in a subprocess with its own TMPDIR."""

    def __init__(self, artifact: Path, tmpdir: Path, *extra: str) -> None:
        env = {"TMPDIR": str(tmpdir), "COLDBREW_PLATFORM": "gcf"}  # the flag's variable
        super().__init__(["serve", str(artifact), "--port", "0", *extra], env)


def test_serve_prints_url_and_figures_and_stops_cleanly_on_ctrl_c(
    gcf_zip: Path, tmp_path: Path
) -> None:
    served = _Serving(gcf_zip, tmp_path, "--env", "COLDBREW_MAX_INPUTS=3")
    try:
        cold = served.wait_for(r"^INIT_REPORT Cold start: (\d+\.\d\d) ms")
        assert float(cold.group(1)) > 0
        url = served.wait_for(r"Serving .* at (http://127\.0\.0\.1:\d+)").group(1)
        assert any(tmp_path.iterdir())  # the unpacked artifact lives in the private TMPDIR
        request = urllib.request.Request(
            url + "/embed", data=json.dumps({"inputs": ["the cat sat"]}).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            body = json.loads(reply.read())
        assert body["model"] == "tiny" and len(body["embeddings"][0]) == body["dimensions"]
        served.wait_for(r"^REPORT POST /embed\s+Status: 200\s+Duration: \d+\.\d\d ms$")
        with urllib.request.urlopen(url + "/health", timeout=30) as reply:
            assert json.loads(reply.read())["limits"]["max_inputs"] == 3  # --env reached it
        served.proc.send_signal(signal.SIGINT)
        assert served.proc.wait(60) == 0
    finally:
        if served.proc.poll() is None:
            served.proc.kill()


def test_ctrl_c_leaves_no_server_and_no_temp_files(gcf_zip: Path, tmp_path: Path) -> None:
    served = _Serving(gcf_zip, tmp_path)
    try:
        url = served.wait_for(r"Serving .* at (http://127\.0\.0\.1:\d+)").group(1)
        served.proc.send_signal(signal.SIGINT)
        assert served.proc.wait(60) == 0
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/health", timeout=5)
    assert list(tmp_path.iterdir()) == []
    assert "Traceback" not in "\n".join(served.seen)


def test_an_artifact_without_main_py_is_a_one_line_error(tmp_path: Path) -> None:
    artifact = tmp_path / "not-gcf.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("lambda_function.py", "def handler(event, context): return {}\n")
    result = CliRunner().invoke(
        main, ["serve", "--platform", "gcf", str(artifact), "--port", "0"], catch_exceptions=False
    )
    assert result.exit_code != 0
    assert "has no main.py" in result.output and "--platform gcf" in result.output
    assert "Traceback" not in result.output


def test_demo_runs_every_check_against_functions_framework(gcf_zip: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["demo", "--platform", "gcf", str(gcf_zip), "--cold-runs", "1", "--warm-runs", "3"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "all checks passed" in result.output
    assert "functions-framework: http://127.0.0.1:" in result.output
