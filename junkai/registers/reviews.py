"""The monthly review of the 持出確認簿 (第5-3(3)エ): which months of which posts are signed,
which are overdue (ended and not signed), for the manager's page and the alerts page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Count, Min
from django.db.models.functions import TruncMonth
from django.utils import timezone

from junkai.lib.dates import start_of_day
from junkai.lib.months import current_month, month_label, month_start, months_back
from junkai.org.models import Post
from junkai.registers.models import BinderCheckout, CheckoutMonthReview

#: How far back the pages look for unsigned months.
LOOKBACK_MONTHS = 12


class MonthState(StrEnum):
    SIGNED = "signed"
    OVERDUE = "overdue"
    CURRENT = "current"
    BEFORE = "before"  # the post kept no register yet


@dataclass
class MonthCell:
    post: Post
    month: dt.date
    state: MonthState
    entries: int
    review: CheckoutMonthReview | None

    @property
    def label(self) -> str:
        return month_label(self.month)


def _local_month(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return month_start(timezone.localtime(value).date())
    return month_start(value)


def register_starts(posts: Iterable[Post]) -> dict[int, dt.date | None]:
    """The month each post's register began: its first binder or first entry."""
    ids = [p.id for p in posts]
    rows = Post.objects.filter(id__in=ids).annotate(
        first_binder=Min("binders__created_at"), first_entry=Min("checkouts__declared_at")
    )
    starts: dict[int, dt.date | None] = {}
    for row in rows.values("id", "first_binder", "first_entry"):
        moments = [m for m in (row["first_binder"], row["first_entry"]) if m is not None]
        starts[row["id"]] = _local_month(min(moments)) if moments else None
    return starts


def month_grid(
    posts: list[Post], *, count: int = LOOKBACK_MONTHS
) -> tuple[list[dt.date], list[tuple[Post, list[MonthCell]]]]:
    """Months (newest first) × posts, each cell signed / overdue / current / before."""
    starts = register_starts(posts)
    months = months_back(current_month(), count)
    # No rows for the months before any of these registers began.
    began = [s for s in starts.values() if s is not None]
    months = [m for m in months if m >= min(began)] if began else months[:1]
    oldest = months[-1]
    tz = timezone.get_current_timezone()
    start = start_of_day(oldest)
    counts = {
        (row["post_id"], _local_month(row["month"])): row["n"]
        for row in BinderCheckout.objects.filter(post__in=posts, declared_at__gte=start)
        .annotate(month=TruncMonth("declared_at", tzinfo=tz))
        .values("post_id", "month")
        .annotate(n=Count("id"))
        .order_by()
    }
    reviews = {
        (r.post_id, r.month): r
        for r in CheckoutMonthReview.objects.filter(post__in=posts, month__gte=oldest)
        .select_related("reviewed_by")
        .order_by()
    }
    now = current_month()
    rows = []
    for post in posts:
        cells = []
        for month in months:
            review = reviews.get((post.id, month))
            start_of_post = starts.get(post.id)
            if review is not None:
                state = MonthState.SIGNED
            elif month >= now:
                state = MonthState.CURRENT
            elif start_of_post is None or month < start_of_post:
                state = MonthState.BEFORE
            else:
                state = MonthState.OVERDUE
            cells.append(MonthCell(post, month, state, counts.get((post.id, month), 0), review))
        rows.append((post, cells))
    return months, rows


def overdue_months(posts: list[Post]) -> list[MonthCell]:
    """Ended months not yet signed, oldest first."""
    _, rows = month_grid(posts)
    cells = [c for _, row in rows for c in row if c.state == MonthState.OVERDUE]
    return sorted(cells, key=lambda c: (c.month, c.post.code))
