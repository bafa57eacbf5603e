"""Artifact layouts on a real build of the tiny model.

The staged tree is the built zip without its bytecode (what the builder zips
after the rules); from it the zip, layer and image layouts are written with
the target interpreter's bytecode. The layer split runs the handler under
python3.12 with the layer on PYTHONPATH, as Lambda puts /opt/python on
sys.path. The image is never built (no container engine here): its recipe is
parsed and checked instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.container import check_image_context, dockerfile_text, write_image_context
from coldbrew.artifact.layouts import (
    LayoutResult,
    output_paths,
    target_compiler,
    write_chosen_layout,
    write_layout,
)
from coldbrew.artifact.limits import Limits
from coldbrew.artifact.report import BuildReport
from coldbrew.artifact.target import Target
from coldbrew.errors import BuildError, LambdaLimitError
from coldbrew.interpreters import find_interpreter

ROOT = Path(__file__).resolve().parents[2]
TARGET = Target("3.12", "x86_64")
THIRD_PARTY = ("numpy/", "onnxruntime/", "tokenizers/", "numpy.libs/")


def _extract(archive: Path, dest: Path) -> Path:
    """Unzip keeping each entry's mode, as Lambda does (zipfile alone drops them)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            Path(zf.extract(info, dest)).chmod((info.external_attr >> 16) & 0o777)
    return dest


def _names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as zf:
        return zf.namelist()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> BuildReport:
    project = tmp_path_factory.mktemp("project")
    (project / "handlers").symlink_to(ROOT / "handlers")
    (project / "packaging").symlink_to(ROOT / "packaging")
    shutil.copytree(tiny_model_dir, project / "models" / "tiny" / "dist")
    options = BuildOptions(
        model="tiny",
        project_dir=project,
        out_dir=project / "dist",
        cache_dir=Path.home() / ".cache" / "coldbrew",  # wheels resolved once, reused
        target=TARGET,
    )
    return build_artifact(options)


@pytest.fixture(scope="module")
def stage(built: BuildReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The staged task root before bytecode: the built zip minus its .pyc files."""
    root = _extract(Path(built.artifact), tmp_path_factory.mktemp("staged") / "task")
    for cache in sorted(root.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)
    return root


@pytest.fixture(scope="module")
def zip_layout(stage: Path, tmp_path_factory: pytest.TempPathFactory) -> LayoutResult:
    out = tmp_path_factory.mktemp("out-zip")
    return write_layout("zip", stage, out, "tiny", TARGET, compile=target_compiler(TARGET))


@pytest.fixture(scope="module")
def layer_layout(stage: Path, tmp_path_factory: pytest.TempPathFactory) -> LayoutResult:
    out = tmp_path_factory.mktemp("out-layer")
    return write_layout("layer", stage, out, "tiny", TARGET, compile=target_compiler(TARGET))


def test_zip_layout_is_the_builders_zip(zip_layout: LayoutResult, built: BuildReport) -> None:
    (part,) = zip_layout.parts
    assert part.path.name == "tiny.zip" and part.role == "function"
    assert part.sha256 == built.sha256
    assert "Python 3.12" in part.bytecode


def test_layer_zip_holds_only_python_dir(layer_layout: LayoutResult) -> None:
    names = _names(layer_layout.part("layer").path)
    assert names and all(n.startswith("python/") for n in names)
    assert "python/tokenizers/__init__.py" in names
    assert any(n.startswith("python/onnxruntime/capi/libonnxruntime.so") for n in names)
    assert not any(n.startswith("python/numpy") for n in names)  # the runtime uses ctypes
    assert any(
        n.startswith("python/tokenizers/__pycache__/") and ".cpython-312." in n for n in names
    )


def test_function_zip_has_no_third_party_packages(layer_layout: LayoutResult) -> None:
    names = _names(layer_layout.part("function").path)
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"lambda_function.py", "__pycache__", "coldbrew", "model"}
    assert {"__pycache__/lambda_function.cpython-312.pyc", "model/model.onnx"} <= set(names)
    assert "coldbrew/runtime/__pycache__/service.cpython-312.pyc" in names
    assert not any(n.startswith(THIRD_PARTY) or ".dist-info/" in n for n in names)


def test_split_covers_the_zip_exactly(zip_layout: LayoutResult, layer_layout: LayoutResult) -> None:
    function = set(_names(layer_layout.part("function").path))
    layer = {n.removeprefix("python/") for n in _names(layer_layout.part("layer").path)}
    assert not function & layer
    assert function | layer == set(_names(zip_layout.artifact))
    unzipped = (
        layer_layout.part("function").unzipped_bytes + layer_layout.part("layer").unzipped_bytes
    )
    assert abs(unzipped - zip_layout.unzipped_bytes) < 0.01 * zip_layout.unzipped_bytes


def test_bytecode_records_where_each_part_lives(layer_layout: LayoutResult) -> None:
    with zipfile.ZipFile(layer_layout.part("layer").path) as zf:
        tokenizers_pyc = zf.read("python/tokenizers/__pycache__/__init__.cpython-312.pyc")
    with zipfile.ZipFile(layer_layout.part("function").path) as zf:
        service_pyc = zf.read("coldbrew/runtime/__pycache__/service.cpython-312.pyc")
    assert b"/opt/python/tokenizers/__init__.py" in tokenizers_pyc
    assert b"/var/task" not in tokenizers_pyc
    assert b"/var/task/coldbrew/runtime/service.py" in service_pyc


def test_handler_answers_with_the_layer_on_the_path(
    layer_layout: LayoutResult, tmp_path: Path
) -> None:
    task = _extract(layer_layout.part("function").path, tmp_path / "task")
    opt = _extract(layer_layout.part("layer").path, tmp_path / "opt")
    script = (
        "import json, sys, tokenizers, coldbrew, lambda_function as f\n"
        "from coldbrew.runtime import ort_capi\n"
        "ok = f.handler({'inputs': ['the cat sat', 'a dog']}, None)\n"
        "bad = f.handler({'inputs': []}, None)\n"
        "where = [tokenizers.__file__, ort_capi.find_library(), coldbrew.__file__]\n"
        "assert not {'numpy', 'onnxruntime'} & set(sys.modules)\n"
        "print(json.dumps([ok['dimensions'], len(ok['embeddings']), bad['status'], where]))\n"
    )
    out = subprocess.run(
        [str(find_interpreter("3.12").path), "-c", script],
        cwd=task,
        capture_output=True,
        text=True,
        check=True,
        # Lambda's order: the task root, then the layers' /opt/python.
        env={
            "PYTHONPATH": f"{task}:{opt / 'python'}",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PATH": "/usr/bin:/bin",
        },
    )
    dimensions, count, status, where = json.loads(out.stdout)
    assert (dimensions, count, status) == (8, 2, 400)
    assert all(w.startswith(str(opt / "python")) for w in where[:2])
    assert where[2].startswith(str(task))


def test_layer_layout_is_reproducible(
    stage: Path, layer_layout: LayoutResult, tmp_path: Path
) -> None:
    again = write_layout("layer", stage, tmp_path, "tiny", TARGET, compile=target_compiler(TARGET))
    assert [p.sha256 for p in again.parts] == [p.sha256 for p in layer_layout.parts]
    assert [p.path.name for p in again.parts] == ["tiny-function.zip", "tiny-layer.zip"]


def test_image_context_checks_out_against_the_zip(
    stage: Path, zip_layout: LayoutResult, tmp_path: Path
) -> None:
    image = write_layout(
        "image", stage, tmp_path / "a", "tiny", TARGET, compile=target_compiler(TARGET)
    )
    assert image.image is not None and image.artifact == tmp_path / "a" / "tiny-image"
    assert image.image.platform == "linux/amd64"
    checked = check_image_context(image.artifact, TARGET, expect_zip=zip_layout.artifact)
    assert checked.base_image == "public.ecr.aws/lambda/python:3.12"
    assert checked.cmd == ("lambda_function.handler",)
    assert checked.copies == ((("task/",), "${LAMBDA_TASK_ROOT}/"),)
    assert checked.task_files == len(_names(zip_layout.artifact))
    again = write_layout(
        "image", stage, tmp_path / "b", "tiny", TARGET, compile=target_compiler(TARGET)
    )
    assert again.parts[0].sha256 == image.parts[0].sha256  # same digest: reproducible
    assert json.loads(json.dumps(image.to_json()))["image"]["built"] is False


# --- the image checker on small hand-made contexts ----------------------------------------


def _small_context(tmp_path: Path, target: Target) -> tuple[Path, Path]:
    task = tmp_path / "task-root"
    (task / "coldbrew").mkdir(parents=True)
    (task / "lambda_function.py").write_text("def handler(event, context):\n    return event\n")
    (task / "coldbrew" / "__init__.py").write_text("")
    archive = write_layout("zip", task, tmp_path / "zip", "small", target).artifact
    context = write_image_context(task, tmp_path / "small-image", target).path
    return context, archive


def test_dockerfile_names_the_targets_base_image_and_platform() -> None:
    text = dockerfile_text(Target("3.13", "arm64"))
    assert "FROM --platform=linux/arm64 public.ecr.aws/lambda/python:3.13\n" in text
    assert "pin it by digest" in text
    assert text.endswith('COPY task/ ${LAMBDA_TASK_ROOT}/\nCMD ["lambda_function.handler"]\n')


def test_checker_refuses_another_targets_recipe(tmp_path: Path) -> None:
    arm = Target("3.13", "arm64")
    context, archive = _small_context(tmp_path, arm)
    assert check_image_context(context, arm, expect_zip=archive).platform == "linux/arm64"
    with pytest.raises(BuildError) as caught:
        check_image_context(context, TARGET)
    assert "the target x86_64 needs --platform=linux/amd64" in caught.value.message
    assert "the target needs public.ecr.aws/lambda/python:3.12" in caught.value.message


def test_checker_accepts_a_digest_pin(tmp_path: Path) -> None:
    context, _ = _small_context(tmp_path, TARGET)
    dockerfile = context / "Dockerfile"
    pinned = "public.ecr.aws/lambda/python:3.12@sha256:" + "0" * 64
    text = dockerfile.read_text().replace(
        "FROM --platform=linux/amd64 public.ecr.aws/lambda/python:3.12",
        f"FROM --platform=linux/amd64 {pinned}",
    )
    dockerfile.write_text(text)
    assert check_image_context(context, TARGET).base_image == pinned


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("COPY task/", "COPY app/"), "COPY source 'app/' is not under task/"),
        (lambda t: t.replace("COPY task/", "COPY task/missing.py"), "does not exist"),
        (lambda t: t.replace("CMD [", "RUN pip install x\nCMD ["), "FROM, COPY..., CMD"),
        (
            lambda t: t.replace('CMD ["lambda_function.handler"]', "CMD lambda_function.handler"),
            "exec form",
        ),
        (
            lambda t: t.replace('"lambda_function.handler"', '"app.handler"'),
            "task/app.py is missing",
        ),
        (lambda t: t.replace("${LAMBDA_TASK_ROOT}/", "/opt/"), "is not the task root"),
    ],
)
def test_checker_names_what_is_wrong(
    tmp_path: Path, edit: Callable[[str], str], expected: str
) -> None:
    context, _ = _small_context(tmp_path, TARGET)
    dockerfile = context / "Dockerfile"
    dockerfile.write_text(edit(dockerfile.read_text()))
    with pytest.raises(
        BuildError, match="rewrite it with `coldbrew build --layout image`"
    ) as caught:
        check_image_context(context, TARGET)
    assert expected in caught.value.message


def test_checker_compares_the_task_root_with_the_zip(tmp_path: Path) -> None:
    context, archive = _small_context(tmp_path, TARGET)
    (context / "task" / "lambda_function.py").write_text("changed = True\n")
    (context / "task" / "extra.py").write_text("")
    (context / "notes.txt").write_text("")
    with pytest.raises(BuildError) as caught:
        check_image_context(context, TARGET, expect_zip=archive)
    message = caught.value.message
    assert "task/lambda_function.py: content differs from small.zip" in message
    assert "task/extra.py: only in the context" in message
    assert "unexpected files in the context: notes.txt" in message


# --- measuring, choosing and writing, end to end --------------------------------------------


def test_chosen_layout_follows_the_limits(
    stage: Path, zip_layout: LayoutResult, layer_layout: LayoutResult, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    compile = target_compiler(TARGET)
    paths = output_paths(out, "tiny")

    choice, result = write_chosen_layout(stage, out, "tiny", TARGET, compile=compile)
    assert (choice.layout, result.artifact) == ("zip", paths["zip"][0])
    assert result.parts[0].sha256 == zip_layout.parts[0].sha256

    # Parts that fit a direct upload the whole zip does not: the layer split.
    largest_part = max(p.zipped_bytes or 0 for p in layer_layout.parts)
    split = Limits(direct_upload=largest_part)
    choice, result = write_chosen_layout(stage, out, "tiny", TARGET, compile=compile, limits=split)
    assert choice.layout == "layer" and "split" in choice.reason
    assert [p.sha256 for p in result.parts] == [p.sha256 for p in layer_layout.parts]
    assert sorted(p.name for p in out.iterdir()) == ["tiny-function.zip", "tiny-layer.zip"]

    # A forced layout that does not fit changes nothing in the output directory.
    no_image = Limits(image=1_000)
    with pytest.raises(LambdaLimitError, match="--layout image does not fit"):
        write_chosen_layout(
            stage, out, "tiny", TARGET, requested="image", compile=compile, limits=no_image
        )
    assert sorted(p.name for p in out.iterdir()) == ["tiny-function.zip", "tiny-layer.zip"]

    # Over the unzipped limit: only an image fits, and it holds the zip's task root.
    small = Limits(direct_upload=1_000, unzipped=1_000)
    choice, result = write_chosen_layout(stage, out, "tiny", TARGET, compile=compile, limits=small)
    assert choice.layout == "image" and result.image is not None
    assert sorted(p.name for p in out.iterdir()) == ["tiny-image"]
    check_image_context(result.artifact, TARGET, expect_zip=zip_layout.artifact)
