"""Writes of the restore drill (scripts/restore-drill.sh): N visits through do_record_visit, each
with its audit event, their notes marked with the batch so the drill can count them after the
restore. Run with DATABASE_URL pointing at the drill cluster."""

from __future__ import annotations

import datetime as dt
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "junkai.settings")
django.setup()

from django.utils import timezone  # noqa: E402

from junkai.households.models import Household  # noqa: E402
from junkai.org.models import Assignment, Role  # noqa: E402
from junkai.visits.actions import do_record_visit  # noqa: E402
from junkai.visits.models import Outcome, Visit  # noqa: E402


def write(batch: str, count: int) -> None:
    today = timezone.localdate()
    # Daytime yesterday: the drill may run at night, when a visit needs an approval.
    started_at = timezone.localtime().replace(hour=10, minute=0) - dt.timedelta(days=1)
    written = 0
    households = Household.objects.order_by("?")[: count * 3]
    for household in households:
        assignment = (
            Assignment.objects.filter(role=Role.BEAT_OFFICER, beats=household.beat_id)
            .filter(valid_from__lte=today)
            .select_related("officer")
            .first()
        )
        if assignment is None:
            continue
        try:
            do_record_visit(
                household,
                acting_officer=assignment.officer,
                started_at=started_at,
                outcome=Outcome.ABSENT,
                note=f"drill-{batch}",
            )
        except Exception as error:  # a rule refusing this door: take another
            print(f"skip {household.id}: {error}", file=sys.stderr)
            continue
        written += 1
        if written == count:
            break
    print(written)


def count(batch: str) -> None:
    print(Visit.objects.filter(note=f"drill-{batch}").count())


if __name__ == "__main__":
    action, batch = sys.argv[1], sys.argv[2]
    if action == "write":
        write(batch, int(sys.argv[3]))
    else:
        count(batch)
