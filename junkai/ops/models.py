"""Runs of the periodic jobs (systemd timers on every app server; one run at a time)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    RUNNING = "RUNNING", "実行中"
    OK = "OK", "正常終了"
    FAILED = "FAILED", "失敗"


class JobRun(models.Model):
    """One start of a periodic job that was allowed to run (a start that found the job already
    running is not recorded: it did nothing)."""

    job = models.CharField("定期処理", max_length=32)
    started_at = models.DateTimeField("開始日時")
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    status = models.CharField(
        "結果", max_length=8, choices=JobStatus.choices, default=JobStatus.RUNNING
    )
    host = models.CharField("実行したサーバー", max_length=255)
    # With the host, tells a run whose process died (SQLite: no session lock to lose) from a
    # live one.
    pid = models.PositiveIntegerField("プロセス番号")
    message = models.CharField("結果の要約", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "定期処理の実行記録"
        indexes = [models.Index(fields=["job", "-started_at"], name="job_run_latest")]
        constraints = [
            # At most one unfinished run per job: on SQLite this row is the lock itself; on
            # PostgreSQL it backs up the advisory lock.
            models.UniqueConstraint(
                fields=["job"], condition=Q(finished_at__isnull=True), name="job_run_one_running"
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True, status=JobStatus.RUNNING)
                | (Q(finished_at__isnull=False) & ~Q(status=JobStatus.RUNNING)),
                name="job_run_finished_has_result",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
