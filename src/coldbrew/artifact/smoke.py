"""The smoke invocation: events that exercise every path a request can take.

Pure. The events are function URL (payload 2.0) and direct invocations of the
handler: health, embedding the model's gate sentences (more than one batch),
a base64 body, and each kind of refusal, so the trace sees the modules error
paths load too, and verification compares every answer.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

#: Index of the event that embeds the gate sentences, for the accuracy check.
EMBED_EVENT = 1


def http_event(
    method: str, path: str, body: str | None = None, *, b64: bool = False
) -> dict[str, Any]:
    """A minimal function URL event."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "coldbrew-smoke",
            },
            "requestId": "smoke",
        },
        "isBase64Encoded": b64,
    }
    if body is not None:
        event["body"] = base64.b64encode(body.encode()).decode() if b64 else body
    return event


def smoke_events(sentences: Sequence[str], *, max_inputs: int = 64) -> list[Any]:
    """The smoke set for an embedding handler; event 1 embeds ``sentences``."""
    texts = list(sentences)[:max_inputs]
    return [
        http_event("GET", "/health"),
        http_event("POST", "/embed", json.dumps({"inputs": texts})),
        http_event("POST", "/embed", json.dumps({"inputs": texts[:1]}), b64=True),
        http_event("POST", "/embed", '{"inputs": ['),
        http_event("POST", "/embed", '{"inputs": []}'),
        http_event("POST", "/embed", json.dumps({"inputs": ["x"] * (max_inputs + 1)})),
        http_event("GET", "/nowhere"),
        http_event("GET", "/embed"),
        {"inputs": texts[1:3]},
        {"inputs": 5},
    ]


def http_requests(events: Sequence[Any]) -> list[dict[str, str]]:
    """The smoke events a plain HTTP function can receive, as requests.

    For a platform with no direct invocation (Cloud Functions): each function
    URL event becomes ``{"method", "path", "body"}`` (a base64 event's body
    decoded, since HTTP carries the bytes themselves); direct invocations are
    dropped. They come last in :func:`smoke_events`, so :data:`EMBED_EVENT`
    still indexes the gate sentences' answer.
    """
    requests = []
    for event in events:
        http = event.get("requestContext", {}).get("http") if isinstance(event, dict) else None
        if http is None:
            continue
        body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        requests.append({"method": http["method"], "path": event["rawPath"], "body": body})
    return requests


def embeddings_from(results: Sequence[Any]) -> list[list[float]] | None:
    """The vectors the gate-sentence event returned, or None if it failed."""
    if len(results) <= EMBED_EVENT or not results[EMBED_EVENT].get("ok"):
        return None
    value = results[EMBED_EVENT]["value"]
    try:
        if value.get("statusCode") != 200:
            return None
        vectors = json.loads(value["body"])["embeddings"]
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return vectors if isinstance(vectors, list) else None
