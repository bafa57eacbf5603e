"""``coldbrew deploy`` against moto: the executor through real boto3 clients, the CLI's
``--local`` in-process, and the acceptance test: the real CLI as a subprocess deploys,
serves the bytes it fetched back, and a POST to the printed URL returns embeddings.

moto has no provisioned-concurrency API (the in-memory port stands in) and never
runs a function: serving is the local function URL emulator's job.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import signal
import socket
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from cli_process import CliProcess
from coldbrew.capacity.schedule import Schedule, parse_schedule, write_schedule
from coldbrew.cli import main
from coldbrew.deploy.clients import DeployClients, InMemoryProvisionedConcurrency
from coldbrew.deploy.execute import execute_plan, fetch_deployed_artifact
from coldbrew.deploy.local_cloud import LAMBDA_TRUST_POLICY
from coldbrew.deploy.observe import observe
from coldbrew.deploy.plan import URL_INVOKE_PERMISSION_SID, URL_PERMISSION_SID, plan_deploy
from coldbrew.deploy.spec import DeploySpec
from coldbrew.emulate import ensure_runtime
from coldbrew.errors import InterpreterNotFoundError

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path.home() / ".cache" / "coldbrew"  # the real cache: the runtime venv is reused
DIMENSIONS = 384

# Stands in for the model: a 384-d unit vector per input, from its hash. What is checked
# with it is the path (deploy, fetch back, serve); the slow test below runs the real model.
STUB = """
import hashlib, json, math

def _vector(text):
    raw = b"".join(hashlib.sha256(f"{text}:{i}".encode()).digest() for i in range(48))
    values = [int.from_bytes(raw[i:i + 4], "big") / 2**32 - 0.5 for i in range(0, len(raw), 4)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]

def handler(event, context):
    if event.get("rawPath") != "/embed":
        return {"statusCode": 404, "body": json.dumps({"error": {"code": "not_found"}})}
    inputs = json.loads(event.get("body") or "{}")["inputs"]
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"model": "stub", "dimensions": 384,
                                "embeddings": [_vector(t) for t in inputs]})}
"""


def _stub_artifact(directory: Path, source: str = STUB, name: str = "stub-py312-x86_64") -> Path:
    """A zip with a build report beside it, as `coldbrew build` writes them."""
    directory.mkdir(parents=True, exist_ok=True)
    artifact = directory / f"{name}.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        info = zipfile.ZipInfo("lambda_function.py", date_time=(2020, 1, 2, 3, 4, 6))
        info.external_attr = 0o644 << 16
        zf.writestr(info, source)
    report = {
        "schema": 1,
        "artifact": str(artifact),
        "sha256": hashlib.sha256(artifact.read_bytes()).hexdigest(),
        "model": "stub",
        "python": "3.12",
        "arch": "x86_64",
        "layout": {"layout": "zip"},
    }
    (directory / f"{name}.report.json").write_text(json.dumps(report))
    return artifact


def _schedule(
    function: str, levels: tuple[int, ...] = (1, 3), *, memory_mb: int = 1024
) -> Schedule:
    starts = ["00:00", "12:00"][: len(levels)]
    ends = [*starts[1:], "24:00"]
    return parse_schedule(
        {
            "schema": 1,
            "function": function,
            "alias": "live",
            "timezone": "UTC",
            "block_minutes": 60,
            "memory_mb": memory_mb,
            "blocks": [
                {
                    "start": s,
                    "end": e,
                    "min_capacity": n,
                    "max_capacity": n,
                    "cron": f"cron(0 {int(s[:2])} * * ? *)",
                }
                for s, e, n in zip(starts, ends, levels, strict=True)
            ],
        }
    )


# --- the executor against moto, in-process ---------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Fake credentials (never real ones), moto, a role Lambda may assume; boto3 clients."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(
            RoleName="embed-role", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY)
        )["Role"]["Arn"]
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="my-artifacts")
        yield {
            "role": role,
            **{
                name: boto3.client(service, region_name=REGION)
                for name, service in (
                    ("s3", "s3"),
                    ("lambda", "lambda"),
                    ("scaling", "application-autoscaling"),
                )
            },
        }


def _clients(aws: dict[str, Any]) -> DeployClients:
    return DeployClients(
        s3=aws["s3"],
        lambda_=aws["lambda"],
        provisioned=InMemoryProvisionedConcurrency(),
        autoscaling=aws["scaling"],
    )


def _spec(aws: dict[str, Any], artifact: Path, **changes: Any) -> DeploySpec:
    values: dict[str, Any] = {
        "artifact": str(artifact),
        "sha256": hashlib.sha256(artifact.read_bytes()).hexdigest(),
        "function_name": "embed",
        "role_arn": aws["role"],
        "bucket": "my-artifacts",
    }
    return DeploySpec(**{**values, **changes})


def _deploy(spec: DeploySpec, clients: DeployClients) -> Any:
    plan = plan_deploy(spec, observe(spec, clients))
    return plan, execute_plan(plan, clients, poll_s=0.05)


def test_executor_deploys_function_version_alias_url_and_schedule(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    artifact = _stub_artifact(tmp_path / "one")
    clients = _clients(aws)
    schedule = _schedule("embed", memory_mb=2048)  # tuned at the function's memory size
    spec = _spec(
        aws, artifact, url_auth="NONE", reserved_concurrency=7, schedule=schedule, memory_mb=2048
    )
    _, result = _deploy(spec, clients)
    assert result.version == "1"
    lam = aws["lambda"]
    fn = lam.get_function(FunctionName="embed")["Configuration"]
    assert fn["CodeSha256"] == spec.code_sha256 and fn["MemorySize"] == 2048
    reserved = lam.get_function_concurrency(FunctionName="embed")
    assert reserved["ReservedConcurrentExecutions"] == 7  # the public URL's spend is bounded
    assert fn["Runtime"] == "python3.12" and fn["Handler"] == "lambda_function.handler"
    versions = [
        v["Version"] for v in lam.list_versions_by_function(FunctionName="embed")["Versions"]
    ]
    assert versions == ["$LATEST", "1"]
    assert lam.get_alias(FunctionName="embed", Name="live")["FunctionVersion"] == "1"
    url = lam.get_function_url_config(FunctionName="embed", Qualifier="live")
    assert url["AuthType"] == "NONE" and url["FunctionUrl"] == result.url
    # (moto keeps one URL per function whatever the qualifier, so that it is on the alias
    # is checked on the plan, in tests/unit/test_deploy_plan.py.)
    policy = json.loads(lam.get_policy(FunctionName="embed", Qualifier="live")["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {
        URL_PERMISSION_SID,
        URL_INVOKE_PERMISSION_SID,
    }
    scaling = aws["scaling"]
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="lambda")["ScalableTargets"]
    assert target["ResourceId"] == "function:embed:live"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    actions = scaling.describe_scheduled_actions(
        ServiceNamespace="lambda", ResourceId="function:embed:live"
    )["ScheduledActions"]
    assert {a["ScheduledActionName"]: a["Schedule"] for a in actions} == {
        "coldbrew-0000": "cron(0 0 * * ? *)",
        "coldbrew-1200": "cron(0 12 * * ? *)",
    }
    head = aws["s3"].head_object(Bucket="my-artifacts", Key=spec.key)
    assert head["Metadata"] == {"sha256": spec.sha256}
    served = fetch_deployed_artifact(spec, clients, tmp_path / "served.zip")
    assert served.read_bytes() == artifact.read_bytes()


def test_redeploy_unchanged_calls_nothing_and_changed_code_moves_the_alias(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    clients = _clients(aws)
    first = _stub_artifact(tmp_path / "one")
    _deploy(_spec(aws, first), clients)

    again, result = _deploy(_spec(aws, first), clients)
    assert again.calls == () and result.version == "1"
    assert result.url and result.url.startswith("https://")

    second = _stub_artifact(tmp_path / "two", STUB + "\n# changed\n")
    plan, result = _deploy(_spec(aws, second), clients)
    assert [c.operation for c in plan.calls] == [
        "upload_file",
        "update_function_code",
        "wait_until_ready",
        "publish_version",
        "update_alias",
    ]
    assert result.version == "2"
    lam = aws["lambda"]
    assert lam.get_alias(FunctionName="embed", Name="live")["FunctionVersion"] == "2"
    v1 = lam.get_function_configuration(FunctionName="embed", Qualifier="1")["CodeSha256"]
    assert v1 == _spec(aws, first).code_sha256  # the old version keeps its code

    plan, _ = _deploy(_spec(aws, second, timeout_s=60), clients)  # a setting only
    assert [c.operation for c in plan.calls] == [
        "update_function_configuration",
        "wait_until_ready",
        "publish_version",
        "update_alias",
    ]
    assert lam.get_function_configuration(FunctionName="embed", Qualifier="live")["Timeout"] == 60


# --- the CLI, in-process (--serve-for 0: deploy and check, no sandboxes) ---------------


def test_cli_without_local_deploys_to_the_account_boto3_finds(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    # Here the account is moto's (mock_aws patches every boto3 client the CLI makes).
    artifact = _stub_artifact(tmp_path / "dist")
    args = ["deploy", str(artifact), "--role-arn", aws["role"], "--region", REGION]
    runner = CliRunner()
    result = runner.invoke(main, [*args, "--bucket", "my-artifacts", "--function-name", "e"])
    assert result.exit_code == 0, result.output
    assert "deployed e: alias live -> version 1" in result.output
    assert "local cloud" not in result.output and "Serving" not in result.output
    assert aws["lambda"].get_alias(FunctionName="e", Name="live")["FunctionVersion"] == "1"

    again = runner.invoke(main, [*args, "--bucket", "my-artifacts", "--function-name", "e"])
    assert again.exit_code == 0, again.output
    assert "calls (0):" in again.output and "no new version" in again.output

    no_bucket = runner.invoke(main, [*args, "--bucket", "not-my-bucket"])
    assert no_bucket.exit_code == 1
    assert "bucket not-my-bucket does not exist" in no_bucket.output
    assert "aws s3 mb s3://not-my-bucket" in no_bucket.output

    # The real port calls Lambda's provisioned-concurrency API, which moto lacks.
    pc = runner.invoke(
        main, [*args, "--bucket", "my-artifacts", "--function-name", "e", "--provisioned", "1"]
    )
    assert pc.exit_code == 1
    assert "provisioned-concurrency put_provisioned_concurrency_config failed" in pc.output
    assert "Traceback" not in pc.output


def test_cli_local_deploy_prints_endpoint_calls_and_checks_the_bytes(tmp_path: Path) -> None:
    artifact = _stub_artifact(tmp_path / "dist")
    result = CliRunner().invoke(
        main,
        ["deploy", str(artifact), "--local", "--serve-for", "0", "--provisioned", "2"],
        env={"COLDBREW_DEPLOY_FUNCTION_NAME": "embed-stub"},
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(
        r"local cloud: moto [\d.]+ (server at http://127\.0\.0\.1:\d+|in-process)", out
    )
    called = re.findall(r"^  (\S+) (\S+) \{", out, flags=re.M)
    assert called == [
        ("s3", "create_bucket"),
        ("s3", "upload_file"),
        ("lambda", "create_function"),
        ("lambda", "wait_until_ready"),
        ("lambda", "publish_version"),
        ("lambda", "create_alias"),
        ("lambda", "create_function_url_config"),
        ("provisioned-concurrency", "put_provisioned_concurrency_config"),
    ]
    assert "deployed embed-stub: alias live -> version 1" in out
    assert "NOT applied: moto has no provisioned-concurrency API" in out
    assert "byte for byte" in out and "Traceback" not in out


def test_cli_dry_run_changes_nothing_and_a_schedule_is_applied(tmp_path: Path) -> None:
    artifact = _stub_artifact(tmp_path / "dist")
    dry = CliRunner().invoke(main, ["deploy", str(artifact), "--local", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "--dry-run: nothing is changed" in dry.output
    assert "lambda create_function {" in dry.output and "deployed" not in dry.output

    schedule = write_schedule(_schedule("coldbrew-stub"), tmp_path / "schedule.json")
    result = CliRunner().invoke(
        main,
        ["deploy", str(artifact), "--local", "--serve-for", "0", "--schedule", str(schedule)],
    )
    assert result.exit_code == 0, result.output
    assert "application-autoscaling register_scalable_target" in result.output
    assert (
        "schedule on function:coldbrew-stub:live: 2 scheduled actions put "
        "(coldbrew-0000, coldbrew-1200)" in result.output
    )


def test_cli_errors_are_one_line_naming_the_fix(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["deploy", str(tmp_path / "nope.zip"), "--local"])
    assert missing.exit_code == 1 and "coldbrew build" in missing.output

    bare = tmp_path / "bare" / "x.zip"
    bare.parent.mkdir()
    bare.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    no_report = runner.invoke(main, ["deploy", str(bare), "--local"])
    assert "no build report" in no_report.output and "coldbrew build" in no_report.output

    artifact = _stub_artifact(tmp_path / "dist")
    with zipfile.ZipFile(artifact, "a") as zf:
        zf.writestr("extra.txt", "changed after the build")
    changed = runner.invoke(main, ["deploy", str(artifact), "--local"])
    assert "not the zip its build report describes" in changed.output

    fresh = _stub_artifact(tmp_path / "fresh")
    real = runner.invoke(main, ["deploy", str(fresh), "--region", REGION])
    assert real.exit_code == 1
    assert "needs --role-arn and --bucket" in real.output and "cdk deploy" in real.output
    for result in (missing, no_report, changed, real):
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


# --- acceptance: the real CLI, serving what it deployed ---------------------------------


@pytest.fixture(scope="module")
def runtime_312() -> None:
    try:
        ensure_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")


class _Deploying(CliProcess):
    """``coldbrew deploy --local`` in a subprocess; its output read line by line."""

    def __init__(self, artifact: Path, *extra: str) -> None:
        super().__init__(["deploy", str(artifact), "--local", "--port", "0", *extra])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def _post(url: str, inputs: list[str]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url + "embed",
        data=json.dumps({"inputs": inputs}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


def _assert_unit_rows(body: Any, rows: int) -> list[list[float]]:
    assert body["dimensions"] == DIMENSIONS
    vectors: list[list[float]] = body["embeddings"]
    assert len(vectors) == rows and all(len(v) == DIMENSIONS for v in vectors)
    for vector in vectors:
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-4)
    return vectors


def _closed(endpoint: str) -> bool:
    host, port = endpoint.removeprefix("http://").split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


def test_deploy_local_then_a_request_to_the_printed_url_returns_embeddings(
    runtime_312: None, tmp_path: Path
) -> None:
    artifact = _stub_artifact(tmp_path / "dist")
    run = _Deploying(artifact)
    try:
        # moto's server needs its [server] extra (Flask); without it moto runs in-process.
        endpoint = run.wait_for(r"^local cloud: moto \S+ (?:server at (http://\S+)|in-process)")[1]
        run.wait_for(r"^deployed coldbrew-stub: alias live -> version 1")
        run.wait_for(r"^verified: .* byte for byte")
        url = run.wait_for(r"^Serving coldbrew-stub:live .* at (http://127\.0\.0\.1:\d+/)").group(1)
        status, body = _post(url, ["a cold brew", "the function scaled to zero"])
        assert status == 200
        _assert_unit_rows(body, 2)
        run.wait_for(r"^REPORT RequestId: .*Init Duration")  # a cold start, logged as Lambda does
    finally:
        code = run.stop()
    assert code == 0, "\n".join(run.seen)
    assert endpoint is None or _closed(endpoint)  # moto stopped with the command


def test_without_flask_moto_runs_in_process_and_says_so(tmp_path: Path) -> None:
    artifact = _stub_artifact(tmp_path / "dist")
    blocked = "import sys; sys.modules['flask'] = None; from coldbrew.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", blocked, "deploy", str(artifact), "--local", "--serve-for", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "in-process (flask is missing for its server: pip install 'moto[server]')" in (
        result.stdout
    )
    assert "deployed coldbrew-stub: alias live -> version 1" in result.stdout
    assert "byte for byte" in result.stdout and not result.stderr.strip()


@pytest.mark.slow
def test_deploy_local_serves_real_minilm_embeddings(runtime_312: None, tmp_path: Path) -> None:
    artifact = ROOT / "dist" / "minilm-l6-v2-py312-x86_64.zip"
    if not artifact.is_file():
        from coldbrew.artifact.builder import BuildOptions, build_artifact
        from coldbrew.artifact.target import Target

        if not (ROOT / "models" / "minilm-l6-v2" / "dist" / "manifest.json").is_file():
            pytest.fail("the MiniLM model is not built: run `make model` (make test does)")
        built = build_artifact(
            BuildOptions(
                model="minilm-l6-v2",
                project_dir=ROOT,
                out_dir=tmp_path / "dist",
                cache_dir=CACHE_DIR,
                target=Target("3.12", "x86_64"),
            )
        )
        artifact = Path(built.artifact)
    run = _Deploying(artifact, "--url-auth", "NONE", "--reserved-concurrency", "4")
    try:
        run.wait_for(r"lambda add_permission .*InvokeFunctionUrl")
        url = run.wait_for(r"^Serving coldbrew-minilm-l6-v2:live .* at (http://\S+/)").group(1)
        sentences = [
            "A cold brew is coffee steeped in cold water for many hours.",
            "Cold-brewed coffee is made by soaking the grounds in cold water overnight.",
            "The function scaled to zero and started again on the next request.",
        ]
        status, body = _post(url, sentences)
        assert status == 200 and body["model"] == "minilm-l6-v2"
        a, b, c = _assert_unit_rows(body, 3)
        similar = sum(x * y for x, y in zip(a, b, strict=True))
        unrelated = sum(x * y for x, y in zip(a, c, strict=True))
        assert similar > 0.6 > unrelated
    finally:
        code = run.stop()
    assert code == 0, "\n".join(run.seen)
