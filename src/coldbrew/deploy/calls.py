"""The calls a deploy makes: one :class:`DeployCall` each, in a :class:`DeployPlan`.

A call is data (service, client method, keyword arguments), so a plan can be
printed, tested and refused before anything changes; a :class:`Ref` argument
stands for a value only an earlier call's response gives (the version
``publish_version`` made), filled in by :meth:`DeployCall.resolve`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from coldbrew.deploy.spec import DeploySpec
from coldbrew.errors import DeployError

Service = Literal["s3", "lambda", "application-autoscaling", "provisioned-concurrency"]
#: The pseudo-operation waiting until Lambda has finished creating or updating the function.
WAIT = "wait_until_ready"


@dataclass(frozen=True)
class Ref:
    """A value only known once an earlier call answered (the version ``publish_version`` made)."""

    name: str

    def __str__(self) -> str:
        return f"<{self.name}>"


@dataclass(frozen=True)
class DeployCall:
    """One call: the service, the client method and its keyword arguments.

    ``saves`` names values to keep from the response (``("version", "Version")``)
    for later calls' :class:`Ref` arguments.
    """

    service: Service
    operation: str
    params: Mapping[str, Any]
    saves: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        """One line: service, operation and arguments in the API's own names.

        Environment variable values are masked: they may be secrets.
        """
        params = dict(self.params)
        variables = (params.get("Environment") or {}).get("Variables")
        if variables:
            params["Environment"] = {"Variables": dict.fromkeys(variables, "***")}
        return f"{self.service} {self.operation} {json.dumps(params, sort_keys=True, default=str)}"

    def resolve(self, values: Mapping[str, str]) -> DeployCall:
        """A copy with every :class:`Ref` argument replaced by its saved value."""
        if not any(isinstance(v, Ref) for v in self.params.values()):
            return self
        missing = [
            v.name for v in self.params.values() if isinstance(v, Ref) and v.name not in values
        ]
        if missing:
            raise DeployError(f"{self.operation} needs {', '.join(missing)} from an earlier call")
        params = {k: values[v.name] if isinstance(v, Ref) else v for k, v in self.params.items()}
        return replace(self, params=params)


@dataclass(frozen=True)
class DeployPlan:
    """The calls to make, in order, and what is left alone and why."""

    spec: DeploySpec
    calls: tuple[DeployCall, ...]
    notes: tuple[str, ...]
    #: Values :class:`Ref` arguments may use before any call answers: the alias's
    #: current ``version`` and the ``url``, when they exist already.
    known: Mapping[str, str] = field(default_factory=dict)

    @property
    def publishes(self) -> bool:
        """Whether a new version is published (and the alias moved)."""
        return any(c.operation == "publish_version" for c in self.calls)
