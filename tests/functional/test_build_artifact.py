"""The slimming builder end to end on a tiny model: real pip resolve for the
Lambda target, the project's rules, bytecode from the target interpreter, and
a reproducible zip that imports and answers under that interpreter."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.report import BuildReport, report_path
from coldbrew.artifact.target import Target
from coldbrew.errors import BuildError
from coldbrew.interpreters import find_interpreter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    project = tmp_path_factory.mktemp("project")
    (project / "handlers").symlink_to(ROOT / "handlers")
    (project / "packaging").symlink_to(ROOT / "packaging")
    shutil.copytree(tiny_model_dir, project / "models" / "tiny" / "dist")
    return project


def _options(project: Path, out: str, cache_dir: Path) -> BuildOptions:
    return BuildOptions(
        model="tiny",
        project_dir=project,
        out_dir=project / out,
        cache_dir=cache_dir,
        target=Target("3.12", "x86_64"),
    )


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    # The real cache: wheels resolved for the target are reused across runs.
    return Path.home() / ".cache" / "coldbrew"


@pytest.fixture(scope="module")
def built(project: Path, cache_dir: Path) -> BuildReport:
    return build_artifact(_options(project, "dist", cache_dir))


def test_artifact_layout(built: BuildReport) -> None:
    with zipfile.ZipFile(built.artifact) as zf:
        names = set(zf.namelist())
    assert "lambda_function.py" in names
    assert {"model/model.onnx", "model/tokenizer.json", "model/manifest.json"} <= names
    assert "coldbrew/runtime/service.py" in names
    assert not any(
        n.startswith("coldbrew/artifact/") or n.startswith("coldbrew/cli/") for n in names
    )
    assert not any(n.startswith(("huggingface_hub/", "hf_xet/", "yaml/")) for n in names)
    assert "onnxruntime/capi/libonnxruntime.so.1.32.0" not in names
    pycs = [n for n in names if n.endswith(".pyc")]
    assert pycs and all(".cpython-312." in n for n in pycs)
    assert "coldbrew/runtime/__pycache__/service.cpython-312.pyc" in names


def test_report_written_beside_artifact(built: BuildReport) -> None:
    report = json.loads(report_path(Path(built.artifact)).read_text())
    assert report["python"] == "3.12" and report["arch"] == "x86_64"
    assert report["sha256"] == built.sha256
    assert "Python 3.12" in report["bytecode"]
    packages = {p["package"]: p for p in report["packages"]}
    assert (
        packages["huggingface-hub"]["bytes_after"]
        == 0
        < packages["huggingface-hub"]["bytes_before"]
    )
    assert packages["onnxruntime"]["bytes_after"] < packages["onnxruntime"]["bytes_before"]
    assert [s["step"] for s in report["steps"]] == [
        "resolve wheels",
        "add sources and model",
        "apply rules",
        "bytecode",
        "strip",
        "trace prune",
    ]
    assert all(r["reason"] and r["files"] > 0 for r in report["removed"])


def test_second_build_is_byte_identical(built: BuildReport, project: Path, cache_dir: Path) -> None:
    again = build_artifact(_options(project, "dist-again", cache_dir))
    assert again.sha256 == built.sha256


def test_artifact_answers_under_the_target_interpreter(built: BuildReport, tmp_path: Path) -> None:
    with zipfile.ZipFile(built.artifact) as zf:
        zf.extractall(tmp_path)
    python = find_interpreter("3.12").path
    script = (
        "import json, lambda_function as f\n"
        "ok = f.handler({'inputs': ['the cat sat', 'a dog']}, None)\n"
        "bad = f.handler({'inputs': []}, None)\n"
        "print(json.dumps([ok['dimensions'], len(ok['embeddings']), bad['status']]))\n"
    )
    out = subprocess.run(
        [str(python), "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert json.loads(out.stdout) == [8, 2, 400]


def test_unbuilt_model_names_the_command(project: Path, cache_dir: Path) -> None:
    options = BuildOptions(
        model="nope", project_dir=project, out_dir=project / "x", cache_dir=cache_dir
    )
    with pytest.raises(BuildError, match="coldbrew model build nope"):
        build_artifact(options)


def test_tampered_model_is_refused(project: Path, cache_dir: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "project"
    shutil.copytree(project, tampered, symlinks=True)
    (tampered / "models" / "tiny" / "dist" / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(BuildError, match="does not match its manifest"):
        build_artifact(_options(tampered, "dist", cache_dir))


def test_slimming_was_verified_and_reported(built: BuildReport) -> None:
    assert built.verification.startswith("slimmed tree answered all")
    reasons = {r.reason for r in built.removed}
    assert "never touched by the smoke invocation (trace-guided pruning)" in reasons
    stripped = {path for path, _, _ in built.stripped}
    assert "tokenizers/tokenizers.abi3.so" in stripped
    assert not any(path.startswith("numpy.libs/") for path in stripped)  # auditwheel's: kept
    assert [s.step for s in built.steps][-2:] == ["strip", "trace prune"]


def test_unchanged_rebuild_reuses_the_artifact(
    built: BuildReport, project: Path, cache_dir: Path
) -> None:
    again = build_artifact(_options(project, "dist", cache_dir))
    assert again.cached and again.sha256 == built.sha256
    assert again.inputs_key == built.inputs_key


def test_a_broken_pruning_rule_is_caught_not_shipped(
    project: Path, cache_dir: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "broken.toml"
    text = (ROOT / "packaging" / "aws-lambda.toml").read_text()
    # Deliberately wrong: removes the tokenizer library the handler imports.
    rules.write_text(text.replace("[prune]\n", '[prune]\nremove = ["tokenizers/**"]\n'))
    options = BuildOptions(
        model="tiny",
        project_dir=project,
        out_dir=tmp_path / "out",
        cache_dir=cache_dir,
        rules_file=rules,
    )
    report = build_artifact(options)
    assert report.verification.startswith("slimming rejected, unslimmed tree shipped")
    assert "tokenizers" in report.verification
    with zipfile.ZipFile(report.artifact) as zf:
        assert "tokenizers/__init__.py" in zf.namelist()
    assert not any(r.reason.startswith("never touched") for r in report.removed)


def test_arm64_resolves_arm64_wheels_and_says_it_was_not_verified(
    project: Path, cache_dir: Path
) -> None:
    options = BuildOptions(
        model="tiny",
        project_dir=project,
        out_dir=project / "arm",
        cache_dir=cache_dir,
        target=Target("3.12", "arm64"),
    )
    report = build_artifact(options)
    # The runtime ships no CPython extension named for its platform any more
    # (tokenizers is abi3, ONNX Runtime a plain C library), so read the ELF
    # headers: e_machine (offset 18, little-endian) is 183 for AArch64.
    with zipfile.ZipFile(report.artifact) as zf:
        libraries = {n: zf.read(n)[:20] for n in zf.namelist() if n.endswith(".so") or ".so." in n}
    assert any(n.startswith("onnxruntime/capi/libonnxruntime.so") for n in libraries)
    assert all(
        head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == 183
        for head in libraries.values()
    ), sorted(libraries)
    assert report.verification.startswith("not verified: this")
    assert "Python 3.12" in report.bytecode
