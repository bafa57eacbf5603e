"""AWS Lambda adapter: function URL / HTTP API events, direct invocation and SQS batches.

Three event shapes reach the handler:

* **Function URL or API Gateway HTTP API** (payload format 2.0): recognised by
  ``requestContext.http``. The result is an HTTP response object.
* **Direct invocation** (``aws lambda invoke``, SDK ``Invoke``): the event is
  the ``/embed`` body itself, e.g. ``{"inputs": ["..."]}``. The result is the
  response body. A refused request is *returned* as ``{"error": ...}``, not
  raised: a raised error would make Lambda retry asynchronous invocations of
  input that can never succeed, and count it as a function error.
* **SQS batch** (event source mapping): recognised by a ``Records`` list and
  handed to :class:`~coldbrew.platforms.aws_sqs.SqsBatchAdapter`, which writes
  each result to a sink and reports the messages that failed.

Pure: no boto3, no environment.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from coldbrew.errors import InvalidRequestError
from coldbrew.platforms.aws_sqs import SqsBatchAdapter, SqsService, is_sqs_event
from coldbrew.platforms.http_errors import error_response
from coldbrew.platforms.http_response import http_body, http_headers
from coldbrew.platforms.result_sink import ResultSink
from coldbrew.runtime.contract import Request, Response, text_body
from coldbrew.runtime.settings import DEFAULT_RESULT_PREFIX


class Service(SqsService, Protocol):
    """The part of :class:`~coldbrew.runtime.service.EmbeddingService` this adapter uses."""

    def handle(self, request: Request) -> Response: ...

    def embed_payload(self, payload: object) -> Response: ...


def is_http_event(event: object) -> bool:
    """True for payload-format-2.0 events (function URL, HTTP API)."""
    if not isinstance(event, Mapping):
        return False
    context = event.get("requestContext")
    return isinstance(context, Mapping) and isinstance(context.get("http"), Mapping)


def request_from_http_event(event: Mapping[str, Any], request_id: str) -> Request:
    """Turn a payload-format-2.0 event into a :class:`Request`."""
    http = event["requestContext"]["http"]
    raw_body = event.get("body") or ""
    if not isinstance(raw_body, str):
        raise InvalidRequestError(f"event body must be a string, got {type(raw_body).__name__}")
    raw_headers = event.get("headers") or {}
    if not isinstance(raw_headers, Mapping):
        raise InvalidRequestError("event headers must be an object of names to values")
    if event.get("isBase64Encoded"):
        try:
            # binascii, not base64: the C module costs nothing at cold start.
            body = binascii.a2b_base64(raw_body, strict_mode=True)
        except (binascii.Error, ValueError):
            raise InvalidRequestError(
                "request body is marked base64 but is not valid base64"
            ) from None
    else:
        body = text_body(raw_body)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw_headers.items()):
        raise InvalidRequestError("event headers must map names to string values")
    method = http.get("method", "GET")
    path = event.get("rawPath") or http.get("path") or "/"
    if not isinstance(method, str) or not isinstance(path, str):
        raise InvalidRequestError("event method and path (rawPath) must be strings")
    return Request(
        method=method,
        path=path,
        body=body,
        request_id=request_id,
        headers={k.lower(): v for k, v in raw_headers.items()},
    )


def http_result(response: Response, request_id: str) -> dict[str, Any]:
    """A function URL response object; the body is compact JSON."""
    return {
        "statusCode": response.status,
        "headers": http_headers(response, request_id),
        "body": http_body(response),
        "isBase64Encoded": False,
    }


class LambdaAdapter:
    """Callable as a Lambda handler: ``handler(event, context)``.

    ``results`` makes the sink SQS results go to; it is called on the first
    SQS batch only, so the URL path never creates it. Without it every SQS
    message fails (and is logged), rather than be acknowledged unstored.
    ``sqs_log`` receives the SQS path's failure lines (stderr by default).
    """

    def __init__(
        self,
        service: Service,
        *,
        results: Callable[[], ResultSink] | None = None,
        result_prefix: str = DEFAULT_RESULT_PREFIX,
        sqs_log: Callable[[str], None] | None = None,
    ) -> None:
        self._service = service
        if sqs_log is None:
            self._sqs = SqsBatchAdapter(service, results, prefix=result_prefix)
        else:
            self._sqs = SqsBatchAdapter(service, results, prefix=result_prefix, log=sqs_log)

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        request_id = str(getattr(context, "aws_request_id", "") or "local")
        if is_sqs_event(event):
            # Raises only for a batch that is not one (a record with no
            # messageId): Lambda then retries the batch as a whole.
            return self._sqs(event)
        if is_http_event(event):
            try:
                response = self._service.handle(request_from_http_event(event, request_id))
            except Exception as exc:  # every failure becomes a JSON response
                response = error_response(exc, request_id)
            return http_result(response, request_id)
        try:
            return self._service.embed_payload(event).body
        except Exception as exc:
            failure = error_response(exc, request_id)
            return {**failure.body, "status": failure.status}
