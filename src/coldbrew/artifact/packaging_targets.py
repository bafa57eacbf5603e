"""What an artifact looks like on each platform coldbrew builds for (data, pure).

``aws-lambda``
    A task root zip (or layer / image layouts): ``lambda_function.py`` at its
    root, run by Lambda's runtime client, which the artifact does not ship.
``gcf``
    Google Cloud Functions (2nd gen): the source archive the Python buildpack
    deploys. ``main.py`` at its root, beside the coldbrew runtime, the model
    and the slimmed dependency tree, and a ``requirements.txt`` naming only
    functions-framework, which the buildpack installs outside the source (the
    framework appends the source directory to ``sys.path``).

The Python versions and architectures each platform accepts come from
:mod:`coldbrew.deployment` (the one place a target's limits are written).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from coldbrew.artifact.bytecode import LAMBDA_TASK_ROOT
from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.deployment.gcf import CLOUD_FUNCTIONS
from coldbrew.deployment.limits import TargetLimits
from coldbrew.emulate.gcf_runtime import FUNCTIONS_FRAMEWORK_VERSION
from coldbrew.errors import ConfigurationError

#: The HTTP function in handlers/gcp/main.py (``--entry-point`` at deploy).
GCF_FUNCTION_TARGET = "handle"


@dataclass(frozen=True)
class PackagingTarget:
    """One platform's artifact: entry point, rules, layouts, where the code lives."""

    name: str
    limits: TargetLimits
    #: The entry point in the project; shipped at the artifact's root under its own name.
    entry_point: Path
    #: The default rules file, under the project's ``packaging/``.
    rules_file: str
    #: Where the artifact's root lives on the platform (recorded in bytecode).
    code_root: str
    #: Layouts ``--layout`` may ask for; ``auto`` included when several exist.
    layouts: tuple[str, ...]
    #: Prefix of the artifact's name, before the target's slug ("" for Lambda).
    name_prefix: str = ""
    #: Files written at the artifact's root: name -> content.
    extra_files: Mapping[str, str] = field(default_factory=dict)

    @property
    def entry_name(self) -> str:
        """The entry point's name at the artifact's root (``main.py``)."""
        return self.entry_point.name

    def check(self, python: str, arch: str, layout: str = "auto") -> None:
        """Refuse a Python, architecture or layout this platform does not take, in one line."""
        allowed = {
            "python": (python, self.limits.pythons),
            "arch": (arch, self.limits.arches),
            "layout": (layout, self.layouts),
        }
        for what, (value, values) in allowed.items():
            if value not in values:
                raise ConfigurationError(
                    f"--{what} {value!r} is not one {self.limits.name} takes with --platform "
                    f"{self.name}: use one of {', '.join(values)}"
                )


AWS_LAMBDA = PackagingTarget(
    name="aws-lambda",
    limits=LAMBDA,
    entry_point=Path("handlers/aws/lambda_function.py"),
    rules_file="aws-lambda.toml",
    code_root=LAMBDA_TASK_ROOT,
    layouts=("auto", "zip", "layer", "image"),
)

GCF = PackagingTarget(
    name="gcf",
    limits=CLOUD_FUNCTIONS,
    entry_point=Path("handlers/gcp/main.py"),
    rules_file="gcf.toml",
    # The buildpack builds from the source unpacked in /workspace.
    code_root="/workspace",
    layouts=("auto", "zip"),
    name_prefix="gcf-",
    # The release the build verifies with and `coldbrew serve --platform gcf` runs.
    extra_files={"requirements.txt": f"functions-framework=={FUNCTIONS_FRAMEWORK_VERSION}\n"},
)

PACKAGING_TARGETS = {target.name: target for target in (AWS_LAMBDA, GCF)}
PLATFORM_NAMES = tuple(PACKAGING_TARGETS)


def packaging_target(name: str) -> PackagingTarget:
    """The platform called ``name``, or a one-line error naming the ones there are."""
    try:
        return PACKAGING_TARGETS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown platform {name!r}; use one of {', '.join(PLATFORM_NAMES)}"
        ) from None
