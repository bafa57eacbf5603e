"""What is in the account now, as :func:`coldbrew.deploy.observe.observe` read it.

Plain values compared by :func:`coldbrew.deploy.plan.plan_deploy`; the
default :class:`ObservedState` is an empty account.
"""

from __future__ import annotations

from dataclasses import dataclass

from coldbrew.deploy.spec import FunctionSettings


@dataclass(frozen=True)
class FunctionState:
    """``$LATEST`` as Lambda reports it."""

    code_sha256: str
    settings: FunctionSettings
    #: False while Lambda is still creating or updating it (State Pending, update InProgress).
    ready: bool = True


@dataclass(frozen=True)
class AliasState:
    """The alias, and the code and configuration of the version it points at."""

    version: str
    code_sha256: str
    settings: FunctionSettings


@dataclass(frozen=True)
class UrlState:
    """The function URL configured on the alias."""

    url: str
    auth: str


@dataclass(frozen=True)
class ObservedState:
    """What is in the account now. The default is an empty account."""

    bucket_exists: bool = False
    #: The sha256 recorded on the object at the spec's key; None when there is no object.
    object_sha256: str | None = None
    function: FunctionState | None = None
    alias: AliasState | None = None
    url: UrlState | None = None
    #: Statement ids in the alias's resource policy.
    permission_sids: frozenset[str] = frozenset()
    #: The function's reserved concurrency; None when it has none.
    reserved_concurrency: int | None = None
    #: Names of the scheduled actions on the alias's scalable target (for a schedule).
    scheduled_actions: tuple[str, ...] = ()
