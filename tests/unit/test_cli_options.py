"""Every option of every command is also a COLDBREW_ variable, under the name users rely on.

The names are declared beside their options (:func:`coldbrew.cli.options.option`);
this test walks the real ``coldbrew`` group so a renamed, dropped or duplicated
variable fails here, and checks click's order: explicit flag > variable > default.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from coldbrew import config
from coldbrew.cli import main

#: (command, option or ARGUMENT) -> variable, as generated from the CLI before the
#: options moved into the factory (walking ``coldbrew.cli:main`` at that commit).
#: Users set these: never rename one.
NAMES_BEFORE_THE_FACTORY: dict[tuple[str, str], str] = {
    ("bench", "--baselines"): "COLDBREW_BENCH_BASELINES",
    ("bench", "--batch-runs"): "COLDBREW_BENCH_BATCH_RUNS",
    ("bench", "--cache-dir"): "COLDBREW_CACHE_DIR",
    ("bench", "--chart"): "COLDBREW_BENCH_CHART",
    ("bench", "--cold-runs"): "COLDBREW_BENCH_COLD_RUNS",
    ("bench", "--concurrency"): "COLDBREW_BENCH_CONCURRENCY",
    ("bench", "--drop-caches"): "COLDBREW_BENCH_DROP_CACHES",
    ("bench", "--json"): "COLDBREW_BENCH_JSON",
    ("bench", "--memory"): "COLDBREW_BENCH_MEMORY_MB",
    ("bench", "--project-dir"): "COLDBREW_PROJECT_DIR",
    ("bench", "--throughput-requests"): "COLDBREW_BENCH_THROUGHPUT_REQUESTS",
    ("bench", "--warm-runs"): "COLDBREW_BENCH_WARM_RUNS",
    ("bench", "--work-dir"): "COLDBREW_BENCH_WORK_DIR",
    ("bench", "ARTIFACT"): "COLDBREW_BENCH_ARTIFACT",
    ("build", "--arch"): "COLDBREW_ARCH",
    ("build", "--cache-dir"): "COLDBREW_CACHE_DIR",
    ("build", "--layout"): "COLDBREW_LAYOUT",
    ("build", "--model"): "COLDBREW_MODEL",
    ("build", "--out"): "COLDBREW_OUT_DIR",
    ("build", "--platform"): "COLDBREW_PLATFORM",
    ("build", "--project-dir"): "COLDBREW_PROJECT_DIR",
    ("build", "--prune"): "COLDBREW_PRUNE",
    ("build", "--python"): "COLDBREW_PYTHON",
    ("build", "--rules"): "COLDBREW_RULES",
    ("build", "--strip"): "COLDBREW_STRIP",
    ("build", "--via-s3"): "COLDBREW_VIA_S3",
    ("demo", "--cache-dir"): "COLDBREW_CACHE_DIR",
    ("demo", "--cold-runs"): "COLDBREW_DEMO_COLD_RUNS",
    ("demo", "--memory"): "COLDBREW_MEMORY_MB",
    ("demo", "--platform"): "COLDBREW_PLATFORM",
    ("demo", "--warm-runs"): "COLDBREW_DEMO_WARM_RUNS",
    ("deploy", "--alias"): "COLDBREW_DEPLOY_ALIAS",
    ("deploy", "--allow-unauthenticated"): "COLDBREW_DEPLOY_GCF_ALLOW_UNAUTHENTICATED",
    ("deploy", "--api-endpoint"): "COLDBREW_DEPLOY_GCF_API_ENDPOINT",
    ("deploy", "--bucket"): "COLDBREW_DEPLOY_BUCKET",
    ("deploy", "--cache-dir"): "COLDBREW_CACHE_DIR",
    ("deploy", "--concurrency"): "COLDBREW_DEPLOY_GCF_CONCURRENCY",
    ("deploy", "--cpu"): "COLDBREW_DEPLOY_GCF_CPU",
    ("deploy", "--dry-run"): "COLDBREW_DEPLOY_DRY_RUN",
    ("deploy", "--entry-point"): "COLDBREW_DEPLOY_GCF_ENTRY_POINT",
    ("deploy", "--function-name"): "COLDBREW_DEPLOY_FUNCTION_NAME",
    ("deploy", "--host"): "COLDBREW_HOST",
    ("deploy", "--ingress"): "COLDBREW_DEPLOY_GCF_INGRESS",
    ("deploy", "--local"): "COLDBREW_DEPLOY_LOCAL",
    ("deploy", "--max-concurrency"): "COLDBREW_MAX_CONCURRENCY",
    ("deploy", "--max-instances"): "COLDBREW_DEPLOY_GCF_MAX_INSTANCES",
    ("deploy", "--memory"): "COLDBREW_DEPLOY_MEMORY_MB",
    ("deploy", "--min-instances"): "COLDBREW_DEPLOY_GCF_MIN_INSTANCES",
    ("deploy", "--moto-port"): "COLDBREW_DEPLOY_MOTO_PORT",
    ("deploy", "--platform"): "COLDBREW_DEPLOY_PLATFORM",
    ("deploy", "--port"): "COLDBREW_PORT",
    ("deploy", "--project"): "COLDBREW_DEPLOY_GCF_PROJECT",
    ("deploy", "--provisioned"): "COLDBREW_DEPLOY_PROVISIONED",
    ("deploy", "--region"): "COLDBREW_DEPLOY_REGION",
    ("deploy", "--reserved-concurrency"): "COLDBREW_DEPLOY_RESERVED_CONCURRENCY",
    ("deploy", "--role-arn"): "COLDBREW_DEPLOY_ROLE_ARN",
    ("deploy", "--runtime-python"): "COLDBREW_RUNTIME_PYTHON",
    ("deploy", "--schedule"): "COLDBREW_DEPLOY_SCHEDULE",
    ("deploy", "--serve-for"): "COLDBREW_DEPLOY_SERVE_FOR",
    ("deploy", "--timeout"): "COLDBREW_DEPLOY_TIMEOUT_S",
    ("deploy", "--url-auth"): "COLDBREW_DEPLOY_URL_AUTH",
    ("deploy", "ARTIFACT"): "COLDBREW_DEPLOY_ARTIFACT",
    ("model build", "--cache-dir"): "COLDBREW_CACHE_DIR",
    ("model build", "--models-dir"): "COLDBREW_MODELS_DIR",
    ("model show", "--models-dir"): "COLDBREW_MODELS_DIR",
    ("serve", "--cache-dir"): "COLDBREW_CACHE_DIR",
    ("serve", "--host"): "COLDBREW_HOST",
    ("serve", "--max-concurrency"): "COLDBREW_MAX_CONCURRENCY",
    ("serve", "--memory"): "COLDBREW_MEMORY_MB",
    ("serve", "--platform"): "COLDBREW_PLATFORM",
    ("serve", "--port"): "COLDBREW_PORT",
    ("serve", "--python"): "COLDBREW_PYTHON",
    ("serve", "--runtime-python"): "COLDBREW_RUNTIME_PYTHON",
    ("serve", "--timeout"): "COLDBREW_TIMEOUT_S",
    ("simulate", "--block-minutes"): "COLDBREW_SIMULATE_BLOCK_MINUTES",
    ("simulate", "--function"): "COLDBREW_SIMULATE_FUNCTIONS",
    ("simulate", "--json"): "COLDBREW_SIMULATE_JSON",
    ("simulate", "--keep-alive-s"): "COLDBREW_SIMULATE_KEEP_ALIVE_S",
    ("simulate", "--level"): "COLDBREW_SIMULATE_LEVEL",
    ("simulate", "--median-ms"): "COLDBREW_SIMULATE_MEDIAN_MS",
    ("simulate", "--overflow"): "COLDBREW_SIMULATE_OVERFLOW",
    ("simulate", "--policy"): "COLDBREW_SIMULATE_POLICIES",
    ("simulate", "--quantile"): "COLDBREW_SIMULATE_QUANTILE",
    ("simulate", "--seed"): "COLDBREW_SIMULATE_SEED",
    ("simulate", "--sweep"): "COLDBREW_SIMULATE_SWEEP",
    ("simulate", "--target"): "COLDBREW_SIMULATE_TARGET",
    ("simulate", "--train-days"): "COLDBREW_SIMULATE_TRAIN_DAYS",
    ("simulate", "TRACE"): "COLDBREW_SIMULATE_TRACE",
    ("tune", "--account-concurrency"): "COLDBREW_TUNE_ACCOUNT_CONCURRENCY",
    ("tune", "--alias"): "COLDBREW_TUNE_ALIAS",
    ("tune", "--api-endpoint"): "COLDBREW_TUNE_GCF_API_ENDPOINT",
    ("tune", "--apply"): "COLDBREW_TUNE_APPLY",
    ("tune", "--block-minutes"): "COLDBREW_TUNE_BLOCK_MINUTES",
    ("tune", "--cold-start-penalty-usd"): "COLDBREW_TUNE_COLD_START_PENALTY_USD",
    ("tune", "--cpu"): "COLDBREW_TUNE_GCF_CPU",
    ("tune", "--duration-ms"): "COLDBREW_TUNE_DURATION_MS",
    ("tune", "--function"): "COLDBREW_TUNE_FUNCTION",
    ("tune", "--function-name"): "COLDBREW_TUNE_FUNCTION_NAME",
    ("tune", "--max-capacity"): "COLDBREW_TUNE_MAX_CAPACITY",
    ("tune", "--memory"): "COLDBREW_TUNE_MEMORY_MB",
    ("tune", "--min-capacity"): "COLDBREW_TUNE_MIN_CAPACITY",
    ("tune", "--out"): "COLDBREW_TUNE_OUT",
    ("tune", "--overflow"): "COLDBREW_TUNE_OVERFLOW",
    ("tune", "--platform"): "COLDBREW_TUNE_PLATFORM",
    ("tune", "--project"): "COLDBREW_TUNE_GCF_PROJECT",
    ("tune", "--quantile"): "COLDBREW_TUNE_QUANTILE",
    ("tune", "--region"): "COLDBREW_TUNE_REGION",
    ("tune", "--scheduler-service-account"): "COLDBREW_TUNE_GCF_SERVICE_ACCOUNT",
    ("tune", "--train-days"): "COLDBREW_TUNE_TRAIN_DAYS",
    ("tune", "TRACE"): "COLDBREW_TUNE_TRACE",
}

#: Variables added since: new options, and options that had none (every option now has one).
NAMES_ADDED: dict[tuple[str, str], str] = {
    ("bench", "--gcf-artifact"): "COLDBREW_BENCH_GCF_ARTIFACT",
    ("deploy", "--env"): "COLDBREW_DEPLOY_ENV",
    ("model build", "--force"): "COLDBREW_MODEL_FORCE",
    ("serve", "--env"): "COLDBREW_SERVE_ENV",
}

#: Variables deliberately read by more than one command (same meaning in each).
SHARED = {
    "COLDBREW_CACHE_DIR": {"bench", "build", "demo", "deploy", "model build", "serve"},
    "COLDBREW_PLATFORM": {"build", "demo", "serve"},
    "COLDBREW_MEMORY_MB": {"demo", "serve"},
    "COLDBREW_PYTHON": {"build", "serve"},
    "COLDBREW_PROJECT_DIR": {"bench", "build"},
    "COLDBREW_MODELS_DIR": {"model build", "model show"},
    # serving on a local function URL: `coldbrew serve` and `coldbrew deploy --local`
    "COLDBREW_HOST": {"deploy", "serve"},
    "COLDBREW_PORT": {"deploy", "serve"},
    "COLDBREW_MAX_CONCURRENCY": {"deploy", "serve"},
    "COLDBREW_RUNTIME_PYTHON": {"deploy", "serve"},
}


def _commands() -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(main)

    def walk(name: str, command: click.Command) -> Iterator[tuple[str, click.Command]]:
        yield name, command
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                sub_command = command.get_command(ctx, sub)
                assert sub_command is not None
                yield from walk(f"{name} {sub}", sub_command)

    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None
        yield from walk(name, command)


COMMANDS = dict(_commands())


def _label(param: click.Parameter) -> str:
    return param.opts[0] if isinstance(param, click.Option) else str(param.name).upper()


def _declared_names() -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    for name, command in COMMANDS.items():
        for param in command.params:
            if param.envvar:
                assert isinstance(param.envvar, str), (name, _label(param))
                names[(name, _label(param))] = param.envvar
    return names


def test_every_option_has_a_variable() -> None:
    missing = [
        (name, _label(param))
        for name, command in COMMANDS.items()
        for param in command.params
        if isinstance(param, click.Option)
        and not param.envvar
        and not set(param.opts) & {"--help", "--version"}
    ]
    assert missing == []


def test_every_variable_is_shown_by_help() -> None:
    hidden = [
        (name, _label(param))
        for name, command in COMMANDS.items()
        for param in command.params
        if isinstance(param, click.Option) and param.envvar and not param.show_envvar
    ]
    assert hidden == []


def test_variables_start_with_coldbrew_and_only_the_listed_ones_are_shared() -> None:
    declared = _declared_names()
    assert [v for v in declared.values() if not v.startswith("COLDBREW_")] == []
    readers: dict[str, set[str]] = {}
    for (command, _), variable in declared.items():
        readers.setdefault(variable, set()).add(command)
    shared = {variable: commands for variable, commands in readers.items() if len(commands) > 1}
    assert shared == SHARED
    # within one command a variable sets one option only
    per_command = Counter((command, v) for (command, _), v in declared.items())
    assert [key for key, count in per_command.items() if count > 1] == []


def test_the_names_are_todays_names() -> None:
    declared = _declared_names()
    renamed_or_dropped = {
        key: name for key, name in NAMES_BEFORE_THE_FACTORY.items() if declared.get(key) != name
    }
    assert renamed_or_dropped == {}, "users set these variables: keep every name"
    new = {key: name for key, name in declared.items() if key not in NAMES_BEFORE_THE_FACTORY}
    assert new == NAMES_ADDED, "a new option's variable: add it to NAMES_ADDED"


def test_every_name_left_in_config_is_an_options_variable() -> None:
    left = {value for key, value in vars(config).items() if key.isupper()}
    assert left - set(_declared_names().values()) == set()


# --- precedence: explicit flag > variable > default, through click's own parsing ----
#: command -> (flag, its parameter, a value for the variable, a value for the flag)
PRECEDENCE: dict[str, tuple[str, str, str, str]] = {
    "bench": ("--cold-runs", "cold_runs", "7", "8"),
    "build": ("--out", "out_dir", "from-env", "from-flag"),
    "demo": ("--cold-runs", "cold_runs", "7", "8"),
    "deploy": ("--memory", "memory_mb", "2048", "3008"),
    "model build": ("--models-dir", "models_dir", "from-env", "from-flag"),
    "model show": ("--models-dir", "models_dir", "from-env", "from-flag"),
    "serve": ("--port", "port", "9100", "9200"),
    "simulate": ("--seed", "seed", "7", "8"),
    "tune": ("--quantile", "quantile", "0.5", "0.75"),
}


@pytest.fixture(autouse=True)
def _no_coldbrew_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for variable in list(os.environ):
        if variable.startswith("COLDBREW_"):
            monkeypatch.delenv(variable)


def _resolve(
    command: click.Command, args: list[str], env: dict[str, str], tmp_path: Path
) -> dict[str, Any]:
    """The values the command's real parameters resolve to (its body is not run)."""
    seen: dict[str, Any] = {}
    recorder = click.Command(command.name, params=command.params, callback=seen.update)
    artifact = tmp_path / "artifact.zip"
    artifact.write_bytes(b"")
    positional = [str(artifact) for p in command.params if isinstance(p, click.Argument)]
    result = CliRunner().invoke(recorder, [*positional, *args], env=env)
    assert result.exit_code == 0, result.output
    return seen


def test_every_command_has_a_precedence_case() -> None:
    runnable = {name for name, command in COMMANDS.items() if not isinstance(command, click.Group)}
    assert set(PRECEDENCE) == runnable


@pytest.mark.parametrize("name", sorted(PRECEDENCE))
def test_flag_beats_variable_beats_default(name: str, tmp_path: Path) -> None:
    flag, param_name, from_env, from_flag = PRECEDENCE[name]
    command = COMMANDS[name]
    (param,) = [p for p in command.params if p.name == param_name]
    variable = _declared_names()[(name, flag)]
    ctx = click.Context(command)
    default = param.type_cast_value(ctx, param.get_default(ctx))
    as_env = param.type_cast_value(ctx, from_env)
    as_flag = param.type_cast_value(ctx, from_flag)
    assert len({default, as_env, as_flag}) == 3, "the case cannot tell the sources apart"

    assert _resolve(command, [], {}, tmp_path)[param_name] == default
    assert _resolve(command, [], {variable: from_env}, tmp_path)[param_name] == as_env
    flagged = _resolve(command, [flag, from_flag], {variable: from_env}, tmp_path)
    assert flagged[param_name] == as_flag


def test_a_repeatable_option_reads_its_variable_split_on_whitespace(tmp_path: Path) -> None:
    seen = _resolve(COMMANDS["serve"], [], {"COLDBREW_SERVE_ENV": "A=1 B=2"}, tmp_path)
    assert seen["env_pairs"] == ("A=1", "B=2")
