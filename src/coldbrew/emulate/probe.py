"""A small HTTP client for a function URL, timing every request.

Used by ``coldbrew demo`` (and by tests) to measure a served artifact from
the caller's side: the latency a user of the function URL would see.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """One response: status, parsed JSON body (or None), client-side latency."""

    status: int
    body: Any
    latency_ms: float
    headers: dict[str, str]


class FunctionUrlClient:
    """Keeps one connection open, as an SDK or browser would, and times each request."""

    def __init__(self, url: str, *, timeout_s: float = 60.0) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._timeout = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        content_type: str = "application/json",
    ) -> Reply:
        """Send one request; reconnects once if the server closed the connection."""
        data = body.encode() if isinstance(body, str) else body
        headers = {"content-type": content_type} if data is not None else {}
        for attempt in (1, 2):
            conn = self._conn or http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
            self._conn = conn
            start = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                self._conn = None
                if attempt == 2:
                    raise
                continue
            latency = (time.perf_counter() - start) * 1000
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return Reply(response.status, parsed, latency, dict(response.getheaders()))
        raise AssertionError("unreachable")

    def embed(self, inputs: Sequence[str]) -> Reply:
        """``POST /embed`` with ``{"inputs": [...]}``."""
        return self.request("POST", "/embed", json.dumps({"inputs": list(inputs)}))

    def close(self) -> None:
        """Close the kept connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation; NaN when empty."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return float(values[0])
    return float(
        statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]
    )
