"""Finding the layout ``coldbrew build`` wrote from ``coldbrew:artifact`` (no synthesis)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from coldbrew.artifact.report import report_candidates
from coldbrew.errors import ConfigurationError
from infra import context_keys as k
from infra.artifact_layout import BuiltArtifact
from infra.settings import DeploymentSettings

if TYPE_CHECKING:
    from conftest import LayoutFactory


def settings_for(artifact: Path | str, **context: Any) -> DeploymentSettings:
    return DeploymentSettings.from_context({k.ARTIFACT: str(artifact), **context})


def error_for(artifact: Path | str, **context: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        settings_for(artifact, **context)
    return info.value.message


def name_of(report: Path) -> str:
    return report.name.removesuffix(".report.json")


@pytest.mark.parametrize(
    ("layout", "code_suffix", "layer_suffix"),
    [
        ("zip", ".zip", None),
        ("layer", "-function.zip", "-layer.zip"),
        ("image", "-image", None),
    ],
)
def test_the_report_names_the_layout_and_its_files(
    layout_factory: LayoutFactory, layout: str, code_suffix: str, layer_suffix: str | None
) -> None:
    report = layout_factory(layout, python="3.13", arch="arm64")
    name = name_of(report)
    got = settings_for(report)
    assert got.artifact == BuiltArtifact(
        layout,  # type: ignore[arg-type]
        report.with_name(name + code_suffix),
        report.with_name(name + layer_suffix) if layer_suffix else None,
        report,
    )
    # The architecture and Python come from the report, whatever the layout.
    assert (got.arch, got.python) == ("arm64", "3.13")


@pytest.mark.parametrize(
    ("layout", "suffix"),
    [
        ("zip", ".zip"),
        ("layer", "-function.zip"),
        ("layer", "-layer.zip"),
        ("layer", ".zip"),  # the builder's NAME.zip, which the layer layout never writes
        ("image", "-image"),
        ("image", "-image/"),
        ("image", ".zip"),
    ],
)
def test_any_part_of_the_layout_leads_to_its_report(
    layout_factory: LayoutFactory, layout: str, suffix: str
) -> None:
    report = layout_factory(layout)
    given = str(report.with_name(name_of(report))) + suffix
    assert settings_for(given).artifact == settings_for(report).artifact


def test_report_candidates_prefer_the_exact_name() -> None:
    # A zip layout whose build happens to end in "-image" has its own report.
    assert report_candidates(Path("/d/x-image.zip")) == (
        Path("/d/x-image.report.json"),
        Path("/d/x.report.json"),
    )
    assert report_candidates(Path("/d/x.report.json")) == (Path("/d/x.report.json"),)


def test_parts_are_found_beside_the_report_wherever_the_build_ran(
    layout_factory: LayoutFactory, tmp_path: Path
) -> None:
    report = layout_factory("layer")
    moved = tmp_path / "elsewhere"
    shutil.move(report.parent, moved)
    data = json.loads((moved / report.name).read_text())
    # As a build run from the repo root writes them: relative to that directory.
    for part in data["artifacts"]["parts"]:
        part["path"] = f"dist/{Path(part['path']).name}"
    (moved / report.name).write_text(json.dumps(data))
    got = settings_for(moved / report.name).artifact
    assert got.code.parent == moved
    assert got.layer is not None
    assert got.layer.parent == moved


def test_a_report_without_parts_uses_the_builder_names(layout_factory: LayoutFactory) -> None:
    report = layout_factory("image")
    data = json.loads(report.read_text())
    del data["artifacts"]
    report.write_text(json.dumps(data))
    got = settings_for(report).artifact
    assert (got.layout, got.code) == ("image", report.with_name(name_of(report) + "-image"))


def test_a_missing_part_names_the_file_and_the_fix(layout_factory: LayoutFactory) -> None:
    report = layout_factory("layer")
    layer = report.with_name(name_of(report) + "-layer.zip")
    layer.unlink()
    assert error_for(report) == (
        f"coldbrew:artifact: the build report {report} describes a layer layout, but {layer} "
        "is missing; rebuild with `coldbrew build`"
    )


def test_a_replaced_layer_zip_is_refused(layout_factory: LayoutFactory) -> None:
    report = layout_factory("layer")
    layer = report.with_name(name_of(report) + "-layer.zip")
    with zipfile.ZipFile(layer, "w") as zf:
        zf.writestr("python/other.py", "")
    message = error_for(report)
    assert message.startswith(f"build report {report} describes a different zip (sha256 ")
    assert f"{layer.name}'s is " in message


def test_a_changed_image_context_is_refused(layout_factory: LayoutFactory) -> None:
    report = layout_factory("image")
    context = report.with_name(name_of(report) + "-image")
    (context / "task" / "lambda_function.py").write_text("print('changed')\n")
    message = error_for(report)
    assert message.startswith(f"build report {report} describes a different image context (sha256 ")
    assert message.endswith("; rebuild with `coldbrew build`")


def test_a_stale_file_that_is_not_part_of_the_layout_is_refused(
    layout_factory: LayoutFactory,
) -> None:
    report = layout_factory("zip")
    stale = report.with_name(name_of(report) + "-image")
    stale.mkdir()
    (stale / "Dockerfile").write_text("FROM scratch\n")
    assert error_for(stale) == (
        f"coldbrew:artifact: {stale} is not part of the zip layout that {report} describes "
        f"({name_of(report)}.zip); point coldbrew:artifact at {report}"
    )


def test_an_image_directory_needs_its_report(tmp_path: Path) -> None:
    context = tmp_path / "model-py312-arm64-image"
    context.mkdir()
    assert error_for(context) == (
        f"coldbrew:artifact: {context} is a directory with no build report beside it "
        "(model-py312-arm64.report.json); an image is deployed from the report that "
        "`coldbrew build --layout image` writes: point coldbrew:artifact at it"
    )


def test_a_missing_report_path_is_a_missing_artifact(tmp_path: Path) -> None:
    missing = tmp_path / "x.report.json"
    assert error_for(missing).startswith(f"coldbrew:artifact: no artifact at {missing}; ")


def test_an_unknown_layout_in_the_report_is_refused(layout_factory: LayoutFactory) -> None:
    report = layout_factory("zip")
    data = json.loads(report.read_text())
    data["layout"]["layout"] = "wheel"
    report.write_text(json.dumps(data))
    assert error_for(report) == (
        f"build report {report}: layout must be one of zip, layer, image, got 'wheel'; "
        "rebuild with `coldbrew build`"
    )


def test_the_report_architecture_beats_the_default_for_every_layout(
    layout_factory: LayoutFactory,
) -> None:
    # x86_64 is the default only for a bare zip; a report always decides.
    report = layout_factory("image", arch="x86_64")
    assert settings_for(report).arch == "x86_64"
    assert error_for(report, **{k.ARCH: "arm64"}).startswith(
        f"coldbrew:arch is 'arm64' but the build report {report} says the artifact was "
        "built for 'x86_64'"
    )


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (0o120777) << 16  # a symlink
    return info, target


def test_cdk_synth_refuses_a_zip_that_would_write_outside_its_root(tmp_path: Path) -> None:
    artifact = tmp_path / "chain.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("lambda_function.py", "def handler(e, c):\n    return 1\n")
        for name, target in (("l1", "."), ("l2", "l1/.."), ("l3", "l2/..")):
            zf.writestr(*_link(name, target))
        zf.writestr("l3/escaped.txt", "outside")
    report_candidates(artifact)[0].write_text(json.dumps({"python": "3.12", "arch": "x86_64"}))
    message = error_for(artifact)
    assert message == (
        f"{k.ARTIFACT}: {artifact}: member 'l2' is a symlink to 'l1/..', through another "
        "symlink 'l1': rebuild it with `coldbrew build`"
    )


def test_cdk_synth_refuses_a_corrupt_zip(tmp_path: Path) -> None:
    artifact = tmp_path / "corrupt.zip"
    artifact.write_bytes(b"PK\x03\x04 not really a zip")
    report_candidates(artifact)[0].write_text(json.dumps({"python": "3.12", "arch": "x86_64"}))
    assert error_for(artifact).startswith(f"{k.ARTIFACT}: {artifact} is not a readable zip")
