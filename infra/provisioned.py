"""Provisioned concurrency on alias ``live``, managed by Application Auto Scaling.

The alias gets no ``ProvisionedConcurrencyConfig`` of its own: registering
the scalable target brings the provisioned concurrency into
``[min_capacity, max_capacity]`` ("anytime ... the RegisterScalableTarget API
is called, Application Auto Scaling retrieves the current capacity and
compares it to the minimum and maximum capacity. If it falls outside of the
minimum-maximum range, then the capacity is updated", Application Auto
Scaling user guide, concepts), so the minimum is the initial level. A fixed
value in the template as well would fight Application Auto Scaling on every
deploy, and once a scheduled action had scaled the alias to 0 (which deletes
its configuration) the next stack update would fail with
ProvisionedConcurrencyConfigNotFoundException (aws/aws-cdk#29992).

Two ways to move the level, usable together:

* target tracking on ``LambdaProvisionedConcurrencyUtilization``: capacity
  follows the load, keeping the utilization near the target;
* the scheduled actions of a ``coldbrew tune`` schedule: each block sets the
  minimum and maximum at its start, daily, in UTC. The tuner writes
  ``min == max``, which pins the level; with target tracking too, a block
  with ``min < max`` bounds the tracker instead.
"""

from __future__ import annotations

from aws_cdk import TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_lambda as lambda_

from infra.cold_start_settings import ProvisionedSettings


def add_provisioned_concurrency(
    alias: lambda_.Alias, *, settings: ProvisionedSettings
) -> lambda_.IScalableFunctionAttribute:
    """Register ``alias`` with Application Auto Scaling and add the policy and actions.

    Returns the scalable attribute (CDK's handle on the scalable target).
    """
    scaling = alias.add_auto_scaling(
        min_capacity=settings.min_capacity, max_capacity=settings.max_capacity
    )
    if settings.target_utilization is not None:
        scaling.scale_on_utilization(utilization_target=settings.target_utilization)
    if settings.schedule is not None:
        for block in settings.schedule.blocks:
            # The action's name is the block's (coldbrew-HHMM), as
            # `coldbrew tune --apply` names it, so both tools agree on one action.
            scaling.scale_on_schedule(
                block.action_name,
                # The file's cron is already the scheduled action's expression.
                schedule=appscaling.Schedule.expression(block.cron),
                min_capacity=block.min_capacity,
                max_capacity=block.max_capacity,
                # The schedule file's times are UTC; say so rather than rely on the default.
                time_zone=TimeZone.ETC_UTC,
            )
    return scaling
