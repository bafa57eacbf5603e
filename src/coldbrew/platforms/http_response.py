"""The HTTP body and headers every platform adapter sends: one serialisation.

The Lambda function URL adapter and the Cloud Functions adapter both answer
through these two functions, so the same :class:`Response` becomes the same
bytes and the same content type on every target.
"""

from __future__ import annotations

import json

from coldbrew.runtime.contract import Response


def http_body(response: Response) -> str:
    """The response body as compact JSON text (no spaces after separators)."""
    return json.dumps(response.body, separators=(",", ":"))


def http_headers(response: Response, request_id: str) -> dict[str, str]:
    """JSON content type and the request id, then the response's own headers (``allow``...)."""
    headers = {"content-type": "application/json", "x-request-id": request_id}
    headers.update(response.headers)
    return headers
