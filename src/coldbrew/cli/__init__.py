"""The ``coldbrew`` command line.

Sub-commands live one per module and are imported only when run, so
``coldbrew --help`` stays fast. Every flag can also be set through an
environment variable, ``COLDBREW_`` plus the name declared beside the flag
(:func:`coldbrew.cli.options.option`); ``--help`` shows it.
Errors from the :class:`~coldbrew.errors.ColdbrewError` tree are shown as one
line naming the problem, never as a traceback.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

from coldbrew import __version__
from coldbrew.cli.options import env_name
from coldbrew.errors import ColdbrewError

#: Set to 1 to see a bug's traceback instead of its one-line summary.
DEBUG = env_name("DEBUG")

_COMMANDS: dict[str, tuple[str, str]] = {
    "model": (
        "coldbrew.cli.model_cmd",
        "Build and inspect model recipes (export, quantize, gate).",
    ),
    "build": ("coldbrew.cli.build_cmd", "Build a slim, reproducible Lambda artifact."),
    "serve": ("coldbrew.cli.serve_cmd", "Serve an artifact on a local function URL."),
    "demo": ("coldbrew.cli.demo_cmd", "Send example requests to an artifact and report."),
    "bench": ("coldbrew.cli.bench_cmd", "Measure an artifact against baselines, with ratios."),
    "deploy": (
        "coldbrew.cli.deploy_cmd",
        "Deploy an artifact to Lambda (function, version, alias, URL); --local: onto moto.",
    ),
    "tune": ("coldbrew.cli.tune_cmd", "Forecast traffic, tune provisioned concurrency."),
    "simulate": (
        "coldbrew.cli.simulate_cmd",
        "Replay a traffic trace against provisioned-concurrency policies.",
    ),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command = importlib.import_module(entry[0]).command
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ColdbrewError as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc.message}") from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: say so in one line, traceback only on request
            if os.environ.get(DEBUG):
                raise
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {exc} "
                f"(set {DEBUG}=1 for the traceback, and please report it)"
            ) from None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coldbrew")
def main() -> None:
    """coldbrew: the smallest, fastest-starting serverless deployment of a model."""
