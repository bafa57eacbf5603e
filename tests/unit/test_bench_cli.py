"""``coldbrew bench --help`` documents every figure, and every flag has a variable."""

from __future__ import annotations

import click
from click.testing import CliRunner

from coldbrew.cli import main
from coldbrew.cli.bench_cmd import command


def test_help_documents_every_figure_variant_and_the_order() -> None:
    outcome = CliRunner().invoke(main, ["bench", "--help"], terminal_width=120)
    assert outcome.exit_code == 0
    text = " ".join(outcome.output.split())
    for figure in (
        "cold start",
        "Init Duration",
        "warm latency",
        "throughput",
        "artifact size",
        "max memory",
    ):
        assert figure in text
    for unit in ("ms,", "requests/s", "MB,"):
        assert unit in text
    assert "INTERLEAVED" in text and "round-robin" in text
    assert "Python 3.11" in text
    assert "<= 0.5x (a), <= 1/25 of (b), <= 1.15x (c)" in text


def test_every_flag_is_also_an_environment_variable() -> None:
    for param in command.params:
        assert param.envvar, f"{param.name} has no environment variable"
        if isinstance(param, click.Option) and param.name != "cache_dir":
            assert str(param.envvar).startswith("COLDBREW_"), param.name
    bench_specific = {str(p.envvar) for p in command.params} - {
        "COLDBREW_CACHE_DIR",
        "COLDBREW_PROJECT_DIR",
    }
    assert all(name.startswith("COLDBREW_BENCH_") for name in bench_specific)


def test_bench_is_listed_in_the_cli() -> None:
    outcome = CliRunner().invoke(main, ["--help"])
    assert "bench" in outcome.output
