"""Capacity planning: traffic in, forecasts, provisioned-concurrency schedules out.

Pure except the traffic sources (trace files, CloudWatch): forecasters, the
tuner and the simulator are functions of a :class:`TrafficSeries`, easy to
test and deterministic under a seed.

Sources: :func:`coldbrew.capacity.traces.load_trace` (Huawei 5-minute, Azure
2019 per-minute, Azure 2021 per-invocation files) and
:class:`coldbrew.capacity.cloudwatch.CloudWatchSource` (an injected client).
Forecasting: :func:`coldbrew.capacity.selection.select_forecaster` picks per
function, by rolling-origin pinball loss, among seasonal naive (daily and
weekly), Holt-Winters, a ridge regression on lagged seasonal features, a
quantile regression on them (fit at the target quantile), and the average of
Holt-Winters and the quantile regression.
"""

from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.traces import load_trace

__all__ = ["TrafficSeries", "load_trace"]
