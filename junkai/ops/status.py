"""When each periodic job last ran, and whether it is late: for the manager's and HQ's pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from junkai.ops.jobs import JOBS, Job
from junkai.ops.models import JobRun, JobStatus


@dataclass(frozen=True)
class JobState:
    job: Job
    last: JobRun | None  # the latest finished run
    running: bool
    late: bool
    reason: str  # why it is flagged, in words for the page ("" when all is well)


def job_states(now: dt.datetime | None = None) -> list[JobState]:
    """Two queries whatever the number of runs kept."""
    now = now or timezone.now()
    per_job = {
        row["job"]: row
        for row in JobRun.objects.values("job").annotate(
            last_id=Max("id", filter=Q(finished_at__isnull=False)),
            running=Count("id", filter=Q(finished_at__isnull=True)),
        )
    }
    last_ids = [row["last_id"] for row in per_job.values() if row["last_id"]]
    last_runs = {run.job: run for run in JobRun.objects.filter(id__in=last_ids)}
    states = []
    for job in JOBS.values():
        last = last_runs.get(job.name)
        running = bool(per_job.get(job.name, {}).get("running"))
        if last is None:
            reason = "実行の記録がありません"
        elif last.status == JobStatus.FAILED:
            reason = "前回の実行が失敗しました"
        elif now - last.started_at > job.late_after:
            reason = "予定どおりに実行されていません"
        else:
            reason = ""
        states.append(JobState(job, last, running, bool(reason), reason))
    return states
