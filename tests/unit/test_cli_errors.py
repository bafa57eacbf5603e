"""The CLI shows one line for any failure, never a traceback (unless asked)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from coldbrew.cli import _LazyGroup, main
from coldbrew.errors import BuildError


class _Group(_LazyGroup):
    """The real group, with two commands that fail on purpose."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        def bug() -> None:
            raise KeyError("missing")

        def refused() -> None:
            raise BuildError("model 'x' is not built: run `coldbrew model build x`")

        callbacks = {"bug": bug, "refused": refused}
        return (
            click.Command(cmd_name, callback=callbacks[cmd_name]) if cmd_name in callbacks else None
        )


GROUP = _Group(name="coldbrew")


def test_coldbrew_error_is_one_line() -> None:
    result = CliRunner().invoke(GROUP, ["refused"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: BuildError: model 'x' is not built: run `coldbrew model build x`"
    )


def test_a_bug_is_one_line_that_says_how_to_see_more(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLDBREW_DEBUG", raising=False)
    result = CliRunner().invoke(GROUP, ["bug"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "internal error: KeyError: 'missing'" in result.output
    assert "COLDBREW_DEBUG=1" in result.output


def test_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDBREW_DEBUG", "1")
    result = CliRunner().invoke(GROUP, ["bug"])
    assert isinstance(result.exception, KeyError)


def test_every_registered_command_loads() -> None:
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        assert main.get_command(ctx, name) is not None, name
