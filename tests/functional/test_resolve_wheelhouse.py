"""The resolver installs from the local wheelhouse with no index, and says when it cannot.

A probe wheel that exists on no index is written here; the package index is
pointed at a closed port, so reaching it fails at once instead of going online.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from coldbrew.artifact.resolve import install_requirements, pip_command
from coldbrew.artifact.target import Target
from coldbrew.artifact.wheelhouse import download_command, wheelhouse_dir
from coldbrew.errors import ResolveError

TARGET = Target("3.12", "x86_64")
PROBE = "coldbrew_wheelhouse_probe"


def _probe_wheel(folder: Path, version: str = "1.0") -> Path:
    """A minimal pure-Python wheel (any platform, so the target's tags accept it)."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{PROBE}-{version}.dist-info"
    files = {
        f"{PROBE}/__init__.py": "VALUE = 42\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {PROBE}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    wheel = folder / f"{PROBE}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in {**files, f"{info}/RECORD": record}.items():
            archive.writestr(name, text)
    return wheel


@pytest.fixture
def no_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach a package index fails fast (nothing listens on port 9)."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")


def test_a_cold_cache_installs_from_the_wheelhouse(tmp_path: Path, no_index: None) -> None:
    _probe_wheel(wheelhouse_dir(tmp_path, TARGET))
    notes: list[str] = []
    site = install_requirements([f"{PROBE}==1.0"], TARGET, tmp_path, say=notes.append)
    assert (site / PROBE / "__init__.py").read_text() == "VALUE = 42\n"
    assert notes == []  # no fallback to the index
    # The resolve cache still answers a second call without pip.
    assert install_requirements([f"{PROBE}==1.0"], TARGET, tmp_path, say=notes.append) == site


def test_a_pin_missing_from_the_wheelhouse_falls_back_to_the_index_and_says_so(
    tmp_path: Path, no_index: None
) -> None:
    _probe_wheel(wheelhouse_dir(tmp_path, TARGET))
    notes: list[str] = []
    with pytest.raises(ResolveError, match=f"{PROBE}==2.0"):
        install_requirements([f"{PROBE}==2.0"], TARGET, tmp_path, say=notes.append)
    (note,) = notes
    assert "lacks" in note and "package index" in note
    assert not list((tmp_path / "site").glob("*.partial"))  # nothing half-installed kept


def test_no_wheelhouse_is_said(tmp_path: Path, no_index: None) -> None:
    notes: list[str] = []
    with pytest.raises(ResolveError):
        install_requirements([f"{PROBE}==1.0"], TARGET, tmp_path, say=notes.append)
    assert len(notes) == 1 and "no wheelhouse" in notes[0]


def test_wheelhouse_and_install_select_the_same_target_wheels(tmp_path: Path) -> None:
    install = pip_command(["x==1"], TARGET, tmp_path, wheelhouse=tmp_path / "wh")
    download = download_command(["x==1"], TARGET, tmp_path / "wh")
    flags = install[install.index("--only-binary=:all:") : install.index("--no-index")]
    assert " ".join(flags) in " ".join(download)
    assert "--platform" in flags and "manylinux_2_28_x86_64" in flags and "cp312" in flags
    assert install[-3:] == ["--find-links", str(tmp_path / "wh"), "x==1"]
