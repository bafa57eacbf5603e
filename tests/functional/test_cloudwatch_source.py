"""CloudWatchSource against moto's CloudWatch through a real boto3 client, plus
two small fakes for what moto cannot show (pagination, an error response)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from coldbrew.capacity.cloudwatch import CloudWatchSource
from coldbrew.errors import TrafficDataError

# Two hours ago on the hour: inside the 15 days CloudWatch keeps 1-minute data.
BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
FUNCTION = "embed"


def _clock() -> datetime:
    return BASE + timedelta(minutes=10)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        # One attempt: a refused request should fail at once, not after retries.
        yield boto3.client(
            "cloudwatch", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1})
        )


def _put(
    client: Any, metric: str, minute: float, value: float, qualifier: str | None = None
) -> None:
    dimensions = [{"Name": "FunctionName", "Value": FUNCTION}]
    if qualifier:
        dimensions.append({"Name": "Resource", "Value": f"{FUNCTION}:{qualifier}"})
    client.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": dimensions,
                "Timestamp": BASE + timedelta(minutes=minute),
                "Value": value,
            }
        ],
    )


@pytest.fixture
def traffic(client: Any) -> Any:
    """Invocations in minutes 0, 1, 4 and 9 of ten; durations and concurrency with them."""
    for minute, count in ((0, 3), (0.5, 2), (1, 4), (4, 1), (9, 6)):
        _put(client, "Invocations", minute, count)
    for minute, duration in ((0, 100.0), (0.5, 300.0), (1, 50.0), (4, 20.0), (9, 10.0)):
        _put(client, "Duration", minute, duration)
    for minute, concurrency in ((0, 1), (0.5, 2), (9, 3)):
        _put(client, "ConcurrentExecutions", minute, concurrency)
    # An alias's metrics carry the Resource dimension and stay apart.
    _put(client, "Invocations", 2, 11, qualifier="live")
    return client


def test_fetch_reads_invocations_durations_and_concurrency(traffic: Any) -> None:
    metrics = CloudWatchSource(traffic, clock=_clock).fetch(FUNCTION, start=BASE)
    series = metrics.series
    assert (series.name, series.start, series.step_s) == (FUNCTION, BASE, 60)
    assert series.counts == (5.0, 4.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 6.0)
    # The periods without a datapoint are zeros, and reported as such.
    assert series.filled == (2, 3, 5, 6, 7, 8)
    assert "6 of 10 periods" in series.fill_note
    assert "treated as 0 invocations" in series.fill_note
    assert metrics.duration_avg_ms[:2] == (200.0, 50.0)
    assert metrics.duration_avg_ms[2] is None
    assert metrics.duration_max_ms[0] == 300.0
    assert metrics.concurrency_max == (2.0, None, None, None, None, None, None, None, None, 3.0)
    # Weighted by invocations: (5*200 + 4*50 + 1*20 + 6*10) / 16.
    assert metrics.mean_duration_ms == pytest.approx(80.0)
    assert series.extra["mean_duration_ms"] == "80"
    assert series.extra["max_concurrency"] == "3"
    assert series.source == "cloudwatch:embed"


def test_qualifier_selects_the_resource_dimension(traffic: Any) -> None:
    source = CloudWatchSource(traffic, clock=_clock)
    series = source.traffic(FUNCTION, start=BASE, end=BASE + timedelta(minutes=5), qualifier="live")
    assert series.name == "embed:live"
    assert series.counts == (0.0, 0.0, 11.0, 0.0, 0.0)
    assert series.extra["qualifier"] == "live"


def test_coarser_period_and_end_clamped_to_the_clock(traffic: Any) -> None:
    source = CloudWatchSource(traffic, clock=_clock)
    series = source.traffic(FUNCTION, start=BASE, end=BASE + timedelta(days=1), period_s=300)
    # The clock is at minute 10: two complete 5-minute periods, never a future one.
    assert series.counts == (10.0, 6.0)
    assert series.filled == ()
    assert series.fill_note == ""


def test_no_datapoint_at_all_is_an_error_not_zeros(traffic: Any) -> None:
    source = CloudWatchSource(traffic, clock=_clock)
    with pytest.raises(TrafficDataError, match="no Invocations datapoint") as raised:
        source.fetch("no-such-function", start=BASE)
    assert raised.value.source == "cloudwatch:no-such-function"
    with pytest.raises(TrafficDataError, match="no Invocations datapoint"):
        source.fetch(FUNCTION, start=BASE, qualifier="canary")


def test_percentiles_the_backend_cannot_compute_are_an_error(traffic: Any) -> None:
    source = CloudWatchSource(traffic, clock=_clock)
    # moto answers with Duration datapoints that lack the p99 statistic.
    with pytest.raises(TrafficDataError, match="without p99"):
        source.duration_percentile(FUNCTION, start=BASE)
    with pytest.raises(TrafficDataError, match="percentile must be within"):
        source.duration_percentile(FUNCTION, start=BASE, percentile=100)


def test_ranges_cloudwatch_cannot_answer(client: Any) -> None:
    source = CloudWatchSource(client, clock=_clock)
    with pytest.raises(TrafficDataError, match="multiple of 60"):
        source.fetch(FUNCTION, start=BASE, period_s=90)
    with pytest.raises(TrafficDataError, match="no complete 60-second period"):
        source.fetch(FUNCTION, start=_clock())
    with pytest.raises(TrafficDataError, match="300-second resolution"):
        source.fetch(FUNCTION, start=BASE - timedelta(days=20))
    with pytest.raises(TrafficDataError, match="timezone-aware"):
        source.fetch(FUNCTION, start=BASE.replace(tzinfo=None))


class _PagedCloudWatch:
    """A fake that splits the Invocations answer over two pages."""

    def __init__(self) -> None:
        self.tokens: list[str | None] = []

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
        self.tokens.append(kwargs.get("NextToken"))
        start = kwargs["StartTime"]
        if "NextToken" not in kwargs:
            page = {"Id": "invocations", "Timestamps": [start], "Values": [2.0]}
            return {"MetricDataResults": [page], "NextToken": "page-2"}
        later = start + timedelta(minutes=2)
        page = {"Id": "invocations", "Timestamps": [later], "Values": [7.0]}
        return {"MetricDataResults": [page]}

    def get_metric_statistics(self, **kwargs: Any) -> Mapping[str, Any]:
        error = {"Error": {"Code": "InternalFailure", "Message": "percentiles unsupported"}}
        raise ClientError(error, "GetMetricStatistics")


def test_pagination_follows_next_token_and_error_responses_are_named() -> None:
    fake = _PagedCloudWatch()
    source = CloudWatchSource(fake, clock=_clock)
    series = source.traffic(FUNCTION, start=BASE, end=BASE + timedelta(minutes=3))
    assert fake.tokens == [None, "page-2"]
    assert series.counts == (2.0, 0.0, 7.0)
    assert series.filled == (1,)
    with pytest.raises(TrafficDataError, match="cannot provide p99 of Duration"):
        source.duration_percentile(FUNCTION, start=BASE)


def test_datapoints_off_the_grid_are_refused() -> None:
    class OffGrid(_PagedCloudWatch):
        def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
            moment = kwargs["StartTime"] + timedelta(seconds=30)
            return {
                "MetricDataResults": [
                    {"Id": "invocations", "Timestamps": [moment], "Values": [1.0]}
                ]
            }

    with pytest.raises(TrafficDataError, match="not on the 60-second grid"):
        CloudWatchSource(OffGrid(), clock=_clock).fetch(FUNCTION, start=BASE)
