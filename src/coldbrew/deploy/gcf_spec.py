"""What to deploy to Cloud Functions (2nd gen): a frozen spec, validated against its limits.

::

    spec = GcfFunctionSpec(project="p", region="europe-west1", name="embed",
                           source_sha256="2e87...", memory_mb=1024, cpu=1.0)
    spec.function_name        # "projects/p/locations/europe-west1/functions/embed"
    desired_fields(spec)      # {"service_config.available_memory": "1024Mi", ...}

The limits come from :mod:`coldbrew.deployment.gcf` and nowhere else. The
one deployment description (:mod:`coldbrew.deployment`) is meant to produce
this spec; until it does, the CLI builds it from its flags.

:func:`desired_fields` keys each setting by its ``update_mask`` path, so the
planner diffs it against what the service reports (normalised the same way by
:mod:`coldbrew.deploy.gcf_client`) and the update mask is the differing keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from coldbrew.deployment import gcf
from coldbrew.errors import ConfigurationError

if TYPE_CHECKING:
    from coldbrew.deployment.description import Deployment

#: The label holding the deployed source's sha256 (label values stop at 63 characters).
SOURCE_LABEL = "coldbrew-source-sha256"
_LABEL_VALUE_CHARS = 63
DEFAULT_CPU = 1.0
DEFAULT_MAX_INSTANCES = 10
_NAME = re.compile(gcf.FUNCTION_NAME_PATTERN)
_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_REGION = re.compile(r"[a-z]+-[a-z]+[0-9]")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class GcfFunctionSpec:
    """A Cloud Functions (2nd gen) HTTP function serving one artifact; checked on creation.

    ``cpu`` is in vCPUs; ``concurrency`` is requests per instance
    (``max_instance_request_concurrency``), which above 1 needs at least 1 vCPU.
    ``allow_unauthenticated`` grants ``roles/run.invoker`` to ``allUsers`` on the
    function's Cloud Run service.
    """

    project: str
    region: str
    name: str
    source_sha256: str
    memory_mb: int = 1024
    cpu: float = DEFAULT_CPU
    timeout_s: int = 60
    concurrency: int = 1
    min_instances: int = 0
    max_instances: int = DEFAULT_MAX_INSTANCES
    ingress: str = "ALLOW_ALL"
    allow_unauthenticated: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    python: str = "3.12"
    entry_point: str = "handle"

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))
        problems = _problems(self)
        if problems:
            raise ConfigurationError("Cloud Functions settings: " + "; ".join(problems))

    @classmethod
    def from_deployment(
        cls,
        deployment: Deployment,
        *,
        project: str,
        region: str,
        source_sha256: str,
        entry_point: str = "handle",
    ) -> GcfFunctionSpec:
        """The spec of a (valid) Cloud Functions :class:`Deployment`, where to put it and what.

        Unset Cloud Functions fields take this spec's defaults; ``auth="NONE"``
        allows unauthenticated invocation.
        """
        if deployment.target != "gcf":
            raise ConfigurationError(
                f"a {deployment.target} deployment cannot be deployed to Cloud Functions"
            )
        if not deployment.function_name:
            raise ConfigurationError("a Cloud Functions deployment needs a function name")
        return cls(
            project=project,
            region=region,
            name=deployment.function_name,
            source_sha256=source_sha256,
            memory_mb=deployment.memory_mb,
            cpu=deployment.cpu if deployment.cpu is not None else DEFAULT_CPU,
            timeout_s=deployment.timeout_s,
            concurrency=deployment.instance_concurrency or 1,
            min_instances=deployment.min_instances or 0,
            max_instances=(
                deployment.max_instances
                if deployment.max_instances is not None
                else DEFAULT_MAX_INSTANCES
            ),
            ingress=deployment.ingress,
            allow_unauthenticated=deployment.auth == "NONE",
            env=deployment.env,
            python=deployment.python,
            entry_point=entry_point,
        )

    @property
    def parent(self) -> str:
        """``projects/P/locations/R``: where the function and its operations live."""
        return f"projects/{self.project}/locations/{self.region}"

    @property
    def function_name(self) -> str:
        """The function's full resource name."""
        return f"{self.parent}/functions/{self.name}"

    @property
    def runtime(self) -> str:
        """The buildpack runtime id, ``python312``."""
        return "python" + self.python.replace(".", "")

    @property
    def environment(self) -> dict[str, str]:
        """The function's variables; ``THREADS`` follows concurrency unless set.

        functions-framework's gunicorn serves one request per worker thread, so
        a concurrency above 1 is idle without as many threads.
        """
        env = dict(self.env)
        if self.concurrency > 1:
            env.setdefault("THREADS", str(self.concurrency))
        return env


def _problems(spec: GcfFunctionSpec) -> list[str]:
    limits = gcf.CLOUD_FUNCTIONS
    problems = []
    if not _PROJECT.fullmatch(spec.project):
        problems.append(f"--project {spec.project!r} is not a project id (6-30 of a-z, 0-9, -)")
    if not _REGION.fullmatch(spec.region):
        problems.append(f"--region {spec.region!r} is not a region (like europe-west1)")
    if not _NAME.fullmatch(spec.name):
        problems.append(
            f"--name {spec.name!r}: lowercase letters, digits and hyphens, starting with a "
            "letter, at most 63"
        )
    if not re.fullmatch(r"[0-9a-f]{64}", spec.source_sha256):
        problems.append("the source sha256 must be 64 hex digits")
    if spec.memory_mb not in limits.memory_mb:
        problems.append(f"--memory {spec.memory_mb} is outside {limits.memory_mb}")
    low_cpu, high_cpu = gcf.CPU_RANGE
    if not low_cpu <= spec.cpu <= high_cpu:
        problems.append(f"--cpu {spec.cpu:g} is outside {low_cpu:g}-{high_cpu:g} vCPUs")
    if spec.timeout_s not in limits.timeout_s:
        problems.append(f"--timeout {spec.timeout_s} is outside {limits.timeout_s}")
    if spec.concurrency not in gcf.INSTANCE_CONCURRENCY:
        problems.append(f"--concurrency {spec.concurrency} is outside {gcf.INSTANCE_CONCURRENCY}")
    elif spec.concurrency > 1 and spec.cpu < gcf.CONCURRENT_MIN_CPU:
        problems.append(
            f"--concurrency {spec.concurrency} needs --cpu >= {gcf.CONCURRENT_MIN_CPU:g}"
        )
    if spec.max_instances not in gcf.MAX_INSTANCES:
        problems.append(f"--max-instances {spec.max_instances} is outside {gcf.MAX_INSTANCES}")
    if not 0 <= spec.min_instances <= spec.max_instances:
        problems.append(
            f"--min-instances {spec.min_instances} must be 0..--max-instances "
            f"({spec.max_instances})"
        )
    if spec.ingress not in gcf.INGRESSES:
        problems.append(f"--ingress {spec.ingress!r} is not one of {', '.join(gcf.INGRESSES)}")
    if spec.python not in limits.pythons:
        problems.append(f"python {spec.python} is not one of {', '.join(limits.pythons)}")
    if not _ENV_NAME.fullmatch(spec.entry_point):
        problems.append(f"entry point {spec.entry_point!r} is not a Python name")
    for key in sorted(spec.env):
        if not _ENV_NAME.fullmatch(key):
            problems.append(f"--env {key!r} is not a variable name")
        elif key in limits.reserved_env:
            problems.append(f"--env {key} is set by the platform; choose another name")
    return problems


def memory_text(memory_mb: int) -> str:
    """``available_memory`` as sent: ``1024Mi``."""
    return f"{memory_mb}Mi"


def cpu_text(cpu: float) -> str:
    """``available_cpu`` as sent: ``1``, ``0.5``."""
    return f"{cpu:g}"


def source_label(sha256: str) -> str:
    """The label value recording a source's sha256 (its first 63 hex digits)."""
    return sha256[:_LABEL_VALUE_CHARS]


def desired_fields(spec: GcfFunctionSpec) -> dict[str, object]:
    """Each setting under its ``update_mask`` path, normalised for comparison."""
    return {
        "build_config.runtime": spec.runtime,
        "build_config.entry_point": spec.entry_point,
        "service_config.available_memory": memory_text(spec.memory_mb),
        "service_config.available_cpu": cpu_text(spec.cpu),
        "service_config.timeout_seconds": spec.timeout_s,
        "service_config.max_instance_request_concurrency": spec.concurrency,
        "service_config.min_instance_count": spec.min_instances,
        "service_config.max_instance_count": spec.max_instances,
        "service_config.ingress_settings": spec.ingress,
        "service_config.environment_variables": dict(sorted(spec.environment.items())),
    }
