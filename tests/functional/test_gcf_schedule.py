"""``coldbrew tune --apply --platform gcf``: the schedule as Cloud Scheduler jobs, through
Google's real scheduler client (REST, anonymous credentials) against the local fake."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coldbrew.capacity.schedule import read_schedule, write_schedule
from coldbrew.cli import main
from coldbrew.cli.tune_gcf import apply_to_gcf
from coldbrew.deploy.gcf_fake import FakeGoogleCloud

pytest.importorskip("google.cloud.scheduler_v1")

NAME = "1---2---pool3-300-128"
JOBS = "projects/my-project/locations/europe-west1/jobs"
SA = "scheduler@my-project.iam.gserviceaccount.com"


@pytest.fixture
def fake() -> Iterator[FakeGoogleCloud]:
    with FakeGoogleCloud() as server:
        yield server


def _day_night_trace(path: Path, days: int = 6) -> Path:
    """A Huawei-format trace: busy 08:00-20:00 UTC, quiet otherwise."""
    start = datetime(2016, 7, 1, tzinfo=UTC)
    lines = [f"date,{NAME}"]
    for i in range(days * 288):
        stamp = start + timedelta(minutes=5 * i)
        per_bin = 3000.0 if 8 <= stamp.hour < 20 else 30.0
        lines.append(f"{stamp:%Y-%m-%d %H:%M:%S},{per_bin}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _tune_apply(fake: FakeGoogleCloud, trace: Path, out: Path) -> str:
    args = ["tune", str(trace), "--train-days", "4", "--out", str(out), "--apply"]
    args += ["--platform", "gcf", "--project", "my-project", "--region", "europe-west1"]
    args += ["--function-name", "embed", "--scheduler-service-account", SA]
    args += ["--api-endpoint", fake.endpoint]
    result = CliRunner().invoke(main, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _body(job: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(job["httpTarget"]["body"]))


def test_tune_apply_creates_one_job_per_block_then_reapplies_nothing(
    fake: FakeGoogleCloud, tmp_path: Path
) -> None:
    trace = _day_night_trace(tmp_path / "trace.csv")
    out = tmp_path / "schedule.json"
    output = _tune_apply(fake, trace, out)
    schedule = read_schedule(out)
    assert len(schedule.blocks) > 1  # the day and the night differ
    assert "per day with these min instances" in output
    assert sorted(fake.jobs) == sorted(
        f"{JOBS}/coldbrew-embed-{b.start.replace(':', '')}" for b in schedule.blocks
    )
    for block in schedule.blocks:
        job = fake.jobs[f"{JOBS}/coldbrew-embed-{block.start.replace(':', '')}"]
        hours, minutes = block.start.split(":")
        assert job["schedule"] == f"{int(minutes)} {int(hours)} * * *"
        assert job["timeZone"] == "Etc/UTC"
        target = job["httpTarget"]
        assert target["uri"].endswith("/functions/embed?updateMask=serviceConfig.minInstanceCount")
        assert _body(job) == {"serviceConfig": {"minInstanceCount": block.gcf_min_instance_count}}
        assert target["oauthToken"]["serviceAccountEmail"] == SA
    writes = len(fake.writes())
    assert writes == len(schedule.blocks)

    again = _tune_apply(fake, trace, out)
    assert len(fake.writes()) == writes
    assert f"0 jobs created, 0 updated, 0 stale deleted, {len(schedule.blocks)} unchanged" in again


def test_a_changed_level_updates_one_job_and_a_dropped_block_is_deleted(
    fake: FakeGoogleCloud, tmp_path: Path
) -> None:
    trace = _day_night_trace(tmp_path / "trace.csv")
    out = tmp_path / "schedule.json"
    _tune_apply(fake, trace, out)
    fake.jobs[f"{JOBS}/someone-elses-job"] = {"name": f"{JOBS}/someone-elses-job"}
    schedule = read_schedule(out)
    first, *rest = schedule.blocks
    changed = type(first)(**{**first.__dict__, "gcf_min_instance_count": 7})
    edited = tmp_path / "edited.json"
    write_schedule(type(schedule)(**{**schedule.__dict__, "blocks": (changed, *rest)}), edited)
    before = len(fake.writes())
    lines: list[str] = []
    settings = {"gcf_project": "my-project", "gcf_service_account": SA}
    apply_to_gcf(
        lines.append,
        edited,
        function="embed",
        region="europe-west1",
        settings={**settings, "gcf_api_endpoint": fake.endpoint},
    )
    name = f"{JOBS}/coldbrew-embed-{first.start.replace(':', '')}"
    assert fake.writes()[before:] == [("PATCH", f"/v1/{name}")]
    assert fake.update_masks[-1] == ["schedule", "timeZone", "httpTarget", "description"]
    assert _body(fake.jobs[name]) == {"serviceConfig": {"minInstanceCount": 7}}

    # Merge the first two blocks: the second's job is stale, someone else's is left alone.
    merged = type(first)(**{**first.__dict__, "end": rest[0].end})
    shorter = tmp_path / "shorter.json"
    write_schedule(type(schedule)(**{**schedule.__dict__, "blocks": (merged, *rest[1:])}), shorter)
    apply_to_gcf(
        lines.append,
        shorter,
        function="embed",
        region="europe-west1",
        settings={**settings, "gcf_api_endpoint": fake.endpoint},
    )
    stale = f"{JOBS}/coldbrew-embed-{rest[0].start.replace(':', '')}"
    assert ("DELETE", f"/v1/{stale}") in fake.writes()
    assert stale not in fake.jobs and f"{JOBS}/someone-elses-job" in fake.jobs


def test_a_refused_job_is_one_line_naming_the_fix(fake: FakeGoogleCloud, tmp_path: Path) -> None:
    trace = _day_night_trace(tmp_path / "trace.csv")
    out = tmp_path / "schedule.json"
    fake.fail_next("create_job", 403, "PERMISSION_DENIED", "cloudscheduler.jobs.create denied")
    args = ["tune", str(trace), "--train-days", "4", "--out", str(out), "--apply"]
    args += ["--platform", "gcf", "--project", "my-project", "--region", "europe-west1"]
    args += ["--function-name", "embed", "--scheduler-service-account", SA]
    result = CliRunner().invoke(main, [*args, "--api-endpoint", fake.endpoint])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert "create_job failed (403)" in errors[0] and "roles/cloudscheduler.admin" in errors[0]
    assert "Traceback" not in result.output

    no_account = CliRunner().invoke(main, [*args[:-2], "--api-endpoint", fake.endpoint])
    assert no_account.exit_code == 1
    assert "--scheduler-service-account must be a service account e-mail" in no_account.output
