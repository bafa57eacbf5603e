"""The platform an artifact is built for: a Python version and a CPU architecture."""

from __future__ import annotations

import platform
from dataclasses import dataclass

from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.deployment.gcf import CLOUD_FUNCTIONS
from coldbrew.errors import ConfigurationError
from coldbrew.interpreters import parse_minor

_LIMITS = (LAMBDA, CLOUD_FUNCTIONS)
#: Every architecture some platform runs (each platform's own list: coldbrew.deployment).
ARCHES = tuple(sorted({arch for limits in _LIMITS for arch in limits.arches}, reverse=True))
#: Every Python some platform runs.
PYTHONS = tuple(
    sorted(
        {python for limits in _LIMITS for python in limits.pythons},
        key=lambda version: tuple(int(part) for part in version.split(".")),
    )
)
_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
# Lambda's python3.12+ runs on Amazon Linux 2023 (glibc 2.34). Many wheels are
# tagged only manylinux_2_28 (onnxruntime for cp312), so list every tag up to it.
_MANYLINUX = ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")


@dataclass(frozen=True)
class Target:
    """A Python runtime on a CPU: ``Target("3.12", "x86_64")``.

    Checked here against every platform's; which of them one platform takes is
    :meth:`coldbrew.artifact.packaging_targets.PackagingTarget.check`'s.
    """

    python: str = "3.12"
    arch: str = "x86_64"

    def __post_init__(self) -> None:
        parse_minor(self.python)
        if self.python not in PYTHONS:
            raise ConfigurationError(
                f"python {self.python} is not a runtime coldbrew targets; "
                f"use one of {', '.join(PYTHONS)}"
            )
        if self.arch not in ARCHES:
            raise ConfigurationError(f"arch must be one of {', '.join(ARCHES)}, got {self.arch!r}")

    @property
    def machine(self) -> str:
        """The ``uname -m`` name of the architecture (``aarch64`` for arm64)."""
        return _MACHINE[self.arch]

    @property
    def abi(self) -> str:
        """``cp312``."""
        return "cp" + self.python.replace(".", "")

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        """The ``--platform`` values that select wheels Lambda can load."""
        return tuple(f"{tag}_{self.machine}" for tag in _MANYLINUX)

    @property
    def slug(self) -> str:
        """``py312-x86_64``: used in artifact names."""
        return f"py{self.python.replace('.', '')}-{self.arch}"

    @property
    def runs_on_host(self) -> bool:
        """Whether this machine can execute the target's native code."""
        return platform.machine() == self.machine
