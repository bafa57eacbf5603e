"""``coldbrew deploy --platform gcf`` end to end: Google's real v2 clients (REST transport,
anonymous credentials) against the local fake of the Cloud Functions, upload and Cloud Run
IAM APIs (:mod:`coldbrew.deploy.gcf_fake`)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from coldbrew.cli import main
from coldbrew.deploy.gcf_fake import FakeGoogleCloud
from coldbrew.deploy.gcf_spec import SOURCE_LABEL

pytest.importorskip("google.cloud.functions_v2")
pytest.importorskip("google.cloud.run_v2")

PARENT = "projects/my-project/locations/europe-west1"
FUNCTION = f"{PARENT}/functions/embed"


@pytest.fixture
def fake() -> Iterator[FakeGoogleCloud]:
    with FakeGoogleCloud(polls=2) as server:
        yield server


def _artifact(dist: Path, text: str = "def handle(request):\n    return 'ok'\n") -> Path:
    dist.mkdir(parents=True, exist_ok=True)
    artifact = dist / "tiny-py312-x86_64.zip"
    with zipfile.ZipFile(artifact, "w") as archive:
        archive.writestr("main.py", text)
    report = {"python": "3.12", "arch": "x86_64", "model": "tiny", "layout": "zip"}
    (dist / "tiny-py312-x86_64.report.json").write_text(json.dumps(report))
    return artifact


def _deploy(fake: FakeGoogleCloud, artifact: Path, *extra: str) -> tuple[int, str]:
    args = ["deploy", "--platform", "gcf", str(artifact), "--project", "my-project"]
    args += ["--region", "europe-west1", "--name", "embed", "--api-endpoint", fake.endpoint]
    result = CliRunner().invoke(main, [*args, *extra])
    return result.exit_code, result.output


def test_create_uploads_builds_grants_and_prints_the_url(
    fake: FakeGoogleCloud, tmp_path: Path
) -> None:
    artifact = _artifact(tmp_path / "dist")
    code, out = _deploy(fake, artifact, "--allow-unauthenticated", "--memory", "2048")
    assert code == 0, out
    assert [(m, p.split("/")[-1]) for m, p in fake.writes()] == [
        ("POST", "functions:generateUploadUrl"),
        ("PUT", fake.writes()[1][1].split("/")[-1]),
        ("POST", "functions"),
        ("POST", "embed:setIamPolicy"),
    ]
    assert list(fake.uploads.values()) == [artifact.read_bytes()]
    function = fake.functions[FUNCTION]
    assert function["serviceConfig"]["availableMemory"] == "2048Mi"
    assert function["labels"][SOURCE_LABEL] in _sha256(artifact)
    assert function["buildConfig"]["runtime"] == "python312"
    assert function["buildConfig"]["entryPoint"] == "handle"
    policy = fake.iam[f"{PARENT}/services/embed"]
    assert {"role": "roles/run.invoker", "members": ["allUsers"]} in policy["bindings"]
    assert "waiting on operation-" in out and "done after" in out
    assert f"url: {function['serviceConfig']['uri']}  (invoker: public)" in out


def test_unchanged_redeploy_makes_only_reads(fake: FakeGoogleCloud, tmp_path: Path) -> None:
    artifact = _artifact(tmp_path / "dist")
    assert _deploy(fake, artifact)[0] == 0
    writes = len(fake.writes())
    code, out = _deploy(fake, artifact)
    assert code == 0, out
    assert len(fake.writes()) == writes
    assert "unchanged: no calls made" in out and "url: https://embed-" in out


def test_one_changed_setting_updates_only_it(fake: FakeGoogleCloud, tmp_path: Path) -> None:
    artifact = _artifact(tmp_path / "dist")
    assert _deploy(fake, artifact)[0] == 0
    code, out = _deploy(fake, artifact, "--max-instances", "3")
    assert code == 0, out
    assert fake.update_masks == [["serviceConfig.maxInstanceCount"]]
    assert fake.writes()[-1] == ("PATCH", f"/v2/{FUNCTION}")
    assert fake.functions[FUNCTION]["serviceConfig"]["maxInstanceCount"] == 3
    assert len(fake.uploads) == 1


def test_new_source_is_uploaded_and_only_the_source_updated(
    fake: FakeGoogleCloud, tmp_path: Path
) -> None:
    assert _deploy(fake, _artifact(tmp_path / "a"))[0] == 0
    changed = _artifact(tmp_path / "b", "def handle(request):\n    return 'v2'\n")
    code, out = _deploy(fake, changed)
    assert code == 0, out
    assert fake.update_masks == [["buildConfig.source", "labels"]]
    assert fake.functions[FUNCTION]["labels"][SOURCE_LABEL] in _sha256(changed)
    assert len(fake.uploads) == 2


@pytest.mark.parametrize(
    ("code", "status", "message", "fix"),
    [
        (
            403,
            "PERMISSION_DENIED",
            "Permission 'cloudfunctions.functions.create' denied",
            "roles/cloudfunctions.developer",
        ),
        (
            400,
            "INVALID_ARGUMENT",
            "Invalid value for service_config.available_memory",
            "fix the setting it names",
        ),
    ],
)
def test_a_service_error_is_one_line_naming_the_fix(
    fake: FakeGoogleCloud, tmp_path: Path, code: int, status: str, message: str, fix: str
) -> None:
    fake.fail_next("create_function", code, status, message)
    exit_code, out = _deploy(fake, _artifact(tmp_path / "dist"))
    assert exit_code == 1
    error = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(error) == 1, out
    assert f"create_function failed ({code})" in error[0]
    assert message in error[0] and fix in error[0]
    assert "Traceback" not in out
    assert FUNCTION not in fake.functions


def test_bad_settings_are_refused_before_any_call(fake: FakeGoogleCloud, tmp_path: Path) -> None:
    code, out = _deploy(fake, _artifact(tmp_path / "dist"), "--concurrency", "8", "--cpu", "0.5")
    assert code == 1
    assert "--concurrency 8 needs --cpu of at least 1" in out
    assert fake.requests == []
    missing = CliRunner().invoke(
        main, ["deploy", "--platform", "gcf", str(tmp_path / "dist" / "tiny-py312-x86_64.zip")]
    )
    assert missing.exit_code == 1 and "needs --project and --region" in missing.output


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_operation_is_one_line_naming_the_fix(
    fake: FakeGoogleCloud, tmp_path: Path
) -> None:
    fake.fail_next_operation(3, "Build failed: could not find main.py")
    code, out = _deploy(fake, _artifact(tmp_path / "dist"))
    assert code == 1
    error = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(error) == 1, out
    assert "create_function failed (400)" in error[0]
    assert "Build failed: could not find main.py" in error[0] and "fix the setting" in error[0]
    assert "Traceback" not in out


def test_dry_run_reads_and_prints_the_calls_only(fake: FakeGoogleCloud, tmp_path: Path) -> None:
    artifact = _artifact(tmp_path / "dist")
    assert _deploy(fake, artifact)[0] == 0
    writes = len(fake.writes())
    code, out = _deploy(fake, artifact, "--memory", "512", "--dry-run")
    assert code == 0, out
    assert len(fake.writes()) == writes
    assert "would call: functions update_function" in out
    assert "update_mask=service_config.available_memory " in out


def test_local_deploys_onto_the_fake_and_checks_the_source_byte_for_byte(tmp_path: Path) -> None:
    artifact = _artifact(tmp_path / "dist")
    args = ["deploy", "--platform", "gcf", "--local", "--serve-for", "0", str(artifact)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # Rich wraps long lines
    assert "local Cloud Functions API" in output
    assert "projects/coldbrew-local/locations/us-central1/functions/" in output
    assert "create_function" in output and "url: https://" in output
    squeezed = "".join(result.output.split())  # Rich may wrap inside the path
    assert f"checked:thedeployedsourceis{artifact},byteforbyte" in squeezed


def test_local_then_serves_the_deployed_source_under_functions_framework(tmp_path: Path) -> None:
    artifact = _artifact(tmp_path / "dist")
    args = ["deploy", "--platform", "gcf", "--local", "--serve-for", "1", "--port", "0"]
    result = CliRunner().invoke(main, [*args, str(artifact)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "byte for byte" in output
    assert "Serving" in output and "functions-framework" in output


def test_memory_is_checked_against_cloud_functions_limits_not_lambdas(
    fake: FakeGoogleCloud, tmp_path: Path
) -> None:
    artifact = _artifact(tmp_path / "dist")
    code, output = _deploy(fake, artifact, "--memory", "16384", "--cpu", "4", "--dry-run")
    assert code == 0, output  # over Lambda's 10,240 MB, within Cloud Functions' 32 GiB
    code, output = _deploy(fake, artifact, "--memory", "40000", "--dry-run")
    assert code == 1
    assert "--memory must be 128-32768 MB on Google Cloud Functions (2nd gen), got 40000" in output
