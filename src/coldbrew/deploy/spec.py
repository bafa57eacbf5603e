"""What to deploy: a validated :class:`DeploySpec` and the function settings it implies.

::

    spec = DeploySpec(artifact="dist/x.zip", sha256="2e87...", function_name="embed",
                      role_arn="arn:aws:iam::1:role/r", bucket="my-artifacts")
    spec.key            # "coldbrew/artifacts/2e87....zip": content-addressed in S3
    spec.settings       # the FunctionSettings the function should have

A spec refuses, on creation, anything Lambda or S3 would refuse later, so a
bad deploy fails before any call. Lambda's limits and rules (memory, timeout,
reserved environment variables, a schedule tuned for another function, alias
or memory size) are checked by the one
:class:`~coldbrew.deployment.description.Deployment` the spec describes, the
same check ``cdk synth`` makes; the spec adds only S3's and IAM's. Pure:
nothing AWS is imported.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal, cast

from coldbrew.capacity.schedule import Schedule
from coldbrew.deployment import aws_lambda
from coldbrew.deployment.description import Deployment, DeploymentError

UrlAuth = Literal["AWS_IAM", "NONE"]
URL_AUTHS: tuple[UrlAuth, ...] = cast("tuple[UrlAuth, ...]", aws_lambda.URL_AUTHS)
KEY_PREFIX = "coldbrew/artifacts/"

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: What ``coldbrew deploy`` calls each field of the description, for its refusals.
CLI_SETTING_NAMES = {
    "function_name": "--function-name",
    "python": "the build report's python",
    "arch": "the build report's arch",
    "memory_mb": "--memory",
    "timeout_s": "--timeout",
    "env": "--env",
    "alias": "--alias",
    "auth": "--url-auth",
    "schedule": "--schedule",
    "provisioned": "--provisioned",
    "reserved_concurrency": "--reserved-concurrency",
}


def code_sha256(hex_digest: str) -> str:
    """Lambda's ``CodeSha256`` (base64 of the digest) for a hex sha256."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


@dataclass(frozen=True)
class FunctionSettings:
    """The function configuration coldbrew sets, as compared between deploys."""

    runtime: str
    role: str
    handler: str
    memory_mb: int
    timeout_s: int
    env: tuple[tuple[str, str], ...]
    arch: str
    description: str = ""

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any]) -> FunctionSettings:
        """From a ``get_function_configuration`` response (or ``get_function``'s Configuration)."""
        variables = (configuration.get("Environment") or {}).get("Variables") or {}
        arches = configuration.get("Architectures") or ["x86_64"]
        return cls(
            runtime=str(configuration.get("Runtime", "")),
            role=str(configuration.get("Role", "")),
            handler=str(configuration.get("Handler", "")),
            memory_mb=int(configuration.get("MemorySize", 128)),
            timeout_s=int(configuration.get("Timeout", 3)),
            env=tuple(sorted((str(k), str(v)) for k, v in variables.items())),
            arch=str(arches[0]),
            description=str(configuration.get("Description") or ""),
        )

    def differences(self, other: FunctionSettings, *, ignore: tuple[str, ...] = ()) -> list[str]:
        """``name: theirs -> ours`` for each differing field (environment values not shown)."""
        out = []
        for f in fields(self):
            if f.name in ignore:
                continue
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if mine != theirs:
                if f.name == "env":
                    out.append(f"env: {sorted(dict(theirs))} -> {sorted(dict(mine))}")
                else:
                    out.append(f"{f.name}: {theirs} -> {mine}")
        return out

    def configuration_params(self) -> dict[str, Any]:
        """The ``update_function_configuration`` keyword arguments (the architecture excluded:
        Lambda changes it with the code)."""
        return {
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "MemorySize": self.memory_mb,
            "Timeout": self.timeout_s,
            "Environment": {"Variables": dict(self.env)},
            "Description": self.description,
        }


@dataclass(frozen=True)
class DeploySpec:
    """What to deploy: one built zip as one function, alias and URL. Validated on creation."""

    artifact: str
    sha256: str
    function_name: str
    role_arn: str
    bucket: str
    region: str = "us-east-1"
    runtime: str = "python3.12"
    arch: str = "x86_64"
    handler: str = "lambda_function.handler"
    memory_mb: int = 1024
    timeout_s: int = 30
    env: Mapping[str, str] = field(default_factory=dict)
    alias: str = "live"
    url_auth: UrlAuth = "AWS_IAM"
    description: str = ""
    schedule: Schedule | None = None
    provisioned_concurrency: int | None = None
    #: The function's reserved concurrency (None: leave what the function has). A public
    #: URL (``url_auth="NONE"``) requires it: it is what bounds the URL's spend.
    reserved_concurrency: int | None = None
    #: Create the bucket when it is missing (``--local``); otherwise a missing bucket is an error.
    create_bucket: bool = False
    #: The validated description (set on creation).
    deployment: Deployment = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = []
        if not _SHA256.match(self.sha256):
            problems.append(f"sha256 must be 64 lowercase hex digits, got {self.sha256!r}")
        if not _BUCKET.match(self.bucket):
            problems.append(f"bucket must be a valid S3 bucket name, got {self.bucket!r}")
        if not self.role_arn.startswith("arn:"):
            problems.append(f"role must be an IAM role ARN, got {self.role_arn!r}")
        if not self.runtime.startswith("python3."):
            problems.append(f"runtime must be a Lambda Python runtime, got {self.runtime!r}")
        if "." not in self.handler:
            problems.append(f"handler must look like module.function, got {self.handler!r}")
        try:
            deployment = self.describe()
        except DeploymentError as exc:
            problems.extend(exc.problems)
        if problems:
            raise DeploymentError(problems)
        object.__setattr__(self, "deployment", deployment)
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))

    def describe(self) -> Deployment:
        """This deploy as the one deployment description; raises :class:`DeploymentError`."""
        return Deployment(
            target="aws-lambda",
            artifact=self.artifact,
            python=self.runtime.removeprefix("python"),
            arch=self.arch,
            memory_mb=self.memory_mb,
            timeout_s=self.timeout_s,
            function_name=self.function_name,
            cold_start="provisioned"
            if self.schedule is not None or self.provisioned_concurrency is not None
            else "none",
            provisioned=self.provisioned_concurrency,
            schedule=self.schedule,
            alias=self.alias,
            auth=self.url_auth,
            env=self.env,
            reserved_concurrency=self.reserved_concurrency,
            setting_names=CLI_SETTING_NAMES,
        )

    @property
    def key(self) -> str:
        """The S3 key: content-addressed, so the same bytes are uploaded once."""
        return f"{KEY_PREFIX}{self.sha256}.zip"

    @property
    def code_sha256(self) -> str:
        """The ``CodeSha256`` Lambda reports for this artifact."""
        return code_sha256(self.sha256)

    @property
    def settings(self) -> FunctionSettings:
        """The configuration the function should have, from the validated description."""
        d = self.deployment
        return FunctionSettings(
            runtime=f"python{d.python}",
            role=self.role_arn,
            handler=self.handler,
            memory_mb=d.memory_mb,
            timeout_s=d.timeout_s,
            env=tuple(sorted(d.env.items())),
            arch=d.arch,
            description=self.description,
        )
