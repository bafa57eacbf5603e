"""The emulator's settings: one frozen object, built once at the CLI edge.

The emulator never reads environment variables itself; the only host value it
passes on to sandboxes is PATH, and even that can be given here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from coldbrew.deployment import aws_lambda
from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.emulate.layers import MAX_LAYERS
from coldbrew.errors import ConfigurationError

#: Lambda's limits, from the one place they are written.
MAX_PAYLOAD_BYTES = aws_lambda.PAYLOAD_BYTES
RESERVED_ENV = aws_lambda.RESERVED_ENV

_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the local Lambda emulator needs to serve one artifact.

    ``artifact`` is a zip, unpacked into a temporary read-only task root as
    Lambda does, or a directory, used in place as the task root (not copied,
    not made read-only, never deleted). ``layers`` are the function's layer
    zips (or directories) in Lambda's merge order, each unpacked into its own
    directory and put on the sandbox's path as Lambda puts /opt
    (:mod:`coldbrew.emulate.layers`); :func:`coldbrew.emulate.resolve.resolve_artifact`
    finds them for a layer build.

    ``runtime_python`` is the target interpreter the runtime venv is made from
    (when None it is looked up for ``python_version``). ``arch`` is the
    artifact's architecture from its build report (None: assume the host's).
    When all ``max_concurrency`` sandboxes are busy a request waits up to
    ``queue_wait_s`` for one, then is throttled (HTTP 429).
    """

    artifact: Path
    cache_dir: Path
    python_version: str = "3.12"
    runtime_python: Path | None = None
    arch: str | None = None
    handler: str = "lambda_function.handler"
    function_name: str = "coldbrew-local"
    region: str = "us-east-1"
    memory_mb: int = 1024
    timeout_s: float = 30.0
    init_timeout_s: float = 10.0  # Lambda's limit for the init phase of on-demand functions
    max_concurrency: int = 4
    queue_wait_s: float = 2.0
    idle_ttl_s: float = 300.0
    env: Mapping[str, str] = field(default_factory=dict)
    host_path: str | None = None  # PATH for sandboxes; None: the host's PATH
    layers: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if self.memory_mb not in LAMBDA.memory_mb:
            raise ConfigurationError(
                f"memory must be {LAMBDA.memory_mb} on {LAMBDA.name}, got {self.memory_mb}"
            )
        # Fractions of a second are fine locally (tests time out fast).
        if not 0 < self.timeout_s <= LAMBDA.timeout_s.high:
            raise ConfigurationError(
                f"timeout must be over 0 and at most {LAMBDA.timeout_s.high} s, "
                f"got {self.timeout_s}"
            )
        if self.init_timeout_s <= 0:
            raise ConfigurationError(f"init timeout must be over 0 s, got {self.init_timeout_s}")
        if self.max_concurrency < 1:
            raise ConfigurationError(
                f"max concurrency must be at least 1, got {self.max_concurrency}"
            )
        if self.queue_wait_s < 0 or self.idle_ttl_s < 0:
            raise ConfigurationError("queue wait and idle TTL must be 0 s or more")
        if not _FUNCTION_NAME.match(self.function_name):
            raise ConfigurationError(
                f"function name must be 1-64 letters, digits, - or _, got {self.function_name!r}"
            )
        if "." not in self.handler:
            raise ConfigurationError(
                f"handler must look like module.function, got {self.handler!r}"
            )
        for key in self.env:
            if not _ENV_KEY.match(key):
                raise ConfigurationError(f"bad environment variable name {key!r}")
            if key in RESERVED_ENV:
                raise ConfigurationError(f"{key} is reserved by Lambda and cannot be set")
        if len(self.layers) > MAX_LAYERS:
            raise ConfigurationError(
                f"Lambda allows at most {MAX_LAYERS} layers per function, got {len(self.layers)}"
            )
        # Read-only copies, so the frozen object cannot change under a running emulator.
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))
        object.__setattr__(self, "layers", tuple(self.layers))

    @property
    def function_arn(self) -> str:
        """The unqualified ARN sandboxes are told they were invoked as."""
        return f"arn:aws:lambda:{self.region}:000000000000:function:{self.function_name}"

    def with_changes(self, **changes: Any) -> EmulatorConfig:
        """A copy with some fields replaced."""
        return replace(self, **changes)


def parse_env_pairs(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Turn ``KEY=VALUE`` strings (from repeated ``--env``) into a dict."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"--env takes KEY=VALUE, got {pair!r}")
        env[key] = value
    return env
