"""Signals of misuse, found in the audit log (`junkai misuse-scan`).

A real case behind them: an officer used a card to find a child's name. Three signals, each a
MisuseFlag for the manager with the audit events behind it:

UNEXPLAINED  a read (READ_HOUSEHOLD) of a household outside the officer's own beats with no
             work on that household: no visit recorded, no card created or corrected, no
             data-use or agency release, and it was not among the rows of a work list or
             monthly plan (LIST_HOUSEHOLDS 作業リスト・月間計画, its (event, household) rows) he
             opened — from JUNKAI_MISUSE_CONTEXT_HOURS before the read to
             JUNKAI_MISUSE_SETTLE_MINUTES after it. A list never explains a whole scope. Judged
             once the settle minutes have passed, so a scan every 5 minutes flags it within
             minutes (the 地域課長 and the 署長 see the flag at once).
BULK         more than JUNKAI_MISUSE_BULK_READS distinct households read within
             JUNKAI_MISUSE_BULK_MINUTES.
OFF_HOURS    reads outside JUNKAI_MISUSE_DUTY_START–JUNKAI_MISUSE_DUTY_END (local time).

Scanning is idempotent: events already behind a flag of the same kind are not flagged again,
and a window is never flagged twice (unique officer + kind + start).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from junkai.access.roles import POST_ROLES
from junkai.audit.models import AuditEvent, AuditEventHousehold, EventType
from junkai.disclosures.actions import do_raise_misuse_flag
from junkai.disclosures.models import MisuseFlag, MisuseKind
from junkai.households.models import Household
from junkai.lib.replica import replica_reads
from junkai.org.models import Assignment, Officer

#: LIST_HOUSEHOLDS purposes that are work (the lists an officer visits from).
WORK_LIST_PURPOSES = ("作業リスト", "月間計画")

#: Events that put reads of a household (or its beat) in a work context.
CONTEXT_EVENTS = (
    EventType.VISIT_RECORDED,
    EventType.CARD_CREATED,
    EventType.CARD_CORRECTED,
    EventType.DATA_USE_RELEASED,
    EventType.AGENCY_REQUEST_RELEASED,
)


@dataclass(frozen=True)
class Thresholds:
    context_hours: float = 2.0
    settle_minutes: float = 3.0
    unexplained_min_reads: int = 1
    group_minutes: int = 60
    bulk_reads: int = 30
    bulk_minutes: int = 10
    duty_start: dt.time = dt.time(6, 0)
    duty_end: dt.time = dt.time(22, 0)
    scan_hours: int = 24

    def off_duty(self, moment: dt.datetime) -> bool:
        local = timezone.localtime(moment).time()
        if self.duty_start <= self.duty_end:
            return not (self.duty_start <= local < self.duty_end)
        return self.duty_end <= local < self.duty_start  # a duty window across midnight


def _time(value: Any, default: dt.time) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and value:
        return dt.time.fromisoformat(value)
    return default


def thresholds() -> Thresholds:
    """The settings JUNKAI_MISUSE_*, each with its default."""
    d = Thresholds()
    return Thresholds(
        context_hours=float(getattr(settings, "JUNKAI_MISUSE_CONTEXT_HOURS", d.context_hours)),
        settle_minutes=float(getattr(settings, "JUNKAI_MISUSE_SETTLE_MINUTES", d.settle_minutes)),
        unexplained_min_reads=int(
            getattr(settings, "JUNKAI_MISUSE_UNEXPLAINED_MIN_READS", d.unexplained_min_reads)
        ),
        group_minutes=int(getattr(settings, "JUNKAI_MISUSE_GROUP_MINUTES", d.group_minutes)),
        bulk_reads=int(getattr(settings, "JUNKAI_MISUSE_BULK_READS", d.bulk_reads)),
        bulk_minutes=int(getattr(settings, "JUNKAI_MISUSE_BULK_MINUTES", d.bulk_minutes)),
        duty_start=_time(getattr(settings, "JUNKAI_MISUSE_DUTY_START", None), d.duty_start),
        duty_end=_time(getattr(settings, "JUNKAI_MISUSE_DUTY_END", None), d.duty_end),
        scan_hours=int(getattr(settings, "JUNKAI_MISUSE_SCAN_HOURS", d.scan_hours)),
    )


@dataclass(frozen=True)
class Read:
    event_id: int
    at: dt.datetime
    actor_id: int
    household_id: int
    station_id: int
    beat_id: int | None


@dataclass(frozen=True)
class Context:
    at: dt.datetime
    household_id: int | None = None
    beat_id: int | None = None

    def covers(self, read: Read) -> bool:
        return (self.household_id is not None and self.household_id == read.household_id) or (
            self.beat_id is not None and self.beat_id == read.beat_id
        )


@dataclass
class ScanResult:
    reads: int = 0
    flags: list[MisuseFlag] = field(default_factory=list)


def _reads(since: dt.datetime, until: dt.datetime) -> list[Read]:
    rows = list(
        AuditEvent.objects.filter(
            event_type=EventType.READ_HOUSEHOLD,
            object_type="households.household",
            actor_id__isnull=False,
            created_at__gte=since,
            created_at__lt=until,
        )
        .order_by("created_at", "id")
        .values_list("id", "created_at", "actor_id", "object_id", "station_id")
    )
    ids = {int(r[3]) for r in rows if r[3].isdigit()}
    households = {
        h: (beat, station)
        for h, beat, station in Household.objects.filter(id__in=ids).values_list(
            "id", "beat_id", "station_id"
        )
    }
    reads = []
    for event_id, at, actor_id, object_id, station_id in rows:
        if not object_id.isdigit() or int(object_id) not in households:
            continue
        beat_id, household_station = households[int(object_id)]
        reads.append(
            Read(
                event_id=event_id,
                at=at,
                actor_id=actor_id,
                household_id=int(object_id),
                station_id=station_id or household_station,
                beat_id=beat_id,
            )
        )
    return reads


def _contexts(
    actor_ids: set[int], since: dt.datetime, until: dt.datetime
) -> dict[int, list[Context]]:
    rows = list(
        AuditEvent.objects.filter(actor_id__in=actor_ids, created_at__gte=since)
        .filter(created_at__lte=until)
        .filter(
            Q(event_type__in=CONTEXT_EVENTS)
            | Q(event_type=EventType.LIST_HOUSEHOLDS, purpose__in=WORK_LIST_PURPOSES)
        )
        .order_by("created_at")
        .values_list(
            "actor_id", "created_at", "event_type", "object_type", "object_id", "details", "id"
        )
    )

    def household_of(object_type: str, object_id: str, details: Any) -> int | None:
        if object_type == "households.household" and object_id.isdigit():
            return int(object_id)
        if isinstance(details, dict) and isinstance(details.get("household"), int):
            return int(details["household"])
        return None

    ids = {household_of(r[3], r[4], r[5]) for r in rows if r[2] != EventType.LIST_HOUSEHOLDS}
    beat_of = dict(
        Household.objects.filter(id__in={i for i in ids if i}).values_list("id", "beat_id")
    )
    # A list explains the rows it showed, no more (lists recorded before rows were kept: their
    # beat, or nothing when they spanned a scope).
    shown: dict[int, list[int]] = defaultdict(list)
    for event_id, household_id in AuditEventHousehold.objects.filter(
        event_id__in=[r[6] for r in rows if r[2] == EventType.LIST_HOUSEHOLDS]
    ).values_list("event_id", "household_id"):
        shown[event_id].append(household_id)
    found: dict[int, list[Context]] = defaultdict(list)
    for actor_id, at, event_type, object_type, object_id, details, event_id in rows:
        if event_type == EventType.LIST_HOUSEHOLDS:
            if event_id in shown:
                found[actor_id].extend(Context(at, household_id=h) for h in shown[event_id])
            elif object_type == "org.beat" and object_id.isdigit():
                found[actor_id].append(Context(at, beat_id=int(object_id)))
            continue
        task_household = household_of(object_type, object_id, details)
        if task_household is not None:
            found[actor_id].append(Context(at, task_household, beat_of.get(task_household)))
    return found


def _explained(
    read: Read,
    contexts: list[Context],
    times: list[dt.datetime],
    before: dt.timedelta,
    after: dt.timedelta,
) -> bool:
    lo = bisect.bisect_left(times, read.at - before)
    hi = bisect.bisect_right(times, read.at + after)
    return any(c.covers(read) for c in contexts[lo:hi])


def _groups(reads: list[Read], minutes: int) -> Iterator[list[Read]]:
    """Reads in runs no longer than `minutes` from each run's first read."""
    run: list[Read] = []
    for r in reads:
        if run and r.at - run[0].at >= dt.timedelta(minutes=minutes):
            yield run
            run = []
        run.append(r)
    if run:
        yield run


def _bursts(reads: list[Read], more_than: int, minutes: int) -> Iterator[list[Read]]:
    """Runs in which more than `more_than` distinct households were read within `minutes`;
    a burst goes on while reads keep coming within `minutes` of the last."""
    span = dt.timedelta(minutes=minutes)
    i = 0
    n = len(reads)
    while i < n:
        j = i
        seen: set[int] = set()
        while j < n and reads[j].at - reads[i].at < span:
            seen.add(reads[j].household_id)
            j += 1
        if len(seen) > more_than:
            while j < n and reads[j].at - reads[j - 1].at < span:
                j += 1
            yield reads[i:j]
            i = j
        else:
            i += 1


def _own_beats(officer_ids: set[int]) -> dict[int, set[int]]:
    """The beats each officer walks (受持区), by his assignments valid today."""
    beats: dict[int, set[int]] = defaultdict(set)
    for officer_id, beat_id in (
        Assignment.objects.current()
        .filter(officer_id__in=officer_ids, beats__isnull=False)
        .values_list("officer_id", "beats")
    ):
        beats[officer_id].add(beat_id)
    return beats


def _post_of(officer_id: int, station_id: int) -> int | None:
    officer = Officer.objects.filter(id=officer_id).first()
    if officer is None:
        return None
    for a in officer.current_assignments():
        if a.post is not None and a.post.station_id == station_id and a.role in POST_ROLES:
            return a.post_id
    return None


def scan(
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    judge_recent: bool = False,
) -> ScanResult:
    """Find the signals between `since` and `until` (default: the last JUNKAI_MISUSE_SCAN_HOURS)
    and raise a flag for each new one.

    A read is judged once JUNKAI_MISUSE_SETTLE_MINUTES have passed (the task it belongs to may
    be recorded just after it), or at once with `judge_recent` (the demo). Reads of a household
    in one of the officer's own beats are his work and never unexplained.
    """
    t = thresholds()
    now = timezone.now()
    until = until or now
    since = since or until - dt.timedelta(hours=t.scan_hours)
    h = dt.timedelta(hours=t.context_hours)
    settle = dt.timedelta(minutes=t.settle_minutes)
    # The audit log's reads are the replica's work; the flags (what this scan and the last
    # ones raised) are read and written on the primary below.
    with replica_reads():
        reads = _reads(since, until)
        actors = {r.actor_id for r in reads}
        contexts = _contexts(actors, since - h, until + settle) if reads else {}
        own_beats = _own_beats(actors) if reads else {}
    result = ScanResult(reads=len(reads))
    if not reads:
        return result
    covered: dict[tuple[int, str], set[int]] = defaultdict(set)
    for officer_id, kind, event_ids in MisuseFlag.objects.filter(
        officer_id__in=actors, window_end__gte=since - dt.timedelta(days=1)
    ).values_list("officer_id", "kind", "event_ids"):
        covered[(officer_id, kind)].update(int(i) for i in event_ids)

    by_officer: dict[tuple[int, int], list[Read]] = defaultdict(list)
    for r in reads:
        by_officer[(r.actor_id, r.station_id)].append(r)
    settled = now if judge_recent else now - settle
    for (officer_id, station_id), mine in sorted(by_officer.items()):
        ctx = contexts.get(officer_id, [])
        times = [c.at for c in ctx]
        candidates: list[tuple[str, Iterable[list[Read]]]] = [
            (
                MisuseKind.UNEXPLAINED,
                (
                    g
                    for g in _groups(
                        [
                            r
                            for r in mine
                            if r.at <= settled
                            and r.beat_id not in own_beats[officer_id]
                            and not _explained(r, ctx, times, h, settle)
                        ],
                        t.group_minutes,
                    )
                    if len({r.household_id for r in g}) >= t.unexplained_min_reads
                ),
            ),
            (MisuseKind.BULK, _bursts(mine, t.bulk_reads, t.bulk_minutes)),
            (
                MisuseKind.OFF_HOURS,
                _groups([r for r in mine if t.off_duty(r.at)], t.group_minutes),
            ),
        ]
        for kind, groups in candidates:
            done = covered[(officer_id, kind)]
            for group in groups:
                fresh = [r for r in group if r.event_id not in done]
                if kind == MisuseKind.BULK and len({r.household_id for r in fresh}) <= t.bulk_reads:
                    continue
                if not fresh:
                    continue
                if MisuseFlag.objects.filter(
                    officer_id=officer_id, kind=kind, window_start=fresh[0].at
                ).exists():
                    continue
                flag = do_raise_misuse_flag(
                    station_id=station_id,
                    post_id=_post_of(officer_id, station_id),
                    officer_id=officer_id,
                    kind=kind,
                    window_start=fresh[0].at,
                    window_end=fresh[-1].at,
                    event_ids=[r.event_id for r in fresh],
                    household_count=len({r.household_id for r in fresh}),
                )
                done.update(r.event_id for r in fresh)
                result.flags.append(flag)
    return result
