"""Capacity planning: traffic in, forecasts, provisioned-concurrency schedules out.

Pure except the traffic sources (trace files, CloudWatch): forecasters, the
tuner and the simulator are functions of a :class:`TrafficSeries`, easy to
test and deterministic under a seed.
"""

from coldbrew.capacity.series import TrafficSeries

__all__ = ["TrafficSeries"]
