"""Every artifact zip is checked before it is unpacked, uploaded or trusted.

The hostile zips are built here, member by member. The serve, demo, bench and
deploy paths are driven through the CLI (each refuses before any slow setup);
``cdk synth``'s path is in tests/synth/test_artifact_layout.py.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from coldbrew.artifact.limits import UNZIPPED_LIMIT
from coldbrew.artifact.zip_safety import check_artifact_zip, check_function_zips
from coldbrew.cli import main
from coldbrew.deploy.built_artifact import read_build
from coldbrew.emulate.artifact import remove_task_root, unpack_artifact
from coldbrew.errors import ArtifactError

HANDLER = "def handler(event, context):\n    return 1\n"


def _symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def _file(name: str, text: str = HANDLER) -> tuple[zipfile.ZipInfo, str]:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o644 << 16
    return info, text


def write_zip(path: Path, *members: tuple[zipfile.ZipInfo, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in members:
            zf.writestr(info, data)
    return path


def chain_zip(path: Path) -> Path:
    """The issue's zip: l1 -> ., l2 -> l1/.., l3 -> l2/.., then l3/escaped.txt."""
    return write_zip(
        path,
        _file("lambda_function.py"),
        _symlink("l1", "."),
        _symlink("l2", "l1/.."),
        _symlink("l3", "l2/.."),
        _file("l3/escaped.txt", "outside"),
    )


def _declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite ``member``'s uncompressed size in the central directory (what zipfile reads)."""
    data = bytearray(path.read_bytes())
    entry = data.find(b"PK\x01\x02")
    while entry != -1:
        name_len = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + name_len] == member.encode():
            struct.pack_into("<I", data, entry + 24, size)
            path.write_bytes(bytes(data))
            return
        entry = data.find(b"PK\x01\x02", entry + 4)
    raise AssertionError(f"{member} not in {path}")


# --- the check ------------------------------------------------------------------------


def test_the_symlink_chain_is_refused_naming_the_member(tmp_path: Path) -> None:
    artifact = chain_zip(tmp_path / "chain.zip")
    with pytest.raises(ArtifactError) as info:
        check_artifact_zip(artifact)
    message = info.value.message
    assert message.startswith(f"{artifact}: member 'l2' is a symlink to 'l1/..', through another")
    assert "\n" not in message and message.endswith("rebuild it with `coldbrew build`")


def test_unpacking_the_chain_writes_nothing_outside(tmp_path: Path) -> None:
    artifact = chain_zip(tmp_path / "chain.zip")
    dest = tmp_path / "deep" / "task"
    with pytest.raises(ArtifactError, match="l2"):
        unpack_artifact(artifact, dest)
    assert not dest.exists()  # refused before anything was written
    assert not list(tmp_path.rglob("escaped.txt"))


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ((_file("a/../../x.py"),), "climbs out of the task root"),
        ((_file("/etc/x.py"),), "absolute"),
        ((_file("a.py"), _file("./a.py")), "appears twice"),
        ((_file("a.py"), _file("a.py/b.py")), "lies under 'a.py', which is a file"),
        ((_symlink("lib", "sub"), _file("lib/x.so")), "lies under 'lib', which is a symlink"),
        # The file before its link: order in the zip does not matter.
        ((_file("up/x.py"), _symlink("up", "..")), "lies under 'up', which is a symlink"),
        ((_symlink("up", ".."),), "is a symlink to '..', outside the task root"),
        ((_symlink("a/b/up", "../../.."),), "outside the task root"),
        ((_symlink("abs", "/etc"),), "absolute path"),
        ((_symlink("l1", "."), _symlink("l2", "l1/x")), "through another symlink 'l1'"),
    ],
)
def test_each_unsafe_member_is_refused(
    tmp_path: Path, members: tuple[tuple[zipfile.ZipInfo, str], ...], problem: str
) -> None:
    artifact = write_zip(tmp_path / "bad.zip", *members)
    with pytest.raises(ArtifactError, match="member .*" + problem.replace("(", r"\(")):
        check_artifact_zip(artifact)


def test_safe_links_inside_the_root_are_kept(tmp_path: Path) -> None:
    artifact = write_zip(
        tmp_path / "ok.zip",
        _file("lib/libx.so.1", "elf"),
        _symlink("lib/libx.so", "libx.so.1"),
        _symlink("pkg/data", "../lib"),
        _symlink("chain", "pkg/data"),  # ending on a link is fine: it was checked itself
    )
    root = unpack_artifact(artifact, tmp_path / "task")
    try:
        assert (root / "lib" / "libx.so").read_text() == "elf"
        assert os.readlink(root / "pkg" / "data") == "../lib"
    finally:
        remove_task_root(root)


def test_declared_sizes_over_lambdas_limit_are_refused_before_extracting(tmp_path: Path) -> None:
    artifact = write_zip(tmp_path / "big.zip", _file("lambda_function.py"), _file("model.bin", "x"))
    _declare_size(artifact, "model.bin", 601 * 1024 * 1024)
    with pytest.raises(ArtifactError, match=r"unzips to 601\.0 MB, over Lambda's 250 MB limit"):
        unpack_artifact(artifact, tmp_path / "task")
    assert not (tmp_path / "task").exists()


def test_layers_count_towards_the_same_limit(tmp_path: Path) -> None:
    function = write_zip(tmp_path / "f.zip", _file("lambda_function.py"), _file("a.bin", "x"))
    layer = write_zip(tmp_path / "l.zip", _file("python/b.bin", "x"))
    half = UNZIPPED_LIMIT // 2 + 1
    _declare_size(function, "a.bin", half)
    _declare_size(layer, "python/b.bin", half)
    check_function_zips(function)  # each alone fits
    with pytest.raises(ArtifactError, match="with its layers unzips to"):
        check_function_zips(function, [layer])


def test_a_member_larger_than_declared_is_not_written_past_it(tmp_path: Path) -> None:
    artifact = write_zip(tmp_path / "bomb.zip", _file("lambda_function.py"), _file("x", "y" * 4096))
    _declare_size(artifact, "x", 10)  # the declared size lies
    with pytest.raises(ArtifactError, match="rebuild it with `coldbrew build`"):
        unpack_artifact(artifact, tmp_path / "task")
    written = tmp_path / "task" / "x"
    assert not written.exists() or written.stat().st_size <= 10
    remove_task_root(tmp_path / "task")


# --- every command refuses it in one line ------------------------------------------------


def _corrupt(path: Path) -> Path:
    whole = write_zip(tmp := path.with_suffix(".whole"), _file("lambda_function.py", "x" * 5000))
    path.write_bytes(whole.read_bytes()[:200])  # truncated: no central directory
    tmp.unlink()
    return path


@pytest.mark.parametrize("kind", ["chain", "corrupt"])
@pytest.mark.parametrize(
    "args",
    [
        ["serve", "{zip}", "--port", "0"],
        ["demo", "{zip}"],
        ["bench", "{zip}", "--baselines", "a"],
        ["deploy", "{zip}", "--role-arn", "arn:aws:iam::1:role/r", "--bucket", "b", "--dry-run"],
    ],
    ids=["serve", "demo", "bench", "deploy"],
)
def test_every_command_refuses_a_bad_zip_in_one_line(
    tmp_path: Path, kind: str, args: list[str]
) -> None:
    artifact = tmp_path / "fn.zip"
    chain_zip(artifact) if kind == "chain" else _corrupt(artifact)
    outcome = CliRunner().invoke(main, [a.replace("{zip}", str(artifact)) for a in args])
    assert outcome.exit_code != 0
    last = outcome.output.strip().splitlines()[-1]
    assert last.startswith("Error: ArtifactError: "), outcome.output
    expected = "member 'l2'" if kind == "chain" else "is not a readable zip"
    assert expected in last and last.endswith("rebuild it with `coldbrew build`")
    assert "internal error" not in outcome.output


def test_deploy_reads_every_byte_before_uploading(tmp_path: Path) -> None:
    artifact = write_zip(tmp_path / "fn.zip", _file("lambda_function.py", "x" * 5000))
    data = bytearray(artifact.read_bytes())
    data[60] ^= 0xFF  # inside the member's compressed data: the directory still reads
    artifact.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="rebuild it with `coldbrew build`"):
        read_build(artifact)
