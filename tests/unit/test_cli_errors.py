"""The CLI shows one line for any failure, never a traceback (unless asked)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

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


# --- an unknown model names the recipes and a command that works ------------------


def _is_a_command(args: list[str]) -> bool:
    """Whether ``coldbrew ARGS`` names a real command, with options it accepts."""
    path: list[str] = []
    command: click.Command | None = main
    while isinstance(command, click.Group) and len(path) < len(args):
        command = command.get_command(click.Context(command), args[len(path)])
        path.append(args[len(path)])
    if command is None or isinstance(command, click.Group):
        return False
    result = CliRunner().invoke(main, [*args, "--help"], prog_name="coldbrew")
    return result.exit_code == 0 and f"Usage: coldbrew {' '.join(path)} " in result.output


def _suggested(message: str) -> list[str]:
    suggestion = re.search(r"`(coldbrew [^`]+)`", message)
    assert suggestion, message
    words = shlex.split(suggestion.group(1))
    assert words[0] == "coldbrew"
    return words[1:]


@pytest.mark.parametrize("built", [False, True])
def test_unknown_model_names_the_recipes_and_a_command_that_works(
    tmp_path: Path, built: bool
) -> None:
    recipe_dir = tmp_path / "models" / "tiny-recipe"
    recipe_dir.mkdir(parents=True)
    (recipe_dir / "model.toml").write_text("", encoding="utf-8")
    if built:
        (recipe_dir / "dist").mkdir()
        (recipe_dir / "dist" / "manifest.json").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["build", "--model", "does-not-exist", "--project-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "'does-not-exist'" in message and "tiny-recipe" in message
    args = _suggested(message)
    assert "does-not-exist" not in args and "tiny-recipe" in args
    assert _is_a_command(args), args
    # The suggestion's first step gets past the unknown name: it is run for real
    # (the empty recipe then fails on its content, which is not what is checked).
    followed = CliRunner().invoke(main, args)
    assert "unknown model" not in followed.output, followed.output


def test_unknown_model_in_a_project_without_recipes_says_how_to_add_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["build", "--model", "does-not-exist", "--project-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "holds no recipes" in result.output and "model.toml" in result.output
    assert "coldbrew model build does-not-exist" not in result.output
