"""The emulator runs a layer build the way Lambda does: the function zip with its layer.

A real ``coldbrew build --layout layer`` of the tiny model (its third-party
packages, tokenizers and ONNX Runtime's C library, live only in the layer) is
served through awslambdaric sandboxes behind the local function URL. Without
its layer the same function zip must fail at init: the layer is what makes it
work. Hand-made zips check the search order itself against Lambda's:
task root, then the layers' site-packages, then the layers' python/.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.report import BuildReport, report_path
from coldbrew.artifact.target import Target
from coldbrew.cli import main
from coldbrew.emulate import (
    EmulatorConfig,
    FunctionArtifact,
    LocalFunctionUrl,
    RuntimeEnvironment,
    Status,
    ensure_runtime,
    resolve_artifact,
)
from coldbrew.emulate.probe import FunctionUrlClient, Reply
from coldbrew.errors import InterpreterNotFoundError

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path.home() / ".cache" / "coldbrew"  # wheels and the runtime venv, reused
TARGET = Target("3.12", "x86_64")


@pytest.fixture(scope="module")
def runtime() -> RuntimeEnvironment:
    try:
        return ensure_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")


@pytest.fixture(scope="module")
def layer_build(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, runtime: RuntimeEnvironment
) -> BuildReport:
    project = tmp_path_factory.mktemp("project")
    (project / "handlers").symlink_to(ROOT / "handlers")
    (project / "packaging").symlink_to(ROOT / "packaging")
    shutil.copytree(tiny_model_dir, project / "models" / "tiny" / "dist")
    options = BuildOptions(
        model="tiny",
        project_dir=project,
        out_dir=project / "dist",
        cache_dir=CACHE_DIR,
        target=TARGET,
        layout="layer",
    )
    return build_artifact(options)


@pytest.fixture(scope="module")
def parts(layer_build: BuildReport) -> FunctionArtifact:
    # Named by its report, as `coldbrew serve dist/NAME.report.json` would be.
    return resolve_artifact(report_path(Path(layer_build.artifact)))


class Served:
    """A started function URL, its log lines and a client."""

    def __init__(self, fn: LocalFunctionUrl, logs: list[str]) -> None:
        self.fn = fn
        self.logs = logs
        self.client = FunctionUrlClient(fn.url)

    def embed(self, texts: list[str]) -> Reply:
        return self.client.embed(texts)


@pytest.fixture
def serve(runtime: RuntimeEnvironment) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(artifact: Path, layers: tuple[Path, ...] = (), **changes: Any) -> Served:
        config = EmulatorConfig(
            artifact=artifact,
            layers=layers,
            cache_dir=CACHE_DIR,
            **{"timeout_s": 30.0, "init_timeout_s": 30.0, **changes},
        )
        logs: list[str] = []
        fn = LocalFunctionUrl(config, on_log=logs.append, runtime=runtime)
        fn.start()
        started.append(Served(fn, logs))
        return started[-1]

    yield start
    for served in started:
        served.client.close()
        served.fn.stop()


# --- the tiny model's layer build ------------------------------------------------------


def test_the_report_resolves_to_the_function_zip_and_its_layer(
    layer_build: BuildReport, parts: FunctionArtifact
) -> None:
    out = Path(layer_build.artifact).parent
    assert parts.layout == "layer"
    assert parts.function == out / "tiny-py312-x86_64-function.zip"
    assert parts.layers == (out / "tiny-py312-x86_64-layer.zip",)
    # Either zip leads to the same pair.
    assert resolve_artifact(parts.function) == parts == resolve_artifact(parts.layers[0])


def test_a_layer_build_answers_with_embeddings_from_the_layers_packages(
    serve: Callable[..., Served], parts: FunctionArtifact
) -> None:
    # PYTHONVERBOSE makes every import say where its code came from (stderr -> the log).
    served = serve(parts.function, parts.layers, env={"PYTHONVERBOSE": "1"})
    reply = served.embed(["the cat sat", "a dog ran"])
    assert reply.status == 200, reply.body
    assert reply.body["dimensions"] == 8 and len(reply.body["embeddings"]) == 2
    assert served.client.request("GET", "/health").status == 200

    (layer,) = served.fn.emulator.layer_roots
    task = served.fn.emulator.task_root
    assert task is not None and layer.is_relative_to(task.parent)  # unpacked in the workdir
    # tokenizers came from the layer's directory, loaded from the layer's own bytecode...
    tokenizers_pyc = layer / "python" / "tokenizers" / "__pycache__" / "__init__.cpython-312.pyc"
    assert f"# code object from {str(tokenizers_pyc)!r}" in served.logs
    # ... and no module of the layer or the function was compiled from source: the
    # unchecked-hash .pyc files made for /opt/python and /var/task are used here as they are.
    compiled = re.compile(rf"# code object from ({re.escape(str(layer))}|{re.escape(str(task))})/")
    assert not [line for line in served.logs if compiled.match(line)]
    from_layer = [line for line in served.logs if line.startswith(f"# code object from '{layer}/")]
    assert len(from_layer) > 5
    # The function's own code came from the task root, never from the layer.
    assert any(line.startswith(f"# code object from '{task}/coldbrew/") for line in served.logs)
    assert not any(f"{layer}/python/coldbrew" in line for line in served.logs)
    # ONNX Runtime's C library, loaded with ctypes, is the layer's too: the idle
    # sandbox has it mapped from there.
    pid = served.fn.records[-1].sandbox_pid
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert f"{layer}/python/onnxruntime/capi/libonnxruntime.so" in maps


def test_without_its_layer_the_function_zip_fails_at_init(
    serve: Callable[..., Served], parts: FunctionArtifact
) -> None:
    served = serve(parts.function)  # the function zip alone
    reply = served.embed(["the cat sat"])
    assert reply.status == 502
    error = reply.body["error"]
    assert (error["code"], error["type"]) == ("function_error", "Runtime.ImportModuleError")
    assert "No module named 'tokenizers'" in error["message"]
    assert [r.status for r in served.fn.records] == [Status.INIT_ERROR]


def test_coldbrew_demo_runs_a_layer_build_named_by_its_function_zip(
    parts: FunctionArtifact,
    runtime: RuntimeEnvironment,  # skips without Python 3.12; the demo finds the same venv
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "demo",
            str(parts.function),
            "--cold-runs",
            "1",
            "--warm-runs",
            "3",
            "--cache-dir",
            str(CACHE_DIR),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"with layer {parts.layers[0]}" in result.output
    assert "all checks passed" in result.output


# --- the search order, on hand-made zips ------------------------------------------------

PROBE = """
import importlib, os, sys

def handler(event, context):
    where = {}
    for name in ("in_task_and_layer", "in_site_packages_and_python", "only_in_python"):
        where[name] = importlib.import_module(name).WHERE
    return {"where": where, "path": sys.path, "ld": os.environ["LD_LIBRARY_PATH"],
            "bin": os.environ["PATH"]}
"""


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6))
            info.external_attr = 0o644 << 16
            zf.writestr(info, text)
    return path


def test_the_search_order_is_lambdas(serve: Callable[..., Served], tmp_path: Path) -> None:
    site = "python/lib/python3.12/site-packages"
    function = _zip(
        tmp_path / "function.zip",
        {"lambda_function.py": PROBE, "in_task_and_layer.py": "WHERE = 'task'\n"},
    )
    first = _zip(
        tmp_path / "first.zip",
        {
            "python/in_task_and_layer.py": "WHERE = 'layer'\n",
            f"{site}/in_site_packages_and_python.py": "WHERE = 'first site-packages'\n",
            "python/only_in_python.py": "WHERE = 'first python'\n",
        },
    )
    second = _zip(
        tmp_path / "second.zip",
        {
            "python/in_site_packages_and_python.py": "WHERE = 'second python'\n",
            # Merged into /opt after the first layer, this file would overwrite the first's.
            "python/only_in_python.py": "WHERE = 'second python'\n",
        },
    )
    served = serve(function, (first, second))
    reply = served.client.request("GET", "/")
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["where"] == {
        "in_task_and_layer": "task",  # the function's own copy wins over a layer's
        "in_site_packages_and_python": "first site-packages",  # site-packages before python/
        "only_in_python": "second python",  # the later layer wins, as its files overwrite
    }
    emulator = served.fn.emulator
    task, (one, two) = emulator.task_root, emulator.layer_roots
    assert task is not None
    # Lambda: /var/task, /opt/python/lib/python3.12/site-packages, /opt/python, the runtime's.
    # (The task root may appear twice: `python -m` adds the working directory too.)
    assert list(dict.fromkeys(body["path"]))[:5] == [
        str(task),
        f"{two}/{site}",
        f"{one}/{site}",
        f"{two}/python",
        f"{one}/python",
    ]
    assert body["ld"].endswith(f":{two}/lib:{one}/lib")
    assert body["bin"].endswith(f":{two}/bin:{one}/bin")
    served.fn.stop()
    assert not one.exists() and not two.exists()  # unpacked into the workdir, removed with it
