"""boto3 clients for a deploy: the only module of :mod:`coldbrew.deploy` that imports boto3.

Against AWS the credentials and region come from boto3's usual chain
(environment, profile, instance role); against moto (``endpoint_url``) dummy
credentials are passed explicitly, so no real ones are ever read or sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coldbrew.deploy.clients import (
    DeployClients,
    LambdaProvisionedConcurrency,
    ProvisionedConcurrencyPort,
)
from coldbrew.errors import DeployError


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise DeployError("coldbrew deploy needs boto3: pip install boto3") from None
    return boto3


def resolve_region(region: str | None) -> str:
    """``region``, else the AWS environment's (AWS_REGION, AWS_DEFAULT_REGION, the profile)."""
    if region:
        return region
    found = _boto3().session.Session().region_name
    if not found:
        raise DeployError("no AWS region: pass --region or set AWS_REGION")
    return str(found)


def client(
    service: str,
    *,
    region: str,
    endpoint_url: str | None = None,
    credentials: Mapping[str, str] | None = None,
) -> Any:
    """One boto3 client; ``endpoint_url`` and ``credentials`` for moto."""
    return _boto3().client(
        service, region_name=region, endpoint_url=endpoint_url, **dict(credentials or {})
    )


def boto3_clients(
    *,
    region: str,
    endpoint_url: str | None = None,
    credentials: Mapping[str, str] | None = None,
    provisioned: ProvisionedConcurrencyPort | None = None,
) -> DeployClients:
    """S3, Lambda and Application Auto Scaling clients; provisioned concurrency through
    Lambda itself unless another port (the in-memory fake, for moto) is given."""

    def make(service: str) -> Any:
        return client(service, region=region, endpoint_url=endpoint_url, credentials=credentials)

    lambda_ = make("lambda")
    return DeployClients(
        s3=make("s3"),
        lambda_=lambda_,
        provisioned=provisioned or LambdaProvisionedConcurrency(lambda_),
        autoscaling=make("application-autoscaling"),
    )


def aws_errors() -> tuple[type[BaseException], ...]:
    """botocore's error base classes, for the CLI to turn into one-line messages."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)
