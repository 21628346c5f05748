"""Audit log without one lock: 50 writers appending at once, sealing as they go, then verify.

Each writer is a thread (in PROCESSES processes) with its own database connection and writes
each event in its own transaction, as a request does (record() and its commit hook, which
seals when the sealer's lock is free). After the bounded run the table is filled up to VERIFY_EVENTS with bulk
inserts and sealed, and `verify()` walks the whole chain.

DATABASE_URL=postgres:///junkai_audit_bench .venv/bin/python -m bench.audit_append \
    [SECONDS] [WRITERS] [VERIFY_EVENTS] [PROCESSES]
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import statistics
import sys
import threading
import time
from typing import Any

from bench.common import bench_database


def _process(index: int, threads: int, go: Any, stop_at: Any, results: Any) -> None:
    """One process of `threads` writers; sends back its latencies (or its error)."""
    from django.db import connections, transaction

    from junkai.audit.chain import record
    from junkai.audit.models import EventType

    mine: list[float] = []
    errors: list[str] = []

    def writer(n: int) -> None:
        try:
            with transaction.atomic():  # connect before the start
                pass
            go.wait()
            i = 0
            while time.time() < stop_at.value:
                t0 = time.perf_counter()
                with transaction.atomic():
                    record(EventType.ACCESS_DENIED, object_type="bench", object_id=f"{n}-{i}")
                mine.append(time.perf_counter() - t0)
                i += 1
        except Exception as exc:  # sent to the parent
            errors.append(repr(exc))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=writer, args=(f"{index}.{t}",)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put(errors[0] if errors else mine)


def main(seconds: float, writers: int, verify_events: int, processes: int) -> None:
    with bench_database() as backend:
        from django.db import connection, connections
        from django.utils import timezone

        from junkai.audit.chain import verify
        from junkai.audit.models import AuditEvent, AuditSeal, EventType
        from junkai.audit.seal import seal_pending

        # Processes of threads: 50 threads in one process would measure Python's GIL.
        connections.close_all()
        ctx = multiprocessing.get_context("fork")
        results: multiprocessing.queues.Queue[list[float] | str] = ctx.Queue()
        go = ctx.Event()
        stop_at = ctx.Value("d", 0.0)
        per = [
            writers // processes + (1 if p < writers % processes else 0) for p in range(processes)
        ]
        children = [
            ctx.Process(target=_process, args=(p, n, go, stop_at, results))
            for p, n in enumerate(per)
        ]
        for child in children:
            child.start()
        time.sleep(2)  # every child connected and waiting
        stop_at.value = time.time() + seconds
        began = time.perf_counter()
        go.set()
        gathered = [results.get(timeout=seconds + 120) for _ in children]
        elapsed = time.perf_counter() - began
        for child in children:
            child.join()
        failed = [r for r in gathered if isinstance(r, str)]
        if failed:
            raise RuntimeError(failed[0])
        latencies = [r for r in gathered if not isinstance(r, str)]
        flat = sorted(x for mine in latencies for x in mine)
        written = len(flat)
        sealed_during = AuditSeal.objects.count()
        t0 = time.perf_counter()
        while AuditEvent.objects.count() != AuditSeal.objects.count():
            seal_pending()
            if time.perf_counter() - t0 > 120:
                break
            time.sleep(0.05)
        catch_up = time.perf_counter() - t0
        print(f"backend: {backend}")
        print(
            f"append: {writers} writers ({processes} processes of threads), {written} events in {elapsed:.1f} s = "
            f"{written / elapsed:,.0f} events/s; per event (own transaction, commit hook "
            f"included) p50 {statistics.median(flat) * 1000:.2f} ms, "
            f"p95 {flat[int(len(flat) * 0.95)] * 1000:.2f} ms, max {flat[-1] * 1000:.1f} ms"
        )
        print(
            f"sealing: {sealed_during} of {written} sealed by the writers' commit hooks during "
            f"the run; the rest sealed {catch_up:.2f} s after the last commit"
        )

        # Fill up to verify_events with bulk inserts (the verify rate needs a long chain).
        missing = verify_events - AuditEvent.objects.count()
        t0 = time.perf_counter()
        now = timezone.now()
        while missing > 0:
            n = min(missing, 20000)
            AuditEvent.objects.bulk_create(
                AuditEvent(
                    created_at=now,
                    event_type=EventType.READ_HOUSEHOLD,
                    object_type="households.household",
                    object_id=str(i),
                    station_id=1,
                    purpose="巡回連絡",
                    details={"count": i % 7, "channel": "web"},
                )
                for i in range(n)
            )
            missing -= n
        filled = time.perf_counter() - t0
        t0 = time.perf_counter()
        sealed_now = 0
        while AuditEvent.objects.count() != AuditSeal.objects.count():
            sealed_now += seal_pending()
        seal_time = time.perf_counter() - t0
        print(
            f"fill: bulk-inserted to {AuditEvent.objects.count()} events in {filled:.1f} s; "
            f"sealed {sealed_now} in {seal_time:.1f} s = {sealed_now / seal_time:,.0f} events/s "
            "(one sealer)"
        )
        connection.close()
        t0 = time.perf_counter()
        result = verify()
        elapsed = time.perf_counter() - t0
        print(
            f"verify: {result.checked} events in {elapsed:.2f} s = "
            f"{result.checked / elapsed:,.0f} events/s "
            f"({'ok' if result.ok else result.reason}; unsealed {result.unsealed})"
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        float(args[0]) if args else 20.0,
        int(args[1]) if len(args) > 1 else 50,
        int(args[2]) if len(args) > 2 else 200_000,
        int(args[3]) if len(args) > 3 else 5,
    )
