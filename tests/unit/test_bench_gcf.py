"""The Cloud Functions variant of ``coldbrew bench``: which zip is which, and its ratios (pure)."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from coldbrew.bench.ratios import COLD_MEDIAN, WARM_P50, compute_ratios
from coldbrew.bench.variants import (
    LABELS,
    VARIANT_KEYS,
    coldbrew_variant,
    gcf_variant,
    is_gcf_artifact,
)
from coldbrew.cli import main
from coldbrew.errors import ConfigurationError


def _zip(path: Path, *names: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "# entry point\n")
    return path


def test_a_gcf_zip_has_main_py_and_no_lambda_handler(tmp_path: Path) -> None:
    assert is_gcf_artifact(_zip(tmp_path / "gcf.zip", "main.py", "coldbrew/__init__.py"))
    assert not is_gcf_artifact(_zip(tmp_path / "lambda.zip", "lambda_function.py"))
    assert not is_gcf_artifact(_zip(tmp_path / "both.zip", "main.py", "lambda_function.py"))


def test_gcf_variant_facts(tmp_path: Path) -> None:
    artifact = _zip(tmp_path / "m-gcf-py312-x86_64.zip", "main.py", "coldbrew/__init__.py")
    variant = gcf_variant(artifact)
    assert variant.key == "gcf" and variant.platform == "gcf" and variant.embeds
    assert variant.label == "coldbrew on Cloud Functions (functions-framework)"
    assert variant.zipped_bytes == artifact.stat().st_size
    assert variant.unzipped_bytes == 2 * len("# entry point\n")
    assert any("container start" in note for note in variant.notes)
    assert "gcf" in VARIANT_KEYS and LABELS["gcf"] == variant.label


def test_a_lambda_zip_given_as_the_gcf_artifact_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="coldbrew build --platform gcf"):
        gcf_variant(_zip(tmp_path / "lambda.zip", "lambda_function.py"))
    with pytest.raises(ConfigurationError, match="does not exist"):
        gcf_variant(tmp_path / "missing.zip")
    (tmp_path / "text.zip").write_text("not a zip")
    with pytest.raises(ConfigurationError, match="not a Cloud Functions artifact"):
        gcf_variant(tmp_path / "text.zip")


def test_a_gcf_zip_given_as_the_lambda_artifact_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--gcf-artifact"):
        coldbrew_variant(_zip(tmp_path / "gcf.zip", "main.py"))


def test_the_cli_refuses_a_wrong_gcf_artifact_in_one_line(tmp_path: Path) -> None:
    lambda_zip = _zip(tmp_path / "lambda.zip", "lambda_function.py")
    outcome = CliRunner().invoke(
        main,
        ["bench", str(lambda_zip), "--baselines", "", "--gcf-artifact", str(lambda_zip)],
        env={"COLDBREW_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert outcome.exit_code != 0
    assert "not a Cloud Functions artifact" in outcome.output
    assert "Traceback" not in outcome.output


def test_gcf_gets_lambda_over_gcf_ratios_and_no_target() -> None:
    lambda_figures = {COLD_MEDIAN: 400.0, WARM_P50: 5.0}
    ratios = compute_ratios(lambda_figures, {"gcf": {COLD_MEDIAN: 800.0, WARM_P50: None}})
    assert [(r.figure, r.baseline) for r in ratios] == [(COLD_MEDIAN, "gcf")]
    (ratio,) = ratios
    assert ratio.value == 0.5 and ratio.target is None and ratio.met is None
    assert not math.isnan(ratio.value)
