"""A Lambda function's traffic from CloudWatch metrics, through an injected client.

::

    import boto3
    from coldbrew.capacity.cloudwatch import CloudWatchSource

    source = CloudWatchSource(boto3.client("cloudwatch"))
    metrics = source.fetch("embed", start=week_ago, period_s=300, qualifier="live")
    metrics.series            # TrafficSeries of Invocations (Sum) per period
    metrics.duration_avg_ms   # Duration (Average) per period, None where no datapoint
    metrics.duration_max_ms   # Duration (Maximum)
    metrics.concurrency_max   # ConcurrentExecutions (Maximum)
    source.duration_percentile("embed", start=week_ago, percentile=99)  # may raise

The client is anything with boto3's ``get_metric_data`` and
``get_metric_statistics``; this module never creates one and imports no AWS
package. A ``qualifier`` (alias or version) selects the ``Resource``
dimension ``function:qualifier``.

**The range.** Bins lie on a grid of ``period_s`` (a multiple of 60: Lambda
metrics have one-minute resolution) from the Unix epoch. ``start`` is floored
to the grid; ``end`` (default: ``clock()``) is floored too, so a period still
in progress is never read as complete. CloudWatch keeps 1-minute data for 15
days, 5-minute data for 63 days and hourly data for 455 days: a range reaching
further back for its period is refused, since the missing data would read as
zeros.

**Missing periods.** CloudWatch returns no datapoint for a period in which
Lambda published nothing, and Lambda publishes ``Invocations`` only for
periods with at least one invocation. So, when the metric has datapoints in
the range (the function and qualifier exist and were invoked), a missing
period is 0 invocations: it is counted as 0 *and* listed in
``series.filled`` with a ``fill_note`` saying so. When the metric has no
datapoint at all in the range, a wrong name, a wrong qualifier and an idle
function look the same, so :meth:`CloudWatchSource.fetch` raises
:class:`TrafficDataError` rather than return zeros.

**Durations.** Per-period Duration and concurrency are in :class:`LambdaMetrics`;
their invocation-weighted summaries are also in ``series.extra`` as strings
(``mean_duration_ms``, ``max_duration_ms``, ``max_concurrency``) for consumers
that only see the series.

**Percentiles** (p99 Duration) are behind :meth:`CloudWatchSource.duration_percentile`:
some backends cannot compute them (moto returns HTTP 500, or datapoints
without the percentile), and that is a :class:`TrafficDataError` saying so,
never a missing value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, Protocol

from coldbrew.capacity.series import TrafficSeries
from coldbrew.errors import TrafficDataError

NAMESPACE = "AWS/Lambda"
#: (resolution in seconds, how long CloudWatch keeps data at that resolution).
RETENTION = ((60, timedelta(days=15)), (300, timedelta(days=63)), (3600, timedelta(days=455)))
#: Datapoints one get_metric_statistics call may return.
STATISTICS_LIMIT = 1440


class CloudWatchClient(Protocol):
    """The two calls of boto3's CloudWatch client this module uses."""

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_metric_statistics(self, **kwargs: Any) -> Mapping[str, Any]: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LambdaMetrics:
    """Invocations as a :class:`TrafficSeries` plus per-period duration and concurrency.

    The tuples align with ``series.counts``; ``None`` where CloudWatch had no
    datapoint (no invocation ended in that period).
    """

    series: TrafficSeries
    duration_avg_ms: tuple[float | None, ...]
    duration_max_ms: tuple[float | None, ...]
    concurrency_max: tuple[float | None, ...]

    @property
    def mean_duration_ms(self) -> float | None:
        """Mean duration over all invocations (each period's average weighted by its count)."""
        pairs = [
            (count, avg)
            for count, avg in zip(self.series.counts, self.duration_avg_ms, strict=True)
            if avg is not None and count > 0
        ]
        total = sum(count for count, _ in pairs)
        return sum(count * avg for count, avg in pairs) / total if total else None


@dataclass(frozen=True)
class _Window:
    start: datetime
    period_s: int
    bins: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.period_s * self.bins)


class CloudWatchSource:
    """Reads a Lambda function's metrics through an injected CloudWatch client."""

    def __init__(
        self,
        client: CloudWatchClient,
        *,
        clock: Callable[[], datetime] = _utc_now,
        namespace: str = NAMESPACE,
    ) -> None:
        self._client = client
        self._clock = clock
        self._namespace = namespace

    def fetch(
        self,
        function_name: str,
        *,
        start: datetime,
        end: datetime | None = None,
        period_s: int = 60,
        qualifier: str | None = None,
    ) -> LambdaMetrics:
        """Invocations, Duration and ConcurrentExecutions over ``[start, end)``."""
        window = self._window(start, end, period_s)
        label = _label(function_name, qualifier)
        queries = {
            "invocations": ("Invocations", "Sum"),
            "duration_avg": ("Duration", "Average"),
            "duration_max": ("Duration", "Maximum"),
            "concurrency_max": ("ConcurrentExecutions", "Maximum"),
        }
        dimensions = _dimensions(function_name, qualifier)
        results = self._metric_data(
            [
                {
                    "Id": query_id,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": self._namespace,
                            "MetricName": metric,
                            "Dimensions": dimensions,
                        },
                        "Period": window.period_s,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
                for query_id, (metric, stat) in queries.items()
            ],
            window,
            label,
        )
        values = {
            query_id: _place(results.get(query_id, []), window, label) for query_id in queries
        }
        invocations = values["invocations"]
        known = [i for i, value in enumerate(invocations) if value is not None]
        if not known:
            raise TrafficDataError(
                f"no Invocations datapoint in {window.start:%Y-%m-%d %H:%M} .. "
                f"{window.end:%Y-%m-%d %H:%M} UTC: a wrong function name or qualifier, "
                "expired data and an idle function look the same, so no zeros are reported",
                source=label,
            )
        missing = tuple(i for i, value in enumerate(invocations) if value is None)
        metrics = LambdaMetrics(
            series=TrafficSeries(
                name=function_name if qualifier is None else f"{function_name}:{qualifier}",
                start=window.start,
                step_s=window.period_s,
                counts=tuple(0.0 if value is None else value for value in invocations),
                filled=missing,
                fill_note=(
                    f"CloudWatch returned no Invocations datapoint for {len(missing)} of "
                    f"{window.bins} periods: treated as 0 invocations (Lambda publishes "
                    "Invocations only for periods with invocations, and the metric has "
                    "datapoints in this range)."
                    if missing
                    else ""
                ),
                source=label,
            ),
            duration_avg_ms=tuple(values["duration_avg"]),
            duration_max_ms=tuple(values["duration_max"]),
            concurrency_max=tuple(values["concurrency_max"]),
        )
        extra = metrics.series.extra
        extra.update(
            {"format": "cloudwatch", "function": function_name, "period_s": str(window.period_s)}
        )
        if qualifier is not None:
            extra["qualifier"] = qualifier
        summaries = {
            "mean_duration_ms": metrics.mean_duration_ms,
            "max_duration_ms": _max(metrics.duration_max_ms),
            "max_concurrency": _max(metrics.concurrency_max),
        }
        extra.update({key: f"{value:g}" for key, value in summaries.items() if value is not None})
        return metrics

    def traffic(
        self,
        function_name: str,
        *,
        start: datetime,
        end: datetime | None = None,
        period_s: int = 60,
        qualifier: str | None = None,
    ) -> TrafficSeries:
        """Just the Invocations series of :meth:`fetch`."""
        return self.fetch(
            function_name, start=start, end=end, period_s=period_s, qualifier=qualifier
        ).series

    def duration_percentile(
        self,
        function_name: str,
        *,
        start: datetime,
        end: datetime | None = None,
        period_s: int = 60,
        percentile: float = 99.0,
        qualifier: str | None = None,
    ) -> tuple[float | None, ...]:
        """The ``percentile`` of Duration (ms) per period; None where no invocation.

        Raises :class:`TrafficDataError` when the backend cannot compute
        percentiles (an error response, or datapoints without the statistic).
        """
        if not 0 < percentile < 100:
            raise TrafficDataError(f"percentile must be within (0, 100), got {percentile}")
        window = self._window(start, end, period_s)
        label = _label(function_name, qualifier)
        stat = f"p{percentile:g}"
        out: list[float | None] = [None] * window.bins
        # get_metric_statistics has no NextToken: it returns at most 1,440
        # datapoints, so the range is asked for in chunks of that many periods.
        for first in range(0, window.bins, STATISTICS_LIMIT):
            chunk_start = window.start + timedelta(seconds=first * window.period_s)
            chunk_bins = min(STATISTICS_LIMIT, window.bins - first)
            try:
                response = self._client.get_metric_statistics(
                    Namespace=self._namespace,
                    MetricName="Duration",
                    Dimensions=_dimensions(function_name, qualifier),
                    StartTime=chunk_start,
                    EndTime=chunk_start + timedelta(seconds=chunk_bins * window.period_s),
                    Period=window.period_s,
                    ExtendedStatistics=[stat],
                )
            except Exception as exc:
                if not isinstance(getattr(exc, "response", None), Mapping):
                    raise  # not an AWS error response: a bug, not a backend limit
                raise TrafficDataError(
                    f"the CloudWatch backend cannot provide {stat} of Duration: {exc}",
                    source=label,
                ) from exc
            for point in response.get("Datapoints", []):
                value = point.get("ExtendedStatistics", {}).get(stat)
                if value is None:
                    raise TrafficDataError(
                        f"the CloudWatch backend returned Duration datapoints without {stat}: "
                        "it cannot compute percentile statistics",
                        source=label,
                    )
                offset = (point["Timestamp"].astimezone(UTC) - window.start).total_seconds()
                index = math.floor(offset / window.period_s)
                if 0 <= index < window.bins:
                    out[index] = float(value)
        return tuple(out)

    def _window(self, start: datetime, end: datetime | None, period_s: int) -> _Window:
        if period_s <= 0 or period_s % 60:
            raise TrafficDataError(
                f"period must be a positive multiple of 60 s (Lambda metrics are per minute), "
                f"got {period_s}"
            )
        now = self._clock()
        for moment in (start, end, now):
            if moment is not None and moment.tzinfo is None:
                raise TrafficDataError("times must be timezone-aware (UTC)")
        first = math.floor(start.timestamp() / period_s)
        last = math.floor(min(end or now, now).timestamp() / period_s)
        if last <= first:
            raise TrafficDataError(
                f"no complete {period_s}-second period between {start:%Y-%m-%d %H:%M:%S} and "
                f"{min(end or now, now):%Y-%m-%d %H:%M:%S} UTC"
            )
        window = _Window(datetime.fromtimestamp(first * period_s, UTC), period_s, last - first)
        age = now - window.start
        if age > RETENTION[-1][1]:
            raise TrafficDataError(
                f"CloudWatch keeps metrics for {RETENTION[-1][1].days} days only: use a later start"
            )
        # Older data survives only rolled up: past 15 days a period must be a
        # multiple of 5 minutes, past 63 days of an hour (CloudWatch's own rule).
        for (_, kept), (coarser, _) in pairwise(RETENTION):
            if age > kept and period_s % coarser:
                raise TrafficDataError(
                    f"CloudWatch keeps data older than {kept.days} days only at a "
                    f"{coarser}-second resolution: use a multiple of {coarser} s as the period "
                    "or a later start"
                )
        return window

    def _metric_data(
        self, queries: Sequence[Mapping[str, Any]], window: _Window, label: str
    ) -> dict[str, list[tuple[datetime, float]]]:
        """Every query's (timestamp, value) pairs, following NextToken to the end."""
        results: dict[str, list[tuple[datetime, float]]] = {}
        token: str | None = None
        while True:
            request: dict[str, Any] = {
                "MetricDataQueries": list(queries),
                "StartTime": window.start,
                "EndTime": window.end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                request["NextToken"] = token
            response = self._client.get_metric_data(**request)
            for result in response.get("MetricDataResults", []):
                status = result.get("StatusCode", "Complete")
                if status not in ("Complete", "PartialData"):
                    raise TrafficDataError(
                        f"CloudWatch answered {status} for {result.get('Id')}: "
                        f"{result.get('Messages', '')}",
                        source=label,
                    )
                pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
                results.setdefault(result["Id"], []).extend(
                    (moment, float(value)) for moment, value in pairs
                )
            token = response.get("NextToken")
            if not token:
                return results


def _place(pairs: list[tuple[datetime, float]], window: _Window, label: str) -> list[float | None]:
    """Datapoints in their bins; a datapoint off the grid or twice in a bin is an error."""
    out: list[float | None] = [None] * window.bins
    for moment, value in pairs:
        offset = (moment.astimezone(UTC) - window.start).total_seconds()
        index, remainder = divmod(offset, window.period_s)
        if remainder or not 0 <= index < window.bins:
            raise TrafficDataError(
                f"datapoint at {moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} is not on the "
                f"{window.period_s}-second grid of the requested range",
                source=label,
            )
        if out[int(index)] is not None:
            raise TrafficDataError(
                f"two datapoints for {moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}", source=label
            )
        if not math.isfinite(value) or value < 0:
            raise TrafficDataError(f"datapoint value {value} is not a count", source=label)
        out[int(index)] = value
    return out


def _dimensions(function_name: str, qualifier: str | None) -> list[dict[str, str]]:
    dimensions = [{"Name": "FunctionName", "Value": function_name}]
    if qualifier is not None:
        # Lambda publishes alias and version metrics under Resource=function:qualifier.
        dimensions.append({"Name": "Resource", "Value": f"{function_name}:{qualifier}"})
    return dimensions


def _label(function_name: str, qualifier: str | None) -> str:
    resource = function_name if qualifier is None else f"{function_name}:{qualifier}"
    return f"cloudwatch:{resource}"


def _max(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None
