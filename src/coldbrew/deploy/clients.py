"""The ports a deploy talks through: boto3's calls as Protocols, and provisioned concurrency.

A real deploy passes boto3 clients (:mod:`coldbrew.deploy.aws`), ``--local``
passes boto3 clients pointed at moto (:mod:`coldbrew.deploy.local_cloud`), and
unit tests pass fakes. Nothing here imports boto3: an AWS error is recognised
by the ``response["Error"]["Code"]`` botocore puts on it (:func:`error_code`).

Provisioned concurrency has its own port, :class:`ProvisionedConcurrencyPort`,
because moto does not implement Lambda's provisioned-concurrency API: against
moto the in-memory :class:`InMemoryProvisionedConcurrency` stands in, and the
command says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from coldbrew.capacity.apply import AutoScalingClient


class S3Client(Protocol):
    """The calls of boto3's ``s3`` client a deploy makes."""

    def head_bucket(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def create_bucket(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def head_object(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def upload_file(self, **kwargs: Any) -> Any: ...

    def get_object(self, **kwargs: Any) -> Mapping[str, Any]: ...


class LambdaClient(Protocol):
    """The calls of boto3's ``lambda`` client a deploy makes (and reads state with)."""

    def get_function(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_function_configuration(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_alias(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_function_url_config(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_policy(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def create_function(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def update_function_code(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def update_function_configuration(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def publish_version(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def create_alias(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def update_alias(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def create_function_url_config(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def update_function_url_config(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def add_permission(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def put_function_concurrency(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def remove_permission(self, **kwargs: Any) -> Mapping[str, Any]: ...


class ProvisionedConcurrencyPort(Protocol):
    """Lambda's ``put_provisioned_concurrency_config``, alone behind a port."""

    #: False when the level is only recorded (no cloud applies it); the CLI says so.
    applied: bool

    def put_provisioned_concurrency_config(self, **kwargs: Any) -> Mapping[str, Any]: ...


class LambdaProvisionedConcurrency:
    """The port over a real (boto3) Lambda client."""

    applied = True

    def __init__(self, lambda_client: Any) -> None:
        self._client = lambda_client

    def put_provisioned_concurrency_config(self, **kwargs: Any) -> Mapping[str, Any]:
        """Request the level; Lambda allocates it over the next minutes (Status IN_PROGRESS)."""
        result: Mapping[str, Any] = self._client.put_provisioned_concurrency_config(**kwargs)
        return result


@dataclass
class InMemoryProvisionedConcurrency:
    """The port's fake: remembers each ``(function, qualifier)`` level; nothing is applied.

    Used by ``--local`` (moto has no provisioned-concurrency API) and by tests.
    """

    levels: dict[tuple[str, str], int] = field(default_factory=dict)
    applied: bool = False

    def put_provisioned_concurrency_config(self, **kwargs: Any) -> Mapping[str, Any]:
        """Record the level; answers as Lambda does, with the allocation still in progress."""
        level = int(kwargs["ProvisionedConcurrentExecutions"])
        self.levels[(str(kwargs["FunctionName"]), str(kwargs["Qualifier"]))] = level
        return {
            "RequestedProvisionedConcurrentExecutions": level,
            "Status": "IN_PROGRESS",
        }


@dataclass(frozen=True)
class DeployClients:
    """Everything a deploy talks to. ``autoscaling`` is needed only for a schedule."""

    s3: S3Client
    lambda_: LambdaClient
    provisioned: ProvisionedConcurrencyPort
    autoscaling: AutoScalingClient | None = None


def error_code(exc: BaseException) -> str | None:
    """The AWS error code botocore attached to ``exc`` (``ResourceNotFoundException``, ``404``)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return None
    error = response.get("Error")
    if not isinstance(error, Mapping):
        return None
    code = error.get("Code")
    return str(code) if code is not None else None


#: Codes meaning "there is no such thing" across S3, Lambda and IAM.
NOT_FOUND_CODES = frozenset(
    {"404", "NoSuchBucket", "NoSuchKey", "NotFound", "ResourceNotFoundException", "NoSuchEntity"}
)


def is_not_found(exc: BaseException) -> bool:
    """Whether ``exc`` is an AWS "not found" error (as opposed to access denied, throttling...)."""
    return error_code(exc) in NOT_FOUND_CODES
