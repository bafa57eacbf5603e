"""``coldbrew serve``: run an artifact behind a local function URL."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coldbrew.cli.options import (
    Decorated,
    cache_dir_option,
    host_option,
    max_concurrency_option,
    option,
    port_option,
    runtime_python_option,
)
from coldbrew.deployment.aws_lambda import LAMBDA

if TYPE_CHECKING:
    from rich.console import Console

    from coldbrew.emulate import EmulatorConfig
    from coldbrew.emulate.gcf_server import GcfServer

_DEFAULT_PYTHON = "3.12"
AWS_LAMBDA = "aws-lambda"
GCF = "gcf"
PLATFORMS = (AWS_LAMBDA, GCF)
_LINE_STYLES = {
    "START ": "dim",
    "END ": "dim",
    "REPORT ": "bold cyan",
    "INIT_REPORT ": "bold yellow",
}


def platform_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """``--platform``: which platform's runtime serves the artifact."""
    return option(
        "--platform",
        env="PLATFORM",
        type=click.Choice(PLATFORMS),
        default=AWS_LAMBDA,
        show_default=True,
        help=help_text,
    )


@click.command("serve")
@click.argument("artifact", type=click.Path(exists=True, path_type=Path))
@platform_option(
    "aws-lambda: a local function URL over AWS's runtime client; gcf: Google's "
    "functions-framework over a Cloud Functions artifact (zip or directory)."
)
@host_option("Address to listen on.")
@port_option("Port to listen on (0: any free one).")
@option(
    "--memory",
    "memory_mb",
    env="MEMORY_MB",
    type=click.IntRange(LAMBDA.memory_mb.low, LAMBDA.memory_mb.high),
    default=1024,
    show_default=True,
    help="Memory size in MB, as configured on the function (reported, not enforced).",
)
@option(
    "--timeout",
    "timeout_s",
    env="TIMEOUT_S",
    type=click.FloatRange(0, LAMBDA.timeout_s.high, min_open=True),
    default=30,
    show_default=True,
    help="Function timeout in seconds; a sandbox that runs past it is killed.",
)
@max_concurrency_option("Most sandboxes at once; past it a request waits up to 2 s, then gets 429.")
@option(
    "--python",
    "python",
    env="PYTHON",
    default=None,
    help="Target Lambda Python [default: from the build report, else 3.12].",
)
@runtime_python_option("Interpreter to build the runtime venv from [default: found by version].")
@cache_dir_option
@option(
    "--env",
    "env_pairs",
    env="SERVE_ENV",
    multiple=True,
    metavar="KEY=VALUE",
    help="Extra function environment variable; repeatable (the variable: space-separated).",
)
def command(
    *,
    artifact: Path,
    platform: str,
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
    """Serve ARTIFACT on a local function URL until Ctrl-C.

    ARTIFACT is a Lambda zip, a part of a layer build (NAME-function.zip or
    NAME-layer.zip: the function runs with its layer, as on Lambda) or a
    build report (NAME.report.json). Each request runs in a sandbox driven by
    AWS's own runtime client: the first in a new sandbox (a cold start, with
    Init Duration in its REPORT), later ones in an idle sandbox when there is one.

    With ``--platform gcf``, ARTIFACT is a Cloud Functions source (zip or
    directory, ``main.py`` at its root), served by Google's functions-framework
    in one process of the target Python (--memory, --timeout and
    --max-concurrency are Lambda's and not used).
    """
    from rich.console import Console

    from coldbrew.emulate.settings import parse_env_pairs

    console = Console(stderr=True, highlight=False)
    if platform == GCF:
        env = parse_env_pairs(env_pairs)
        server = gcf_server(
            console, artifact, python, cache_dir, runtime_python, host, port, env=env
        )
        serve_gcf_until_stopped(console, server)
        return
    if artifact.is_dir():
        raise click.BadParameter(
            f"{artifact} is a directory; serve a Lambda zip or build report", param_hint="ARTIFACT"
        )
    settings = emulator_config(
        console,
        artifact,
        python=python,
        cache_dir=cache_dir,
        runtime_python=runtime_python,
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        max_concurrency=max_concurrency,
        env=parse_env_pairs(env_pairs),
    )
    serve_until_stopped(console, settings, host=host, port=port)


def emulator_config(
    console: Console,
    artifact: Path,
    *,
    python: str | None,
    cache_dir: Path,
    runtime_python: Path | None,
    memory_mb: int,
    timeout_s: float,
    max_concurrency: int,
    env: Mapping[str, str],
    report: Mapping[str, Any] | None = None,
    **more: Any,
) -> EmulatorConfig:
    """The emulator's settings for ``artifact``; python and arch from its build ``report``
    (read beside the artifact when not given). Checked before any slow setup.

    What runs is :func:`~coldbrew.emulate.resolve.resolve_artifact`'s: for a
    layer build, the function zip with its layer. ``more`` are further
    :class:`EmulatorConfig` fields (``function_name``, ``handler``...).
    """
    from coldbrew.emulate import EmulatorConfig, check_arch, resolve_artifact
    from coldbrew.interpreters import parse_minor

    resolved = resolve_artifact(artifact)
    report = resolved.report if report is None else report
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
    return EmulatorConfig(
        artifact=resolved.function,
        layers=resolved.layers,
        cache_dir=cache_dir,
        python_version=python,
        runtime_python=runtime_python,
        arch=str(built_arch) if built_arch else None,
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        max_concurrency=max_concurrency,
        env=env,
        **more,
    )


def serve_until_stopped(
    console: Console,
    settings: EmulatorConfig,
    *,
    host: str,
    port: int,
    label: str | None = None,
    stop_after_s: float | None = None,
) -> None:
    """Serve ``settings.artifact`` on a local function URL until Ctrl-C or SIGTERM
    (or ``stop_after_s``), printing its log lines; every sandbox is stopped on the way out.

    ``label`` names what is served in the "Serving" line (default: the artifact
    path, with its layers).
    """
    from coldbrew.emulate import LocalFunctionUrl

    def show(line: str) -> None:
        style = next((s for prefix, s in _LINE_STYLES.items() if line.startswith(prefix)), None)
        if style is None and "Task timed out after" in line:
            style = "bold red"
        console.print(line, style=style, markup=False, soft_wrap=True)

    fn = LocalFunctionUrl(settings, host=host, port=port, on_log=show)

    def start() -> str:
        fn.start()
        return (
            f"{label or _served(settings)} at [bold]{fn.url}[/] "
            f"(python {settings.python_version}, {settings.memory_mb} MB, "
            f"timeout {settings.timeout_s:g} s, up to {settings.max_concurrency} sandboxes)"
        )

    _run_until_stopped(
        console,
        start,
        fn.stop,
        preparing="preparing the runtime (the first run installs awslambdaric)",
        stop_after_s=stop_after_s,
    )


def gcf_server(
    console: Console,
    artifact: Path,
    python: str | None,
    cache_dir: Path,
    runtime_python: Path | None,
    host: str,
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    quiet: bool = False,
) -> GcfServer:
    """A functions-framework server for a Cloud Functions ``artifact`` (not started);
    ``quiet``: its log lines are kept from the console."""
    from coldbrew.emulate.gcf_runtime import ensure_gcf_runtime
    from coldbrew.emulate.gcf_server import GcfServer, GcfServerConfig
    from coldbrew.interpreters import parse_minor

    version = parse_minor(python or _DEFAULT_PYTHON)
    with console.status("preparing the runtime (the first run installs functions-framework)"):
        runtime = ensure_gcf_runtime(cache_dir, version, explicit_python=runtime_python)

    def show(line: str) -> None:
        style = next((s for prefix, s in _LINE_STYLES.items() if line.startswith(prefix)), None)
        console.print(line, style=style, markup=False, soft_wrap=True)

    config = GcfServerConfig(
        artifact, runtime.python, runtime.framework_dir, host=host, port=port, env=env or {}
    )
    return GcfServer(config, on_log=(lambda line: None) if quiet else show)


def serve_gcf_until_stopped(
    console: Console, server: GcfServer, *, stop_after_s: float | None = None
) -> None:
    """Serve until Ctrl-C or SIGTERM (or ``stop_after_s``); the server and its temp
    directory are always cleaned up, a second Ctrl-C cannot cut that short."""

    def start() -> str:
        server.start()
        return (
            f"{server.config.artifact} at [bold]{server.url}[/] "
            f"(functions-framework, python {server.config.python})"
        )

    _run_until_stopped(
        console,
        start,
        server.stop,
        preparing="starting functions-framework",
        stop_after_s=stop_after_s,
    )


def _run_until_stopped(
    console: Console,
    start: Callable[[], str],
    stop: Callable[[], None],
    *,
    preparing: str,
    stop_after_s: float | None,
) -> None:
    """Start, print "Serving <what start returns>", wait for Ctrl-C, SIGTERM or
    ``stop_after_s``, then stop; a second Ctrl-C cannot cut the stop short."""
    previous = _stop_on_first_signal()
    try:
        with console.status(preparing):
            serving = start()
        until = "Ctrl-C to stop" if stop_after_s is None else f"Stops in {stop_after_s:g} s"
        console.print(f"[bold green]Serving[/] {serving}. {until}.", soft_wrap=True)
        deadline = None if stop_after_s is None else time.monotonic() + stop_after_s
        while deadline is None or time.monotonic() < deadline:
            time.sleep(3600 if deadline is None else min(1.0, deadline - time.monotonic()))
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        try:
            stop()
        finally:
            _restore_handlers(previous)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stop_on_first_signal() -> dict[int, Any]:
    """Make Ctrl-C and SIGTERM unwind as KeyboardInterrupt, once: the first one
    ignores any more, so a second Ctrl-C cannot cut the cleanup short (leaving
    sandboxes running or the read-only unpacked artifact in the temp dir).

    Returns the handlers replaced, for :func:`_restore_handlers`. Only the main
    thread can set handlers; elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum: int, frame: Any) -> None:
        for number in _STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous: dict[int, Any] = {}
    for signum in _STOP_SIGNALS:
        previous[signum] = signal.signal(signum, stop)
    return previous


def _restore_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        if handler is not None:  # None: set outside Python, cannot be put back
            signal.signal(signum, handler)


def _served(settings: EmulatorConfig) -> str:
    if not settings.layers:
        return str(settings.artifact)
    layers = ", ".join(str(layer) for layer in settings.layers)
    return f"{settings.artifact} with layer{'s' if len(settings.layers) > 1 else ''} {layers}"
