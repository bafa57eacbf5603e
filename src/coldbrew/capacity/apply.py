"""A schedule file onto AWS: Application Auto Scaling scheduled actions, plan then execute.

::

    import boto3
    from coldbrew.capacity.apply import apply_schedule

    client = boto3.client("application-autoscaling", region_name="eu-west-1")
    result = apply_schedule(client, schedule, echo=print)

The client is anything with boto3's four calls below; this module never
creates one and imports no AWS package. The work is split so it can be shown
before it is done:

1. :func:`existing_actions` reads the scalable target's scheduled actions.
2. :func:`plan_apply` (pure) computes every call: ``register_scalable_target``
   (namespace ``lambda``, ``function:<name>:<alias>``, dimension
   ``lambda:function:ProvisionedConcurrency``, min/max over the day), one
   ``put_scheduled_action`` per block (named ``coldbrew-HHMM``; a put on an
   existing name updates it), then ``delete_scheduled_action`` for every
   ``coldbrew-``-named action the schedule no longer has. Deletions come last
   so the target is never left without an action for a moment. Actions not
   named ``coldbrew-*`` are someone else's and are left alone.
3. :func:`execute` makes the calls in order.

Lambda's provisioned-concurrency API itself is not called: Application Auto
Scaling sets it when an action fires.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from coldbrew.capacity.schedule import ACTION_PREFIX, Schedule

NAMESPACE = "lambda"
DIMENSION = "lambda:function:ProvisionedConcurrency"


class AutoScalingClient(Protocol):
    """The calls of boto3's ``application-autoscaling`` client this module uses."""

    def register_scalable_target(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def put_scheduled_action(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def describe_scheduled_actions(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def delete_scheduled_action(self, **kwargs: Any) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Call:
    """One API call: the client method and its keyword arguments."""

    operation: str
    params: Mapping[str, Any]

    def describe(self) -> str:
        """One line: the operation and its arguments, in the API's own names."""
        return f"{self.operation} {json.dumps(dict(self.params), sort_keys=True)}"


@dataclass(frozen=True)
class ApplyResult:
    """What :func:`execute` did."""

    resource_id: str
    calls: tuple[Call, ...]
    #: Names of the scheduled actions put (created or updated), in time order.
    put: tuple[str, ...]
    deleted: tuple[str, ...]


def _target(schedule: Schedule) -> dict[str, str]:
    return {
        "ServiceNamespace": NAMESPACE,
        "ResourceId": schedule.resource_id,
        "ScalableDimension": DIMENSION,
    }


def existing_actions(client: AutoScalingClient, schedule: Schedule) -> tuple[str, ...]:
    """Names of the scheduled actions already on the schedule's scalable target (all pages)."""
    names: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = dict(_target(schedule))
        if token:
            kwargs["NextToken"] = token
        page = client.describe_scheduled_actions(**kwargs)
        names.extend(str(a["ScheduledActionName"]) for a in page.get("ScheduledActions", ()))
        token = page.get("NextToken")
        if not token:
            return tuple(names)


def plan_apply(schedule: Schedule, existing: Sequence[str] = ()) -> tuple[Call, ...]:
    """Every call that makes the target match ``schedule``, given the ``existing`` action names."""
    target = _target(schedule)
    calls = [
        Call(
            "register_scalable_target",
            {
                **target,
                "MinCapacity": min(b.min_capacity for b in schedule.blocks),
                "MaxCapacity": max(b.max_capacity for b in schedule.blocks),
            },
        )
    ]
    for block in schedule.blocks:
        calls.append(
            Call(
                "put_scheduled_action",
                {
                    **target,
                    "ScheduledActionName": block.action_name,
                    "Schedule": block.cron,
                    "ScalableTargetAction": {
                        "MinCapacity": block.min_capacity,
                        "MaxCapacity": block.max_capacity,
                    },
                },
            )
        )
    wanted = {b.action_name for b in schedule.blocks}
    for name in sorted(existing):
        if name.startswith(ACTION_PREFIX) and name not in wanted:
            calls.append(Call("delete_scheduled_action", {**target, "ScheduledActionName": name}))
    return tuple(calls)


def execute(client: AutoScalingClient, calls: Sequence[Call]) -> ApplyResult:
    """Make ``calls`` in order; the first failure propagates (later calls are not made)."""
    put: list[str] = []
    deleted: list[str] = []
    resource_id = ""
    for call in calls:
        getattr(client, call.operation)(**call.params)
        resource_id = str(call.params.get("ResourceId", resource_id))
        if call.operation == "put_scheduled_action":
            put.append(str(call.params["ScheduledActionName"]))
        elif call.operation == "delete_scheduled_action":
            deleted.append(str(call.params["ScheduledActionName"]))
    return ApplyResult(resource_id, tuple(calls), tuple(put), tuple(deleted))


def apply_schedule(
    client: AutoScalingClient,
    schedule: Schedule,
    *,
    echo: Callable[[str], None] = lambda _line: None,
    dry_run: bool = False,
) -> ApplyResult:
    """Plan, ``echo`` each planned call, then make them (unless ``dry_run``)."""
    calls = plan_apply(schedule, existing_actions(client, schedule))
    for call in calls:
        echo(call.describe())
    if dry_run:
        return ApplyResult(schedule.resource_id, calls, (), ())
    return execute(client, calls)
