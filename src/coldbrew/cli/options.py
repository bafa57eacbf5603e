"""Click options shared by several commands; each is also an environment variable."""

from __future__ import annotations

from pathlib import Path

import click

from coldbrew import config


def default_cache_dir() -> Path:
    """``~/.cache/coldbrew``: wheels, runtimes and model builds are cached here."""
    return Path.home() / ".cache" / "coldbrew"


cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_cache_dir,
    envvar=config.CACHE_DIR,
    show_envvar=True,
    help="Cache for wheels, runtimes and model builds.",
)
