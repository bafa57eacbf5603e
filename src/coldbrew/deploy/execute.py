"""Make a :class:`~coldbrew.deploy.calls.DeployPlan`'s calls, in order, through injected clients.

::

    result = execute_plan(plan, clients, echo=print)      # clock and sleep injectable
    fetch_deployed_artifact(spec, clients, Path("served.zip"))   # the bytes, checked

Each call is echoed before it is made; the first failure stops the deploy
with a :class:`~coldbrew.errors.DeployError` naming the call (the calls
before it stay made: running the command again plans from where it stopped).
``wait_until_ready`` polls ``get_function_configuration`` with the injected
``clock`` and ``sleep`` until Lambda has finished creating or updating the
function. Application Auto Scaling calls go through
:func:`coldbrew.capacity.apply.execute`, as ``coldbrew tune --apply`` does.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coldbrew.capacity import apply
from coldbrew.deploy.calls import WAIT, DeployCall, DeployPlan
from coldbrew.deploy.clients import DeployClients
from coldbrew.deploy.observe import is_ready
from coldbrew.deploy.spec import DeploySpec
from coldbrew.errors import DeployError

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class DeployResult:
    """What :func:`execute_plan` did, and where the function now is."""

    calls: tuple[DeployCall, ...]
    #: The version the alias points at (published now, or already there).
    version: str | None
    #: The function URL on the alias.
    url: str | None
    schedule: apply.ApplyResult | None = None
    #: The provisioned-concurrency port's answer, when a level was put.
    provisioned: Mapping[str, Any] | None = None


class _Executor:
    def __init__(
        self,
        clients: DeployClients,
        *,
        echo: Callable[[str], None],
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        wait_timeout_s: float,
        poll_s: float,
    ) -> None:
        self.clients = clients
        self.echo = echo
        self.clock = clock
        self.sleep = sleep
        self.wait_timeout_s = wait_timeout_s
        self.poll_s = poll_s

    def call(self, call: DeployCall) -> Mapping[str, Any]:
        self.echo(call.describe())
        try:
            if call.service == "s3":
                return getattr(self.clients.s3, call.operation)(**call.params) or {}
            if call.service == "provisioned-concurrency":
                return self.clients.provisioned.put_provisioned_concurrency_config(**call.params)
            if call.operation == WAIT:
                return self.wait(str(call.params["FunctionName"]))
            result: Mapping[str, Any] = getattr(self.clients.lambda_, call.operation)(**call.params)
            return result
        except DeployError:
            raise
        except Exception as exc:
            raise DeployError(f"{call.service} {call.operation} failed: {_reason(exc)}") from exc

    def schedule(self, calls: list[DeployCall]) -> apply.ApplyResult:
        client = self.clients.autoscaling
        if client is None:
            raise DeployError("a schedule needs an application-autoscaling client")
        for call in calls:
            self.echo(call.describe())
        try:
            return apply.execute(client, [apply.Call(c.operation, c.params) for c in calls])
        except Exception as exc:
            raise DeployError(f"application-autoscaling failed: {_reason(exc)}") from exc

    def wait(self, name: str) -> Mapping[str, Any]:
        deadline = self.clock() + self.wait_timeout_s
        while True:
            configuration = self.clients.lambda_.get_function_configuration(FunctionName=name)
            if is_ready(configuration):
                return configuration
            for status, reason in (
                ("State", "StateReason"),
                ("LastUpdateStatus", "LastUpdateStatusReason"),
            ):
                if configuration.get(status) == "Failed":
                    why = configuration.get(reason) or "no reason given"
                    raise DeployError(f"Lambda failed to set up {name}: {why}")
            if self.clock() >= deadline:
                raise DeployError(
                    f"{name} still not ready after {self.wait_timeout_s:g} s "
                    f"(State {configuration.get('State')}, "
                    f"LastUpdateStatus {configuration.get('LastUpdateStatus')}): "
                    "run the deploy again once it is"
                )
            self.sleep(self.poll_s)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def execute_plan(
    plan: DeployPlan,
    clients: DeployClients,
    *,
    echo: Callable[[str], None] = lambda _line: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wait_timeout_s: float = 600.0,
    poll_s: float = 1.0,
) -> DeployResult:
    """Make ``plan``'s calls in order; the first failure raises :class:`DeployError`."""
    run = _Executor(
        clients, echo=echo, clock=clock, sleep=sleep, wait_timeout_s=wait_timeout_s, poll_s=poll_s
    )
    values = dict(plan.known)
    made: list[DeployCall] = []
    schedule: apply.ApplyResult | None = None
    provisioned: Mapping[str, Any] | None = None
    calls = list(plan.calls)
    while calls:
        if calls[0].service == "application-autoscaling":
            group = []
            while calls and calls[0].service == "application-autoscaling":
                group.append(calls.pop(0))
            schedule = run.schedule(group)
            made.extend(group)
            continue
        call = calls.pop(0).resolve(values)
        response = run.call(call)
        made.append(call)
        for name, key in call.saves:
            values[name] = str(response[key])
        if call.service == "provisioned-concurrency":
            provisioned = response
    return DeployResult(
        calls=tuple(made),
        version=values.get("version"),
        url=values.get("url"),
        schedule=schedule,
        provisioned=provisioned,
    )


def fetch_deployed_artifact(spec: DeploySpec, clients: DeployClients, dest: Path) -> Path:
    """Write the code the alias runs to ``dest``, checked byte for byte against the build.

    The alias's ``CodeSha256`` must be the built zip's, and the S3 object the
    function was made from must hash to the build's sha256: what is served
    afterwards is exactly what was deployed.
    """
    configuration = clients.lambda_.get_function(
        FunctionName=spec.function_name, Qualifier=spec.alias
    )["Configuration"]
    deployed = configuration.get("CodeSha256")
    if deployed != spec.code_sha256:
        raise DeployError(
            f"{spec.function_name}:{spec.alias} runs CodeSha256 {deployed}, not the built "
            f"artifact's {spec.code_sha256}: run the deploy again"
        )
    body = clients.s3.get_object(Bucket=spec.bucket, Key=spec.key)["Body"]
    digest = hashlib.sha256()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        while chunk := body.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != spec.sha256:
        dest.unlink()
        raise DeployError(
            f"s3://{spec.bucket}/{spec.key} hashes to {digest.hexdigest()}, not the build's "
            f"{spec.sha256}: the object was changed; delete it and deploy again"
        )
    return dest
