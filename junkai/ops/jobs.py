"""The periodic jobs and the lock that lets only one of them run at a time.

Every app server has the same systemd timers (deploy/systemd/), so two servers start a job at
the same moment. The first takes the job's lock and runs; the other prints that the job is
already running and exits 0 (a timer's unit must not turn red because a peer was quicker).

PostgreSQL: a session-level advisory lock per job, held on a connection of its own, so the
job's work may commit, roll back or even reconnect without losing it, and a killed process
loses it with its connection. SQLite (one machine by nature): the unfinished JobRun row is the
lock, under a partial unique index; a row whose process on this host is gone is closed as
interrupted and the lock taken over.

A JobRun row is the job's own bookkeeping, not a change to police records, so it writes no
audit event (the job's actions write theirs).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone

from junkai.ops.models import JobRun, JobStatus


@dataclass(frozen=True)
class Job:
    name: str  # the command, as systemd runs it: `junkai <name>`
    label: str  # what the pages call it
    interval: dt.timedelta  # its timer's period; late = no run for twice this

    @property
    def late_after(self) -> dt.timedelta:
        return self.interval * 2


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("checkout-alerts", "持出未返却の確認", dt.timedelta(minutes=5)),
        Job("misuse-scan", "不適正利用の兆候の検査", dt.timedelta(minutes=5)),
        Job("refresh-categories", "世帯区分の更新", dt.timedelta(days=1)),
        Job("dashboard-snapshot", "月末集計", dt.timedelta(days=31)),
        Job("backup", "バックアップ", dt.timedelta(days=1)),
        Job("restore-check", "バックアップの復元確認", dt.timedelta(days=7)),
    )
}


def this_host() -> str:
    return socket.gethostname()


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key per job (apart from the audit chain's key)."""
    digest = hashlib.sha256(f"junkai-job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _close_interrupted(run: JobRun) -> None:
    run.finished_at = timezone.now()
    run.status = JobStatus.FAILED
    run.message = "中断されました（実行していたプロセスが終了しています）"
    run.save(update_fields=["finished_at", "status", "message"])


@dataclass
class Busy:
    """The job is running elsewhere: who has it."""

    host: str
    started_at: dt.datetime | None


def _insert_run(job: Job, *, lock_held: bool) -> JobRun | Busy:
    host, pid = this_host(), os.getpid()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                if lock_held:
                    # Holding the advisory lock, an unfinished row can only be a run that died.
                    for stale in JobRun.objects.filter(job=job.name, finished_at__isnull=True):
                        _close_interrupted(stale)
                return JobRun.objects.create(
                    job=job.name, started_at=timezone.now(), host=host, pid=pid
                )
        except IntegrityError:
            other = JobRun.objects.filter(job=job.name, finished_at__isnull=True).first()
            if other is None:
                continue  # it finished meanwhile: try again
            if other.host == host and not _pid_alive(other.pid):
                _close_interrupted(other)
                continue
            return Busy(other.host, other.started_at)
    return Busy("", None)


def _finish(run: JobRun, status: JobStatus, message: str) -> None:
    run.finished_at = timezone.now()
    run.status = status
    run.message = message[:500]
    run.save(update_fields=["finished_at", "status", "message"])


@contextmanager
def exclusive_run(name: str) -> Iterator[JobRun | Busy]:
    """Run the body as the only run of the job, recorded in JobRun; yields Busy (and the body
    should do nothing) when another run holds the job."""
    job = JOBS[name]
    lock_conn = None
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        lock_conn = connections.create_connection(DEFAULT_DB_ALIAS)
        with lock_conn.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_advisory_key(name)])
            row = cursor.fetchone()
        if not (row and row[0]):
            lock_conn.close()
            other = JobRun.objects.filter(job=name, finished_at__isnull=True).first()
            yield Busy(other.host, other.started_at) if other else Busy("", None)
            return
    try:
        run = _insert_run(job, lock_held=lock_conn is not None)
        if isinstance(run, Busy):
            yield run
            return
        try:
            yield run
        except BaseException as error:
            _finish(run, JobStatus.FAILED, f"{type(error).__name__}: {error}")
            raise
        _finish(run, JobStatus.OK, run.message)
    finally:
        if lock_conn is not None:
            # Closing the connection would release it too; unlock first to say so plainly.
            with lock_conn.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_advisory_key(name)])
            lock_conn.close()


def busy_message(job: Job, busy: Busy) -> str:
    where = f"（{busy.host}" if busy.host else "（"
    since = (
        f"、{timezone.localtime(busy.started_at):%Y-%m-%d %H:%M} から）"
        if busy.started_at
        else "）"
    )
    return f"{job.label}は他で実行中です{where}{since}。今回は何もせずに終了します。"


F = TypeVar("F", bound=Callable[..., Any])


def scheduled_job(name: str) -> Callable[[F], F]:
    """Decorates a management command's handle(): one run at a time across all servers,
    each run recorded in JobRun; a start that finds the job running prints so and exits 0."""
    job = JOBS[name]

    def decorate(handle: F) -> F:
        @functools.wraps(handle)
        def wrapper(self: Any, *args: Any, **options: Any) -> Any:
            with exclusive_run(name) as run:
                if isinstance(run, Busy):
                    self.stdout.write(busy_message(job, run))
                    return None
                return handle(self, *args, **options)

        return wrapper  # type: ignore[return-value]

    return decorate
