"""What differs between the platforms an artifact is built for, and the smoke
requests a plain HTTP function (Cloud Functions) is probed with."""

from __future__ import annotations

import json

import pytest

from coldbrew.artifact.packaging_targets import GCF, PLATFORM_NAMES, packaging_target
from coldbrew.artifact.smoke import EMBED_EVENT, http_requests, smoke_events
from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.deployment.gcf import CLOUD_FUNCTIONS
from coldbrew.errors import ConfigurationError


def test_platform_pythons_and_arches_come_from_the_deployment_limits() -> None:
    assert packaging_target("gcf").limits is CLOUD_FUNCTIONS
    assert packaging_target("aws-lambda").limits is LAMBDA
    for python in CLOUD_FUNCTIONS.pythons:
        GCF.check(python, "x86_64", "zip")


def test_unknown_platform_names_the_platforms() -> None:
    with pytest.raises(ConfigurationError, match=", ".join(PLATFORM_NAMES)):
        packaging_target("azure-functions")


@pytest.mark.parametrize(
    ("python", "arch", "layout", "named"),
    [
        ("3.11", "x86_64", "zip", "--python '3.11'"),
        ("3.12", "arm64", "zip", "--arch 'arm64'"),
        ("3.12", "x86_64", "image", "--layout 'image'"),
    ],
)
def test_gcf_refuses_what_cloud_functions_does_not_take(
    python: str, arch: str, layout: str, named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named) as caught:
        GCF.check(python, arch, layout)
    assert "--platform gcf" in caught.value.message


def test_http_requests_keep_every_http_event_in_order_and_decode_base64() -> None:
    events = smoke_events(["first sentence", "second", "third"])
    requests = http_requests(events)
    http_events = [e for e in events if "requestContext" in e]
    assert len(requests) == len(http_events) and len(requests) < len(events)
    assert [(r["method"], r["path"]) for r in requests] == [
        (e["requestContext"]["http"]["method"], e["rawPath"]) for e in http_events
    ]
    # The gate sentences' answer keeps its index, for the accuracy check.
    assert json.loads(requests[EMBED_EVENT]["body"]) == {
        "inputs": ["first sentence", "second", "third"]
    }
    base64_event = next(i for i, e in enumerate(http_events) if e["isBase64Encoded"])
    assert json.loads(requests[base64_event]["body"]) == {"inputs": ["first sentence"]}
    assert requests[0]["body"] == ""
