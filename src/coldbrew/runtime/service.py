"""The embedding service: routes, validation, cache and inference.

Platform adapters hand it a :class:`Request` and get a :class:`Response`, or
a :class:`~coldbrew.errors.ColdbrewError` they turn into one. It holds no
platform knowledge and reads no environment: its settings arrive as a
:class:`~coldbrew.runtime.settings.RuntimeConfig`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from coldbrew.errors import MethodNotAllowedError, NotFoundError
from coldbrew.runtime.cache import EmbeddingCache, Vector
from coldbrew.runtime.contract import (
    EmbedRequest,
    Limits,
    Request,
    Response,
    parse_embed_request,
    parse_json_body,
)
from coldbrew.runtime.model_info import ModelInfo
from coldbrew.runtime.settings import RuntimeConfig


class Embedder(Protocol):
    """Anything that turns texts into unit-norm rows (the ONNX embedder, or a fake)."""

    info: ModelInfo

    def embed(self, texts: Sequence[str]) -> Sequence[Vector]: ...


class EmbeddingService:
    """Serves ``POST /embed`` and ``GET /health`` over one loaded model."""

    def __init__(self, embedder: Embedder, config: RuntimeConfig) -> None:
        self._embedder = embedder
        self._limits = Limits(
            max_inputs=config.max_inputs,
            max_input_chars=config.max_input_chars,
            max_body_bytes=config.max_body_bytes,
        )
        self._cache = EmbeddingCache(config.cache_size)
        self._routes: dict[str, dict[str, Callable[[Request], Response]]] = {
            "/embed": {"POST": self._embed_route},
            "/health": {"GET": self._health_route, "HEAD": self._health_route},
        }

    @property
    def model(self) -> ModelInfo:
        """The loaded model's name and shape."""
        return self._embedder.info

    @property
    def limits(self) -> Limits:
        """The request limits in force."""
        return self._limits

    def handle(self, request: Request) -> Response:
        """Route a request; raises a ColdbrewError for anything refused."""
        path = request.path.rstrip("/") or "/"
        methods = self._routes.get(path)
        if methods is None:
            known = ", ".join(sorted(self._routes))
            raise NotFoundError(f"no route for {_quoted(request.path)}; known paths: {known}")
        route = methods.get(request.method.upper())
        if route is None:
            allowed = tuple(sorted(methods))
            raise MethodNotAllowedError(
                f"{_quoted(request.method.upper())} is not allowed on {path}; "
                f"use {', '.join(allowed)}",
                allowed=allowed,
            )
        return route(request)

    def embed(self, request: EmbedRequest) -> Response:
        """Embed validated inputs, serving repeats from the cache."""
        vectors: list[Vector | None] = [self._cache.get(t) for t in request.inputs]
        missing = list(
            dict.fromkeys(t for t, v in zip(request.inputs, vectors, strict=True) if v is None)
        )
        if missing:
            fresh = dict(zip(missing, self._embedder.embed(missing), strict=True))
            self._cache.put_many(fresh.items())
            vectors = [
                fresh[t] if v is None else v for t, v in zip(request.inputs, vectors, strict=True)
            ]
        info = self._embedder.info
        return Response(
            200,
            {
                "model": info.name,
                "dimensions": info.dimensions,
                "embeddings": [v.tolist() for v in vectors if v is not None],
            },
        )

    def embed_payload(self, payload: object) -> Response:
        """Validate an already-decoded body (direct invocation) and embed it."""
        return self.embed(parse_embed_request(payload, self._limits))

    def _embed_route(self, request: Request) -> Response:
        return self.embed_payload(parse_json_body(request.body, self._limits))

    def _health_route(self, request: Request) -> Response:
        info = self._embedder.info
        return Response(
            200,
            {
                "status": "ok",
                "model": info.name,
                "version": info.version,
                "dimensions": info.dimensions,
                "max_tokens": info.max_tokens,
                "limits": {
                    "max_inputs": self._limits.max_inputs,
                    "max_input_chars": self._limits.max_input_chars,
                    "max_body_bytes": self._limits.max_body_bytes,
                },
            },
        )


def _quoted(text: str, limit: int = 100) -> str:
    """``text`` quoted for a refusal, cut short: a caller's path may be megabytes."""
    return repr(text[:limit]) + ("..." if len(text) > limit else "")
