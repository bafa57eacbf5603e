"""A local wheelhouse of the target's pinned wheels, so a build resolves offline.

``make`` fills it in its install step (``python -m coldbrew.artifact.wheelhouse``):
``pip download`` with the same ``--platform``/``--python-version``/``--abi``/
``--only-binary`` as :func:`coldbrew.artifact.resolve.pip_command`, for the
requirements pinned in the rules files (``packaging/*.toml``). The resolver
installs from it with ``--no-index`` when it holds them and falls back to the
package index, saying so, when it does not. It lives in the cache directory,
one folder per target: ``<cache>/wheelhouse/py312-x86_64/``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from coldbrew.artifact.target import Target


def wheelhouse_dir(cache_dir: Path, target: Target) -> Path:
    """Where the wheels for ``target`` are kept."""
    return cache_dir / "wheelhouse" / target.slug


def target_flags(target: Target) -> list[str]:
    """pip's flags that select wheels for ``target``, never the host's."""
    flags = ["--only-binary=:all:", "--python-version", target.python, "--implementation", "cp"]
    flags += ["--abi", target.abi]
    for platform_tag in target.pip_platforms:
        flags += ["--platform", platform_tag]
    return flags


def download_command(requirements: Sequence[str], target: Target, dest: Path) -> list[str]:
    """The ``pip download`` that fills ``dest`` with ``requirements`` for ``target``."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    return [*command, "--dest", str(dest), *target_flags(target), *requirements]


def fill(requirements: Sequence[str], target: Target, cache_dir: Path) -> Path:
    """Download ``requirements`` for ``target`` into its wheelhouse (pip skips what is there)."""
    dest = wheelhouse_dir(cache_dir, target)
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        download_command(requirements, target, dest),
        check=True,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m coldbrew.artifact.wheelhouse RULES... [--target 3.12/x86_64 ...]``."""
    from coldbrew.artifact.rules import load_rules
    from coldbrew.config import CACHE_DIR

    parser = argparse.ArgumentParser(prog="python -m coldbrew.artifact.wheelhouse")
    parser.add_argument("rules", nargs="+", type=Path, help="rules files (packaging/*.toml)")
    parser.add_argument(
        "--target",
        action="append",
        default=None,
        help="PYTHON/ARCH, repeatable [default: 3.12/x86_64 and 3.12/arm64]",
    )
    default_cache = Path(os.environ.get(CACHE_DIR) or Path.home() / ".cache" / "coldbrew")
    parser.add_argument("--cache-dir", type=Path, default=default_cache)
    args = parser.parse_args(argv)
    requirements = sorted({r for path in args.rules for r in load_rules(path).requirements})
    for spec in args.target or ["3.12/x86_64", "3.12/arm64"]:
        python, _, arch = spec.partition("/")
        dest = fill(requirements, Target(python, arch), args.cache_dir)
        print(f"wheelhouse: {', '.join(requirements)} for {spec} in {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
