"""The Cloud Functions deploy plan (pure): the spec and what is there give the calls.

::

    plan = plan_gcf_deploy(spec, observed=None)     # a first deploy
    [c.describe() for c in plan.calls]
    # ['functions generate_upload_url + PUT the zip', 'functions create_function ...',
    #  'run set_iam_policy roles/run.invoker allUsers']

The calls, in order: upload the source (only when the function's
``coldbrew-source-sha256`` label differs from the zip's), ``create_function``
or ``update_function`` with an update mask of only the differing settings
(each waited on until its long-running operation is done), then the invoker
binding on the function's Cloud Run service when it differs. An unchanged
redeploy plans nothing: only the reads that gave ``observed`` are made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from coldbrew.deploy.gcf_spec import SOURCE_LABEL, GcfFunctionSpec, desired_fields, source_label

#: The update-mask paths of the source: the storage source and the label recording it.
SOURCE_PATHS = ("build_config.source", "labels")

CallKind = Literal["upload", "create_function", "update_function", "set_invoker"]


@dataclass(frozen=True)
class ObservedFunction:
    """A deployed function as the service reports it, normalised like :func:`desired_fields`.

    ``public`` is whether ``allUsers`` holds ``roles/run.invoker`` on its service.
    """

    fields: Mapping[str, object]
    labels: Mapping[str, str]
    uri: str
    service: str
    public: bool
    state: str = "ACTIVE"


@dataclass(frozen=True)
class GcfCall:
    """One call: its kind and, for an update, the mask; for the invoker, public or not."""

    kind: CallKind
    update_mask: tuple[str, ...] = ()
    public: bool = False

    def describe(self, spec: GcfFunctionSpec) -> str:
        """One line naming the call and what it changes (environment values masked)."""
        if self.kind == "upload":
            return f"functions generate_upload_url {spec.parent}, then PUT the zip to it"
        if self.kind == "set_invoker":
            verb = "grant" if self.public else "revoke"
            return f"run set_iam_policy: {verb} roles/run.invoker to allUsers"
        desired = _masked(desired_fields(spec))
        if self.kind == "create_function":
            body = json.dumps(desired, sort_keys=True)
            return f"functions create_function {spec.function_name} {body}"
        changed = {k: desired.get(k, "<source>") for k in self.update_mask}
        return (
            f"functions update_function {spec.function_name} "
            f"update_mask={','.join(self.update_mask)} {json.dumps(changed, sort_keys=True)}"
        )


@dataclass(frozen=True)
class GcfPlan:
    """The calls to make, in order, and what is left alone and why."""

    spec: GcfFunctionSpec
    calls: tuple[GcfCall, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def uploads(self) -> bool:
        """Whether the source is uploaded (and so rebuilt)."""
        return any(c.kind == "upload" for c in self.calls)


def _masked(fields: Mapping[str, object]) -> dict[str, object]:
    out = dict(fields)
    env = out.get("service_config.environment_variables")
    if isinstance(env, Mapping):
        out["service_config.environment_variables"] = dict.fromkeys(env, "***")
    return out


def plan_gcf_deploy(spec: GcfFunctionSpec, observed: ObservedFunction | None) -> GcfPlan:
    """Every call that makes the project serve ``spec``, given the function ``observed``."""
    if observed is None:
        calls = [GcfCall("upload"), GcfCall("create_function")]
        if spec.allow_unauthenticated:
            calls.append(GcfCall("set_invoker", public=True))
        return GcfPlan(spec, tuple(calls), (f"{spec.name} does not exist: created",))
    calls = []
    notes = []
    mask = [
        path for path, value in desired_fields(spec).items() if observed.fields.get(path) != value
    ]
    if observed.labels.get(SOURCE_LABEL) != source_label(spec.source_sha256):
        calls.append(GcfCall("upload"))
        mask.extend(SOURCE_PATHS)
    else:
        notes.append("source unchanged (its sha256 label matches): not uploaded")
    if mask:
        calls.append(GcfCall("update_function", update_mask=tuple(mask)))
    else:
        notes.append("settings unchanged: function not updated")
    if observed.public != spec.allow_unauthenticated:
        calls.append(GcfCall("set_invoker", public=spec.allow_unauthenticated))
    else:
        notes.append("invoker auth unchanged")
    return GcfPlan(spec, tuple(calls), tuple(notes))
