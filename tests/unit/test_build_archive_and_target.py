"""Reproducible zips, Lambda limits and target validation."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pytest

from coldbrew.artifact.archive import write_zip
from coldbrew.artifact.limits import DIRECT_UPLOAD_LIMIT, UNZIPPED_LIMIT, check_limits
from coldbrew.artifact.target import Target
from coldbrew.errors import ConfigurationError, LambdaLimitError


def _tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "b.py").write_text("print('b')\n")
    (root / "a.py").write_text("print('a')\n")
    tool = root / "pkg" / "tool.so"
    tool.write_bytes(b"\x7fELF" + bytes(100))
    tool.chmod(0o700)


def test_same_tree_gives_same_bytes_whatever_the_mtimes(tmp_path: Path) -> None:
    _tree(tmp_path / "one")
    first = write_zip(tmp_path / "one", tmp_path / "one.zip")
    time.sleep(0.01)
    _tree(tmp_path / "two")
    os.utime(tmp_path / "two" / "a.py", (1_000_000, 1_000_000))
    second = write_zip(tmp_path / "two", tmp_path / "two.zip")
    assert first.sha256 == second.sha256
    assert first.files == 3 and first.unzipped_bytes == second.unzipped_bytes


def test_zip_entries_sorted_with_fixed_dates_and_modes(tmp_path: Path) -> None:
    _tree(tmp_path / "t")
    info = write_zip(tmp_path / "t", tmp_path / "t.zip")
    with zipfile.ZipFile(info.path) as zf:
        names = zf.namelist()
        assert names == sorted(names) == ["a.py", "pkg/b.py", "pkg/tool.so"]
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        assert modes == {"a.py": 0o644, "pkg/b.py": 0o644, "pkg/tool.so": 0o755}
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_content_change_changes_digest(tmp_path: Path) -> None:
    _tree(tmp_path / "t")
    before = write_zip(tmp_path / "t", tmp_path / "a.zip").sha256
    (tmp_path / "t" / "a.py").write_text("print('changed')\n")
    assert write_zip(tmp_path / "t", tmp_path / "b.zip").sha256 != before


def test_limits() -> None:
    check_limits(DIRECT_UPLOAD_LIMIT, UNZIPPED_LIMIT)
    with pytest.raises(LambdaLimitError, match=r"250 MB limit.*container image"):
        check_limits(1, UNZIPPED_LIMIT + 1)
    with pytest.raises(LambdaLimitError, match=r"50 MB limit for direct upload.*--via-s3"):
        check_limits(DIRECT_UPLOAD_LIMIT + 1, 1)
    check_limits(DIRECT_UPLOAD_LIMIT + 1, 1, via_s3=True)


def test_target_tags() -> None:
    target = Target("3.12", "arm64")
    assert target.machine == "aarch64" and target.abi == "cp312" and target.slug == "py312-arm64"
    assert "manylinux_2_28_aarch64" in target.pip_platforms
    assert "manylinux2014_aarch64" in target.pip_platforms


@pytest.mark.parametrize(
    ("python", "arch"), [("3.9", "x86_64"), ("3.12", "arm"), ("three", "x86_64")]
)
def test_bad_targets_are_named(python: str, arch: str) -> None:
    with pytest.raises(ConfigurationError):
        Target(python, arch)


def test_report_beside_an_artifact_is_read_once_for_everyone(tmp_path: Path) -> None:
    from coldbrew.artifact.report import read_report_json, report_path

    artifact = tmp_path / "x.zip"
    assert read_report_json(artifact) == {}  # no report: nothing to go on, not an error
    report_path(artifact).write_text('{"python": "3.12", "arch": "x86_64"}')
    assert read_report_json(artifact) == {"python": "3.12", "arch": "x86_64"}
    report_path(artifact).write_text("{broken")
    with pytest.raises(ConfigurationError, match=r"cannot read build report .*x\.report\.json"):
        read_report_json(artifact)
    report_path(artifact).write_text("[1]")
    with pytest.raises(ConfigurationError, match="not a JSON object"):
        read_report_json(artifact)
