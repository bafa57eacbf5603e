"""AWS Lambda adapter for SQS batches: the async path.

An SQS event source mapping with ``FunctionResponseType:
ReportBatchItemFailures`` invokes the function with up to a batch of
messages::

    {"Records": [{"messageId": "...", "eventSource": "aws:sqs", "body": "...", ...}]}

**Message.** Each body is an ``/embed`` payload, checked with the same
validation and limits as the function URL, plus an optional ``"id"`` naming
the result: 1 to 128 letters, digits, ``.``, ``_`` or ``-``, starting with a
letter or digit (safe as an S3 key, no path tricks)::

    {"id": "doc-42", "inputs": ["text", ...]}

**Result.** For each message the /embed response body, with the result's name
(``id``, or the ``messageId`` when no id was sent) and the ``messageId``, is
written to the :class:`~coldbrew.platforms.result_sink.ResultSink` at
``<prefix><id>.json``::

    {"id": "doc-42", "messageId": "...", "model": ..., "dimensions": 384, "embeddings": [[...]]}

SQS delivers at least once; a message delivered twice writes the same result
to the same key, so a redelivery is harmless. Two messages with the same
``id`` overwrite each other: the last one written wins.

**Refused input.** A message that can never succeed (not JSON, the wrong
shape, an input over a limit, an unsafe ``id``) is answered, not retried:
its error, in the same shape as the HTTP path's, is written where its result
would have gone, and the message is acknowledged::

    {"id": "doc-42", "messageId": "...", "status": 400,
     "error": {"code": "invalid_request", "message": "...", "request_id": "<messageId>"}}

Retrying it would only delay the same refusal by ``maxReceiveCount``
receives and bury it in the dead-letter queue. When the id itself is unusable
the error is stored under the messageId; when neither can name a key, or the
error cannot be stored, the message fails as below.

**Reply.** ``{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}``
names exactly the messages that failed (the model failed on valid input, the
sink failed, an unexpected record...). Lambda deletes the others and returns
only these to the queue, so after ``maxReceiveCount`` receives a message
that keeps failing lands in the dead-letter queue without holding back its
batch. Messages are processed one after another and one failure never stops
the rest. Each failure or refusal is logged as one JSON line (messageId,
stage, error type, message); a traceback only for an unexpected error while
embedding (a bug), never for refused input.

**Decisions.**

* A batch in which some record has no ``messageId`` cannot be answered per
  message (Lambda treats an unknown or empty ``itemIdentifier`` as a failure
  of the whole batch anyway), so it is refused as a whole, *before* any
  message is processed: the adapter raises and Lambda retries the batch.
* With no result sink configured every message fails, with a
  ConfigurationError logged for each. Acknowledging a message whose result
  was not stored would lose the only output of an async request; failing
  keeps it in the queue (then the dead-letter queue, from which it can be
  redriven once the bucket is set).

Pure: no boto3, no environment. The sink arrives as a factory, called on the
first batch.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from coldbrew.errors import ColdbrewError, ConfigurationError, InvalidRequestError, RequestError
from coldbrew.platforms.http_errors import error_response
from coldbrew.platforms.result_sink import ResultSink
from coldbrew.runtime.contract import (
    EmbedRequest,
    Limits,
    Response,
    json_type_name,
    parse_embed_request,
    parse_json_body,
)
from coldbrew.runtime.settings import DEFAULT_RESULT_PREFIX

#: What a result name (the message's ``id``, or its messageId) may look like.
RESULT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ID_RULE = "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"


class SqsService(Protocol):
    """The part of :class:`~coldbrew.runtime.service.EmbeddingService` the SQS path uses."""

    @property
    def limits(self) -> Limits: ...

    def embed(self, request: EmbedRequest) -> Response: ...


def is_sqs_event(event: object) -> bool:
    """True for an event source mapping's batch (a ``Records`` list).

    A direct invocation with a ``Records`` field would be refused by /embed's
    validation anyway, so the list alone decides.
    """
    return isinstance(event, Mapping) and isinstance(event.get("Records"), list)


def message_ids(event: Mapping[str, Any]) -> list[str]:
    """Every record's messageId; raises InvalidRequestError if one has none."""
    ids: list[str] = []
    for index, record in enumerate(event["Records"]):
        message_id = record.get("messageId") if isinstance(record, Mapping) else None
        if not isinstance(message_id, str) or not message_id:
            raise InvalidRequestError(
                f"Records[{index}] has no messageId: not an SQS batch; refusing the whole batch"
            )
        ids.append(message_id)
    return ids


def result_key(prefix: str, name: str) -> str:
    """The sink key of a result: ``<prefix><name>.json``."""
    return f"{prefix}{name}.json"


def split_result_id(payload: object, message_id: str) -> tuple[str, object]:
    """The result's name and the /embed payload without ``id``.

    Raises InvalidRequestError for an id that is not a safe key. A payload
    that is not an object is passed on as it is, for /embed's validation to
    refuse with its usual message.
    """
    if isinstance(payload, dict) and "id" in payload:
        name = payload["id"]
        if not isinstance(name, str):
            raise InvalidRequestError(f"'id' must be {_ID_RULE}; got {json_type_name(name)}")
        if not RESULT_ID.fullmatch(name):
            raise InvalidRequestError(f"'id' must be {_ID_RULE}; got {name[:140]!r}")
        return name, {k: v for k, v in payload.items() if k != "id"}
    if not RESULT_ID.fullmatch(message_id):
        raise InvalidRequestError(
            f"messageId {message_id[:140]!r} cannot name a result; send an 'id' ({_ID_RULE})"
        )
    return message_id, payload


def _stderr_line(line: str) -> None:
    # Lambda sends stdout and stderr to CloudWatch; one JSON object per line is
    # what Logs Insights parses into fields.
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class SqsBatchAdapter:
    """Handles one SQS batch: ``adapter(event) -> {"batchItemFailures": [...]}``.

    ``sink_factory`` is called on the first batch and its sink kept; if it
    raises (no bucket configured, no client), that batch fails whole and the
    next batch tries again. None means no sink at all. ``log`` receives one
    JSON line per failed message.
    """

    def __init__(
        self,
        service: SqsService,
        sink_factory: Callable[[], ResultSink] | None,
        *,
        prefix: str = DEFAULT_RESULT_PREFIX,
        log: Callable[[str], None] = _stderr_line,
    ) -> None:
        self._service = service
        self._sink_factory = sink_factory
        self._sink: ResultSink | None = None
        self._prefix = prefix
        self._log = log

    def __call__(self, event: Mapping[str, Any]) -> dict[str, Any]:
        ids = message_ids(event)  # first: a malformed batch must not half-run
        if not ids:
            return {"batchItemFailures": []}
        failed: list[str] = []
        try:
            sink = self._get_sink()
        except Exception as exc:
            for message_id in ids:
                self._log_failure(message_id, "sink", exc)
            failed = ids
        else:
            for message_id, record in zip(ids, event["Records"], strict=True):
                if not self._process(message_id, record, sink):
                    failed.append(message_id)
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

    def _get_sink(self) -> ResultSink:
        if self._sink is None:
            if self._sink_factory is None:
                raise ConfigurationError("no result sink is configured for the SQS path")
            self._sink = self._sink_factory()
        return self._sink

    def _process(self, message_id: str, record: Mapping[str, Any], sink: ResultSink) -> bool:
        """Embed one message and store its result, or its refusal.

        False (and a log line) when it failed and should come back.
        """
        stage, name = "parse", None
        try:
            source = record.get("eventSource")
            if source != "aws:sqs":
                shown = repr(source[:40]) if isinstance(source, str) else json_type_name(source)
                raise InvalidRequestError(f"record eventSource is {shown}, not 'aws:sqs'")
            body = record.get("body")
            if not isinstance(body, str):
                raise InvalidRequestError(
                    f"message body must be a string of JSON, got {json_type_name(body)}"
                )
            # The same checks as POST /embed: refused input is bad input
            # (no traceback), whatever Python or UTF-8 could not take.
            payload = parse_json_body(body, self._service.limits)
            name, payload = split_result_id(payload, message_id)
            request = parse_embed_request(payload, self._service.limits)
            stage = "embed"
            response = self._service.embed(request)
            document = {"id": name, "messageId": message_id, **response.body}
            stage = "store"
            self._store(sink, name, document)
        except RequestError as exc:
            if stage == "parse" and record.get("eventSource") == "aws:sqs":
                return self._refuse(message_id, name, exc, sink)
            self._log_failure(message_id, stage, exc, name)
            return False
        except Exception as exc:
            self._log_failure(message_id, stage, exc, name)
            return False
        return True

    def _refuse(
        self, message_id: str, name: str | None, exc: RequestError, sink: ResultSink
    ) -> bool:
        """Store a refused message's error as its result; False if that cannot be done."""
        if name is None:  # the id was unusable (or never read): name it by its messageId
            name = message_id if RESULT_ID.fullmatch(message_id) else None
        if name is None:
            self._log_failure(message_id, "parse", exc)
            return False
        refusal = error_response(exc, message_id)
        document = {"id": name, "messageId": message_id, "status": refusal.status, **refusal.body}
        try:
            self._store(sink, name, document)
        except Exception as store_exc:
            self._log_failure(message_id, "store", store_exc, name)
            return False
        self._log_failure(message_id, "parse", exc, name, level="WARNING")
        return True

    def _store(self, sink: ResultSink, name: str, document: dict[str, Any]) -> None:
        sink.put(
            result_key(self._prefix, name),
            json.dumps(document, separators=(",", ":")).encode("utf-8"),
        )

    def _log_failure(
        self,
        message_id: str,
        stage: str,
        exc: Exception,
        name: str | None = None,
        *,
        level: str = "ERROR",
    ) -> None:
        line: dict[str, Any] = {
            "level": level,
            "event": "sqs_message_failed" if level == "ERROR" else "sqs_message_refused",
            "messageId": message_id,
            "stage": stage,
            "errorType": type(exc).__name__,
            "message": exc.message if isinstance(exc, ColdbrewError) else str(exc),
        }
        if name is not None:
            line["id"] = name
        if stage == "embed" and not isinstance(exc, ColdbrewError):
            # Valid input that crashed the model is a bug: keep the trace, on the same line.
            line["traceback"] = "".join(traceback.format_exception(exc))
        self._log(json.dumps(line))
