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
refused before anything changes. What to deploy is a
:class:`~coldbrew.deploy.spec.DeploySpec`, what is there an
:class:`~coldbrew.deploy.observed_state.ObservedState`, and each call a
:class:`~coldbrew.deploy.calls.DeployCall`. The calls, in order:

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
   Then ``put_function_concurrency`` when ``--reserved-concurrency`` differs
   from the function's (a public URL requires one: it bounds the URL's spend).
4. ``create_function_url_config`` / ``update_function_url_config`` on the
   alias; for ``AuthType NONE`` the two public permissions a function URL
   needs (``lambda:InvokeFunctionUrl`` and ``lambda:InvokeFunction`` via the
   URL), removed again when the URL goes back to ``AWS_IAM``.
5. A static provisioned-concurrency level through its port, or a schedule's
   Application Auto Scaling calls, planned by
   :func:`coldbrew.capacity.apply.plan_apply` (not repeated here).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from coldbrew.capacity.apply import plan_apply
from coldbrew.deploy.calls import WAIT, DeployCall, DeployPlan, Ref
from coldbrew.deploy.observed_state import ObservedState
from coldbrew.deploy.spec import DeploySpec
from coldbrew.errors import DeployError

#: Statement ids of the permissions a public (AuthType NONE) URL needs.
URL_PERMISSION_SID = "coldbrew-function-url"
URL_INVOKE_PERMISSION_SID = "coldbrew-function-url-invoke"


def plan_deploy(spec: DeploySpec, observed: ObservedState) -> DeployPlan:
    """Every call that makes the account serve ``spec``'s artifact, given ``observed``."""
    calls: list[DeployCall] = []
    notes: list[str] = []
    _plan_upload(spec, observed, calls, notes)
    _plan_function(spec, observed, calls, notes)
    _plan_reservation(spec, observed, calls, notes)
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


def _plan_reservation(
    spec: DeploySpec, observed: ObservedState, calls: list[DeployCall], notes: list[str]
) -> None:
    # Before the URL: a public URL must never be live without the bound on its spend.
    wanted = spec.reserved_concurrency
    if wanted is None:
        return
    if observed.function is not None and observed.reserved_concurrency == wanted:
        notes.append(f"reserved concurrency is {wanted} already")
        return
    calls.append(
        _lambda(
            "put_function_concurrency",
            FunctionName=spec.function_name,
            ReservedConcurrentExecutions=wanted,
        )
    )


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
