"""`coldbrew build --platform gcf` end to end on the tiny model: the source archive
Cloud Functions deploys (main.py at the root, the slimmed tree, requirements.txt
naming only functions-framework), verified through the real functions-framework
in the target interpreter, reproducible, with its report; and the CLI's one-line
refusals of what Cloud Functions does not take."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.report import BuildReport, report_path
from coldbrew.artifact.target import Target
from coldbrew.cli import main
from coldbrew.deployment.gcf import CLOUD_FUNCTIONS
from coldbrew.emulate.gcf_runtime import FUNCTIONS_FRAMEWORK_VERSION, ensure_gcf_runtime
from coldbrew.errors import AccuracyGateError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    # The real cache: wheels and functions-framework are reused across runs.
    return Path.home() / ".cache" / "coldbrew"


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
        platform="gcf",
    )


@pytest.fixture(scope="module")
def built(project: Path, cache_dir: Path) -> BuildReport:
    return build_artifact(_options(project, "dist", cache_dir))


def test_source_archive_layout(built: BuildReport) -> None:
    assert Path(built.artifact).name == "tiny-gcf-py312-x86_64.zip"
    with zipfile.ZipFile(built.artifact) as zf:
        names = set(zf.namelist())
        requirements = zf.read("requirements.txt").decode()
    assert {"main.py", "requirements.txt", "coldbrew/platforms/gcf.py"} <= names
    assert {"model/model.onnx", "model/tokenizer.json", "model/manifest.json"} <= names
    assert "lambda_function.py" not in names
    # The buildpack installs only the framework; everything else ships in the source.
    assert requirements == f"functions-framework=={FUNCTIONS_FRAMEWORK_VERSION}\n"
    assert any(n.startswith("tokenizers/") for n in names)
    assert any(n.startswith("onnxruntime/capi/libonnxruntime.so") for n in names)
    # The same removals as Lambda's rules, and the framework stays outside.
    assert not any(
        n.startswith(("huggingface_hub/", "numpy/", "functions_framework/", "flask/"))
        for n in names
    )
    assert not any(n.startswith(("coldbrew/artifact/", "coldbrew/cli/")) for n in names)
    pycs = [n for n in names if n.endswith(".pyc")]
    assert pycs and all(".cpython-312." in n for n in pycs)
    assert "__pycache__/main.cpython-312.pyc" in names


def test_bytecode_records_the_buildpacks_source_directory(built: BuildReport) -> None:
    with zipfile.ZipFile(built.artifact) as zf:
        pyc = zf.read("coldbrew/runtime/__pycache__/service.cpython-312.pyc")
    # 16-byte header, then the marshalled code object; its co_filename is a str in it.
    assert b"/workspace/coldbrew/runtime/service.py" in pyc[16:]
    assert b"/var/task" not in pyc


def test_report_records_platform_sizes_and_verification(built: BuildReport) -> None:
    report = json.loads(report_path(Path(built.artifact)).read_text())
    assert report["platform"] == "gcf"
    assert report["python"] == "3.12" and report["arch"] == "x86_64"
    assert report["rules"].endswith("gcf.toml")
    assert report["sha256"] == built.sha256
    assert 0 < report["zipped_bytes"] < report["unzipped_bytes"]
    assert report["layout"]["layout"] == "zip"
    assert (
        "requests through functions-framework exactly as the unslimmed" in (report["verification"])
    )
    removed = {r["reason"] for r in report["removed"]}
    assert any("numpy is never imported" in reason for reason in removed)
    assert any(step["step"] == "trace prune" for step in report["steps"])


def test_two_builds_give_the_same_sha256(
    built: BuildReport, project: Path, cache_dir: Path
) -> None:
    again = build_artifact(_options(project, "dist-again", cache_dir))
    assert not again.cached
    assert again.sha256 == built.sha256
    assert Path(again.artifact).read_bytes() == Path(built.artifact).read_bytes()


def test_the_archive_serves_under_functions_framework(
    built: BuildReport, tmp_path: Path, cache_dir: Path
) -> None:
    """Unpacked, with the framework outside it (as the buildpack installs it)."""
    runtime = ensure_gcf_runtime(cache_dir, "3.12")
    source = tmp_path / "workspace"
    with zipfile.ZipFile(built.artifact) as zf:
        zf.extractall(source)
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(runtime.framework_dir)!r})\n"
        "import functions_framework\n"
        f"app = functions_framework.create_app('handle', {str(source / 'main.py')!r}, 'http')\n"
        "client = app.test_client()\n"
        "ok = client.post('/embed', json={'inputs': ['the cat sat', 'a dog']})\n"
        "bad = client.post('/embed', json={'inputs': []})\n"
        "print(json.dumps([ok.status_code, ok.get_json(), bad.status_code, bad.get_json()]))\n"
    )
    done = subprocess.run(
        [str(runtime.python), "-I", "-S", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=source,
    )
    ok_status, ok, bad_status, bad = json.loads(done.stdout)
    assert ok_status == 200 and len(ok["embeddings"]) == 2
    assert bad_status == 400 and bad["error"]["code"]


def test_the_accuracy_gate_runs_on_the_artifacts_own_runtime(
    project: Path, tmp_path: Path, cache_dir: Path
) -> None:
    """A gate whose reference embeddings the artifact cannot match fails the build."""
    other = tmp_path / "project"
    other.mkdir()
    (other / "handlers").symlink_to(ROOT / "handlers")
    (other / "packaging").symlink_to(ROOT / "packaging")
    model = other / "models" / "tiny" / "dist"
    shutil.copytree(project / "models" / "tiny" / "dist", model)
    sentences = ["the cat sat on the mat", "a dog barked"]
    unrelated = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # the tiny model has 8 dimensions
    gate = {
        "sentences": sentences,
        "embeddings": [unrelated, [-x for x in unrelated]],
        "threshold_mean": 0.99,
        "threshold_min": 0.98,
    }
    (model / "gate.json").write_text(json.dumps(gate))
    with pytest.raises(AccuracyGateError, match="fails the accuracy gate: mean cosine"):
        build_artifact(_options(other, "dist", cache_dir))
    assert not (other / "dist" / "tiny-gcf-py312-x86_64.zip").exists()


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--platform", "azure"], "aws-lambda, gcf"),
        (["--platform", "gcf", "--python", "3.11"], ", ".join(CLOUD_FUNCTIONS.pythons)),
        (["--platform", "gcf", "--python", "2.7"], ", ".join(CLOUD_FUNCTIONS.pythons)),
        (["--platform", "gcf", "--arch", "arm64"], "x86_64"),
        (["--platform", "gcf", "--layout", "layer"], "auto, zip"),
        (["--python", "3.10"], "3.11, 3.12, 3.13"),
    ],
)
def test_bad_platform_or_python_is_one_line_naming_the_allowed_values(
    flags: list[str], named: str, project: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        ["build", "--model", "tiny", "--project-dir", str(project), "--out", str(tmp_path),
         "--cache-dir", str(tmp_path / "cache"), *flags],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ConfigurationError: ")
    assert named in lines[0]
    assert not (tmp_path / "cache").exists()  # refused before any work
