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

Each run (`junkai misuse-scan`, every 5 minutes) takes what committed since the last one
(MisuseScanMark: the audit sealer's line, so an event that commits late is judged late, never
skipped) and the reads too recent to judge last time, and costs what those bring, not what the
log or the open flags hold: the work that may explain a read is fetched by its officer, its
household (post, beat) and its time, a few queries for all the reads; open flags are reached
from new work through their rows (MisuseFlagRead: by household and time), never walked.
`--since`/`--until` rescans a period the same way, leaving the watermark alone.

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
from django.db import connection, connections, router
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from junkai.access.roles import POST_ROLES
from junkai.audit.models import AuditEvent, AuditEventHousehold, EventType
from junkai.disclosures.actions import do_raise_misuse_flag, do_settle_misuse_flag
from junkai.disclosures.models import (
    AgencyRequest,
    DataUse,
    MisuseFlag,
    MisuseFlagRead,
    MisuseKind,
    MisuseScanMark,
)
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
    #: Where its commit lies (PostgreSQL: its transaction; SQLite: its id), for the watermark.
    position: int = 0


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


#: Register entries and the through table naming their households.
ENTRY_HOUSEHOLDS = (
    ("disclosures.datause", DataUse.households.through, "datause_id"),
    ("disclosures.agencyrequest", AgencyRequest.households.through, "agencyrequest_id"),
)
WORK_LIST = Q(event_type=EventType.LIST_HOUSEHOLDS, purpose__in=WORK_LIST_PURPOSES)
NOTHING = Q(pk__in=[])
Span = tuple[dt.datetime, dt.datetime]


def _chunks(ids: Iterable[int], size: int = 5000) -> Iterator[list[int]]:
    """Ids in batches (SQLite caps the variables of one statement)."""
    items = sorted(set(ids))
    for n in range(0, len(items), size):
        yield items[n : n + size]


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping stretches of time merged, in order."""
    merged: list[Span] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _spans(times: Iterable[dt.datetime], before: dt.timedelta, after: dt.timedelta) -> list[Span]:
    """From `before` each moment to `after` it, overlapping stretches merged."""
    return _merge((moment - before, moment + after) for moment in times)


def _within(spans: Iterable[Span], name: str = "created_at") -> Q:
    found = NOTHING
    for lo, hi in spans:
        found |= Q(**{f"{name}__gte": lo, f"{name}__lte": hi})
    return found


def _position() -> str:
    """The column in which commits arrive in order, for the periodic scan's line: PostgreSQL's
    writing transaction (`xid`, as the audit sealer), SQLite's id (its writers take turns)."""
    return "xid" if connection.vendor == "postgresql" else "id"


def _commit_line() -> tuple[int, int | None]:
    """(line, own): every audit event below `line` has committed, and none can commit below it
    later; `own` is this transaction's id when it has one (its events are visible to it and
    commit with what the scan writes). On the connection the audit log is read from."""
    with connections[router.db_for_read(AuditEvent)].cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
                " pg_current_xact_id_if_assigned()::text::bigint"
            )
            line, own = cursor.fetchone()
            return int(line), (int(own) if own is not None else None)
        cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM audit_auditevent")
        return int(cursor.fetchone()[0]), None


def _reads(where: Q) -> list[Read]:
    """Reads of one household each, narrowed by `where`, in time order."""
    rows = list(
        AuditEvent.objects.filter(
            where,
            event_type=EventType.READ_HOUSEHOLD,
            object_type="households.household",
            actor_id__isnull=False,
        )
        .order_by("created_at", "id")
        .values_list("id", "created_at", "actor_id", "object_id", "station_id", "xid")
    )
    by_id = _position() == "id"
    households: dict[int, tuple[int | None, int | None, int]] = {}
    for chunk in _chunks(int(r[3]) for r in rows if r[3].isdigit()):
        for h, beat, post, station in Household.objects.filter(id__in=chunk).values_list(
            "id", "beat_id", "post_id", "station_id"
        ):
            households[h] = (beat, post, station)
    reads = []
    for event_id, at, actor_id, object_id, station_id, position in rows:
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
                position=event_id if by_id else position or 0,
            )
        )
    return reads


def _household_of(object_type: str, object_id: str, details: Any) -> int | None:
    if object_type == "households.household" and object_id.isdigit():
        return int(object_id)
    if isinstance(details, dict) and isinstance(details.get("household"), int):
        return int(details["household"])
    return None


def _work_for(reads: list[Read], t: Thresholds) -> dict[int, Work]:
    """The lists and tasks that may explain `reads`: by their officers, on their households
    (their posts, their beats), around their moments. Four to six queries however many reads,
    each narrowed to what was read (indexes by household, by entry, by time)."""
    found: dict[int, Work] = defaultdict(Work)
    if not reads:
        return found
    actors = sorted({r.actor_id for r in reads})
    households = sorted({r.household_id for r in reads})
    posts = sorted({r.post_id for r in reads if r.post_id is not None})
    beats = sorted({r.beat_id for r in reads if r.beat_id is not None})
    shift = dt.timedelta(hours=t.task_hours)
    task_spans = _spans((r.at for r in reads), shift, shift)
    list_spans = _spans(
        (r.at for r in reads),
        dt.timedelta(hours=t.context_hours),
        dt.timedelta(minutes=t.settle_minutes),
    )
    theirs = AuditEvent.objects.filter(actor_id__in=actors)
    contexts: list[tuple[int, bool, Context]] = []  # (officer, is a list, context)

    # Tasks on the households (the event's object, or details["household"]) or their posts.
    # Each branch by an index, so the cost follows the reads, not the officers' day: the
    # object's (object_type, object_id), and on PostgreSQL the details keys' expression
    # indexes (audit 0015: partial to `details ? key`, which the has_key terms match).
    tasks = Q(event_type__in=HOUSEHOLD_TASKS) & (
        Q(details__has_key="household", details__household__in=households)
        | Q(object_type="households.household", object_id__in=[str(h) for h in households])
    )
    if posts:
        tasks |= Q(event_type__in=POST_TASKS, details__has_key="post", details__post__in=posts)
    for actor_id, at, event_type, object_type, object_id, details, event_id in (
        theirs.filter(_within(task_spans))
        .filter(tasks)
        .values_list(
            "actor_id", "created_at", "event_type", "object_type", "object_id", "details", "id"
        )
    ):
        if event_type in POST_TASKS:
            post = details.get("post") if isinstance(details, dict) else None
            if isinstance(post, int):
                contexts.append((actor_id, False, Context(at, post_id=post, event_id=event_id)))
        elif (household := _household_of(object_type, object_id, details)) is not None:
            contexts.append(
                (actor_id, False, Context(at, household_id=household, event_id=event_id))
            )

    # Steps of the 利用確認簿 entries and agency requests naming the households.
    named: dict[tuple[str, int], list[int]] = defaultdict(list)
    for label, through, key in ENTRY_HOUSEHOLDS:
        for entry_id, household_id in through.objects.filter(
            household_id__in=households
        ).values_list(key, "household_id"):
            named[(label, entry_id)].append(household_id)
    if named:
        entries = NOTHING
        for label in {label for label, _ in named}:
            entries |= Q(
                object_type=label, object_id__in=[str(i) for kind, i in named if kind == label]
            )
        for actor_id, at, event_type, object_type, object_id, event_id in theirs.filter(
            _within(task_spans), entries, event_type__in=ENTRY_TASKS
        ).values_list("actor_id", "created_at", "event_type", "object_type", "object_id", "id"):
            if ENTRY_TASKS[event_type] == object_type and object_id.isdigit():
                for h in named.get((object_type, int(object_id)), []):
                    contexts.append(
                        (actor_id, False, Context(at, household_id=h, event_id=event_id))
                    )

    # The rows lists showed, and the households a 亡失・盗難 step names.
    shown = Q(event__event_type=EventType.LIST_HOUSEHOLDS, event__purpose__in=WORK_LIST_PURPOSES)
    shown &= _within(list_spans, "event__created_at")
    shown |= Q(event__event_type__in=NAMED_TASKS) & _within(task_spans, "event__created_at")
    for event_id, household_id, actor_id, at, event_type in (
        AuditEventHousehold.objects.filter(household_id__in=households, event__actor_id__in=actors)
        .filter(shown)
        .values_list(
            "event_id", "household_id", "event__actor_id", "event__created_at", "event__event_type"
        )
    ):
        is_list = event_type == EventType.LIST_HOUSEHOLDS
        contexts.append(
            (actor_id, is_list, Context(at, household_id=household_id, event_id=event_id))
        )

    # Lists recorded before rows were kept explain their beat (a list over a scope, nothing).
    if beats:
        for actor_id, at, object_id, event_id in (
            theirs.filter(
                WORK_LIST,
                _within(list_spans),
                object_type="org.beat",
                object_id__in=[str(b) for b in beats],
            )
            .exclude(Exists(AuditEventHousehold.objects.filter(event_id=OuterRef("pk"))))
            .values_list("actor_id", "created_at", "object_id", "id")
        ):
            contexts.append(
                (actor_id, True, Context(at, beat_id=int(object_id), event_id=event_id))
            )

    for actor_id, is_list, context in sorted(contexts, key=lambda c: (c[2].at, c[2].event_id)):
        work = found[actor_id]
        (work.lists if is_list else work.tasks).add(context)
    return found


@dataclass
class Cover:
    """What one officer's new work of one kind covers, and when."""

    households: set[int] = field(default_factory=set)
    posts: set[int] = field(default_factory=set)
    beats: set[int] = field(default_factory=set)
    spans: list[Span] = field(default_factory=list)


def _open_flags_near(new_work: Q, t: Thresholds) -> dict[int, set[int]]:
    """The open UNEXPLAINED flags that work recorded since the last run (`new_work`) may
    explain, with their events: found from the work — its officers, the households (posts,
    beats) it covers, its time — through the flags' rows, never by walking the open flags."""
    with replica_reads():
        rows = list(
            AuditEvent.objects.filter(new_work, actor_id__isnull=False)
            .filter(
                Q(event_type__in=(*HOUSEHOLD_TASKS, *ENTRY_TASKS, *NAMED_TASKS, *POST_TASKS))
                | WORK_LIST
            )
            .values_list(
                "id", "actor_id", "created_at", "event_type", "object_type", "object_id", "details"
            )
        )
        if not rows:
            return {}
        entries: dict[str, set[int]] = defaultdict(set)
        for _, _, _, event_type, _, object_id, _ in rows:
            if event_type in ENTRY_TASKS and object_id.isdigit():
                entries[ENTRY_TASKS[event_type]].add(int(object_id))
        named: dict[tuple[str, int], list[int]] = defaultdict(list)
        for label, through, key in ENTRY_HOUSEHOLDS:
            for chunk in _chunks(entries[label]):
                for entry_id, household_id in through.objects.filter(
                    **{f"{key}__in": chunk}
                ).values_list(key, "household_id"):
                    named[(label, entry_id)].append(household_id)
        shown: dict[int, list[int]] = defaultdict(list)
        for chunk in _chunks(
            r[0] for r in rows if r[3] == EventType.LIST_HOUSEHOLDS or r[3] in NAMED_TASKS
        ):
            for event_id, household_id in AuditEventHousehold.objects.filter(
                event_id__in=chunk
            ).values_list("event_id", "household_id"):
                shown[event_id].append(household_id)
    shift = dt.timedelta(hours=t.task_hours)
    settle, context = dt.timedelta(minutes=t.settle_minutes), dt.timedelta(hours=t.context_hours)
    # What each officer's new work covers, and when a read it explains may lie: tasks a shift
    # either side, lists from the settle minutes before them to the context hours after.
    covers: dict[tuple[int, bool], Cover] = defaultdict(Cover)  # (officer, is a list)
    for event_id, actor_id, at, event_type, object_type, object_id, details in rows:
        if event_type == EventType.LIST_HOUSEHOLDS:
            cover = covers[(actor_id, True)]
            cover.spans.append((at - settle, at + context))
            if event_id in shown:
                cover.households.update(shown[event_id])
            elif object_type == "org.beat" and object_id.isdigit():
                cover.beats.add(int(object_id))
            continue
        cover = covers[(actor_id, False)]
        cover.spans.append((at - shift, at + shift))
        if event_type in NAMED_TASKS:
            cover.households.update(shown.get(event_id, []))
        elif event_type in ENTRY_TASKS:
            if object_id.isdigit():
                cover.households.update(named.get((ENTRY_TASKS[event_type], int(object_id)), []))
        elif event_type in POST_TASKS:
            post = details.get("post") if isinstance(details, dict) else None
            if isinstance(post, int):
                cover.posts.add(post)
        elif (household := _household_of(object_type, object_id, details)) is not None:
            cover.households.add(household)
    # By index (household, time) for all of them at once; then each row against its officer's.
    wide = (
        {p for c in covers.values() for p in c.posts},
        {b for c in covers.values() for b in c.beats},
    )
    doors: dict[int, tuple[int | None, int | None]] = {}  # household: (post, beat)
    if wide[0] or wide[1]:
        for h, post_id, beat_id in Household.objects.filter(
            Q(post_id__in=sorted(wide[0])) | Q(beat_id__in=sorted(wide[1]))
        ).values_list("id", "post_id", "beat_id"):
            doors[h] = (post_id, beat_id)
    households = set(doors) | {h for c in covers.values() for h in c.households}
    merged = {key: _merge(c.spans) for key, c in covers.items()}
    flag_ids: set[int] = set()
    for chunk in _chunks(households):
        for flag_id, officer_id, door, read_at in MisuseFlagRead.objects.filter(
            _within(_merge(s for spans in merged.values() for s in spans), "read_at"),
            household_id__in=chunk,
            flag__kind=MisuseKind.UNEXPLAINED,
            flag__reviewed_at__isnull=True,
            flag__officer_id__in=sorted({actor for actor, _ in covers}),
        ).values_list("flag_id", "flag__officer_id", "household_id", "read_at"):
            if door is None:
                continue
            door_post, door_beat = doors.get(door, (None, None))
            for is_list in (False, True):
                theirs = covers.get((officer_id, is_list))
                if theirs is None or not any(
                    lo <= read_at <= hi for lo, hi in merged[(officer_id, is_list)]
                ):
                    continue
                if (
                    door in theirs.households
                    or (door_post is not None and door_post in theirs.posts)
                    or (door_beat is not None and door_beat in theirs.beats)
                ):
                    flag_ids.add(flag_id)
    found: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(flag_ids):
        for flag_id, event_id in MisuseFlagRead.objects.filter(flag_id__in=chunk).values_list(
            "flag_id", "event_id"
        ):
            found[flag_id].add(event_id)
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
    """Raise a flag for each new signal, and settle the open UNEXPLAINED flags that work
    recorded since explains.

    Without `since` and `until` (the periodic run): the reads and the work committed since the
    last run (see MisuseScanMark), however long ago they happened, so a late commit is judged
    late, never skipped; the first run takes the last JUNKAI_MISUSE_SCAN_HOURS. With them (a
    rescan of a period, `--since`): the reads and the work recorded in it, the watermark left
    alone. Either way flags are never raised twice for the same reads.

    A read is judged unexplained once JUNKAI_MISUSE_SETTLE_MINUTES have passed (the task it
    belongs to may be recorded just after it), or at once with `judge_recent` (the demo). Reads
    of a household in one of the officer's own beats are his work and never unexplained. An
    open UNEXPLAINED flag whose every read is explained by a task (within
    JUNKAI_MISUSE_TASK_HOURS of it) is settled: kept, marked as explained by that task.
    """
    t = thresholds()
    now = timezone.now()
    judged = now if judge_recent else now - dt.timedelta(minutes=t.settle_minutes)
    if since is None and until is None:
        return _scan_new(t, now, judged)
    until = until or now
    since = since or until - dt.timedelta(hours=t.scan_hours)
    period = Q(created_at__gte=since, created_at__lt=until)
    with replica_reads():
        reads = _reads(period)
    return _judge(
        ready=[r for r in reads if r.at <= judged], fresh=reads, earlier=[], new_work=period, t=t
    )


def _scan_new(t: Thresholds, now: dt.datetime, judged: dt.datetime) -> ScanResult:
    """The periodic run: what committed since the last one (the audit sealer's rule: events
    below the line of the oldest open transaction have all committed and no other can commit
    there later), and the reads that were too recent to judge last time."""
    mark = MisuseScanMark.objects.order_by("id").first()
    position = _position()
    with replica_reads():
        line, own = _commit_line()
        visible = Q(**{f"{position}__lt": line})
        if own is not None:
            visible |= Q(xid=own)
        if mark is None or line < mark.line:
            # The first run (or a database restored into another cluster) takes the last hours;
            # what lies before them is never the periodic run's (a rescan takes it).
            start = now - dt.timedelta(hours=t.scan_hours)
            new = Q(created_at__gt=start)
            reads = _reads(visible & new)
            fresh = reads
        else:
            start = mark.since
            new = Q(**{f"{position}__gte": mark.line}, created_at__gt=start)
            reads = _reads(visible & (new | Q(created_at__gt=max(mark.judged_until, start))))
            fresh = [r for r in reads if r.position >= mark.line]
        # A burst may have begun before this run: the officers' reads just before the new ones.
        bulk = dt.timedelta(minutes=t.bulk_minutes)
        around = NOTHING
        for actor_id in sorted({r.actor_id for r in fresh}):
            spans = _spans((r.at for r in fresh if r.actor_id == actor_id), bulk, dt.timedelta(0))
            around |= Q(actor_id=actor_id) & _within(spans)
        taken = {r.event_id for r in fresh}
        earlier = [r for r in _reads(visible & around) if r.event_id not in taken] if fresh else []
    result = _judge(
        ready=[r for r in reads if r.at <= judged],
        fresh=fresh,
        earlier=earlier,
        new_work=visible & new,
        t=t,
    )
    if mark is None:
        MisuseScanMark.objects.create(line=line, judged_until=judged, scanned_at=now, since=start)
    else:
        mark.line, mark.judged_until, mark.scanned_at, mark.since = line, judged, now, start
        mark.save(update_fields=["line", "judged_until", "scanned_at", "since"])
    return result


def _judge(
    *, ready: list[Read], fresh: list[Read], earlier: list[Read], new_work: Q, t: Thresholds
) -> ScanResult:
    """Flags for `ready` reads left unexplained, for bursts among `fresh` reads (with the
    `earlier` reads just before them) and for `fresh` reads off duty; then settle the open
    flags that `new_work` explains. A few queries, however many reads and open flags."""
    result = ScanResult(reads=len({r.event_id for r in ready} | {r.event_id for r in fresh}))
    # Open flags new work may explain, found through the work (before this run raises any).
    flag_events = _open_flags_near(new_work, t)
    with replica_reads():
        flagged = (
            {
                r.event_id: r
                for chunk in _chunks(i for ids in flag_events.values() for i in ids)
                for r in _reads(Q(id__in=chunk))
            }
            if flag_events
            else {}
        )
        own_beats = _own_beats({r.actor_id for r in ready})
        outside = [r for r in ready if r.beat_id not in own_beats[r.actor_id]]
        work = _work_for(outside + list(flagged.values()), t)
    # Reads already behind a flag of each kind (a rescan, or the reads just before a burst).
    covered: dict[tuple[int, str], set[int]] = defaultdict(set)
    for chunk in _chunks(r.event_id for r in (*ready, *fresh, *earlier)):
        for event_id, officer_id, kind in MisuseFlagRead.objects.filter(
            event_id__in=chunk
        ).values_list("event_id", "flag__officer_id", "flag__kind"):
            covered[(officer_id, kind)].add(event_id)

    unexplained: dict[tuple[int, int], list[Read]] = defaultdict(list)
    for r in outside:
        if work.get(r.actor_id, Work()).explanation(r, t) is None:
            unexplained[(r.actor_id, r.station_id)].append(r)
    new: dict[tuple[int, int], list[Read]] = defaultdict(list)
    for r in fresh:
        new[(r.actor_id, r.station_id)].append(r)
    bursting: dict[tuple[int, int], list[Read]] = defaultdict(list)
    for r in sorted((*fresh, *earlier), key=lambda r: (r.at, r.event_id)):
        bursting[(r.actor_id, r.station_id)].append(r)

    posts: dict[tuple[int, int], int | None] = {}  # his post at the station, looked up once
    for officer_id, station_id in sorted({*unexplained, *new, *bursting}):
        key = (officer_id, station_id)
        candidates: list[tuple[str, Iterable[list[Read]]]] = [
            (
                MisuseKind.UNEXPLAINED,
                (
                    g
                    for g in _groups(unexplained.get(key, []), t.group_minutes)
                    if len({r.household_id for r in g}) >= t.unexplained_min_reads
                ),
            ),
            (MisuseKind.BULK, _bursts(bursting.get(key, []), t.bulk_reads, t.bulk_minutes)),
            (
                MisuseKind.OFF_HOURS,
                _groups([r for r in new.get(key, []) if t.off_duty(r.at)], t.group_minutes),
            ),
        ]
        for kind, groups in candidates:
            done = covered[(officer_id, kind)]
            for group in groups:
                fresh_reads = [r for r in group if r.event_id not in done]
                if (
                    kind == MisuseKind.BULK
                    and len({r.household_id for r in fresh_reads}) <= t.bulk_reads
                ):
                    continue
                if not fresh_reads:
                    continue
                if MisuseFlag.objects.filter(
                    officer_id=officer_id, kind=kind, window_start=fresh_reads[0].at
                ).exists():
                    continue
                if key not in posts:
                    posts[key] = _post_of(officer_id, station_id)
                flag = do_raise_misuse_flag(
                    station_id=station_id,
                    post_id=posts[key],
                    officer_id=officer_id,
                    kind=kind,
                    window_start=fresh_reads[0].at,
                    window_end=fresh_reads[-1].at,
                    event_ids=[r.event_id for r in fresh_reads],
                    household_count=len({r.household_id for r in fresh_reads}),
                )
                done.update(r.event_id for r in fresh_reads)
                result.flags.append(flag)

    # Settle the open flags whose every read work now explains.
    for flag in MisuseFlag.objects.filter(
        id__in=sorted(flag_events), reviewed_at__isnull=True
    ).order_by("id"):
        theirs = work.get(flag.officer_id, Work())
        found = [
            theirs.explanation(flagged[i], t) if i in flagged else None
            for i in sorted(flag_events[flag.id])
        ]
        if found and all(c is not None for c in found):
            explained_by = sorted({c.event_id for c in found if c is not None})
            result.settled.append(do_settle_misuse_flag(flag, explained_by=explained_by))
    return result
