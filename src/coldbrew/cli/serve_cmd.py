"""``coldbrew serve``: run an artifact behind a local function URL."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click

from coldbrew import config
from coldbrew.cli.options import cache_dir_option

_DEFAULT_PYTHON = "3.12"
_LINE_STYLES = {
    "START ": "dim",
    "END ": "dim",
    "REPORT ": "bold cyan",
    "INIT_REPORT ": "bold yellow",
}


@click.command("serve")
@click.argument("artifact", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar=config.HOST,
    show_envvar=True,
    help="Address to listen on.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=9000,
    show_default=True,
    envvar=config.PORT,
    show_envvar=True,
    help="Port to listen on (0: any free one).",
)
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(128, 10_240),
    default=1024,
    show_default=True,
    envvar=config.MEMORY_MB,
    show_envvar=True,
    help="Memory size in MB, as configured on the function (reported, not enforced).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(0, 900, min_open=True),
    default=30,
    show_default=True,
    envvar=config.TIMEOUT_S,
    show_envvar=True,
    help="Function timeout in seconds; a sandbox that runs past it is killed.",
)
@click.option(
    "--max-concurrency",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    envvar=config.MAX_CONCURRENCY,
    show_envvar=True,
    help="Most sandboxes at once; past it a request waits up to 2 s, then gets 429.",
)
@click.option(
    "--python",
    "python",
    default=None,
    envvar=config.TARGET_PYTHON,
    show_envvar=True,
    help="Target Lambda Python [default: from the build report, else 3.12].",
)
@click.option(
    "--runtime-python",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    envvar=config.RUNTIME_PYTHON,
    show_envvar=True,
    help="Interpreter to build the runtime venv from [default: found by version].",
)
@cache_dir_option
@click.option(
    "--env",
    "env_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Extra function environment variable; repeatable.",
)
def command(
    *,
    artifact: Path,
    host: str,
    port: int,
    memory_mb: int,
    timeout_s: float,
    max_concurrency: int,
    python: str | None,
    runtime_python: Path | None,
    cache_dir: Path,
    env_pairs: tuple[str, ...],
) -> None:
    """Serve ARTIFACT (a Lambda zip) on a local function URL until Ctrl-C.

    Each request runs in a sandbox driven by AWS's own runtime client: the
    first in a new sandbox (a cold start, with Init Duration in its REPORT),
    later ones in an idle sandbox when there is one.
    """
    from rich.console import Console

    from coldbrew.emulate import EmulatorConfig, LocalFunctionUrl, check_arch
    from coldbrew.emulate.settings import parse_env_pairs
    from coldbrew.interpreters import parse_minor

    console = Console(stderr=True, highlight=False)
    from coldbrew.build.report import read_report_json

    report = read_report_json(artifact)
    built_python = report.get("python")
    built_arch = report.get("arch")
    if python is None:
        python = str(built_python) if built_python else _DEFAULT_PYTHON
    elif built_python and python != built_python:
        console.print(
            f"[yellow]warning:[/] the artifact was built for Python {built_python}, "
            f"serving it with {python}; its bytecode will not be used"
        )
    parse_minor(python)
    check_arch(str(built_arch) if built_arch else None)  # refuse before any slow setup
    settings = EmulatorConfig(
        artifact=artifact,
        cache_dir=cache_dir,
        python_version=python,
        runtime_python=runtime_python,
        arch=str(built_arch) if built_arch else None,
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        max_concurrency=max_concurrency,
        env=parse_env_pairs(env_pairs),
    )

    def show(line: str) -> None:
        style = next((s for prefix, s in _LINE_STYLES.items() if line.startswith(prefix)), None)
        if style is None and "Task timed out after" in line:
            style = "bold red"
        console.print(line, style=style, markup=False, soft_wrap=True)

    # Ctrl-C raises KeyboardInterrupt; make SIGTERM unwind the same way so
    # sandboxes (in their own sessions) are never left behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    fn = LocalFunctionUrl(settings, host=host, port=port, on_log=show)
    with console.status("preparing the runtime (the first run installs awslambdaric)"):
        fn.start()
    try:
        console.print(
            f"[bold green]Serving[/] {artifact} at [bold]{fn.url}[/] "
            f"(python {python}, {memory_mb} MB, timeout {timeout_s:g} s, "
            f"up to {max_concurrency} sandboxes). Ctrl-C to stop.",
            soft_wrap=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        fn.stop()
