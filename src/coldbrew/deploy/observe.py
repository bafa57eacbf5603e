"""Read what the account holds for a :class:`~coldbrew.deploy.spec.DeploySpec`.

Only reads (``head_*``, ``get_*``, ``describe_*``); a "not found" answer is an
absent resource, any other error (access denied, throttling) propagates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from coldbrew.capacity.apply import existing_actions
from coldbrew.deploy.clients import DeployClients, is_not_found
from coldbrew.deploy.observed_state import AliasState, FunctionState, ObservedState, UrlState
from coldbrew.deploy.spec import DeploySpec, FunctionSettings

T = TypeVar("T")


def _or_none(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def is_ready(configuration: Mapping[str, Any]) -> bool:
    """Whether Lambda has finished creating and updating the function."""
    return configuration.get("State", "Active") == "Active" and configuration.get(
        "LastUpdateStatus", "Successful"
    ) in ("Successful", None)


def observe(spec: DeploySpec, clients: DeployClients) -> ObservedState:
    """The state :func:`~coldbrew.deploy.plan.plan_deploy` needs, read through ``clients``."""
    s3, lambda_ = clients.s3, clients.lambda_
    bucket_exists = _or_none(lambda: s3.head_bucket(Bucket=spec.bucket)) is not None
    object_sha256 = None
    if bucket_exists:
        head = _or_none(lambda: s3.head_object(Bucket=spec.bucket, Key=spec.key))
        if head is not None:
            object_sha256 = (head.get("Metadata") or {}).get("sha256")
    actions: tuple[str, ...] = ()
    if spec.schedule is not None and clients.autoscaling is not None:
        actions = existing_actions(clients.autoscaling, spec.schedule)
    name = spec.function_name
    found = _or_none(lambda: lambda_.get_function(FunctionName=name))
    if found is None:  # no alias, URL or policy without the function
        return ObservedState(
            bucket_exists=bucket_exists, object_sha256=object_sha256, scheduled_actions=actions
        )
    configuration = found["Configuration"]
    reserved = (found.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    function = FunctionState(
        code_sha256=str(configuration.get("CodeSha256", "")),
        settings=FunctionSettings.from_configuration(configuration),
        ready=is_ready(configuration),
    )
    alias = None
    got = _or_none(lambda: lambda_.get_alias(FunctionName=name, Name=spec.alias))
    if got is not None:
        version = str(got["FunctionVersion"])
        at = lambda_.get_function_configuration(FunctionName=name, Qualifier=version)
        alias = AliasState(
            version=version,
            code_sha256=str(at.get("CodeSha256", "")),
            settings=FunctionSettings.from_configuration(at),
        )
    url = None
    sids: frozenset[str] = frozenset()
    if alias is not None:
        qualified = {"FunctionName": name, "Qualifier": spec.alias}
        config = _or_none(lambda: lambda_.get_function_url_config(**qualified))
        if config is not None:
            url = UrlState(url=str(config["FunctionUrl"]), auth=str(config["AuthType"]))
        policy = _or_none(lambda: lambda_.get_policy(**qualified))
        if policy is not None:
            statements = json.loads(policy["Policy"]).get("Statement", [])
            sids = frozenset(str(s.get("Sid")) for s in statements)
    return ObservedState(
        bucket_exists=bucket_exists,
        object_sha256=object_sha256,
        function=function,
        alias=alias,
        url=url,
        permission_sids=sids,
        scheduled_actions=actions,
        reserved_concurrency=None if reserved is None else int(reserved),
    )
