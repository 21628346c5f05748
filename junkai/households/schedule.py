"""When each household is next due (別表 intervals, 第4-2 community leaders), kept on the row.

due = last MET contact + the category's interval; never met: due since it was registered
(未把握 is due now). An ABSENT visit brings it back after a short delay, not the full interval;
a REFUSED one after the full interval (the refusal is reported, not pressed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from junkai.households.models import Category, Household, Outcome, SchedulePolicy
from junkai.lib.dates import add_months, start_of_day

#: What due_date reads of the household's row besides the policy. A visit moves the due date from
#: these as they are under the row's lock in its own transaction (visits.actions._rule_data), never
#: from an object read before it: a visit to the same household committed meanwhile would be
#: overwritten with the older values.
DUE_FIELDS = (
    "created_at",
    "category",
    "leader_role",
    "last_visit_at",
    "last_outcome",
    "last_met_at",
)


def current_policy() -> SchedulePolicy:
    policy = SchedulePolicy.objects.order_by("id").first()
    return policy if policy is not None else SchedulePolicy()


def first_due(created_at: dt.datetime, tz: dt.tzinfo | None = None) -> dt.date:
    """A household never met is due since the day it was registered (未把握 due now).

    `tz`: the local time zone, when the caller has it at hand (the bulk loader, per row)."""
    return timezone.localdate(created_at, tz)


def due_date(household: Household, policy: SchedulePolicy) -> dt.date:
    months = policy.months_for(household.category, leader=household.is_leader)
    if household.last_met_at is not None:
        due = add_months(timezone.localdate(household.last_met_at), months)
    else:
        due = first_due(household.created_at)
    last = household.last_visit_at
    if last is not None and (household.last_met_at is None or last > household.last_met_at):
        tried = timezone.localdate(last)
        if household.last_outcome == Outcome.ABSENT:
            due = max(due, tried + dt.timedelta(days=policy.absent_retry_days))
        elif household.last_outcome == Outcome.REFUSED:
            due = max(due, add_months(tried, months))
    return due


def recompute_due(*, batch: int = 2000) -> int:
    """Every household's due date under the policy as it now stands (after a change of the
    intervals), in batches each its own short transaction, so no visit waits for a prefecture's
    500,000 rows. A batch locks the rows nobody else holds (SKIP LOCKED) and reads them afresh;
    a row held by a visit or a card's save under way is done after, on its own, once that
    commits. It never waits while holding a batch, so a device's push that holds one of its rows
    and wants another cannot deadlock with it. Returns how many due dates changed."""
    changed, last, held = 0, 0, []
    while ids := list(
        Household.objects.filter(id__gt=last).order_by("id").values_list("id", flat=True)[:batch]
    ):
        last = ids[-1]
        with transaction.atomic():
            rows = _locked_for_due(Household.objects.select_for_update(skip_locked=True), ids)
            held.extend(sorted(set(ids) - {h.id for h in rows}))
            changed += _store_due(rows)
    for household_id in held:
        with transaction.atomic():
            changed += _store_due(
                _locked_for_due(Household.objects.select_for_update(), [household_id])
            )
    return changed


def _locked_for_due(rows: QuerySet[Household], ids: list[int]) -> list[Household]:
    return list(rows.filter(id__in=ids).only("id", *DUE_FIELDS, "next_due"))


def _store_due(households: list[Household]) -> int:
    # The policy read in the batch's own transaction: a second change made meanwhile is the
    # one that counts.
    policy = current_policy()
    changed = []
    for household in households:
        due = due_date(household, policy)
        if due != household.next_due:
            household.next_due = due
            changed.append(household)
    Household.objects.bulk_update(changed, ["next_due"])
    return len(changed)


def lock_household(household: Household) -> None:
    """Lock the household's row for the caller's transaction before any card of it: every
    action that changes a card and its due date takes them in this order (household, then
    card), as a device's push does (a visit locks the household, a card change after it the
    card), so no two of them wait on each other in a circle (a deadlock)."""
    list(Household.objects.select_for_update().filter(pk=household.pk).values_list("pk"))


def refresh_due(household: Household, policy: SchedulePolicy | None = None) -> dt.date:
    """Recompute and store next_due (called by every action that changes what it depends on).

    The household's row is locked for the caller's transaction and what the due date depends on
    (`DUE_FIELDS`, which the caller has saved) read afresh: a visit recorded at the door while
    the card was being corrected at the post is not undone by the copy read before it
    committed (a visit locks the row the same way, visits.actions._rule_data)."""
    fresh = Household.objects.select_for_update().filter(pk=household.pk).values(*DUE_FIELDS)
    for name, value in fresh.get().items():
        setattr(household, name, value)
    household.next_due = due_date(household, policy or current_policy())
    household.save(update_fields=["next_due"])
    return household.next_due


def within_interval_q(
    policy: SchedulePolicy, day: dt.date, contacted_since: Callable[[dt.datetime], Q]
) -> Q:
    """Households whose contact (as `contacted_since(since)` asks it) falls within their
    interval before `day`: each category's interval (別表), shortened for community leaders
    (第4-2). The one statement of "within the interval", for today's figures and past months'."""
    where = Q()
    for category in Category.values:
        for leader in (False, True):
            months = policy.months_for(category, leader=leader)
            since = start_of_day(add_months(day, -months))
            leader_q = ~Q(leader_role="") if leader else Q(leader_role="")
            where |= Q(category=category) & leader_q & contacted_since(since)
    return where


def covered_q(policy: SchedulePolicy, day: dt.date) -> Q:
    """Households contacted within their interval on `day`: last face-to-face contact (MET)
    no longer ago than their category's interval (leaders: the shorter one). An absence does
    not count. The one definition of coverage (実施率), for the dashboards and the handover."""
    return within_interval_q(policy, day, lambda since: Q(last_met_at__gte=since))
