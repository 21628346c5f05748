"""When each household is next due (別表 intervals, 第4-2 community leaders), kept on the row.

due = last MET contact + the category's interval; never met: due since it was registered
(未把握 is due now). An ABSENT visit brings it back after a short delay, not the full interval;
a REFUSED one after the full interval (the refusal is reported, not pressed).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from junkai.households.models import Category, Household, Outcome, SchedulePolicy
from junkai.lib.dates import add_months, start_of_day


def current_policy() -> SchedulePolicy:
    policy = SchedulePolicy.objects.order_by("id").first()
    return policy if policy is not None else SchedulePolicy()


def due_date(household: Household, policy: SchedulePolicy) -> dt.date:
    months = policy.months_for(household.category, leader=household.is_leader)
    if household.last_met_at is not None:
        due = add_months(timezone.localdate(household.last_met_at), months)
    else:
        due = timezone.localdate(household.created_at)
    last = household.last_visit_at
    if last is not None and (household.last_met_at is None or last > household.last_met_at):
        tried = timezone.localdate(last)
        if household.last_outcome == Outcome.ABSENT:
            due = max(due, tried + dt.timedelta(days=policy.absent_retry_days))
        elif household.last_outcome == Outcome.REFUSED:
            due = max(due, add_months(tried, months))
    return due


def refresh_due(household: Household, policy: SchedulePolicy | None = None) -> dt.date:
    """Recompute and store next_due (called by every action that changes what it depends on)."""
    household.next_due = due_date(household, policy or current_policy())
    household.save(update_fields=["next_due"])
    return household.next_due


def covered_q(policy: SchedulePolicy, day: dt.date) -> Q:
    """Households contacted within their interval on `day`: last face-to-face contact (MET)
    no longer ago than their category's interval (leaders: the shorter one). An absence does
    not count. The one definition of coverage (実施率), for the dashboards and the handover."""
    where = Q()
    for category in Category.values:
        for leader in (False, True):
            months = policy.months_for(category, leader=leader)
            since = start_of_day(add_months(day, -months))
            leader_q = ~Q(leader_role="") if leader else Q(leader_role="")
            where |= Q(category=category, last_met_at__gte=since) & leader_q
    return where
