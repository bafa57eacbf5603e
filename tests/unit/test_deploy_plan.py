"""``coldbrew deploy``'s plan (pure) and executor, against in-memory fakes of S3 and Lambda.

The fakes keep just enough state for observe -> plan -> execute to round-trip:
a second deploy of the same zip must plan no call at all.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from coldbrew.capacity.apply import plan_apply
from coldbrew.capacity.schedule import Schedule, parse_schedule
from coldbrew.deploy.calls import WAIT
from coldbrew.deploy.clients import DeployClients, InMemoryProvisionedConcurrency, is_not_found
from coldbrew.deploy.execute import execute_plan, fetch_deployed_artifact
from coldbrew.deploy.observe import observe
from coldbrew.deploy.observed_state import AliasState, FunctionState, ObservedState, UrlState
from coldbrew.deploy.plan import URL_INVOKE_PERMISSION_SID, URL_PERMISSION_SID, plan_deploy
from coldbrew.deploy.spec import KEY_PREFIX, DeploySpec, code_sha256
from coldbrew.deployment.description import DeploymentError
from coldbrew.errors import ConfigurationError, DeployError

SHA = "ab" * 32
OTHER = "cd" * 32
ROLE = "arn:aws:iam::123456789012:role/embed-role"


def _spec(**changes: Any) -> DeploySpec:
    values: dict[str, Any] = {
        "artifact": "dist/x.zip",
        "sha256": SHA,
        "function_name": "embed",
        "role_arn": ROLE,
        "bucket": "my-artifacts",
        "create_bucket": True,
    }
    values.update(changes)
    return DeploySpec(**values)


def _ops(calls: Any) -> list[str]:
    return [c.operation for c in calls]


def _deployed(spec: DeploySpec, *, sha: str = SHA, version: str = "3") -> ObservedState:
    """The account after ``spec`` was deployed with code ``sha``."""
    settings = spec.settings
    return ObservedState(
        bucket_exists=True,
        object_sha256=sha,
        function=FunctionState(code_sha256(sha), settings),
        alias=AliasState(version, code_sha256(sha), settings),
        url=UrlState("https://abc.lambda-url.us-east-1.on.aws/", spec.url_auth),
    )


def _schedule(function: str = "embed", starts: tuple[str, ...] = ("00:00", "09:00")) -> Schedule:
    ends = [*starts[1:], "24:00"]
    return parse_schedule(
        {
            "schema": 1,
            "function": function,
            "alias": "live",
            "timezone": "UTC",
            "block_minutes": 60,
            "memory_mb": 1024,
            "blocks": [
                {
                    "start": s,
                    "end": e,
                    "min_capacity": i + 1,
                    "max_capacity": i + 1,
                    "cron": f"cron(0 {int(s[:2])} * * ? *)",
                }
                for i, (s, e) in enumerate(zip(starts, ends, strict=True))
            ],
        }
    )


# --- the plan ------------------------------------------------------------------------


def test_first_deploy_uploads_creates_publishes_aliases_and_adds_the_url() -> None:
    spec = _spec(env={"COLDBREW_MAX_INPUTS": "16"})
    plan = plan_deploy(spec, ObservedState())
    assert _ops(plan.calls) == [
        "create_bucket",
        "upload_file",
        "create_function",
        WAIT,
        "publish_version",
        "create_alias",
        "create_function_url_config",
    ]
    upload, create = plan.calls[1], plan.calls[2]
    assert upload.params["Key"] == f"{KEY_PREFIX}{SHA}.zip" == spec.key  # content-addressed
    assert create.params["Code"] == {"S3Bucket": "my-artifacts", "S3Key": spec.key}  # via S3
    assert create.params["Architectures"] == ["x86_64"] and create.params["Publish"] is False
    assert create.params["Environment"] == {"Variables": {"COLDBREW_MAX_INPUTS": "16"}}
    publish = plan.calls[4]
    assert publish.params["CodeSha256"] == base64.b64encode(bytes.fromhex(SHA)).decode()
    assert publish.saves == (("version", "Version"),)
    assert str(plan.calls[5].params["FunctionVersion"]) == "<version>"
    assert plan.calls[6].params == {
        "FunctionName": "embed",
        "Qualifier": "live",
        "AuthType": "AWS_IAM",
    }
    assert plan.publishes and not plan.known


def test_every_call_is_one_line_and_environment_values_are_masked() -> None:
    plan = plan_deploy(_spec(env={"API_KEY": "s3cret"}), ObservedState())
    lines = [c.describe() for c in plan.calls]
    assert all("\n" not in line for line in lines)
    assert lines[2].startswith("lambda create_function {")
    assert '"API_KEY": "***"' in lines[2] and "s3cret" not in "".join(lines)
    assert '"FunctionVersion": "<version>"' in lines[5]


def test_a_missing_bucket_is_created_only_when_allowed() -> None:
    with pytest.raises(DeployError, match=r"aws s3 mb s3://my-artifacts"):
        plan_deploy(_spec(create_bucket=False), ObservedState())
    other_region = plan_deploy(_spec(region="eu-west-1"), ObservedState()).calls[0]
    assert other_region.params["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}


def test_unchanged_redeploy_makes_no_call_and_publishes_no_version() -> None:
    spec = _spec()
    plan = plan_deploy(spec, _deployed(spec))
    assert plan.calls == ()
    assert not plan.publishes
    assert plan.known == {"version": "3", "url": "https://abc.lambda-url.us-east-1.on.aws/"}
    notes = "\n".join(plan.notes)
    assert "not uploaded" in notes and "no code update" in notes
    assert "no new version" in notes and "version 3" in notes


def test_changed_code_updates_code_then_publishes_and_moves_the_alias() -> None:
    spec = _spec()
    plan = plan_deploy(spec, _deployed(spec, sha=OTHER))
    assert _ops(plan.calls) == [
        "upload_file",
        "update_function_code",
        WAIT,
        "publish_version",
        "update_alias",
    ]
    update = plan.calls[1]
    assert update.params["S3Key"] == spec.key and update.params["Publish"] is False
    assert plan.calls[4].params["Name"] == "live"


def test_changed_setting_updates_configuration_only() -> None:
    before = _spec(memory_mb=512)
    plan = plan_deploy(_spec(memory_mb=2048), _deployed(before))
    assert _ops(plan.calls) == [
        "update_function_configuration",
        WAIT,
        "publish_version",
        "update_alias",
    ]
    assert plan.calls[0].params["MemorySize"] == 2048
    assert any("memory_mb: 512 -> 2048" in note for note in plan.notes)


def test_code_already_updated_but_never_published_is_published() -> None:
    # A deploy that stopped after update_function_code: $LATEST is right, the alias is not.
    spec = _spec()
    stale = _deployed(spec)
    stale = ObservedState(
        bucket_exists=True,
        object_sha256=SHA,
        function=stale.function,
        alias=AliasState("3", code_sha256(OTHER), spec.settings),
        url=stale.url,
    )
    assert _ops(plan_deploy(spec, stale).calls) == ["publish_version", "update_alias"]


def test_a_function_still_updating_is_waited_for_first() -> None:
    spec = _spec()
    observed = _deployed(spec, sha=OTHER)
    busy = FunctionState(code_sha256(OTHER), spec.settings, ready=False)
    plan = plan_deploy(spec, ObservedState(**{**observed.__dict__, "function": busy}))
    assert _ops(plan.calls)[:3] == ["upload_file", WAIT, "update_function_code"]


def test_a_public_url_gets_both_permissions_and_loses_them_when_private() -> None:
    public = plan_deploy(_spec(url_auth="NONE", reserved_concurrency=10), ObservedState())
    grants = [c.params for c in public.calls if c.operation == "add_permission"]
    assert [g["StatementId"] for g in grants] == [URL_PERMISSION_SID, URL_INVOKE_PERMISSION_SID]
    assert grants[0]["Action"] == "lambda:InvokeFunctionUrl"
    assert grants[0]["FunctionUrlAuthType"] == "NONE"
    assert grants[1]["Action"] == "lambda:InvokeFunction" and grants[1]["InvokedViaFunctionUrl"]
    assert all(g["Principal"] == "*" and g["Qualifier"] == "live" for g in grants)

    spec = _spec()  # AWS_IAM again
    was_public = _deployed(_spec(url_auth="NONE", reserved_concurrency=10))
    was_public = ObservedState(
        **{
            **was_public.__dict__,
            "permission_sids": frozenset({URL_PERMISSION_SID, URL_INVOKE_PERMISSION_SID, "x"}),
        }
    )
    plan = plan_deploy(spec, was_public)
    assert _ops(plan.calls) == [
        "update_function_url_config",
        "remove_permission",
        "remove_permission",
    ]


def test_provisioned_concurrency_goes_through_its_port_after_the_alias() -> None:
    plan = plan_deploy(_spec(provisioned_concurrency=3), ObservedState())
    last = plan.calls[-1]
    assert last.service == "provisioned-concurrency"
    assert last.operation == "put_provisioned_concurrency_config"
    assert last.params == {
        "FunctionName": "embed",
        "Qualifier": "live",
        "ProvisionedConcurrentExecutions": 3,
    }
    assert _ops(plan.calls).index("create_alias") < len(plan.calls) - 1


def test_a_schedule_is_planned_by_capacity_apply() -> None:
    schedule = _schedule()
    spec = _spec(schedule=schedule)
    existing = ("coldbrew-0500", "nightly")
    plan = plan_deploy(
        spec, ObservedState(**{**_deployed(spec).__dict__, "scheduled_actions": existing})
    )
    expected = plan_apply(schedule, existing)
    scaling = [c for c in plan.calls if c.service == "application-autoscaling"]
    assert [(c.operation, dict(c.params)) for c in scaling] == [
        (c.operation, dict(c.params)) for c in expected
    ]
    assert scaling[0].params["ResourceId"] == "function:embed:live"
    assert scaling[-1].operation == "delete_scheduled_action"  # the stale coldbrew-0500


def test_spec_refuses_what_cannot_be_deployed() -> None:
    with pytest.raises(ConfigurationError, match="coldbrew tune --function-name embed"):
        _spec(schedule=_schedule(function="other"))
    with pytest.raises(ConfigurationError, match="not both"):
        _spec(schedule=_schedule(), provisioned_concurrency=2)
    with pytest.raises(ConfigurationError, match="AWS_LAMBDA_FUNCTION_NAME is reserved"):
        _spec(env={"AWS_LAMBDA_FUNCTION_NAME": "x"})
    with pytest.raises(ConfigurationError, match="sha256"):
        _spec(sha256="nope")
    with pytest.raises(ConfigurationError, match="alias"):
        _spec(alias="12")


def test_spec_refuses_a_schedule_tuned_at_another_memory_size() -> None:
    # The drift `cdk synth` already refused: levels tuned at 1024 MB on a 2048 MB function.
    with pytest.raises(ConfigurationError) as info:
        _spec(schedule=_schedule(), memory_mb=2048)
    assert info.value.message == (
        "--schedule was tuned for 1024 MB, but --memory is 2048; re-run "
        "`coldbrew tune --memory 2048` or set --memory"
    )
    assert _spec(schedule=_schedule(), memory_mb=1024).deployment.memory_mb == 1024


# --- fakes ---------------------------------------------------------------------------


class AwsError(Exception):
    """Shaped like botocore's ClientError: the code is in ``response``."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"An error occurred ({code}): {message}")
        self.response = {"Error": {"Code": code, "Message": message}}


class FakeS3:
    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, tuple[bytes, dict[str, str]]]] = {}

    def head_bucket(self, **kw: Any) -> Mapping[str, Any]:
        if kw["Bucket"] not in self.buckets:
            raise AwsError("404")
        return {}

    def create_bucket(self, **kw: Any) -> Mapping[str, Any]:
        self.buckets[kw["Bucket"]] = {}
        return {}

    def head_object(self, **kw: Any) -> Mapping[str, Any]:
        self.head_bucket(Bucket=kw["Bucket"])
        if kw["Key"] not in self.buckets[kw["Bucket"]]:
            raise AwsError("404")
        return {"Metadata": self.buckets[kw["Bucket"]][kw["Key"]][1]}

    def upload_file(self, **kw: Any) -> None:
        data = Path(kw["Filename"]).read_bytes()
        meta = dict((kw.get("ExtraArgs") or {}).get("Metadata") or {})
        self.buckets[kw["Bucket"]][kw["Key"]] = (data, meta)

    def get_object(self, **kw: Any) -> Mapping[str, Any]:
        return {"Body": io.BytesIO(self.buckets[kw["Bucket"]][kw["Key"]][0])}


_CONFIG_KEYS = ("Runtime", "Role", "Handler", "MemorySize", "Timeout", "Environment", "Description")


class FakeLambda:
    """One region's functions; each change leaves the function busy for ``busy_polls`` reads."""

    def __init__(self, s3: FakeS3, busy_polls: int = 2) -> None:
        self.s3 = s3
        self.busy_polls = busy_polls
        self.functions: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def _fn(self, name: str) -> dict[str, Any]:
        if name not in self.functions:
            raise AwsError("ResourceNotFoundException", f"Function not found: {name}")
        return self.functions[name]

    def _code(self, bucket: str, key: str) -> str:
        data = self.s3.buckets[bucket][key][0]
        return base64.b64encode(hashlib.sha256(data).digest()).decode()

    def _at(self, fn: dict[str, Any], qualifier: str | None) -> dict[str, Any]:
        if qualifier in (None, "$LATEST"):
            return fn["latest"]
        version = fn["aliases"].get(qualifier, qualifier)
        if version not in fn["versions"]:
            raise AwsError("ResourceNotFoundException", f"no {qualifier}")
        config: dict[str, Any] = fn["versions"][version]
        return config

    def _busy(self, fn: dict[str, Any], status: str) -> None:
        if not self.busy_polls:
            return
        fn["latest"]["State" if status == "Pending" else "LastUpdateStatus"] = status
        fn["busy"] = self.busy_polls

    # reads
    def get_function(self, **kw: Any) -> Mapping[str, Any]:
        fn = self._fn(kw["FunctionName"])
        found: dict[str, Any] = {"Configuration": copy.deepcopy(self._at(fn, kw.get("Qualifier")))}
        if fn.get("reserved") is not None:  # as Lambda's GetFunction reports it
            found["Concurrency"] = {"ReservedConcurrentExecutions": fn["reserved"]}
        return found

    def get_function_configuration(self, **kw: Any) -> Mapping[str, Any]:
        fn = self._fn(kw["FunctionName"])
        if kw.get("Qualifier") is None and fn["busy"] > 0:
            fn["busy"] -= 1
            if fn["busy"] == 0:
                fn["latest"].update(State="Active", LastUpdateStatus="Successful")
        return copy.deepcopy(self._at(fn, kw.get("Qualifier")))

    def get_alias(self, **kw: Any) -> Mapping[str, Any]:
        fn = self._fn(kw["FunctionName"])
        if kw["Name"] not in fn["aliases"]:
            raise AwsError("ResourceNotFoundException")
        return {"Name": kw["Name"], "FunctionVersion": fn["aliases"][kw["Name"]]}

    def get_function_url_config(self, **kw: Any) -> Mapping[str, Any]:
        url = self._fn(kw["FunctionName"])["urls"].get(kw["Qualifier"])
        if url is None:
            raise AwsError("ResourceNotFoundException")
        return dict(url)

    def get_policy(self, **kw: Any) -> Mapping[str, Any]:
        sids = self._fn(kw["FunctionName"])["policy"].get(kw["Qualifier"])
        if not sids:
            raise AwsError("ResourceNotFoundException")
        return {"Policy": json.dumps({"Statement": [{"Sid": s} for s in sids]})}

    # writes
    def _record(self, name: str) -> None:
        self.calls.append(name)

    def create_function(self, **kw: Any) -> Mapping[str, Any]:
        self._record("create_function")
        if kw["FunctionName"] in self.functions:
            raise AwsError("ResourceConflictException")
        latest = {k: kw[k] for k in _CONFIG_KEYS}
        latest.update(
            FunctionName=kw["FunctionName"],
            Architectures=kw["Architectures"],
            CodeSha256=self._code(kw["Code"]["S3Bucket"], kw["Code"]["S3Key"]),
            Version="$LATEST",
        )
        fn = {"latest": latest, "versions": {}, "aliases": {}, "urls": {}, "policy": {}, "busy": 0}
        self.functions[kw["FunctionName"]] = fn
        self._busy(fn, "Pending")
        return copy.deepcopy(latest)

    def _check_idle(self, fn: dict[str, Any]) -> None:
        if fn["busy"]:
            raise AwsError("ResourceConflictException", "An update is in progress")

    def update_function_code(self, **kw: Any) -> Mapping[str, Any]:
        self._record("update_function_code")
        fn = self._fn(kw["FunctionName"])
        self._check_idle(fn)
        fn["latest"]["CodeSha256"] = self._code(kw["S3Bucket"], kw["S3Key"])
        fn["latest"]["Architectures"] = kw["Architectures"]
        self._busy(fn, "InProgress")
        return copy.deepcopy(fn["latest"])

    def update_function_configuration(self, **kw: Any) -> Mapping[str, Any]:
        self._record("update_function_configuration")
        fn = self._fn(kw["FunctionName"])
        self._check_idle(fn)
        fn["latest"].update({k: kw[k] for k in _CONFIG_KEYS if k in kw})
        self._busy(fn, "InProgress")
        return copy.deepcopy(fn["latest"])

    def publish_version(self, **kw: Any) -> Mapping[str, Any]:
        self._record("publish_version")
        fn = self._fn(kw["FunctionName"])
        latest = fn["latest"]
        if kw.get("CodeSha256") and kw["CodeSha256"] != latest["CodeSha256"]:
            raise AwsError("PreconditionFailedException", "CodeSha256 does not match")
        version = str(len(fn["versions"]) + 1)
        fn["versions"][version] = {**copy.deepcopy(latest), "Version": version}
        return fn["versions"][version]

    def create_alias(self, **kw: Any) -> Mapping[str, Any]:
        self._record("create_alias")
        self._fn(kw["FunctionName"])["aliases"][kw["Name"]] = kw["FunctionVersion"]
        return {}

    update_alias = create_alias

    def create_function_url_config(self, **kw: Any) -> Mapping[str, Any]:
        self._record("create_function_url_config")
        url = {"FunctionUrl": f"https://{kw['FunctionName']}.url/", "AuthType": kw["AuthType"]}
        self._fn(kw["FunctionName"])["urls"][kw["Qualifier"]] = url
        return dict(url)

    update_function_url_config = create_function_url_config

    def add_permission(self, **kw: Any) -> Mapping[str, Any]:
        self._record("add_permission")
        policy = self._fn(kw["FunctionName"])["policy"].setdefault(kw["Qualifier"], [])
        policy.append(kw["StatementId"])
        return {}

    def put_function_concurrency(self, **kw: Any) -> Mapping[str, Any]:
        self._record("put_function_concurrency")
        self._fn(kw["FunctionName"])["reserved"] = kw["ReservedConcurrentExecutions"]
        return {"ReservedConcurrentExecutions": kw["ReservedConcurrentExecutions"]}

    def remove_permission(self, **kw: Any) -> Mapping[str, Any]:
        self._record("remove_permission")
        self._fn(kw["FunctionName"])["policy"][kw["Qualifier"]].remove(kw["StatementId"])
        return {}


class FakeScaling:
    def __init__(self) -> None:
        self.actions: dict[str, dict[str, Any]] = {}
        self.targets: list[dict[str, Any]] = []

    def register_scalable_target(self, **kw: Any) -> Mapping[str, Any]:
        self.targets.append(kw)
        return {}

    def put_scheduled_action(self, **kw: Any) -> Mapping[str, Any]:
        self.actions[kw["ScheduledActionName"]] = kw
        return {}

    def describe_scheduled_actions(self, **kw: Any) -> Mapping[str, Any]:
        return {"ScheduledActions": [{"ScheduledActionName": n} for n in self.actions]}

    def delete_scheduled_action(self, **kw: Any) -> Mapping[str, Any]:
        del self.actions[kw["ScheduledActionName"]]
        return {}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _clients(busy_polls: int = 2) -> tuple[DeployClients, FakeLambda, FakeS3]:
    s3 = FakeS3()
    lambda_ = FakeLambda(s3, busy_polls)
    clients = DeployClients(
        s3=s3,
        lambda_=lambda_,
        provisioned=InMemoryProvisionedConcurrency(),
        autoscaling=FakeScaling(),
    )
    return clients, lambda_, s3


def _artifact(path: Path, content: bytes) -> tuple[Path, str]:
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def _deploy(spec: DeploySpec, clients: DeployClients, clock: FakeClock) -> Any:
    plan = plan_deploy(spec, observe(spec, clients))
    return plan, execute_plan(plan, clients, clock=clock, sleep=clock.sleep, poll_s=0.5)


# --- the executor --------------------------------------------------------------------


def test_execute_then_redeploy_round_trips_to_no_calls(tmp_path: Path) -> None:
    clients, lambda_, s3 = _clients()
    path, sha = _artifact(tmp_path / "a.zip", b"first zip")
    spec = _spec(artifact=str(path), sha256=sha, url_auth="NONE", reserved_concurrency=10)
    clock = FakeClock()
    lines: list[str] = []
    plan = plan_deploy(spec, observe(spec, clients))
    result = execute_plan(plan, clients, echo=lines.append, clock=clock, sleep=clock.sleep)
    assert result.version == "1" and result.url == "https://embed.url/"
    assert clock.sleeps == [1.0]  # create_function left it Pending for one read
    assert [line.split(" ")[1] for line in lines] == _ops(plan.calls)
    assert "<version>" not in lines[6] and '"FunctionVersion": "1"' in lines[6]
    fn = lambda_.functions["embed"]
    assert fn["aliases"] == {"live": "1"} and fn["latest"]["State"] == "Active"
    assert fn["policy"]["live"] == [URL_PERMISSION_SID, URL_INVOKE_PERMISSION_SID]
    assert s3.buckets["my-artifacts"][spec.key][1] == {"sha256": sha}

    again, result = _deploy(spec, clients, clock)
    assert again.calls == () and result.calls == ()
    assert (result.version, result.url) == ("1", "https://embed.url/")  # known, not re-made

    path, sha = _artifact(tmp_path / "b.zip", b"second zip")
    changed, result = _deploy(
        _spec(artifact=str(path), sha256=sha, url_auth="NONE", reserved_concurrency=10),
        clients,
        clock,
    )
    assert _ops(changed.calls) == [
        "upload_file",
        "update_function_code",
        WAIT,
        "publish_version",
        "update_alias",
    ]
    assert result.version == "2" and fn["aliases"] == {"live": "2"}
    assert fn["versions"]["1"]["CodeSha256"] != fn["versions"]["2"]["CodeSha256"]


def test_provisioned_concurrency_and_a_schedule_through_their_ports(tmp_path: Path) -> None:
    clients, _, _ = _clients(busy_polls=0)
    path, sha = _artifact(tmp_path / "a.zip", b"zip")
    spec = _spec(artifact=str(path), sha256=sha, provisioned_concurrency=4)
    _, result = _deploy(spec, clients, FakeClock())
    assert isinstance(clients.provisioned, InMemoryProvisionedConcurrency)
    assert clients.provisioned.levels == {("embed", "live"): 4}
    assert not clients.provisioned.applied
    assert result.provisioned == {
        "RequestedProvisionedConcurrentExecutions": 4,
        "Status": "IN_PROGRESS",
    }

    scaling = clients.autoscaling
    assert isinstance(scaling, FakeScaling)
    scaling.actions["coldbrew-0500"] = {}  # stale, from an older schedule
    _, result = _deploy(
        _spec(artifact=str(path), sha256=sha, schedule=_schedule()), clients, FakeClock()
    )
    assert result.schedule is not None
    assert result.schedule.put == ("coldbrew-0000", "coldbrew-0900")
    assert result.schedule.deleted == ("coldbrew-0500",)
    assert result.schedule.resource_id == "function:embed:live"
    assert set(scaling.actions) == {"coldbrew-0000", "coldbrew-0900"}


def test_a_function_that_never_becomes_ready_times_out_on_the_injected_clock(
    tmp_path: Path,
) -> None:
    clients, _, _ = _clients(busy_polls=10**6)
    path, sha = _artifact(tmp_path / "a.zip", b"zip")
    spec = _spec(artifact=str(path), sha256=sha)
    clock = FakeClock()
    plan = plan_deploy(spec, observe(spec, clients))
    with pytest.raises(DeployError, match=r"still not ready after 30 s .*State Pending"):
        execute_plan(plan, clients, clock=clock, sleep=clock.sleep, wait_timeout_s=30, poll_s=5)
    assert clock.sleeps == [5.0] * 6


def test_a_failed_update_and_a_refused_call_name_themselves(tmp_path: Path) -> None:
    clients, lambda_, _ = _clients(busy_polls=0)
    path, sha = _artifact(tmp_path / "a.zip", b"zip")
    spec = _spec(artifact=str(path), sha256=sha)
    _deploy(spec, clients, FakeClock())
    lambda_.functions["embed"]["latest"].update(
        LastUpdateStatus="Failed", LastUpdateStatusReason="bad zip"
    )
    with pytest.raises(DeployError, match="Lambda failed to set up embed: bad zip"):
        _deploy(_spec(artifact=str(path), sha256=sha, memory_mb=256), clients, FakeClock())

    fresh, lambda_, _ = _clients(busy_polls=0)
    lambda_.create_alias = _refuse  # type: ignore[method-assign]
    with pytest.raises(DeployError, match=r"lambda create_alias failed: AwsError: .*Throttl"):
        _deploy(spec, fresh, FakeClock())
    assert "create_function_url_config" not in lambda_.calls  # nothing after the failure


def _refuse(**kw: Any) -> Mapping[str, Any]:
    raise AwsError("TooManyRequestsException", "Throttled")


def test_fetch_returns_the_exact_bytes_or_refuses(tmp_path: Path) -> None:
    clients, _, s3 = _clients(busy_polls=0)
    path, sha = _artifact(tmp_path / "a.zip", b"the artifact bytes")
    spec = _spec(artifact=str(path), sha256=sha)
    _deploy(spec, clients, FakeClock())
    got = fetch_deployed_artifact(spec, clients, tmp_path / "served" / "a.zip")
    assert got.read_bytes() == b"the artifact bytes"
    s3.buckets["my-artifacts"][spec.key] = (b"tampered", {"sha256": sha})
    with pytest.raises(DeployError, match="the object was changed"):
        fetch_deployed_artifact(spec, clients, tmp_path / "again.zip")
    assert not (tmp_path / "again.zip").exists()
    other = _spec(artifact=str(path), sha256=OTHER)
    with pytest.raises(DeployError, match="not the built artifact"):
        fetch_deployed_artifact(other, clients, tmp_path / "other.zip")


def test_not_found_is_recognised_by_the_error_code_only() -> None:
    assert is_not_found(AwsError("ResourceNotFoundException"))
    assert is_not_found(AwsError("404"))
    assert not is_not_found(AwsError("AccessDenied"))
    assert not is_not_found(ValueError("404"))


# --- reserved concurrency: what bounds a public URL's spend ---------------------------


def test_a_public_url_without_reserved_concurrency_is_refused_naming_the_flag() -> None:
    with pytest.raises(
        DeploymentError, match=r"--reserved-concurrency is required with --url-auth"
    ):
        _spec(url_auth="NONE")
    assert _spec(url_auth="NONE", reserved_concurrency=5).reserved_concurrency == 5
    assert _spec().reserved_concurrency is None  # a private URL needs none


def test_reserved_concurrency_is_put_before_the_url_and_only_when_it_differs() -> None:
    spec = _spec(url_auth="NONE", reserved_concurrency=10)
    ops = _ops(plan_deploy(spec, ObservedState()).calls)
    assert ops.index("put_function_concurrency") < ops.index("create_function_url_config")
    reservation = next(
        c for c in plan_deploy(spec, ObservedState()).calls
        if c.operation == "put_function_concurrency"
    )  # fmt: skip
    assert reservation.params == {"FunctionName": "embed", "ReservedConcurrentExecutions": 10}
    deployed = _deployed(spec)
    same = _ops(
        plan_deploy(spec, ObservedState(**{**deployed.__dict__, "reserved_concurrency": 10})).calls
    )
    assert "put_function_concurrency" not in same
    other = _ops(
        plan_deploy(spec, ObservedState(**{**deployed.__dict__, "reserved_concurrency": 3})).calls
    )
    assert other.count("put_function_concurrency") == 1
    assert [op for op in other if op != "put_function_concurrency"] == same
