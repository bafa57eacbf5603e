"""Deployment settings: read once from CDK context, validated, then frozen.

Every value the infrastructure needs comes from a ``coldbrew:``-prefixed CDK
context key (``cdk.json`` or ``cdk synth -c coldbrew:memory=2048``). This
module turns that context into a :class:`DeploymentSettings`; nothing else in
``infra`` reads context. It deliberately imports nothing from ``aws_cdk`` so it
can be tested without starting Node.

The target Python and architecture belong to the artifact, not to the
deployment: a zip built for arm64 cannot run on x86_64. So they default to what
the build report next to the zip says (when the report's sha256 is that of the
zip), and an explicit context value that contradicts the report is an error
rather than a silent override.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from coldbrew.build.archive import sha256_file
from coldbrew.build.report import report_path
from coldbrew.errors import ConfigurationError

PREFIX = "coldbrew:"

ARTIFACT = f"{PREFIX}artifact"
ARCH = f"{PREFIX}arch"
PYTHON = f"{PREFIX}python"
MEMORY = f"{PREFIX}memory"
TIMEOUT = f"{PREFIX}timeout"
AUTH = f"{PREFIX}auth"
FUNCTION_NAME = f"{PREFIX}function_name"
STACK_NAME = f"{PREFIX}stack_name"
LOG_RETENTION_DAYS = f"{PREFIX}log_retention_days"

#: Every context key this module reads; any other ``coldbrew:`` key is a typo.
CONTEXT_KEYS = (
    ARTIFACT,
    ARCH,
    PYTHON,
    MEMORY,
    TIMEOUT,
    AUTH,
    FUNCTION_NAME,
    STACK_NAME,
    LOG_RETENTION_DAYS,
)

Arch = Literal["arm64", "x86_64"]
PythonVersion = Literal["3.12", "3.13"]
UrlAuth = Literal["AWS_IAM", "NONE"]

ARCHES: tuple[Arch, ...] = ("arm64", "x86_64")
PYTHONS: tuple[PythonVersion, ...] = ("3.12", "3.13")
URL_AUTHS: tuple[UrlAuth, ...] = ("AWS_IAM", "NONE")
#: The retention periods CloudWatch Logs accepts (PutRetentionPolicy).
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

MEMORY_RANGE = (128, 10_240)  # Lambda's limits, in MB
TIMEOUT_RANGE = (1, 900)  # Lambda's limits, in seconds

DEFAULT_ARTIFACT = "dist/minilm-l6-v2-py312-x86_64.zip"
DEFAULT_ARCH: Arch = "x86_64"
DEFAULT_PYTHON: PythonVersion = "3.12"
DEFAULT_MEMORY_MB = 1024
DEFAULT_TIMEOUT_S = 30
DEFAULT_AUTH: UrlAuth = "AWS_IAM"
DEFAULT_STACK_NAME = "coldbrew-minilm"
DEFAULT_LOG_RETENTION_DAYS = 14

# Lambda: letters, digits, hyphens and underscores, at most 64 (name only, not an ARN).
_FUNCTION_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# CloudFormation: starts with a letter, then letters, digits and hyphens, at most 128.
_STACK_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")


@dataclass(frozen=True)
class DeploymentSettings:
    """Everything the stack needs, validated.

    Build it with :meth:`from_context`; the constructor itself trusts its
    arguments.
    """

    artifact: Path
    """Absolute path to the zip built by ``coldbrew build``."""
    arch: Arch
    python: PythonVersion
    memory_mb: int
    timeout_s: int
    auth: UrlAuth
    """Function URL auth type. ``NONE`` makes the URL public."""
    function_name: str | None
    """Physical function name; ``None`` lets CloudFormation generate one."""
    stack_name: str
    log_retention_days: int

    @classmethod
    def from_context(
        cls, context: Mapping[str, object], *, cwd: Path | None = None
    ) -> DeploymentSettings:
        """Validate the ``coldbrew:`` keys of ``context`` and build the settings.

        ``context`` is the whole CDK context (``app.node.get_all_context()``);
        keys without the ``coldbrew:`` prefix are ignored. ``None`` and the
        empty string mean "not given", so a script can pass
        ``-c coldbrew:arch=$ARCH`` with ``ARCH`` unset. A relative artifact path
        is resolved against ``cwd`` (default: the working directory, which the
        CDK CLI sets to the folder holding ``cdk.json``).

        Raises :class:`~coldbrew.errors.ConfigurationError` listing every bad
        key at once, each with the values it accepts.
        """
        given = {k: v for k, v in context.items() if v is not None and v != ""}
        errors: list[str] = []

        unknown = sorted(k for k in given if k.startswith(PREFIX) and k not in CONTEXT_KEYS)
        errors.extend(
            f"{key} is not a coldbrew context key; known keys: {', '.join(CONTEXT_KEYS)}"
            for key in unknown
        )

        artifact = _artifact(given.get(ARTIFACT, DEFAULT_ARTIFACT), cwd or Path.cwd(), errors)
        report = _Report.read(artifact, errors) if artifact is not None else _Report(None, {})
        arch = report.reconcile(given, ARCH, ARCHES, DEFAULT_ARCH, errors)
        python = report.reconcile(given, PYTHON, PYTHONS, DEFAULT_PYTHON, errors)
        memory = _int_in_range(given, MEMORY, MEMORY_RANGE, DEFAULT_MEMORY_MB, errors)
        timeout = _int_in_range(given, TIMEOUT, TIMEOUT_RANGE, DEFAULT_TIMEOUT_S, errors)
        auth = _choice(given.get(AUTH, DEFAULT_AUTH), AUTH, URL_AUTHS, errors)
        retention = _int_choice(
            given, LOG_RETENTION_DAYS, RETENTION_DAYS, DEFAULT_LOG_RETENTION_DAYS, errors
        )
        function_name = given.get(FUNCTION_NAME)
        if function_name is not None and not _matches(_FUNCTION_NAME_RE, function_name):
            errors.append(
                f"{FUNCTION_NAME} must be 1-64 letters, digits, hyphens or underscores, "
                f"got {function_name!r}"
            )
        stack_name = given.get(STACK_NAME, DEFAULT_STACK_NAME)
        if not _matches(_STACK_NAME_RE, stack_name):
            errors.append(
                f"{STACK_NAME} must start with a letter and hold only letters, digits and "
                f"hyphens (at most 128), got {stack_name!r}"
            )

        if errors:
            if len(errors) == 1:
                raise ConfigurationError(errors[0])
            raise ConfigurationError(
                "invalid deployment settings:\n" + "\n".join(f"  - {e}" for e in errors)
            )
        # Every helper appended an error whenever it returned a placeholder, so
        # reaching here means each value is the validated one.
        assert artifact is not None
        return cls(
            artifact=artifact,
            arch=cast(Arch, arch),
            python=cast(PythonVersion, python),
            memory_mb=memory,
            timeout_s=timeout,
            auth=cast(UrlAuth, auth),
            function_name=cast("str | None", function_name),
            stack_name=cast(str, stack_name),
            log_retention_days=retention,
        )


def _matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _artifact(raw: object, cwd: Path, errors: list[str]) -> Path | None:
    if not isinstance(raw, str):
        errors.append(f"{ARTIFACT} must be a path to a zip file, got {raw!r}")
        return None
    path = Path(raw).expanduser()
    path = (path if path.is_absolute() else cwd / path).resolve()
    if not path.is_file():
        # infra never builds: synth must stay fast and offline, and deploy the
        # exact bytes that were built, measured and reported.
        errors.append(
            f"{ARTIFACT}: no artifact at {path}; build it first with `coldbrew build`, "
            f"or point {ARTIFACT} at an existing zip"
        )
        return None
    if path.suffix != ".zip":
        errors.append(f"{ARTIFACT} must be a .zip file built by `coldbrew build`, got {path}")
        return None
    return path


@dataclass(frozen=True)
class _Report:
    """The build report ``coldbrew build`` wrote next to the artifact, if there is one."""

    path: Path | None
    content: Mapping[str, object]

    @classmethod
    def read(cls, artifact: Path, errors: list[str]) -> _Report:
        path = report_path(artifact)
        if not path.is_file():
            return cls(None, {})
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            errors.append(
                f"build report {path} is unreadable ({exc}); rebuild with `coldbrew build`"
            )
            return cls(None, {})
        if not isinstance(content, dict):
            errors.append(
                f"build report {path} must hold a JSON object; rebuild with `coldbrew build`"
            )
            return cls(None, {})
        # A report left over from another build would lie about the zip's
        # Python and architecture, so it must describe these very bytes.
        recorded = content.get("sha256")
        actual = sha256_file(artifact) if recorded is not None else None
        if recorded != actual:
            errors.append(
                f"build report {path} describes a different zip (sha256 {str(recorded)[:12]}, "
                f"the artifact's is {str(actual)[:12]}); rebuild with `coldbrew build`"
            )
            return cls(None, {})
        return cls(path, content)

    def reconcile(
        self,
        given: Mapping[str, object],
        key: str,
        allowed: tuple[str, ...],
        default: str,
        errors: list[str],
    ) -> str:
        """A value describing the artifact: the context's, else the report's, else default."""
        field = key.removeprefix(PREFIX)
        from_report: str | None = None
        if self.content.get(field) is not None:
            raw = _text(self.content[field])
            if not isinstance(raw, str) or raw not in allowed:
                errors.append(
                    f"build report {self.path}: {field} must be one of {', '.join(allowed)}, "
                    f"got {raw!r}"
                )
                return default
            from_report = raw
        if key not in given:
            return from_report or default
        value = _choice(given[key], key, allowed, errors)
        if from_report is not None and value in allowed and value != from_report:
            errors.append(
                f"{key} is {value!r} but the build report {self.path} says the artifact was "
                f"built for {from_report!r}; drop {key} or rebuild with `coldbrew build`"
            )
        return value


def _text(raw: object) -> object:
    # JSON numbers in cdk.json (`"coldbrew:python": 3.12`) arrive as floats.
    return str(raw) if isinstance(raw, float) else raw


def _choice(raw: object, key: str, allowed: tuple[str, ...], errors: list[str]) -> str:
    text = _text(raw)
    if not isinstance(text, str) or text not in allowed:
        errors.append(f"{key} must be one of {', '.join(allowed)}, got {text!r}")
        return allowed[0]
    return text


def _parse_int(raw: object) -> int | None:
    # bool is an int subclass: `true` in cdk.json must not mean 1 MB.
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*[0-9]+\s*", raw):
        return int(raw)  # -c values always arrive as text
    return None


def _int_in_range(
    given: Mapping[str, object],
    key: str,
    bounds: tuple[int, int],
    default: int,
    errors: list[str],
) -> int:
    raw = given.get(key, default)
    value = _parse_int(raw)
    low, high = bounds
    if value is None or not low <= value <= high:
        errors.append(f"{key} must be a whole number from {low} to {high}, got {raw!r}")
        return default
    return value


def _int_choice(
    given: Mapping[str, object],
    key: str,
    allowed: tuple[int, ...],
    default: int,
    errors: list[str],
) -> int:
    raw = given.get(key, default)
    value = _parse_int(raw)
    if value not in allowed:
        errors.append(f"{key} must be one of {', '.join(map(str, allowed))} (days), got {raw!r}")
        return default
    assert value is not None
    return value
