"""``coldbrew model``: mistakes become one-line errors; ``show`` prints the manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from coldbrew.cli import main

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NAME = "minilm-l6-v2"


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    recipe = PROJECT_ROOT / "models" / NAME
    target = tmp_path / "models" / NAME
    target.mkdir(parents=True)
    for file_name in ("model.toml", "sentences.txt"):
        shutil.copy(recipe / file_name, target / file_name)
    return tmp_path / "models"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def assert_one_line_error(output: str, fragment: str) -> None:
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: ") and fragment in lines[0], output


def test_an_unknown_model_lists_the_recipes(models_dir: Path) -> None:
    code, output = run("model", "build", "minilm", "--models-dir", str(models_dir))
    assert code == 1
    assert_one_line_error(
        output, f"ModelError: unknown model 'minilm'; recipes in {models_dir}: {NAME}"
    )


def test_the_models_dir_can_come_from_the_environment(models_dir: Path) -> None:
    code, output = run("model", "show", "nope", env={"COLDBREW_MODELS_DIR": str(models_dir)})
    assert code == 1
    assert_one_line_error(output, f"recipes in {models_dir}: {NAME}")


def test_a_bad_recipe_is_one_line_naming_the_key(models_dir: Path, tmp_path: Path) -> None:
    recipe = models_dir / NAME / "model.toml"
    recipe.write_text(recipe.read_text("utf-8").replace("opset = 17", "opset = 'x'"), "utf-8")
    code, output = run(
        "model", "build", NAME, "--models-dir", str(models_dir), "--cache-dir", str(tmp_path / "c")
    )
    assert code == 1
    assert_one_line_error(output, "'export.opset' must be an integer")


def test_a_missing_models_dir_is_a_configuration_error(tmp_path: Path) -> None:
    code, output = run("model", "build", NAME, "--models-dir", str(tmp_path / "absent"))
    assert code == 1
    assert_one_line_error(output, "ConfigurationError: models directory not found")


def test_show_before_build_says_how_to_build(models_dir: Path) -> None:
    code, output = run("model", "show", NAME, "--models-dir", str(models_dir))
    assert code == 1
    assert_one_line_error(output, f"run 'coldbrew model build {NAME}'")


def test_show_prints_the_built_manifest(models_dir: Path) -> None:
    dist = models_dir / NAME / "dist"
    dist.mkdir()
    manifest = {"schema": 1, "name": NAME, "dimensions": 384}
    (dist / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, output = run("model", "show", NAME, "--models-dir", str(models_dir))
    assert code == 0, output
    assert json.loads(output) == manifest


def test_build_help_names_the_environment_variables() -> None:
    code, output = run("model", "build", "--help")
    assert code == 0
    assert (
        "COLDBREW_MODELS_DIR" in output and "COLDBREW_CACHE_DIR" in output and "--force" in output
    )
