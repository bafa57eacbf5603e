"""The Cloud Functions deploy plan (pure) and the spec's validation against deployment.gcf."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from coldbrew.deploy.gcf_plan import ObservedFunction, plan_gcf_deploy
from coldbrew.deploy.gcf_spec import SOURCE_LABEL, GcfFunctionSpec, desired_fields, source_label
from coldbrew.deployment import gcf
from coldbrew.errors import ConfigurationError

SHA = "ab" * 32


def _spec(**changes: Any) -> GcfFunctionSpec:
    base: dict[str, Any] = {
        "project": "my-project",
        "region": "europe-west1",
        "name": "embed",
        "source_sha256": SHA,
    }
    return GcfFunctionSpec(**{**base, **changes})


def _observed(spec: GcfFunctionSpec, public: bool = False) -> ObservedFunction:
    return ObservedFunction(
        fields=desired_fields(spec),
        labels={SOURCE_LABEL: source_label(spec.source_sha256)},
        uri="https://embed-1.europe-west1.run.app",
        service="projects/my-project/locations/europe-west1/services/embed",
        public=public,
    )


def test_a_first_deploy_uploads_creates_and_grants_only_when_public() -> None:
    assert [c.kind for c in plan_gcf_deploy(_spec(), None).calls] == [
        "upload",
        "create_function",
    ]
    public = plan_gcf_deploy(_spec(allow_unauthenticated=True), None)
    assert [c.kind for c in public.calls] == ["upload", "create_function", "set_invoker"]
    assert public.calls[-1].public


def test_an_unchanged_function_plans_no_call() -> None:
    spec = _spec(memory_mb=2048, concurrency=8, cpu=2.0, env={"A": "1"})
    plan = plan_gcf_deploy(spec, _observed(spec))
    assert plan.calls == ()
    assert any("source unchanged" in n for n in plan.notes)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"memory_mb": 4096}, "service_config.available_memory"),
        ({"cpu": 2.0}, "service_config.available_cpu"),
        ({"min_instances": 2}, "service_config.min_instance_count"),
        ({"ingress": "ALLOW_INTERNAL_ONLY"}, "service_config.ingress_settings"),
        ({"env": {"B": "2"}}, "service_config.environment_variables"),
        ({"python": "3.13"}, "build_config.runtime"),
    ],
)
def test_one_changed_setting_is_the_whole_update_mask(change: dict[str, Any], path: str) -> None:
    spec = _spec()
    plan = plan_gcf_deploy(replace(spec, **change), _observed(spec))
    assert [(c.kind, c.update_mask) for c in plan.calls] == [("update_function", (path,))]


def test_new_source_is_uploaded_and_masked_with_its_label() -> None:
    spec = _spec()
    plan = plan_gcf_deploy(replace(spec, source_sha256="cd" * 32), _observed(spec))
    assert [(c.kind, c.update_mask) for c in plan.calls] == [
        ("upload", ()),
        ("update_function", ("build_config.source", "labels")),
    ]


def test_invoker_auth_follows_the_spec_both_ways() -> None:
    spec = _spec()
    grant = plan_gcf_deploy(replace(spec, allow_unauthenticated=True), _observed(spec))
    assert [(c.kind, c.public) for c in grant.calls] == [("set_invoker", True)]
    revoke = plan_gcf_deploy(spec, _observed(spec, public=True))
    assert [(c.kind, c.public) for c in revoke.calls] == [("set_invoker", False)]


def test_concurrency_sets_threads_unless_given() -> None:
    assert _spec(concurrency=8, cpu=1.0).environment == {"THREADS": "8"}
    assert _spec(concurrency=8, cpu=1.0, env={"THREADS": "4"}).environment == {"THREADS": "4"}
    assert _spec().environment == {}


def test_environment_values_are_masked_when_described() -> None:
    spec = _spec(env={"SECRET": "hunter2"})
    line = plan_gcf_deploy(spec, None).calls[1].describe(spec)
    assert "hunter2" not in line and '"SECRET": "***"' in line


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"concurrency": 4, "cpu": 0.5}, "--concurrency 4 needs --cpu >= 1"),
        ({"memory_mb": gcf.CLOUD_FUNCTIONS.memory_mb.high + 1}, "--memory"),
        ({"min_instances": 5, "max_instances": 2}, "--min-instances 5 must be 0..--max-instances"),
        ({"env": {"K_SERVICE": "x"}}, "--env K_SERVICE is set by the platform"),
        ({"name": "Embed_1"}, "--name 'Embed_1'"),
        ({"ingress": "EVERYONE"}, "--ingress 'EVERYONE'"),
        ({"python": "3.11"}, "python 3.11 is not one of 3.12, 3.13"),
        ({"project": "P"}, "--project 'P'"),
    ],
)
def test_bad_settings_are_refused_naming_the_flag(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        _spec(**change)
    assert problem in refused.value.message


# --- the min-instances schedule: Cloud Scheduler jobs (pure) and Cloud Run functions prices ---


def _schedule(levels: dict[str, int]) -> Any:
    from coldbrew.capacity.schedule import parse_schedule

    starts = sorted(levels)
    ends = [*starts[1:], "24:00"]
    blocks = [
        {
            "start": s,
            "end": e,
            "min_capacity": levels[s],
            "max_capacity": levels[s],
            "cron": f"cron({int(s[3:])} {int(s[:2])} * * ? *)",
            "gcf": {"min_instance_count": levels[s]},
        }
        for s, e in zip(starts, ends, strict=True)
    ]
    return parse_schedule(
        {
            "schema": 1,
            "function": "embed",
            "alias": "live",
            "timezone": "UTC",
            "block_minutes": 30,
            "memory_mb": 1024,
            "blocks": blocks,
            "assumptions": {},
            "forecaster": {},
        }
    )


TARGET_ARGS = ("my-project", "europe-west1", "embed", "sa@my-project.iam.gserviceaccount.com")


def test_jobs_are_planned_create_then_nothing_then_one_update_and_stale_deletes() -> None:
    from coldbrew.capacity.gcf_schedule import GcfTarget, desired_jobs, plan_jobs

    target = GcfTarget(*TARGET_ARGS)
    first = desired_jobs(_schedule({"00:00": 1, "08:30": 4}), target)
    assert [j.name.rsplit("/", 1)[-1] for j in first] == [
        "coldbrew-embed-0000",
        "coldbrew-embed-0830",
    ]
    assert [j.cron for j in first] == ["0 0 * * *", "30 8 * * *"]
    assert [c.action for c in plan_jobs(first, (), target.prefix)] == ["create", "create"]
    assert plan_jobs(first, first, target.prefix) == ()

    changed = desired_jobs(_schedule({"00:00": 1, "08:30": 5}), target)
    calls = plan_jobs(changed, first, target.prefix)
    assert [(c.action, c.job.name) for c in calls] == [("update", first[1].name)]
    assert '"minInstanceCount":5' in calls[0].job.body

    fewer = desired_jobs(_schedule({"00:00": 1}), target)
    other = replace(first[1], name=f"{target.parent}/jobs/not-ours")
    calls = plan_jobs(fewer, (*first, other), target.prefix)
    assert [(c.action, c.job.name) for c in calls] == [("delete", first[1].name)]


def test_a_target_refuses_a_bad_function_name_or_service_account() -> None:
    from coldbrew.capacity.gcf_schedule import GcfTarget

    with pytest.raises(ConfigurationError, match="--function-name"):
        GcfTarget("my-project", "europe-west1", "1---2---pool3", "sa@x.iam.gserviceaccount.com")
    with pytest.raises(ConfigurationError, match="--scheduler-service-account"):
        GcfTarget("my-project", "europe-west1", "embed", "")


def test_idle_min_instances_bill_at_the_idle_rate_and_serving_at_the_serving_rate() -> None:
    from coldbrew.capacity.gcf_pricing import TIER1, GcfInstance, block_cost

    instance = GcfInstance(cpu=1.0, memory_mb=1024)
    idle = block_cost(seconds=3600, load=0.0, rate_per_s=0.0, min_instances=2, instance=instance)
    assert idle.idle == pytest.approx(2 * 3600 * (TIER1.idle_vcpu_s + TIER1.idle_gib_s))
    assert idle.serving == 0 and idle.requests == 0

    busy = block_cost(seconds=3600, load=0.5, rate_per_s=10.0, min_instances=2, instance=instance)
    assert busy.serving == pytest.approx(1800 * (TIER1.serving_vcpu_s + TIER1.serving_gib_s))
    assert busy.idle == pytest.approx((7200 - 1800) * (TIER1.idle_vcpu_s + TIER1.idle_gib_s))
    assert busy.requests == pytest.approx(36_000 * 0.40e-6)
    # No min instances: idle instances cost nothing under request-based billing.
    none = block_cost(seconds=3600, load=0.5, rate_per_s=10.0, min_instances=0, instance=instance)
    assert none.idle == 0 and none.serving == busy.serving


def test_a_cloud_functions_deployment_gives_its_spec_and_a_lambda_one_is_refused() -> None:
    from coldbrew.deployment.description import Deployment

    common: dict[str, Any] = {"artifact": "dist/x.zip", "python": "3.13", "arch": "x86_64"}
    deployment = Deployment(
        target="gcf",
        memory_mb=2048,
        timeout_s=120,
        function_name="embed",
        cpu=2.0,
        instance_concurrency=8,
        min_instances=1,
        max_instances=20,
        cold_start="min-instances",
        auth="NONE",
        ingress="ALLOW_INTERNAL_ONLY",
        env={"A": "1"},
        **common,
    )
    spec = GcfFunctionSpec.from_deployment(
        deployment, project="my-project", region="europe-west1", source_sha256=SHA
    )
    assert (spec.name, spec.memory_mb, spec.timeout_s, spec.cpu) == ("embed", 2048, 120, 2.0)
    assert (spec.concurrency, spec.min_instances, spec.max_instances) == (8, 1, 20)
    assert spec.allow_unauthenticated and spec.ingress == "ALLOW_INTERNAL_ONLY"
    assert spec.runtime == "python313" and spec.environment == {"A": "1", "THREADS": "8"}

    lam = Deployment(
        target="aws-lambda", memory_mb=1024, timeout_s=30, function_name="embed", **common
    )
    with pytest.raises(ConfigurationError, match="aws-lambda deployment cannot be deployed"):
        GcfFunctionSpec.from_deployment(
            lam, project="my-project", region="europe-west1", source_sha256=SHA
        )
