"""The one write of the dashboards: the month-end snapshot behind the trends (推移)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.dashboards.figures import snapshot_rows
from junkai.dashboards.models import BeatMonthSnapshot
from junkai.lib.months import month_start


@transaction.atomic
def do_take_month_snapshot(month: dt.date, *, acting_officer: None = None) -> int:
    """Each beat's figures at the end of `month`, replacing any taken before (idempotent).

    The snapshot holds counts only, no personal data.
    """
    month = month_start(month)
    if month >= month_start(timezone.localdate()):
        raise ValueError("月末集計は終わった月についてのみ作成できます")
    rows = snapshot_rows(month)
    now = timezone.now()
    BeatMonthSnapshot.objects.filter(month=month).delete()
    BeatMonthSnapshot.objects.bulk_create(
        BeatMonthSnapshot(
            month=month,
            beat_id=row["beat_id"],
            post_id=row["post_id"],
            station_id=row["station_id"],
            households=row["households"],
            covered=row["covered"],
            carded=row["carded"],
            overdue=row["overdue"],
            taken_at=now,
        )
        for row in rows
    )
    record(
        EventType.MONTH_SNAPSHOT_TAKEN,
        actor=acting_officer,
        object_type="prefecture",
        details={"month": month.isoformat(), "beats": len(rows)},
    )
    return len(rows)
