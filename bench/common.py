"""A throw-away database for a benchmark (Django's test database, created and dropped)."""

from __future__ import annotations

import os
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
