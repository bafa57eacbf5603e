"""Where the async (SQS) path puts its results: the port, and its S3 implementation.

The SQS adapter only knows :class:`ResultSink`; tests give it an in-memory
fake. :class:`S3ResultSink` takes an injected S3 client, so this module never
imports boto3: the handler creates the client, and only when the first SQS
batch arrives (:func:`lazy_s3_sink`). A function that serves only its URL never
pays for boto3 (measured here: ~145 ms to import it, ~100 ms more to create
an S3 client), and a SnapStart snapshot never holds a client or its
credentials.

boto3 itself is not packaged: Lambda's Python runtime provides it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from coldbrew.errors import ConfigurationError
from coldbrew.runtime.settings import RESULT_BUCKET, AsyncConfig


class ResultSink(Protocol):
    """Stores one result document under a key; raises on failure, never drops."""

    def put(self, key: str, body: bytes) -> None: ...


class S3Client(Protocol):
    """The one call of a boto3 S3 client the sink makes."""

    def put_object(self, **kwargs: Any) -> Any: ...


class S3ResultSink:
    """Writes each result as a JSON object to one bucket."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def put(self, key: str, body: bytes) -> None:
        """``PutObject``; the client's own errors (access denied, no bucket) propagate."""
        self._client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/json"
        )


def lazy_s3_sink(
    config: AsyncConfig, make_client: Callable[[], S3Client]
) -> Callable[[], ResultSink]:
    """A factory the SQS adapter calls on its first batch.

    With no bucket configured it raises :class:`ConfigurationError` before
    ``make_client`` runs, so a misconfigured function fails its messages with
    a message naming the variable, and never imports boto3 for nothing.
    """

    def create() -> ResultSink:
        if config.result_bucket is None:
            raise ConfigurationError(
                f"no result bucket: set {RESULT_BUCKET} to receive SQS results; "
                "messages stay queued (then go to the dead-letter queue) until it is set"
            )
        return S3ResultSink(make_client(), config.result_bucket)

    return create
