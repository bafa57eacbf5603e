"""Click options shared by several commands; each is also an environment variable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from coldbrew import config

#: What an option decorates: the command's function, or the command itself.
Decorated = TypeVar("Decorated", bound=Callable[..., Any] | click.Command)


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


# The options of serving on a local function URL (`coldbrew serve`, `coldbrew deploy --local`):
# one flag, environment variable and default for both; each command words its own help.


def host_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """``--host``: the address the local function URL listens on."""
    return click.option(
        "--host",
        default="127.0.0.1",
        show_default=True,
        envvar=config.HOST,
        show_envvar=True,
        help=help_text,
    )


def port_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """``--port``: the local function URL's port (0: any free one)."""
    return click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=9000,
        show_default=True,
        envvar=config.PORT,
        show_envvar=True,
        help=help_text,
    )


def max_concurrency_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """``--max-concurrency``: the most sandboxes running at once."""
    return click.option(
        "--max-concurrency",
        type=click.IntRange(min=1),
        default=4,
        show_default=True,
        envvar=config.MAX_CONCURRENCY,
        show_envvar=True,
        help=help_text,
    )


def runtime_python_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """``--runtime-python``: the interpreter the runtime venv is built from."""
    return click.option(
        "--runtime-python",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        envvar=config.RUNTIME_PYTHON,
        show_envvar=True,
        help=help_text,
    )
