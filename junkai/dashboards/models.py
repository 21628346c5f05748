"""Month-end snapshots of each beat's figures, for the monthly trends (推移).

Live figures are computed on every page view (junkai.dashboards.figures); a trend needs what
the figures were at past month ends, which the stored dates of today cannot tell. `junkai
dashboard-snapshot` (run on the 1st of each month) keeps one row per beat and month.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from junkai.org.models import Beat, Post, Station


class BeatMonthSnapshot(models.Model):
    """A beat's households, coverage and 把握 at the end of a month (no personal data)."""

    month = models.DateField("対象月（1日）")
    beat = models.ForeignKey(Beat, on_delete=models.PROTECT, related_name="+")
    # Copies of beat.post / beat.post.station, as on Household: the sums are one indexed column.
    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+")
    households = models.PositiveIntegerField("世帯数", default=0)
    covered = models.PositiveIntegerField("間隔内に面接済", default=0)
    carded = models.PositiveIntegerField("カードあり（把握）", default=0)
    overdue = models.PositiveIntegerField("期限超過", default=0)
    taken_at = models.DateTimeField("作成日時", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "月末集計"
        ordering = ["month", "beat"]
        constraints = [
            models.UniqueConstraint(fields=["month", "beat"], name="beat_month_snapshot_once"),
            models.CheckConstraint(condition=models.Q(month__day=1), name="snapshot_first_day"),
        ]
        indexes = [models.Index(fields=["station", "month"])]

    def __str__(self) -> str:
        return f"月末集計 {self.month:%Y-%m} 受持区 {self.beat_id}"
