"""One description of a deployed model, validated once against its target's limits.

::

    Deployment(target="aws-lambda", function_name="embed", artifact="dist/x.zip",
               python="3.12", arch="x86_64", memory_mb=2048, timeout_s=30)

Every path that describes a deployment builds one: ``coldbrew deploy``
(:mod:`coldbrew.deploy.spec`) from its flags, the CDK app (``infra/settings.py``)
from ``cdk.json`` context. Its constructor checks every field against the
target's :class:`~coldbrew.deployment.limits.TargetLimits` and every rule across
fields, and raises one :class:`DeploymentError` listing all problems, each
naming the values allowed. So both paths refuse the same setting the same way.

``setting_names`` maps a field to what the user called it (``--memory`` on the
command line, ``coldbrew:memory`` in context) so that each refusal names the
setting the user can change; it takes no part in equality.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from coldbrew.deployment import aws_lambda, gcf
from coldbrew.deployment.limits import IntRange, TargetLimits
from coldbrew.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from coldbrew.capacity.schedule_types import Schedule

    _Within = Callable[[str, int | None, IntRange], None]

Target = Literal["aws-lambda", "gcf"]
ColdStart = Literal["none", "snapstart", "provisioned", "min-instances"]
Layout = Literal["zip", "layer", "image"]

#: Each target's limits table.
TARGET_LIMITS: Mapping[str, TargetLimits] = MappingProxyType(
    {"aws-lambda": aws_lambda.LAMBDA, "gcf": gcf.CLOUD_FUNCTIONS}
)
#: The cold-start policies each target offers.
COLD_STARTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"aws-lambda": ("none", "snapstart", "provisioned"), "gcf": ("none", "min-instances")}
)
_AUTHS = {"aws-lambda": aws_lambda.URL_AUTHS, "gcf": gcf.INVOKER_AUTHS}
_INGRESSES = {"aws-lambda": aws_lambda.INGRESSES, "gcf": gcf.INGRESSES}
_NAMES = {
    "aws-lambda": (
        aws_lambda.FUNCTION_NAME_PATTERN,
        "1-64 letters, digits, hyphens or underscores",
    ),
    "gcf": (
        gcf.FUNCTION_NAME_PATTERN,
        "1-63 lowercase letters, digits or hyphens, starting with a letter, not ending with -",
    ),
}
_ALIAS = re.compile(r"(?![0-9]+$)[A-Za-z0-9_-]{1,128}")
_ENV_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class DeploymentError(ConfigurationError):
    """A deployment description broke its target's limits or rules: every problem, listed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(format_problems(problems))
        self.problems = tuple(problems)


def format_problems(problems: list[str]) -> str:
    """One problem as itself; several as an indented list (both paths print this)."""
    if len(problems) == 1:
        return problems[0]
    return "invalid deployment settings:\n" + "\n".join(f"  - {p}" for p in problems)


@dataclass(frozen=True)
class Deployment:
    """A deployed model, as every path describes it. Validated on creation.

    Target-specific fields are ``None`` (or their default) on the other target:
    ``ephemeral_storage_mb``, ``reserved_concurrency``, ``provisioned`` and
    ``alias`` are Lambda's; ``cpu``, ``min_instances``, ``max_instances`` and
    ``instance_concurrency`` Cloud Functions'.
    """

    target: Target
    artifact: str
    python: str
    arch: str
    memory_mb: int
    timeout_s: int
    function_name: str | None = None
    """``None``: the deployer names it (CloudFormation generates one)."""
    layout: Layout = "zip"
    cpu: float | None = None
    ephemeral_storage_mb: int | None = None
    reserved_concurrency: int | None = None
    min_instances: int | None = None
    max_instances: int | None = None
    instance_concurrency: int | None = None
    cold_start: ColdStart = "none"
    provisioned: int | None = None
    """A fixed provisioned-concurrency level (``cold_start="provisioned"`` without a schedule)."""
    schedule: Schedule | None = None
    alias: str | None = None
    auth: str = "AWS_IAM"
    ingress: str = "ALLOW_ALL"
    env: Mapping[str, str] = field(default_factory=dict)
    public_needs_reservation: bool = True
    """Refuse a public Lambda URL without reserved concurrency (what bounds its spend).
    False only where the caller has already reported a refused reservation (the CDK
    settings, so the one problem is not reported twice)."""
    setting_names: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))
        object.__setattr__(self, "setting_names", MappingProxyType(dict(self.setting_names)))
        problems = deployment_problems(self)
        if problems:
            raise DeploymentError(problems)

    @property
    def limits(self) -> TargetLimits:
        """The target's limits table."""
        return TARGET_LIMITS[self.target]

    def name_of(self, field_name: str) -> str:
        """What the user calls ``field_name`` on the path this description came from."""
        return self.setting_names.get(field_name, field_name)


def deployment_problems(d: Deployment) -> list[str]:
    """Every way ``d`` breaks its target's limits or rules; empty when it is deployable."""
    if d.target not in TARGET_LIMITS:
        return [
            f"{d.name_of('target')} must be one of {', '.join(TARGET_LIMITS)}, got {d.target!r}"
        ]
    limits, n = d.limits, d.name_of
    problems: list[str] = []

    def within(name: str, value: int | None, allowed: IntRange) -> None:
        if value is not None and value not in allowed:
            problems.append(f"{n(name)} must be {allowed} on {limits.name}, got {value}")

    def one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
        if value not in allowed:
            problems.append(
                f"{n(name)} must be one of {', '.join(allowed)} on {limits.name}, got {value!r}"
            )

    pattern, described = _NAMES[d.target]
    if d.function_name is not None and not re.fullmatch(pattern, d.function_name):
        problems.append(
            f"{n('function_name')} must be {described} on {limits.name}, got {d.function_name!r}"
        )
    one_of("python", d.python, limits.pythons)
    one_of("arch", d.arch, limits.arches)
    within("memory_mb", d.memory_mb, limits.memory_mb)
    within("timeout_s", d.timeout_s, limits.timeout_s)
    one_of("cold_start", d.cold_start, COLD_STARTS[d.target])
    one_of("auth", d.auth, _AUTHS[d.target])
    one_of("ingress", d.ingress, _INGRESSES[d.target])
    for key in d.env:
        if not _ENV_KEY.fullmatch(key):
            problems.append(
                f"{n('env')}: bad environment variable name {key!r} (letters, digits and _, "
                "starting with a letter)"
            )
        elif key in limits.reserved_env:
            problems.append(f"{n('env')}: {key} is reserved by {limits.name} and cannot be set")
    if d.target == "aws-lambda":
        problems += _lambda_problems(d, within)
    else:
        problems += _gcf_problems(d, within)
    if d.schedule is not None:
        problems += _schedule_problems(d)
    return problems


def _not_on(d: Deployment, names: tuple[str, ...]) -> list[str]:
    """A field of the other target, set: it would be silently ignored."""
    return [
        f"{d.name_of(name)} does not apply on {d.limits.name}; drop it"
        for name in names
        if getattr(d, name) is not None
    ]


def _lambda_problems(d: Deployment, within: _Within) -> list[str]:
    n = d.name_of
    problems = _not_on(d, ("cpu", "min_instances", "max_instances", "instance_concurrency"))
    within("ephemeral_storage_mb", d.ephemeral_storage_mb, aws_lambda.EPHEMERAL_STORAGE_MB)
    if d.reserved_concurrency is not None and d.reserved_concurrency < 1:
        # 0 would throttle every request (Lambda's kill switch).
        problems.append(
            f"{n('reserved_concurrency')} must be at least 1, got {d.reserved_concurrency}"
        )
    if d.alias is not None and not _ALIAS.fullmatch(d.alias):
        problems.append(
            f"{n('alias')} must be letters, digits, - or _ (not all digits): {d.alias!r}"
        )
    if d.auth == "NONE" and d.reserved_concurrency is None and d.public_needs_reservation:
        # The monthly budget only alerts: without a reservation, anyone on the
        # internet can scale a public URL to the account's whole quota.
        problems.append(
            f"{n('reserved_concurrency')} is required with {n('auth')}=NONE: it is what bounds "
            "a public URL's spend (the budget only alerts); set it to the most requests at once "
            f"you will pay for, or use {n('auth')}=AWS_IAM"
        )
    if d.provisioned is not None and d.provisioned < 0:
        problems.append(f"{n('provisioned')} must be 0 or more, got {d.provisioned}")
    if d.provisioned is not None and d.schedule is not None:
        problems.append(
            f"give {n('schedule')} or {n('provisioned')}, not both "
            "(the schedule's actions would overwrite the level)"
        )
    if d.cold_start == "snapstart":
        problems += snapstart_problems(d)
    return problems


def snapstart_problems(d: Deployment) -> list[str]:
    """Why SnapStart cannot run ``d`` (Lambda developer guide, SnapStart limitations)."""
    n, cold_start = d.name_of, d.name_of("cold_start")
    problems = []
    if d.provisioned is not None or d.schedule is not None:
        problems.append(
            f"{cold_start} snapstart cannot be combined with provisioned concurrency (AWS "
            f"refuses both on one function); drop it or set {cold_start}=provisioned"
        )
    if d.layout not in aws_lambda.SNAPSTART_LAYOUTS:
        problems.append(
            f"{cold_start} snapstart does not support container images (the artifact's layout "
            f"is {d.layout}); use provisioned or none, or build a zip with "
            "`coldbrew build --layout zip|layer`"
        )
    if d.python not in aws_lambda.SNAPSTART_PYTHONS:
        problems.append(
            f"{cold_start} snapstart needs a Python runtime of 3.12 or later "
            f"({', '.join(aws_lambda.SNAPSTART_PYTHONS)}), the artifact is for {d.python}"
        )
    storage = d.ephemeral_storage_mb or aws_lambda.EPHEMERAL_STORAGE_MB.low
    if storage > aws_lambda.SNAPSTART_MAX_EPHEMERAL_MB:
        problems.append(
            f"{cold_start} snapstart supports at most {aws_lambda.SNAPSTART_MAX_EPHEMERAL_MB} MB "
            f"of ephemeral storage, {n('ephemeral_storage_mb')} is {storage}; lower it "
            "or use provisioned"
        )
    return problems


def _gcf_problems(d: Deployment, within: _Within) -> list[str]:
    n = d.name_of
    problems = _not_on(d, ("ephemeral_storage_mb", "reserved_concurrency", "provisioned", "alias"))
    low_cpu, high_cpu = gcf.CPU_RANGE
    if d.cpu is not None and not low_cpu <= d.cpu <= high_cpu:
        problems.append(
            f"{n('cpu')} must be {low_cpu:g}-{high_cpu:g} vCPUs on {d.limits.name}, got {d.cpu:g}"
        )
    within("min_instances", d.min_instances, IntRange(0, gcf.MAX_INSTANCES.high, "instances"))
    within("max_instances", d.max_instances, gcf.MAX_INSTANCES)
    within("instance_concurrency", d.instance_concurrency, gcf.INSTANCE_CONCURRENCY)
    if (
        d.min_instances is not None
        and d.max_instances is not None
        and d.min_instances > d.max_instances
    ):
        problems.append(
            f"{n('min_instances')} ({d.min_instances}) must not exceed "
            f"{n('max_instances')} ({d.max_instances})"
        )
    concurrency = d.instance_concurrency or 1
    if concurrency > 1 and (d.cpu or 0) < gcf.CONCURRENT_MIN_CPU:
        problems.append(
            f"{n('instance_concurrency')} {concurrency} needs {n('cpu')} of at least "
            f"{gcf.CONCURRENT_MIN_CPU:g} on {d.limits.name} (got {d.cpu}); raise {n('cpu')} or "
            f"set {n('instance_concurrency')} to 1"
        )
    if d.cold_start == "min-instances" and not (d.min_instances or d.schedule):
        problems.append(
            f"{n('cold_start')} min-instances needs {n('min_instances')} of at least 1 or "
            f"{n('schedule')} (a schedule file written by `coldbrew tune`)"
        )
    return problems


def _schedule_problems(d: Deployment) -> list[str]:
    """A ``coldbrew tune`` schedule fits only the function, alias and memory it was tuned for."""
    assert d.schedule is not None
    schedule, n = d.schedule, d.name_of
    problems = []
    if d.target == "aws-lambda" and d.alias is not None and schedule.alias != d.alias:
        problems.append(
            f"{n('schedule')} scales alias {schedule.alias!r}, but {n('alias')} is {d.alias!r}; "
            f"re-run `coldbrew tune --alias {d.alias}`"
        )
    # Without a name the deployer names the function, and the schedule's name
    # is only the label the trace was tuned under.
    if d.function_name is not None and schedule.function != d.function_name:
        problems.append(
            f"{n('schedule')} was tuned for function {schedule.function!r}, but "
            f"{n('function_name')} is {d.function_name!r}; re-run `coldbrew tune "
            f"--function-name {d.function_name}` or fix {n('function_name')}"
        )
    # The levels come from durations measured at that memory size: another
    # size runs at another speed and needs other levels.
    if schedule.memory_mb != d.memory_mb:
        problems.append(
            f"{n('schedule')} was tuned for {schedule.memory_mb} MB, but {n('memory_mb')} is "
            f"{d.memory_mb}; re-run `coldbrew tune --memory {d.memory_mb}` or set "
            f"{n('memory_mb')}"
        )
    return problems
