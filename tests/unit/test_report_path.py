"""Every part of every layout leads to the one report the builder writes, ``NAME.report.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coldbrew.artifact.layout_choice import Layout
from coldbrew.artifact.layouts import output_paths
from coldbrew.artifact.report import (
    read_report_json,
    report_candidates,
    report_layout,
    report_parts,
    report_path,
)

NAME = "minilm-l6-v2-py312-x86_64"
# (layout, index of the part in output_paths): every file or directory a build writes.
PARTS: list[tuple[Layout, int]] = [("zip", 0), ("layer", 0), ("layer", 1), ("image", 0)]


def _part(out_dir: Path, layout: Layout, index: int) -> Path:
    return output_paths(out_dir, NAME)[layout][index]


def _write_report(out_dir: Path, content: dict[str, str]) -> Path:
    report = out_dir / f"{NAME}.report.json"
    report.write_text(json.dumps(content), encoding="utf-8")
    return report


@pytest.mark.parametrize(("layout", "index"), PARTS)
def test_each_part_names_the_builders_report_before_it_exists(
    tmp_path: Path, layout: Layout, index: int
) -> None:
    # `coldbrew build` prints this path right after writing the report there.
    assert report_path(_part(tmp_path, layout, index)) == tmp_path / f"{NAME}.report.json"


@pytest.mark.parametrize(("layout", "index"), PARTS)
def test_each_part_reads_the_builders_report(tmp_path: Path, layout: Layout, index: int) -> None:
    part = _part(tmp_path, layout, index)
    assert read_report_json(part) == {}  # no report yet: nothing to go on, not an error
    report = _write_report(tmp_path, {"python": "3.12", "arch": "x86_64", "layout": layout})
    if layout == "image":
        part.mkdir()  # the image context is a directory
    else:
        part.write_bytes(b"PK")
    assert report_path(part) == report
    assert read_report_json(part) == {"python": "3.12", "arch": "x86_64", "layout": layout}


def test_a_report_is_its_own_report(tmp_path: Path) -> None:
    report = _write_report(tmp_path, {"python": "3.13"})
    assert report_candidates(report) == (report,)
    assert report_path(report) == report
    assert read_report_json(report) == {"python": "3.13"}


def test_a_zip_named_like_a_part_keeps_its_own_report(tmp_path: Path) -> None:
    # A zip made by hand may end in "-function"; its own report wins over NAME's.
    artifact = tmp_path / "handmade-function.zip"
    assert report_candidates(artifact) == (
        tmp_path / "handmade-function.report.json",
        tmp_path / "handmade.report.json",
    )
    (tmp_path / "handmade.report.json").write_text('{"arch": "arm64"}')
    assert read_report_json(artifact) == {"arch": "arm64"}
    (tmp_path / "handmade-function.report.json").write_text('{"arch": "x86_64"}')
    assert read_report_json(artifact) == {"arch": "x86_64"}


def test_the_builders_zip_has_one_candidate_and_a_bare_suffix_is_not_stripped() -> None:
    # The builder writes its report at report_path(NAME.zip): never anywhere else.
    assert report_candidates(Path(f"/d/{NAME}.zip")) == (Path(f"/d/{NAME}.report.json"),)
    assert report_candidates(Path("/d/-layer.zip")) == (Path("/d/-layer.report.json"),)


def test_report_layout_reads_the_layout_choice_and_defaults_to_zip() -> None:
    assert report_layout({"layout": {"layout": "layer", "reason": "..."}}) == "layer"
    assert report_layout({"layout": "image"}) == "image"
    assert report_layout({}) == "zip"  # a report from before layouts: one zip


def test_report_parts_are_found_beside_the_report_by_name() -> None:
    report = {
        "artifacts": {
            "parts": [
                {"role": "function", "path": "/build/host/dist/x-function.zip"},
                {"role": "layer", "path": "dist/x-layer.zip"},
                {"role": "", "path": "ignored.zip"},
                "not a part",
            ]
        }
    }
    assert report_parts(report, Path("/moved/x.report.json")) == {
        "function": Path("/moved/x-function.zip"),
        "layer": Path("/moved/x-layer.zip"),
    }
    assert report_parts({}, Path("/d/x.report.json")) == {}
