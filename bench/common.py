"""What the benchmarks share: a throw-away database (Django's test database, created and
dropped) and the one way their timings are printed."""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager

import django


@contextmanager
def bench_database() -> Iterator[str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "junkai.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor == "sqlite":
        # A file, not memory: the figures should include the disk, as in production use.
        connection.settings_dict["TEST"]["NAME"] = "var/bench.sqlite3"
    config = setup_databases(verbosity=0, interactive=False)
    try:
        yield f"{connection.vendor} ({connection.settings_dict['NAME']})"
    finally:
        teardown_databases(config, verbosity=0)


def figures(name: str, seconds: list[float]) -> str:
    """Timings as one line: count, median, 95th percentile and worst, in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (
        f"{name}: n={len(ms)} p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, "
        f"max {ms[-1]:.1f} ms"
    )
