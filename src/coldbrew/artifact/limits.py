"""Lambda's deployment package limits, checked before anything is deployed."""

from __future__ import annotations

from dataclasses import dataclass

from coldbrew.deployment import aws_lambda
from coldbrew.deployment import limits as deployment_limits
from coldbrew.errors import LambdaLimitError

MB = deployment_limits.MB
#: Lambda's package limits, from the one place they are written.
UNZIPPED_LIMIT = aws_lambda.UNZIPPED_BYTES
DIRECT_UPLOAD_LIMIT = aws_lambda.DIRECT_UPLOAD_BYTES
IMAGE_LIMIT = aws_lambda.IMAGE_BYTES


@dataclass(frozen=True)
class Limits:
    """Lambda's size limits, in bytes.

    The defaults are AWS's; tests pass smaller ones to reach every layout
    with real, tiny files.
    """

    direct_upload: int = DIRECT_UPLOAD_LIMIT
    unzipped: int = UNZIPPED_LIMIT
    image: int = IMAGE_LIMIT


def check_limits(zipped_bytes: int, unzipped_bytes: int, *, via_s3: bool = False) -> None:
    """Raise :class:`LambdaLimitError` naming the limit broken and what to do instead."""
    if unzipped_bytes > UNZIPPED_LIMIT:
        raise LambdaLimitError(
            f"the artifact unzips to {unzipped_bytes / MB:.1f} MB, over Lambda's "
            f"{UNZIPPED_LIMIT // MB} MB limit for a function and its layers: ship it as a "
            "container image (up to 10 GB), quantize or shrink the model, or drop dependencies"
        )
    if zipped_bytes > DIRECT_UPLOAD_LIMIT and not via_s3:
        raise LambdaLimitError(
            f"the artifact is {zipped_bytes / MB:.1f} MB zipped, over Lambda's "
            f"{DIRECT_UPLOAD_LIMIT // MB} MB limit for direct upload: deploy it through S3 "
            "(`cdk deploy` stages assets in S3; rebuild with --via-s3 to allow it)"
        )
