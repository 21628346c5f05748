"""Audit log: append rate (each append serialised on the chain head) and verify rate.

DATABASE_URL=postgres:///junkai .venv/bin/python -m bench.audit_chain [EVENTS]
"""

from __future__ import annotations

import statistics
import sys
import time

from bench.common import bench_database


def main(events: int) -> None:
    with bench_database() as backend:
        from django.db import transaction

        from junkai.audit.chain import record, verify
        from junkai.audit.models import EventType

        latencies = []
        started = time.perf_counter()
        for i in range(events):
            t0 = time.perf_counter()
            with transaction.atomic():
                record(EventType.ACCESS_DENIED, object_type="bench", object_id=str(i))
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95)] * 1000
        print(f"backend: {backend}")
        print(
            f"append: {events} events in {elapsed:.2f} s = {events / elapsed:,.0f} events/s; "
            f"median {statistics.median(latencies) * 1000:.2f} ms, p95 {p95:.2f} ms"
        )
        t0 = time.perf_counter()
        result = verify()
        elapsed = time.perf_counter() - t0
        print(
            f"verify: {result.checked} events in {elapsed:.2f} s = "
            f"{result.checked / elapsed:,.0f} events/s ({'ok' if result.ok else result.reason})"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
