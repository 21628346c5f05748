"""The periodic jobs: one run at a time across servers, each run recorded, and the 「定期処理」
panel of the manager's home and HQ's dashboard."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from io import StringIO
from typing import Any
from unittest import mock

from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from junkai.lib.wareki import format_wareki
from junkai.ops.jobs import this_host
from junkai.ops.models import JobRun, JobStatus
from junkai.testing import JunkaiTransactionTestCase, PersonaTestCase

#: Each scheduled command and the function its run waits in (held open by the test).
HELD = {
    "checkout-alerts": (
        "junkai.registers.management.commands.checkout_alerts.do_alert_overdue_checkouts"
    ),
    "misuse-scan": "junkai.disclosures.management.commands.misuse_scan.scan",
    "refresh-categories": (
        "junkai.households.management.commands.refresh_categories.do_refresh_categories"
    ),
    "dashboard-snapshot": (
        "junkai.dashboards.management.commands.dashboard_snapshot.do_take_month_snapshot"
    ),
}


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class JobLockTests(JunkaiTransactionTestCase):
    """Two starts at once, each on its own database connection (threads): one runs, the other
    says the job is running and returns normally (exit 0)."""

    def run_twice(self, command: str, target: str, *args: str) -> tuple[str, str]:
        module, _, attribute = target.rpartition(".")
        real = getattr(__import__(module, fromlist=[attribute]), attribute)
        started, release = threading.Event(), threading.Event()

        def held(*args: Any, **kwargs: Any) -> Any:
            started.set()
            release.wait(20)
            return real(*args, **kwargs)

        first, errors = StringIO(), []

        def first_start() -> None:
            try:
                call_command(command.replace("-", "_"), *args, stdout=first)
            except BaseException as error:  # reported in the test's own thread
                errors.append(error)
            finally:
                connections.close_all()

        with mock.patch(target, held):
            thread = threading.Thread(target=first_start)
            thread.start()
            self.assertTrue(started.wait(20), "the first start never reached its work")
            second = StringIO()
            call_command(command.replace("-", "_"), *args, stdout=second)
            release.set()
            thread.join(60)
        self.assertEqual(errors, [])
        return first.getvalue(), second.getvalue()

    def test_each_job_started_twice_at_once_runs_once(self) -> None:
        for command, target in HELD.items():
            with self.subTest(command):
                first, second = self.run_twice(command, target)
                self.assertIn("他で実行中です", second)
                self.assertNotIn("他で実行中です", first)
                runs = JobRun.objects.filter(job=command)
                self.assertEqual(runs.count(), 1)
                run = runs.get()
                self.assertEqual(run.status, JobStatus.OK)
                self.assertEqual(run.host, this_host())
                self.assertIsNotNone(run.finished_at)

    def test_backup_started_twice_at_once_runs_once(self) -> None:
        directory = tempfile.mkdtemp(prefix="junkai-backup-twice-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        target = "junkai.ops.management.commands.backup.make_backup"
        first, second = self.run_twice("backup", target, directory)
        self.assertIn("バックアップしました", first)
        self.assertIn("バックアップは他で実行中です", second)
        self.assertEqual(len(os.listdir(directory)), 1)
        self.assertEqual(JobRun.objects.get(job="backup").status, JobStatus.OK)

    def test_a_run_whose_process_died_is_closed_and_the_job_runs(self) -> None:
        stale = JobRun.objects.create(
            job="checkout-alerts",
            started_at=timezone.now() - dt.timedelta(minutes=30),
            host=this_host(),
            pid=_dead_pid(),
        )
        out = StringIO()
        call_command("checkout_alerts", stdout=out)
        self.assertIn("未返却の警告", out.getvalue())
        stale.refresh_from_db()
        self.assertEqual(stale.status, JobStatus.FAILED)
        self.assertIn("中断", stale.message)
        self.assertEqual(
            JobRun.objects.filter(job="checkout-alerts", status=JobStatus.OK).count(), 1
        )

    def test_a_failing_job_is_recorded_as_failed(self) -> None:
        with (
            mock.patch(HELD["refresh-categories"], side_effect=RuntimeError("disk full")),
            self.assertRaises(RuntimeError),
        ):
            call_command("refresh_categories", stdout=StringIO())
        run = JobRun.objects.get(job="refresh-categories")
        self.assertEqual(run.status, JobStatus.FAILED)
        self.assertIn("disk full", run.message)
        # The lock is free again: the next start runs.
        call_command("refresh_categories", stdout=StringIO())
        self.assertEqual(JobRun.objects.filter(job="refresh-categories").count(), 2)


class JobsPanelTests(PersonaTestCase):
    def record(self, job: str, *, ago: dt.timedelta, status: JobStatus = JobStatus.OK) -> JobRun:
        started = timezone.now() - ago
        return JobRun.objects.create(
            job=job,
            started_at=started,
            finished_at=started + dt.timedelta(seconds=3),
            status=status,
            host="app1",
            pid=1,
        )

    def test_manager_sees_when_each_job_ran_and_which_is_late(self) -> None:
        recent = self.record("checkout-alerts", ago=dt.timedelta(minutes=3))
        self.record("misuse-scan", ago=dt.timedelta(minutes=11))  # > 2 × 5 minutes: late
        self.record("refresh-categories", ago=dt.timedelta(hours=2), status=JobStatus.FAILED)
        self.record("backup", ago=dt.timedelta(hours=20))
        response = self.client_for("kacho").get("/")
        self.assertContains(response, "定期処理")
        html = response.content.decode()
        local = timezone.localtime(recent.started_at)
        self.assertIn(f"{format_wareki(local.date())} {local:%H:%M}", html)
        rows = {
            label: html.split(label, 1)[1].split("</tr>", 1)[0]
            for label in (
                "持出未返却の確認",
                "不適正利用の兆候の検査",
                "世帯区分の更新",
                "月末集計",
                "バックアップ",
            )
        }
        self.assertIn("正常", rows["持出未返却の確認"])
        self.assertNotIn("要確認", rows["持出未返却の確認"])
        self.assertIn("予定どおりに実行されていません", rows["不適正利用の兆候の検査"])
        self.assertIn("前回の実行が失敗しました", rows["世帯区分の更新"])
        self.assertIn("実行の記録がありません", rows["月末集計"])
        self.assertNotIn("要確認", rows["バックアップ"])
        for command in ("checkout-alerts", "misuse-scan", "refresh-categories", "backup"):
            self.assertNotIn(command, html)

    def test_hq_sees_the_panel_and_a_beat_officer_does_not(self) -> None:
        self.record("backup", ago=dt.timedelta(days=3))
        response = self.client_for("hq").get("/dashboard/hq/")
        self.assertContains(response, "定期処理")
        backup_row = response.content.decode().split("バックアップ</td>", 1)[1].split("</tr>")[0]
        self.assertIn("予定どおりに実行されていません", backup_row)
        self.assertNotContains(self.client_for("officer1a").get("/"), "定期処理")
