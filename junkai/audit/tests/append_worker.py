"""A separate process appending audit events (the concurrency test starts four of these).

DATABASE_URL=… python -m junkai.audit.tests.append_worker COUNT WORKER
"""

from __future__ import annotations

import os
import sys

import django


def main() -> None:
    count, worker = int(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "junkai.settings")
    django.setup()
    from django.db import transaction

    from junkai.audit.chain import record
    from junkai.audit.models import EventType

    for i in range(count):
        with transaction.atomic():
            record(
                EventType.ACCESS_DENIED,
                object_type="stress",
                object_id=f"{worker}-{i}",
            )


if __name__ == "__main__":
    main()
