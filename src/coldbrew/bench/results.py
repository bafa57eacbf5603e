"""What a bench run measured: every raw sample, per variant, and the JSON of it.

Units are in the names: ``_ms`` milliseconds (client-side unless the name
says REPORT), ``_bytes``, ``_mb`` (MB of 2**20 bytes, as Lambda's REPORT
line counts memory). The JSON (:meth:`BenchResult.to_json`, schema
:data:`SCHEMA`) carries the raw samples beside each summary so any figure can
be recomputed; :func:`schema_problems` checks a loaded JSON's shape.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coldbrew.bench.ratios import (
    COLD_MEDIAN,
    COLD_P90,
    UNZIPPED,
    WARM_P50,
    ZIPPED,
    Ratio,
)
from coldbrew.bench.stats import Summary, summarize
from coldbrew.bench.variants import Variant

SCHEMA = 1


@dataclass(frozen=True)
class ColdSample:
    """One cold start: the first request to a fresh sandbox.

    ``latency_ms`` is the client's (request sent to response read, over a
    kept-alive connection), which covers sandbox start, init and the first
    invocation; ``init_ms`` and ``duration_ms`` come from the REPORT record.
    """

    round: int
    position: int  # place within its round (the round-robin rotates)
    status: int  # HTTP status
    cold: bool  # the REPORT record says a new sandbox answered
    latency_ms: float
    init_ms: float | None
    duration_ms: float | None
    max_memory_mb: int | None
    page_cache_dropped: bool

    @property
    def ok(self) -> bool:
        """A 200 from a fresh sandbox: only these count in the figures."""
        return self.status == 200 and self.cold


@dataclass(frozen=True)
class Throughput:
    """Requests/s at batch 1 with ``clients`` concurrent keep-alive clients."""

    clients: int
    requests: int  # answered with a 200
    failures: int
    seconds: float  # wall time of the timed requests, all slices added up
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Successful requests per second of wall time."""
        return self.requests / self.seconds if self.seconds > 0 else math.nan


@dataclass
class VariantResult:
    """Everything measured for one variant."""

    variant: Variant
    cold: list[ColdSample] = field(default_factory=list)
    warm_b1_ms: list[float] = field(default_factory=list)
    warm_b32_ms: list[float] = field(default_factory=list)
    throughput: Throughput | None = None
    max_memory_mb: int | None = None  # highest REPORT "Max Memory Used" over the run
    runtime_python: str = ""  # the exact interpreter version its sandboxes ran
    failures: list[str] = field(default_factory=list)

    @property
    def cold_ok(self) -> list[ColdSample]:
        """The cold samples that count."""
        return [s for s in self.cold if s.ok]

    def cold_summary(self) -> Summary:
        """Client-side cold start, ms."""
        return summarize([s.latency_ms for s in self.cold_ok])

    def init_summary(self) -> Summary:
        """REPORT Init Duration of the cold starts, ms."""
        return summarize([s.init_ms for s in self.cold_ok if s.init_ms is not None])

    def figures(self) -> dict[str, float | None]:
        """The figures ratios are taken of (None where not measured)."""
        cold = self.cold_summary()
        warm = summarize(self.warm_b1_ms)
        return {
            COLD_MEDIAN: None if cold.count == 0 else cold.median,
            COLD_P90: None if cold.count == 0 else cold.p90,
            WARM_P50: None if warm.count == 0 else warm.median,
            UNZIPPED: float(self.variant.unzipped_bytes),
            ZIPPED: None if self.variant.zipped_bytes is None else float(self.variant.zipped_bytes),
        }

    def to_json(self) -> dict[str, Any]:
        """Facts, summaries and raw samples of this variant."""
        v = self.variant
        throughput = None
        if self.throughput is not None:
            t = self.throughput
            throughput = {
                "clients": t.clients,
                "requests": t.requests,
                "failures": t.failures,
                "seconds": t.seconds,
                "requests_per_s": _finite(t.per_second),
                "latency_ms": summarize(t.latencies_ms).to_json(),
                "samples_ms": t.latencies_ms,
            }
        return {
            "key": v.key,
            "label": v.label,
            "description": v.description,
            "artifact": str(v.artifact),
            "kind": v.kind,
            "platform": v.platform,
            "python": v.python_version,
            "runtime_python": self.runtime_python,
            "zipped_bytes": v.zipped_bytes,
            "unzipped_bytes": v.unzipped_bytes,
            "embeds": v.embeds,
            "env": dict(v.env),
            "notes": list(v.notes),
            "built_this_run": v.built_now,
            "max_memory_mb": self.max_memory_mb,
            "cold_start": {
                "latency_ms": self.cold_summary().to_json(),
                "init_duration_ms": self.init_summary().to_json(),
                "samples": [_finite_fields(asdict(s)) for s in self.cold],
            },
            "warm": {
                "batch_1": {
                    "latency_ms": summarize(self.warm_b1_ms).to_json(),
                    "samples_ms": self.warm_b1_ms,
                },
                "batch_32": {
                    "latency_ms": summarize(self.warm_b32_ms).to_json(),
                    "samples_ms": self.warm_b32_ms,
                },
            },
            "throughput": throughput,
            "failures": self.failures,
        }


@dataclass
class BenchResult:
    """One bench run: settings, environment, every variant, the ratios."""

    started_at: str  # ISO 8601, UTC
    duration_s: float
    settings: dict[str, Any]
    environment: dict[str, Any]
    variants: list[VariantResult]
    ratios: list[Ratio]

    def variant(self, key: str) -> VariantResult | None:
        """The result of variant ``key`` ("coldbrew", "a", "b", "c"), if measured."""
        return next((r for r in self.variants if r.variant.key == key), None)

    @property
    def failures(self) -> list[str]:
        """Every failed request, named by variant."""
        return [f"{r.variant.label}: {f}" for r in self.variants for f in r.failures]

    def to_json(self) -> dict[str, Any]:
        """The whole run as a JSON-ready dict."""
        return {
            "schema": SCHEMA,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 1),
            "settings": self.settings,
            "environment": self.environment,
            "variants": [r.to_json() for r in self.variants],
            "ratios": [r.to_json() for r in self.ratios],
        }

    def write(self, path: Path) -> Path:
        """Write the JSON to ``path`` (parents created); returns ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        return path


_TOP = {"schema", "started_at", "duration_s", "settings", "environment", "variants", "ratios"}
_VARIANT = {"key", "label", "python", "unzipped_bytes", "cold_start", "warm", "throughput"}
_ENVIRONMENT = {"cpu_model", "cores", "load_before", "load_after", "page_cache", "pythons"}
_SUMMARY = {"count", "min", "median", "p90", "p99", "max", "mean"}


def schema_problems(data: Any) -> list[str]:
    """What is wrong with a loaded bench JSON's shape; empty when it is well-formed."""
    if not isinstance(data, dict):
        return ["the document is not an object"]
    problems = [f"missing {key!r}" for key in sorted(_TOP - set(data))]
    if data.get("schema") != SCHEMA:
        problems.append(f"schema is {data.get('schema')!r}, expected {SCHEMA}")
    environment = data.get("environment", {})
    problems += [f"environment lacks {k!r}" for k in sorted(_ENVIRONMENT - set(environment))]
    variants = data.get("variants", [])
    if not variants or variants[0].get("key") != "coldbrew":
        problems.append("the first variant must be coldbrew")
    for variant in variants:
        name = variant.get("key", "?")
        problems += [f"variant {name} lacks {k!r}" for k in sorted(_VARIANT - set(variant))]
        cold = variant.get("cold_start", {})
        for part in ("latency_ms", "init_duration_ms"):
            if set(cold.get(part, {})) != _SUMMARY:
                problems.append(f"variant {name}: cold_start.{part} is not a summary")
        samples = cold.get("samples", [])
        if not all(isinstance(s.get("latency_ms"), int | float) for s in samples):
            problems.append(f"variant {name}: a cold sample has no numeric latency_ms")
    for ratio in data.get("ratios", []):
        if not {"figure", "baseline", "ratio", "target", "met"} <= set(ratio):
            problems.append(f"ratio {ratio!r} lacks fields")
    return problems


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _finite_fields(sample: dict[str, Any]) -> dict[str, Any]:
    # A failed request has a NaN latency; JSON has no NaN, so it becomes null.
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in sample.items()
    }
