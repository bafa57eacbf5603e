"""What the emulator runs for what the user names, and the search path it runs with.

Layout parts are stand-in files beside a build report written as the builder
writes it (``layout`` and ``artifacts.parts``); nothing is unzipped or run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coldbrew.artifact.layouts import output_paths
from coldbrew.emulate import EmulatorConfig, FunctionArtifact, RuntimeEnvironment, resolve_artifact
from coldbrew.emulate.layers import layer_paths
from coldbrew.emulate.sandbox import lambda_environment
from coldbrew.errors import ConfigurationError, EmulationError

NAME = "minilm-l6-v2-py312-x86_64"
#: An empty zip: its end-of-central-directory record alone.
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18


def _build(out: Path, layout: str, *, write_parts: bool = True) -> Path:
    """A build's report (parts named as the builder names them), and its parts unless told."""
    out.mkdir(parents=True, exist_ok=True)
    paths = output_paths(Path("dist"), NAME)[layout]  # the report records them relative
    roles = {"zip": ("function",), "layer": ("function", "layer"), "image": ("image-context",)}
    report: dict[str, Any] = {
        "schema": 1,
        "artifact": str(paths[0]),
        "python": "3.12",
        "arch": "x86_64",
        "layout": {"layout": layout, "requested": layout, "reason": "test"},
        "artifacts": {
            "layout": layout,
            "parts": [
                {"role": role, "path": str(path)}
                for role, path in zip(roles[layout], paths, strict=True)
            ],
        },
    }
    target = out / f"{NAME}.report.json"
    target.write_text(json.dumps(report), encoding="utf-8")
    if write_parts:
        for path in paths:
            if layout == "image":
                (out / path.name).mkdir()
            else:
                (out / path.name).write_bytes(EMPTY_ZIP)
    return target


# --- a layer build: the function zip with its layer ---------------------------------


@pytest.mark.parametrize("given", ["function", "layer", "report"])
def test_any_part_of_a_layer_build_runs_the_function_with_its_layer(
    tmp_path: Path, given: str
) -> None:
    report = _build(tmp_path, "layer")
    function, layer = output_paths(tmp_path, NAME)["layer"]
    named = {"function": function, "layer": layer, "report": report}[given]
    resolved = resolve_artifact(named)
    assert resolved == FunctionArtifact(function, (layer,), layout="layer")
    assert resolved.report["python"] == "3.12"


def test_the_parts_are_found_beside_the_report_wherever_dist_went(tmp_path: Path) -> None:
    # The report records "dist/NAME-function.zip"; the build was moved since.
    report = _build(tmp_path / "moved" / "elsewhere", "layer")
    resolved = resolve_artifact(report)
    assert resolved.function == report.parent / f"{NAME}-function.zip"
    assert resolved.layers == (report.parent / f"{NAME}-layer.zip",)


@pytest.mark.parametrize("missing", ["function", "layer"])
def test_a_missing_part_is_an_error_naming_the_file_and_the_fix(
    tmp_path: Path, missing: str
) -> None:
    report = _build(tmp_path, "layer")
    function, layer = output_paths(tmp_path, NAME)["layer"]
    gone = function if missing == "function" else layer
    gone.unlink()
    named = layer if missing == "function" else function
    with pytest.raises(EmulationError) as caught:
        resolve_artifact(named)
    message = caught.value.message
    assert f"the {missing} zip {gone} of the build {report} describes is missing" in message
    assert "`coldbrew build`" in message


def test_a_zip_the_layer_report_does_not_list_is_refused(tmp_path: Path) -> None:
    _build(tmp_path, "layer")
    stray = tmp_path / f"{NAME}.zip"  # NAME.zip leads to NAME.report.json, a layer build
    stray.write_bytes(EMPTY_ZIP)
    with pytest.raises(EmulationError, match=r"is not part of the layer build .* describes"):
        resolve_artifact(stray)


def test_a_layer_report_without_its_parts_is_an_error(tmp_path: Path) -> None:
    report = _build(tmp_path, "layer")
    data = json.loads(report.read_text())
    del data["artifacts"]
    report.write_text(json.dumps(data))
    with pytest.raises(EmulationError, match="does not list the function and layer zips"):
        resolve_artifact(report)


# --- an image build: refused, with the fix ------------------------------------------


@pytest.mark.parametrize("given", ["context", "report"])
def test_an_image_build_cannot_run_here_and_says_how_to_serve_it(
    tmp_path: Path, given: str
) -> None:
    report = _build(tmp_path, "image")
    context = output_paths(tmp_path, NAME)["image"][0]
    with pytest.raises(EmulationError) as caught:
        resolve_artifact(context if given == "context" else report)
    message = caught.value.message
    assert "container-image build" in message and "cannot run" in message
    assert "`coldbrew build --layout zip`" in message
    assert "\n" not in message  # one line


# --- zips and directories: as before ---------------------------------------------------


def test_a_zip_build_runs_its_zip_whether_named_by_the_zip_or_its_report(tmp_path: Path) -> None:
    report = _build(tmp_path, "zip")
    archive = output_paths(tmp_path, NAME)["zip"][0]
    by_zip, by_report = resolve_artifact(archive), resolve_artifact(report)
    assert by_zip == by_report == FunctionArtifact(archive, (), layout="zip")
    assert by_zip.report["arch"] == "x86_64"


def test_a_zip_or_directory_without_a_report_is_run_as_it_is(tmp_path: Path) -> None:
    archive = tmp_path / "handmade.zip"
    archive.write_bytes(EMPTY_ZIP)
    directory = tmp_path / "task-root"
    directory.mkdir()
    assert resolve_artifact(archive) == FunctionArtifact(archive)
    assert resolve_artifact(archive).report == {}
    assert resolve_artifact(directory) == FunctionArtifact(directory)


def test_a_report_older_than_layouts_names_its_zip(tmp_path: Path) -> None:
    report = tmp_path / f"{NAME}.report.json"
    report.write_text(json.dumps({"artifact": f"dist/{NAME}.zip", "python": "3.12"}))
    (tmp_path / f"{NAME}.zip").write_bytes(EMPTY_ZIP)
    assert resolve_artifact(report).function == tmp_path / f"{NAME}.zip"


def test_a_report_that_does_not_exist_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(EmulationError, match="does not exist: build the artifact with `coldbrew"):
        resolve_artifact(tmp_path / f"{NAME}.report.json")


# --- the search path a sandbox gets: Lambda's order ------------------------------------


def _runtime(tmp_path: Path) -> RuntimeEnvironment:
    root = tmp_path / "runtime"
    return RuntimeEnvironment(root, root / "bin" / "python", "3.12.1", "x86_64")


def test_layers_follow_the_task_root_site_packages_first_later_layers_first(
    tmp_path: Path,
) -> None:
    task, one, two = tmp_path / "task", tmp_path / "opt" / "1", tmp_path / "opt" / "2"
    config = EmulatorConfig(
        artifact=tmp_path / "f.zip", cache_dir=tmp_path, python_version="3.13", host_path="/bin"
    )
    env = lambda_environment(config, task, _runtime(tmp_path), (one, two))
    site = "python/lib/python3.13/site-packages"
    assert env["PYTHONPATH"].split(":") == [
        str(task),
        f"{two}/{site}",
        f"{one}/{site}",
        f"{two}/python",
        f"{one}/python",
    ]
    assert env["LD_LIBRARY_PATH"].split(":") == [
        str(task),
        f"{task}/lib",
        f"{two}/lib",
        f"{one}/lib",
    ]
    assert env["PATH"].split(":") == [f"{tmp_path}/runtime/bin", "/bin", f"{two}/bin", f"{one}/bin"]


def test_without_layers_the_environment_is_unchanged(tmp_path: Path) -> None:
    task = tmp_path / "task"
    config = EmulatorConfig(artifact=tmp_path / "f.zip", cache_dir=tmp_path, host_path="/bin")
    env = lambda_environment(config, task, _runtime(tmp_path))
    assert env["PYTHONPATH"] == str(task)
    assert env["LD_LIBRARY_PATH"] == f"{task}:{task}/lib"
    assert layer_paths((), "3.12").python == ()


def test_lambdas_five_layer_limit_holds(tmp_path: Path) -> None:
    layers = tuple(tmp_path / f"{n}.zip" for n in range(6))
    # A list is taken as a tuple: the frozen config stays hashable and unchanging.
    assert EmulatorConfig(tmp_path, tmp_path, layers=list(layers[:5])).layers == layers[:5]
    with pytest.raises(ConfigurationError, match="at most 5 layers"):
        EmulatorConfig(tmp_path, tmp_path, layers=layers)
