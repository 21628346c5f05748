"""Signals of misuse, found in the audit log (`junkai misuse-scan`).

A real case behind them: an officer used a card to find a child's name. Three signals, each a
MisuseFlag for the manager with the audit events behind it:

UNEXPLAINED  a read (READ_HOUSEHOLD) of a household outside the officer's own beats with no
             work on that household. Work is a task of his on that household within
             JUNKAI_MISUSE_TASK_HOURS (a shift, 12) before or after the read — a visit
             recorded, a card created or corrected, the household's details or move-out, a
             night-visit approval, a refusal or info report acknowledged, a concern followed
             up, a 利用確認簿 entry or agency request naming it (any step: recorded, verified,
             approved, decided, released), an inspection of its post — or its being among the
             rows of a work list or monthly plan (LIST_HOUSEHOLDS 作業リスト・月間計画, its
             (event, household) rows) he opened from JUNKAI_MISUSE_CONTEXT_HOURS before the read
             to JUNKAI_MISUSE_SETTLE_MINUTES after it. A list never explains a whole scope.
             Judged once the settle minutes have passed, so a scan every 5 minutes flags it
             within minutes (the 地域課長 and the 署長 see the flag at once); a task recorded
             later in the shift settles the flag (`do_settle_misuse_flag`: kept, marked as
             explained by that task's audit record, for the manager to see).
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
from junkai.disclosures.actions import do_raise_misuse_flag, do_settle_misuse_flag
from junkai.disclosures.models import AgencyRequest, DataUse, MisuseFlag, MisuseKind
from junkai.households.models import Household
from junkai.lib.replica import replica_reads
from junkai.org.models import Assignment, Officer

#: LIST_HOUSEHOLDS purposes that are work (the lists an officer visits from).
WORK_LIST_PURPOSES = ("作業リスト", "月間計画", "巡回経路")

#: Tasks on one household (the event's object, or `details["household"]`).
HOUSEHOLD_TASKS = (
    EventType.VISIT_RECORDED,
    EventType.CARD_CREATED,
    EventType.CARD_CORRECTED,
    EventType.CARD_DISPOSED,
    EventType.HOUSEHOLD_UPDATED,
    EventType.HOUSEHOLD_MOVED_OUT,
    EventType.NIGHT_APPROVAL_REQUESTED,
    EventType.NIGHT_APPROVAL_APPROVED,
    EventType.NIGHT_APPROVAL_REJECTED,
    EventType.REFUSAL_ACKNOWLEDGED,
    EventType.INFO_REPORT_ACKNOWLEDGED,
    EventType.CONCERN_UPDATED,
    EventType.DATA_USE_RELEASED,
    EventType.AGENCY_REQUEST_RELEASED,
)
#: Steps of a 利用確認簿 entry or an agency request: tasks on each household it names.
ENTRY_TASKS: dict[int, str] = {
    EventType.DATA_USE_REQUESTED: "disclosures.datause",
    EventType.DATA_USE_IDENTITY_VERIFIED: "disclosures.datause",
    EventType.DATA_USE_APPROVED: "disclosures.datause",
    EventType.DATA_USE_REFUSED: "disclosures.datause",
    EventType.AGENCY_REQUEST_RECEIVED: "disclosures.agencyrequest",
    EventType.AGENCY_REQUEST_DOCUMENT_ATTACHED: "disclosures.agencyrequest",
    EventType.AGENCY_REQUEST_DECIDED: "disclosures.agencyrequest",
}
#: Steps of a 亡失・盗難 report: tasks on the households the event names (its (event, household)
#: rows) — telling a resident his card was lost means opening it.
NAMED_TASKS = (
    EventType.LOSS_REPORTED,
    EventType.LOSS_HOUSEHOLD_INFORMED,
    EventType.LOSS_CARD_RECREATED,
)
#: An inspection (巡視・点検) of a post: a task on the households of that post.
POST_TASKS = (EventType.INSPECTION_RECORDED, EventType.INSPECTION_FOLLOWED_UP)


@dataclass(frozen=True)
class Thresholds:
    context_hours: float = 2.0
    task_hours: float = 12.0
    settle_minutes: float = 3.0
    unexplained_min_reads: int = 1
    group_minutes: int = 60
    bulk_reads: int = 30
    bulk_minutes: int = 10
    duty_start: dt.time = dt.time(6, 0)
    duty_end: dt.time = dt.time(22, 0)
    scan_hours: int = 2

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
        task_hours=float(getattr(settings, "JUNKAI_MISUSE_TASK_HOURS", d.task_hours)),
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
    post_id: int | None = None


@dataclass(frozen=True)
class Context:
    """Work that explains reads: a task on a household (or, an inspection, on a post) or a
    list's rows; `event_id` is its audit record."""

    at: dt.datetime
    household_id: int | None = None
    beat_id: int | None = None
    post_id: int | None = None
    event_id: int = 0

    def covered(self) -> list[tuple[str, int]]:
        return [
            (kind, key)
            for kind, key in (
                ("household", self.household_id),
                ("beat", self.beat_id),
                ("post", self.post_id),
            )
            if key is not None
        ]


@dataclass
class Timeline:
    """One officer's contexts by what they cover (a household, a beat, a post), each in time
    order: finding the work around a read is a dictionary look-up and a bisection, however
    much work the officer did that day."""

    by_key: dict[tuple[str, int], tuple[list[dt.datetime], list[Context]]] = field(
        default_factory=dict
    )

    def add(self, context: Context) -> None:  # in time order
        for key in context.covered():
            times, contexts = self.by_key.setdefault(key, ([], []))
            times.append(context.at)
            contexts.append(context)

    def find(self, read: Read, before: dt.timedelta, after: dt.timedelta) -> Context | None:
        for kind, key in (
            ("household", read.household_id),
            ("beat", read.beat_id),
            ("post", read.post_id),
        ):
            if key is None or (found := self.by_key.get((kind, key))) is None:
                continue
            times, contexts = found
            i = bisect.bisect_left(times, read.at - before)
            if i < len(times) and times[i] <= read.at + after:
                return contexts[i]
        return None


@dataclass
class Work:
    """An officer's work around the reads: lists he opened (a short window) and tasks (a
    shift either side)."""

    lists: Timeline = field(default_factory=Timeline)
    tasks: Timeline = field(default_factory=Timeline)

    def explanation(self, read: Read, t: Thresholds) -> Context | None:
        settle = dt.timedelta(minutes=t.settle_minutes)
        shift = dt.timedelta(hours=t.task_hours)
        return self.tasks.find(read, shift, shift) or self.lists.find(
            read, dt.timedelta(hours=t.context_hours), settle
        )


@dataclass
class ScanResult:
    reads: int = 0
    flags: list[MisuseFlag] = field(default_factory=list)
    settled: list[MisuseFlag] = field(default_factory=list)


def _reads(**which: Any) -> list[Read]:
    """Reads of one household each, narrowed by `which` (a time range, or event ids)."""
    rows = list(
        AuditEvent.objects.filter(
            event_type=EventType.READ_HOUSEHOLD,
            object_type="households.household",
            actor_id__isnull=False,
            **which,
        )
        .order_by("created_at", "id")
        .values_list("id", "created_at", "actor_id", "object_id", "station_id")
    )
    ids = {int(r[3]) for r in rows if r[3].isdigit()}
    households = {
        h: (beat, post, station)
        for h, beat, post, station in Household.objects.filter(id__in=ids).values_list(
            "id", "beat_id", "post_id", "station_id"
        )
    }
    reads = []
    for event_id, at, actor_id, object_id, station_id in rows:
        if not object_id.isdigit() or int(object_id) not in households:
            continue
        beat_id, post_id, household_station = households[int(object_id)]
        reads.append(
            Read(
                event_id=event_id,
                at=at,
                actor_id=actor_id,
                household_id=int(object_id),
                station_id=station_id or household_station,
                beat_id=beat_id,
                post_id=post_id,
            )
        )
    return reads


def _household_of(object_type: str, object_id: str, details: Any) -> int | None:
    if object_type == "households.household" and object_id.isdigit():
        return int(object_id)
    if isinstance(details, dict) and isinstance(details.get("household"), int):
        return int(details["household"])
    return None


def _entry_households(rows: list[tuple[Any, ...]]) -> dict[tuple[str, int], list[int]]:
    """The households each 利用確認簿 entry or agency request among the rows names."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if row[2] in ENTRY_TASKS and row[4].isdigit():
            wanted[ENTRY_TASKS[row[2]]].add(int(row[4]))
    named: dict[tuple[str, int], list[int]] = defaultdict(list)
    for label, through, key in (
        ("disclosures.datause", DataUse.households.through, "datause_id"),
        ("disclosures.agencyrequest", AgencyRequest.households.through, "agencyrequest_id"),
    ):
        if wanted[label]:
            for entry_id, household_id in through.objects.filter(
                **{f"{key}__in": wanted[label]}
            ).values_list(key, "household_id"):
                named[(label, entry_id)].append(household_id)
    return named


def _work(actor_ids: set[int], since: dt.datetime, until: dt.datetime) -> dict[int, Work]:
    """The officers' lists and tasks between `since` and `until` (one query for the events,
    one for a list's rows, one per kind of register entry named)."""
    theirs = AuditEvent.objects.filter(
        actor_id__in=actor_ids, created_at__gte=since, created_at__lte=until
    )
    work_lists = Q(event_type=EventType.LIST_HOUSEHOLDS, purpose__in=WORK_LIST_PURPOSES)
    named_tasks = Q(event_type__in=NAMED_TASKS)
    rows = list(
        theirs.filter(
            Q(event_type__in=(*HOUSEHOLD_TASKS, *ENTRY_TASKS, *POST_TASKS))
            | work_lists
            | named_tasks
        )
        .order_by("created_at", "id")
        .values_list(
            "actor_id", "created_at", "event_type", "object_type", "object_id", "details", "id"
        )
    )
    named = _entry_households(rows)
    # A list explains the rows it showed, no more (lists recorded before rows were kept: their
    # beat, or nothing when they spanned a scope).
    shown: dict[int, list[int]] = defaultdict(list)
    # A subquery, not a list of ids (a day's lists may number more than SQLite's variables).
    for event_id, household_id in AuditEventHousehold.objects.filter(
        event__in=theirs.filter(work_lists | named_tasks).values("id")
    ).values_list("event_id", "household_id"):
        shown[event_id].append(household_id)
    found: dict[int, Work] = defaultdict(Work)
    for actor_id, at, event_type, object_type, object_id, details, event_id in rows:
        work = found[actor_id]
        if event_type == EventType.LIST_HOUSEHOLDS:
            if event_id in shown:
                for h in shown[event_id]:
                    work.lists.add(Context(at, household_id=h, event_id=event_id))
            elif object_type == "org.beat" and object_id.isdigit():
                work.lists.add(Context(at, beat_id=int(object_id), event_id=event_id))
        elif event_type in NAMED_TASKS:
            for h in shown.get(event_id, []):
                work.tasks.add(Context(at, household_id=h, event_id=event_id))
        elif event_type in ENTRY_TASKS:
            entry = (ENTRY_TASKS[event_type], int(object_id) if object_id.isdigit() else 0)
            for h in named.get(entry, []):
                work.tasks.add(Context(at, household_id=h, event_id=event_id))
        elif event_type in POST_TASKS:
            post = details.get("post") if isinstance(details, dict) else None
            if isinstance(post, int):
                work.tasks.add(Context(at, post_id=post, event_id=event_id))
        elif (household := _household_of(object_type, object_id, details)) is not None:
            work.tasks.add(Context(at, household_id=household, event_id=event_id))
    return found


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
    in one of the officer's own beats are his work and never unexplained. An open UNEXPLAINED
    flag whose every read a task recorded since explains (within JUNKAI_MISUSE_TASK_HOURS of
    it) is settled: kept, marked as explained by that task.
    """
    t = thresholds()
    now = timezone.now()
    until = until or now
    since = since or until - dt.timedelta(hours=t.scan_hours)
    settle = dt.timedelta(minutes=t.settle_minutes)
    reach = max(dt.timedelta(hours=t.context_hours), dt.timedelta(hours=t.task_hours), settle)
    # The audit log's reads are the replica's work; the flags (what this scan and the last
    # ones raised) are read and written on the primary below.
    with replica_reads():
        reads = _reads(created_at__gte=since, created_at__lt=until)
    result = ScanResult(reads=len(reads))
    # Open UNEXPLAINED flags a task recorded since may explain: their reads, wherever they lie.
    open_flags = list(
        MisuseFlag.objects.filter(
            kind=MisuseKind.UNEXPLAINED,
            reviewed_at__isnull=True,
            window_end__gte=since - dt.timedelta(hours=t.task_hours),
        )
    )
    flagged_ids = {int(i) for f in open_flags for i in f.event_ids}
    flagged = {r.event_id: r for r in _reads(id__in=flagged_ids)} if flagged_ids else {}
    if not reads and not flagged:
        return result
    actors = {r.actor_id for r in reads} | {f.officer_id for f in open_flags}
    earliest = min([since, *(r.at for r in flagged.values())])
    with replica_reads():
        work = _work(actors, earliest - reach, until + reach)
        own_beats = _own_beats(actors)
    covered: dict[tuple[int, str], set[int]] = defaultdict(set)
    for officer_id, kind, event_ids in MisuseFlag.objects.filter(
        officer_id__in=actors, window_end__gte=since - dt.timedelta(days=1)
    ).values_list("officer_id", "kind", "event_ids"):
        covered[(officer_id, kind)].update(int(i) for i in event_ids)

    by_officer: dict[tuple[int, int], list[Read]] = defaultdict(list)
    for r in reads:
        by_officer[(r.actor_id, r.station_id)].append(r)
    settled = now if judge_recent else now - settle
    posts: dict[tuple[int, int], int | None] = {}  # his post at the station, looked up once
    for (officer_id, station_id), mine in sorted(by_officer.items()):
        theirs = work.get(officer_id, Work())
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
                            and theirs.explanation(r, t) is None
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
                if (officer_id, station_id) not in posts:
                    posts[(officer_id, station_id)] = _post_of(officer_id, station_id)
                flag = do_raise_misuse_flag(
                    station_id=station_id,
                    post_id=posts[(officer_id, station_id)],
                    officer_id=officer_id,
                    kind=kind,
                    window_start=fresh[0].at,
                    window_end=fresh[-1].at,
                    event_ids=[r.event_id for r in fresh],
                    household_count=len({r.household_id for r in fresh}),
                )
                done.update(r.event_id for r in fresh)
                result.flags.append(flag)
    result.settled = _settle(open_flags, flagged, work, t)
    return result


def _settle(
    flags: list[MisuseFlag], reads: dict[int, Read], work: dict[int, Work], t: Thresholds
) -> list[MisuseFlag]:
    """The open UNEXPLAINED flags whose every read is now explained by work recorded since."""
    settled = []
    for flag in flags:
        theirs = work.get(flag.officer_id, Work())
        found = [
            theirs.explanation(reads[int(i)], t) if int(i) in reads else None
            for i in flag.event_ids
        ]
        if found and all(c is not None for c in found):
            explained_by = sorted({c.event_id for c in found if c is not None})
            settled.append(do_settle_misuse_flag(flag, explained_by=explained_by))
    return settled
