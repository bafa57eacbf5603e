"""``coldbrew model``: build a model recipe, or show a built model's manifest.

Errors are raised as :class:`~coldbrew.errors.ColdbrewError` subclasses; the
top-level group turns them into one-line messages.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.status import Status
from rich.table import Table

from coldbrew.cli.options import option
from coldbrew.errors import ModelError

DEFAULT_MODELS_DIR = "models"
DEFAULT_CACHE_DIR = "~/.cache/coldbrew"

_models_dir_option = option(
    "--models-dir",
    env="MODELS_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_MODELS_DIR,
    show_default=True,
    help="Directory holding one sub-directory per recipe.",
)


@click.group(name="model")
def command() -> None:
    """Build and inspect model recipes (export, quantize, gate)."""


@command.command("build")
@click.argument("name")
@_models_dir_option
@option(
    "--cache-dir",
    env="CACHE_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CACHE_DIR,
    show_default=True,
    help="Where finished builds are cached by content hash.",
)
@option(
    "--force", env="MODEL_FORCE", is_flag=True, help="Rebuild even when a cached build matches."
)
def build(name: str, models_dir: Path, cache_dir: Path, force: bool) -> None:
    """Export, fuse, quantize and accuracy-gate the recipe NAME into models/NAME/dist/."""
    from coldbrew.models import build_model

    console = Console(stderr=True)
    started = time.perf_counter()
    with _StepDisplay(console) as steps:
        built = build_model(
            name,
            models_dir=models_dir,
            cache_dir=cache_dir.expanduser(),
            force=force,
            progress=steps,
        )
    _print_summary(
        Console(), built.manifest, built.path, built.cached, time.perf_counter() - started
    )


@command.command("show")
@click.argument("name")
@_models_dir_option
def show(name: str, models_dir: Path) -> None:
    """Print the manifest of the built model NAME."""
    from coldbrew.models import DIST_DIR, load_recipe
    from coldbrew.models.manifest import MANIFEST_FILE, read_manifest

    recipe = load_recipe(models_dir, name)  # names the known recipes on a typo
    dist = recipe.directory / DIST_DIR
    if not (dist / MANIFEST_FILE).is_file():
        raise ModelError(f"{name} is not built yet: run 'coldbrew model build {name}'")
    Console().print_json(data=read_manifest(dist))


class _StepDisplay:
    """A spinner on the current step, and a tick with its duration once it is done."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._status: Status | None = None
        self._step: str | None = None
        self._since = 0.0

    def __enter__(self) -> _StepDisplay:
        self._status = self._console.status("Reading recipe")
        self._status.start()
        return self

    def __call__(self, message: str) -> None:
        self._finish_step()
        self._step, self._since = message, time.perf_counter()
        if self._status is not None:
            self._status.update(message)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._status is not None:
            self._status.stop()
        if exc_type is None:
            self._finish_step()
        elif self._step is not None:
            self._console.print(f"[red]✗[/red] {self._step}")

    def _finish_step(self) -> None:
        if self._step is not None:
            elapsed = time.perf_counter() - self._since
            self._console.print(f"[green]✓[/green] {self._step} [dim]({elapsed:.1f} s)[/dim]")
        self._step = None


def _print_summary(
    console: Console, manifest: dict[str, Any], path: Path, cached: bool, seconds: float
) -> None:
    sizes, accuracy = manifest["sizes"], manifest["accuracy"]
    table = Table(title=f"{manifest['name']} {manifest['version']}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("output", str(path))
    table.add_row("size", f"{_mb(sizes['fp32_bytes'])} fp32 -> {_mb(sizes['int8_bytes'])} int8")
    table.add_row(
        "accuracy",
        f"mean cosine {accuracy['mean_cosine']:.4f} (>= {accuracy['threshold_mean']}), "
        f"min {accuracy['min_cosine']:.4f} (>= {accuracy['threshold_min']}) "
        f"on {accuracy['sentences']} sentences",
    )
    table.add_row("dimensions", f"{manifest['dimensions']}, up to {manifest['max_tokens']} tokens")
    origin = "cache hit" if cached else "built"
    table.add_row(
        "build", f"{origin} in {seconds:.2f} s, key {manifest['build']['cache_key'][:12]}"
    )
    console.print(table)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
