"""The deploy plan (pure): what to deploy and what is there give the ordered calls.

::

    spec = DeploySpec(artifact="dist/x.zip", sha256="2e87...", function_name="embed",
                      role_arn="arn:aws:iam::1:role/r", bucket="my-artifacts")
    plan = plan_deploy(spec, ObservedState())          # a first deploy
    for call in plan.calls:
        print(call.describe())   # "lambda create_function {...}", one line each

No client is called here and nothing AWS is imported: the state is observed
first (:mod:`coldbrew.deploy.observe`) and the calls made after
(:mod:`coldbrew.deploy.execute`), so a plan can be printed, tested and
refused before anything changes. The calls, in order:

1. ``s3 create_bucket`` when the bucket is missing (only if the spec allows it:
   ``--local``), ``s3 upload_file`` of the zip under a content-addressed key
   ``coldbrew/artifacts/<sha256>.zip`` unless that object already holds it.
   The code always goes through S3: it is the only path for zips over 50 MB.
2. ``lambda create_function`` (from the S3 object, ``Publish=False``), or for
   an existing function ``update_function_code`` only when its CodeSha256 or
   architecture differ, and ``update_function_configuration`` only when a
   setting differs; each followed by a wait until Lambda says the function is
   ready (``wait_until_ready``, not an AWS call: polls
   ``get_function_configuration``).
3. ``publish_version`` (guarded by ``CodeSha256``: Lambda refuses to publish
   other bytes) and ``create_alias``/``update_alias`` onto it, unless the
   alias is already on a version with this code and configuration: an
   unchanged re-deploy publishes nothing.
4. ``create_function_url_config`` / ``update_function_url_config`` on the
   alias; for ``AuthType NONE`` the two public permissions a function URL
   needs (``lambda:InvokeFunctionUrl`` and ``lambda:InvokeFunction`` via the
   URL), removed again when the URL goes back to ``AWS_IAM``.
5. A static provisioned-concurrency level through its port, or a schedule's
   Application Auto Scaling calls, planned by
   :func:`coldbrew.capacity.apply.plan_apply` (not repeated here).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Literal

from coldbrew.capacity.apply import plan_apply
from coldbrew.capacity.schedule import Schedule
from coldbrew.emulate.settings import RESERVED_ENV
from coldbrew.errors import ConfigurationError, DeployError

Service = Literal["s3", "lambda", "application-autoscaling", "provisioned-concurrency"]
UrlAuth = Literal["AWS_IAM", "NONE"]
URL_AUTHS: tuple[UrlAuth, ...] = ("AWS_IAM", "NONE")
ARCHES = ("x86_64", "arm64")
#: The pseudo-operation waiting until Lambda has finished creating or updating the function.
WAIT = "wait_until_ready"
KEY_PREFIX = "coldbrew/artifacts/"
#: Statement ids of the permissions a public (AuthType NONE) URL needs.
URL_PERMISSION_SID = "coldbrew-function-url"
URL_INVOKE_PERMISSION_SID = "coldbrew-function-url-invoke"

_FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ALIAS = re.compile(r"^(?![0-9]+$)[A-Za-z0-9_-]{1,128}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


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
    #: Create the bucket when it is missing (``--local``); otherwise a missing bucket is an error.
    create_bucket: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not _SHA256.match(self.sha256):
            problems.append(f"sha256 must be 64 lowercase hex digits, got {self.sha256!r}")
        if not _FUNCTION.match(self.function_name):
            problems.append(
                f"function name must be 1-64 letters, digits, - or _, got {self.function_name!r}"
            )
        if not _ALIAS.match(self.alias):
            problems.append(
                f"alias must be letters, digits, - or _ (not all digits): {self.alias!r}"
            )
        if not _BUCKET.match(self.bucket):
            problems.append(f"bucket must be a valid S3 bucket name, got {self.bucket!r}")
        if not self.role_arn.startswith("arn:"):
            problems.append(f"role must be an IAM role ARN, got {self.role_arn!r}")
        if self.url_auth not in URL_AUTHS:
            problems.append(f"URL auth must be one of {', '.join(URL_AUTHS)}, got {self.url_auth}")
        if self.arch not in ARCHES:
            problems.append(f"arch must be one of {', '.join(ARCHES)}, got {self.arch!r}")
        if not self.runtime.startswith("python3."):
            problems.append(f"runtime must be a Lambda Python runtime, got {self.runtime!r}")
        if not 128 <= self.memory_mb <= 10_240:
            problems.append(f"memory must be 128 to 10240 MB, got {self.memory_mb}")
        if not 1 <= self.timeout_s <= 900:
            problems.append(f"timeout must be 1 to 900 s, got {self.timeout_s}")
        if "." not in self.handler:
            problems.append(f"handler must look like module.function, got {self.handler!r}")
        for key in self.env:
            if not _ENV_KEY.match(key):
                problems.append(f"bad environment variable name {key!r}")
            elif key in RESERVED_ENV:
                problems.append(f"{key} is reserved by Lambda and cannot be set")
        if self.provisioned_concurrency is not None and self.provisioned_concurrency < 0:
            problems.append(
                f"provisioned concurrency must be 0 or more: {self.provisioned_concurrency}"
            )
        if self.schedule is not None:
            if self.provisioned_concurrency is not None:
                problems.append(
                    "give a schedule or a provisioned-concurrency level, not both "
                    "(the schedule's actions would overwrite the level)"
                )
            wanted = f"function:{self.function_name}:{self.alias}"
            if self.schedule.resource_id != wanted:
                problems.append(
                    f"the schedule is for {self.schedule.resource_id}, this deploy is {wanted}: "
                    f"re-run `coldbrew tune --function-name {self.function_name} "
                    f"--alias {self.alias}`"
                )
        if problems:
            raise ConfigurationError("; ".join(problems))
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))

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
        """The configuration the function should have."""
        return FunctionSettings(
            runtime=self.runtime,
            role=self.role_arn,
            handler=self.handler,
            memory_mb=self.memory_mb,
            timeout_s=self.timeout_s,
            env=tuple(sorted(self.env.items())),
            arch=self.arch,
            description=self.description,
        )


@dataclass(frozen=True)
class FunctionState:
    """``$LATEST`` as Lambda reports it."""

    code_sha256: str
    settings: FunctionSettings
    #: False while Lambda is still creating or updating it (State Pending, update InProgress).
    ready: bool = True


@dataclass(frozen=True)
class AliasState:
    """The alias, and the code and configuration of the version it points at."""

    version: str
    code_sha256: str
    settings: FunctionSettings


@dataclass(frozen=True)
class UrlState:
    """The function URL configured on the alias."""

    url: str
    auth: str


@dataclass(frozen=True)
class ObservedState:
    """What is in the account now. The default is an empty account."""

    bucket_exists: bool = False
    #: The sha256 recorded on the object at the spec's key; None when there is no object.
    object_sha256: str | None = None
    function: FunctionState | None = None
    alias: AliasState | None = None
    url: UrlState | None = None
    #: Statement ids in the alias's resource policy.
    permission_sids: frozenset[str] = frozenset()
    #: Names of the scheduled actions on the alias's scalable target (for a schedule).
    scheduled_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ref:
    """A value only known once an earlier call answered (the version ``publish_version`` made)."""

    name: str

    def __str__(self) -> str:
        return f"<{self.name}>"


@dataclass(frozen=True)
class DeployCall:
    """One call: the service, the client method and its keyword arguments.

    ``saves`` names values to keep from the response (``("version", "Version")``)
    for later calls' :class:`Ref` arguments.
    """

    service: Service
    operation: str
    params: Mapping[str, Any]
    saves: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        """One line: service, operation and arguments in the API's own names.

        Environment variable values are masked: they may be secrets.
        """
        params = dict(self.params)
        variables = (params.get("Environment") or {}).get("Variables")
        if variables:
            params["Environment"] = {"Variables": dict.fromkeys(variables, "***")}
        return f"{self.service} {self.operation} {json.dumps(params, sort_keys=True, default=str)}"

    def resolve(self, values: Mapping[str, str]) -> DeployCall:
        """A copy with every :class:`Ref` argument replaced by its saved value."""
        if not any(isinstance(v, Ref) for v in self.params.values()):
            return self
        missing = [
            v.name for v in self.params.values() if isinstance(v, Ref) and v.name not in values
        ]
        if missing:
            raise DeployError(f"{self.operation} needs {', '.join(missing)} from an earlier call")
        params = {k: values[v.name] if isinstance(v, Ref) else v for k, v in self.params.items()}
        return replace(self, params=params)


@dataclass(frozen=True)
class DeployPlan:
    """The calls to make, in order, and what is left alone and why."""

    spec: DeploySpec
    calls: tuple[DeployCall, ...]
    notes: tuple[str, ...]
    #: Values :class:`Ref` arguments may use before any call answers: the alias's
    #: current ``version`` and the ``url``, when they exist already.
    known: Mapping[str, str] = field(default_factory=dict)

    @property
    def publishes(self) -> bool:
        """Whether a new version is published (and the alias moved)."""
        return any(c.operation == "publish_version" for c in self.calls)


def plan_deploy(spec: DeploySpec, observed: ObservedState) -> DeployPlan:
    """Every call that makes the account serve ``spec``'s artifact, given ``observed``."""
    calls: list[DeployCall] = []
    notes: list[str] = []
    _plan_upload(spec, observed, calls, notes)
    _plan_function(spec, observed, calls, notes)
    _plan_version(spec, observed, calls, notes)
    _plan_url(spec, observed, calls, notes)
    _plan_capacity(spec, observed, calls, notes)
    known = {}
    if observed.alias is not None:
        known["version"] = observed.alias.version
    if observed.url is not None:
        known["url"] = observed.url.url
    return DeployPlan(spec, tuple(calls), tuple(notes), MappingProxyType(known))


def _lambda(operation: str, saves: tuple[tuple[str, str], ...] = (), **params: Any) -> DeployCall:
    return DeployCall("lambda", operation, params, saves)


def _plan_upload(
    spec: DeploySpec, observed: ObservedState, calls: list[DeployCall], notes: list[str]
) -> None:
    if not observed.bucket_exists:
        if not spec.create_bucket:
            raise DeployError(
                f"bucket {spec.bucket} does not exist in {spec.region}: create it "
                f"(aws s3 mb s3://{spec.bucket} --region {spec.region}) or pass --bucket"
            )
        params: dict[str, Any] = {"Bucket": spec.bucket}
        if spec.region != "us-east-1":  # us-east-1 refuses a LocationConstraint of itself
            params["CreateBucketConfiguration"] = {"LocationConstraint": spec.region}
        calls.append(DeployCall("s3", "create_bucket", params))
    if observed.object_sha256 == spec.sha256:
        notes.append(f"s3://{spec.bucket}/{spec.key} holds this artifact already: not uploaded")
        return
    calls.append(
        DeployCall(
            "s3",
            "upload_file",
            {
                "Filename": spec.artifact,
                "Bucket": spec.bucket,
                "Key": spec.key,
                "ExtraArgs": {"Metadata": {"sha256": spec.sha256}},
            },
        )
    )


def _plan_function(
    spec: DeploySpec, observed: ObservedState, calls: list[DeployCall], notes: list[str]
) -> None:
    name = spec.function_name
    wait = _lambda(WAIT, FunctionName=name)
    wanted = spec.settings
    current = observed.function
    if current is None:
        calls.append(
            _lambda(
                "create_function",
                FunctionName=name,
                **wanted.configuration_params(),
                Code={"S3Bucket": spec.bucket, "S3Key": spec.key},
                Architectures=[spec.arch],
                PackageType="Zip",
                Publish=False,
            )
        )
        calls.append(wait)
        return
    if not current.ready:  # a change still in progress would refuse ours
        calls.append(wait)
    if current.code_sha256 != spec.code_sha256 or current.settings.arch != spec.arch:
        calls.append(
            _lambda(
                "update_function_code",
                FunctionName=name,
                S3Bucket=spec.bucket,
                S3Key=spec.key,
                Architectures=[spec.arch],
                Publish=False,
            )
        )
        calls.append(wait)
    else:
        notes.append(
            f"{name} runs this artifact already (CodeSha256 {spec.code_sha256}): no code update"
        )
    changed = wanted.differences(current.settings, ignore=("arch",))
    if changed:
        notes.append(f"{name} configuration changes: {'; '.join(changed)}")
        calls.append(
            _lambda(
                "update_function_configuration", FunctionName=name, **wanted.configuration_params()
            )
        )
        calls.append(wait)
    else:
        notes.append(f"{name} configuration unchanged: no configuration update")


def _plan_version(
    spec: DeploySpec, observed: ObservedState, calls: list[DeployCall], notes: list[str]
) -> None:
    alias = observed.alias
    if (
        alias is not None
        and alias.code_sha256 == spec.code_sha256
        # a version's description is the function's at publication: not worth a new version
        and not spec.settings.differences(alias.settings, ignore=("description",))
    ):
        notes.append(
            f"alias {spec.alias} is on version {alias.version}, which has this code and "
            "configuration: no new version"
        )
        return
    calls.append(
        _lambda(
            "publish_version",
            saves=(("version", "Version"),),
            FunctionName=spec.function_name,
            CodeSha256=spec.code_sha256,  # Lambda refuses to publish any other bytes
        )
    )
    operation = "create_alias" if alias is None else "update_alias"
    calls.append(
        _lambda(
            operation,
            FunctionName=spec.function_name,
            Name=spec.alias,
            FunctionVersion=Ref("version"),
        )
    )


def _plan_url(
    spec: DeploySpec, observed: ObservedState, calls: list[DeployCall], notes: list[str]
) -> None:
    target: dict[str, Any] = {"FunctionName": spec.function_name, "Qualifier": spec.alias}
    saves = (("url", "FunctionUrl"),)
    if observed.url is None:
        params = {**target, "AuthType": spec.url_auth}
        calls.append(DeployCall("lambda", "create_function_url_config", params, saves))
    elif observed.url.auth != spec.url_auth:
        params = {**target, "AuthType": spec.url_auth}
        calls.append(DeployCall("lambda", "update_function_url_config", params, saves))
    else:
        notes.append(f"the URL on {spec.alias} is {spec.url_auth} already: {observed.url.url}")
    # A public URL needs both grants (AWS requires the second for new URLs); removed when private.
    public: dict[str, dict[str, Any]] = {
        URL_PERMISSION_SID: {"Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "NONE"},
        URL_INVOKE_PERMISSION_SID: {
            "Action": "lambda:InvokeFunction",
            "InvokedViaFunctionUrl": True,
        },
    }
    for sid, grant in public.items():
        present = sid in observed.permission_sids
        if spec.url_auth == "NONE" and not present:
            params = {**target, "StatementId": sid, "Principal": "*", **grant}
            calls.append(DeployCall("lambda", "add_permission", params))
        elif spec.url_auth != "NONE" and present:
            params = {**target, "StatementId": sid}
            calls.append(DeployCall("lambda", "remove_permission", params))


def _plan_capacity(
    spec: DeploySpec, observed: ObservedState, calls: list[DeployCall], notes: list[str]
) -> None:
    if spec.provisioned_concurrency is not None:
        calls.append(
            DeployCall(
                "provisioned-concurrency",
                "put_provisioned_concurrency_config",
                {
                    "FunctionName": spec.function_name,
                    "Qualifier": spec.alias,
                    "ProvisionedConcurrentExecutions": spec.provisioned_concurrency,
                },
            )
        )
    if spec.schedule is not None:
        for call in plan_apply(spec.schedule, observed.scheduled_actions):
            calls.append(DeployCall("application-autoscaling", call.operation, call.params))
