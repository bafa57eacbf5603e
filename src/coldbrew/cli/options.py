"""Click options: each declared once, with its environment variable beside it.

Every flag of every command is also an environment variable: ``COLDBREW_``
plus the name given as ``env=``, shown by ``--help``. An explicit flag beats
the variable, which beats the default (click's own order). :func:`option`
and :func:`argument` are the one place the prefix is applied, so a command
declares ``option("--memory", "memory_mb", env="MEMORY_MB", ...)`` and never
spells a variable out. The shared options of several commands follow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from coldbrew.errors import ConfigurationError

#: What an option decorates: the command's function, or the command itself.
Decorated = TypeVar("Decorated", bound=Callable[..., Any] | click.Command)

#: Every variable the CLI reads starts with this.
ENV_PREFIX = "COLDBREW_"


def env_name(name: str) -> str:
    """The environment variable for ``name``: ``env_name("PORT") == "COLDBREW_PORT"``."""
    return ENV_PREFIX + name


def option(*param_decls: str, env: str, **attrs: Any) -> Callable[[Decorated], Decorated]:
    """``click.option(*param_decls, **attrs)``, also read from ``COLDBREW_<env>``.

    The variable is shown in ``--help``. For a ``multiple=True`` option the
    variable holds the values separated by whitespace.
    """
    return click.option(*param_decls, envvar=env_name(env), show_envvar=True, **attrs)


def argument(*param_decls: str, env: str, **attrs: Any) -> Callable[[Decorated], Decorated]:
    """``click.argument(*param_decls, **attrs)``, also read from ``COLDBREW_<env>``."""
    return click.argument(*param_decls, envvar=env_name(env), **attrs)


def default_cache_dir() -> Path:
    """``~/.cache/coldbrew``: wheels, runtimes and model builds are cached here."""
    return Path.home() / ".cache" / "coldbrew"


cache_dir_option = option(
    "--cache-dir",
    env="CACHE_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_cache_dir,
    help="Cache for wheels, runtimes and model builds.",
)


# The options of serving on a local function URL (`coldbrew serve`, `coldbrew deploy --local`):
# one flag, environment variable and default for both; each command words its own help.


def host_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """``--host``: the address the local function URL listens on."""
    return option("--host", env="HOST", default="127.0.0.1", show_default=True, help=help_text)


def port_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """``--port``: the local function URL's port (0: any free one)."""
    return option(
        "--port",
        env="PORT",
        type=click.IntRange(0, 65535),
        default=9000,
        show_default=True,
        help=help_text,
    )


def max_concurrency_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """``--max-concurrency``: the most sandboxes running at once."""
    return option(
        "--max-concurrency",
        env="MAX_CONCURRENCY",
        type=click.IntRange(min=1),
        default=4,
        show_default=True,
        help=help_text,
    )


def runtime_python_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """``--runtime-python``: the interpreter the runtime venv is built from."""
    return option(
        "--runtime-python",
        env="RUNTIME_PYTHON",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help=help_text,
    )


def require_flags(what: str, flags: Sequence[tuple[str, object]], hint: str) -> None:
    """Refuse, in one line, when any of ``flags`` (name, value) has no value.

    ``what`` is what needs them ("deploying to Cloud Functions"); ``hint`` says how
    to give them, or what to do instead.
    """
    missing = [name for name, value in flags if not value]
    if missing:
        raise ConfigurationError(f"{what} needs {' and '.join(missing)} {hint}")
