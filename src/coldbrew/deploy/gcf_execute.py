"""Make a :class:`~coldbrew.deploy.gcf_plan.GcfPlan`'s calls through a :class:`GcfPort`.

::

    port = google_gcf()                                   # or against the local fake
    observed = port.get_function(spec)
    plan = plan_gcf_deploy(spec, observed)
    result = execute_gcf(plan, port, observed, zip_bytes, say=print)
    result.uri                                            # the function's URL

Each call is announced with ``say`` before it is made; long-running
operations report their progress through ``say`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from coldbrew.deploy.gcf_client import GcfPort, Upload
from coldbrew.deploy.gcf_plan import GcfPlan, ObservedFunction
from coldbrew.errors import DeployError


@dataclass(frozen=True)
class GcfResult:
    """What a deploy left: the URL, and the calls made (none for an unchanged redeploy)."""

    uri: str
    calls_made: tuple[str, ...]
    public: bool


def execute_gcf(
    plan: GcfPlan,
    port: GcfPort,
    observed: ObservedFunction | None,
    data: bytes,
    *,
    say: Callable[[str], None],
) -> GcfResult:
    """Make ``plan``'s calls in order; ``observed`` is the state it was planned from."""
    spec = plan.spec
    upload: Upload | None = None
    current = observed
    made = []
    for call in plan.calls:
        say(call.describe(spec))
        made.append(call.kind)
        if call.kind == "upload":
            upload = port.generate_upload_url(spec)
            port.put_source(upload, data)
        elif call.kind == "create_function":
            if upload is None:
                raise DeployError("create_function needs the uploaded source: plan it first")
            current = port.create_function(spec, upload, say)
        elif call.kind == "update_function":
            current = port.update_function(spec, upload, call.update_mask, say)
        else:
            if current is None or not current.service:
                raise DeployError(
                    f"{spec.name} has no Cloud Run service yet: deploy again once it is ready"
                )
            port.set_public(current.service, call.public)
    if current is None:
        raise DeployError(f"{spec.name} was not found after deploying: deploy again")
    public = spec.allow_unauthenticated if plan.calls else current.public
    return GcfResult(current.uri, tuple(made), public)
