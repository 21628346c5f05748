"""What every figure of the progress dashboards means, and the aggregate queries behind it.

The pages, the API, the monthly report (Excel/PDF), the snapshot command and the benchmark all
read their figures from here. Every figure is a COUNT/SUM grouped by beat (or station, or
officer) in the database; no household row is loaded into Python. Python only adds up the few
hundred grouped rows into posts, stations and officers.

Definitions (all over ACTIVE households, 居住・営業中; vacant and moved-out ones do not count):

- 世帯数 (households): active households of the unit.
- 面接済（間隔内） (covered): active households whose last MET contact (面接, a visit or a
  leader's phone call) falls on or after the same day N months before today, N being the
  interval of their category in the schedule policy (別表: 未把握 3, 高齢者 6, 家庭 12,
  事業所等 24 months by default), shortened to the leaders' interval for 自治委員・区長・班長・
  組長 (第4-2). An absent or refused visit does not cover a household.
- 実施率 (coverage) = covered ÷ households.
- 把握率 (card_rate) = households with an accepted card ÷ households. A household without an
  accepted card is exactly the 未把握 category (別表), so this is 1 − 未把握 ÷ households.
- 期限超過 (overdue): active households whose stored next due date (junkai.households.schedule:
  the interval after the last 面接, or the retry after an absence) is before today — the same
  date the work list sorts by.
- 月間の標準実施数 (expected): Σ over the households of 1 ÷ their interval in months: how many
  contacts a month keep the whole beat within its intervals. It measures the size and the mix
  of a beat at once: 600 家庭 expect 50 a month, 600 高齢者世帯 100.
- 実施指数 (visit_index) = visits this month ÷ expected (an officer's share of his beats'
  expected: a beat walked by two officers gives each half). 1.00 is exactly the pace the
  intervals need, whatever the size and mix of the beat, so a rural 駐在所 and an urban 交番
  compare fairly. 面接指数 (met_index) = MET visits ÷ expected.
- Activity in a month (visits, 面接, 不在, 拒否) counts the visits recorded with a start in the
  month (Asia/Tokyo); 新規カード counts cards accepted (revision basis NEW), 補正 the other
  revisions, 困りごと等の解決 the concerns resolved in the month; each by the officer who did it.
- 未対応の困りごと等 (open concerns): concerns not yet resolved; their age is days since heard.
- Registers (第5-3) per post: 持出中の簿冊 (binder lines not yet confirmed back), 返却期限超過
  (checkouts not confirmed back after their deadline), 月次確認の未了 (ended months the
  管理責任者 has not signed, junkai.registers.reviews), 承認・報告待ち (night-visit requests
  pending and refusal reports not yet acknowledged by all who must), 点検 (open inspections,
  and the post counted as 点検予定 when its last inspection is INSPECTION_DUE_DAYS or more ago
  or it has none).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from junkai.access.roles import own_beats
from junkai.dashboards.models import BeatMonthSnapshot
from junkai.households.models import (
    CardRevision,
    Category,
    Household,
    HouseholdStatus,
    Outcome,
    RevisionBasis,
    SchedulePolicy,
)
from junkai.households.schedule import covered_q, current_policy, within_interval_q
from junkai.lib.dates import add_months
from junkai.lib.months import month_bounds, month_start, next_month
from junkai.lib.replica import replica_reads
from junkai.lib.wareki import era_of
from junkai.org.models import Assignment, Beat, Officer, Post, Role, Station
from junkai.registers.models import (
    OPEN_CHECKOUT,
    BinderCheckout,
    CheckoutBinder,
    Inspection,
    InspectionStatus,
)
from junkai.registers.reviews import overdue_months
from junkai.visits.models import (
    Concern,
    ConcernStatus,
    MonthlyPlan,
    NightApprovalStatus,
    NightVisitApproval,
    RefusalReport,
    Visit,
)

#: A post counts as 点検予定 when its last 巡視・点検 is this many days ago or more (or none).
INSPECTION_DUE_DAYS = 90

CATEGORIES = [c.value for c in Category]


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def percent(value: float | None) -> str:
    return "―" if value is None else f"{value * 100:.1f}%"


def index_text(value: float | None) -> str:
    """An index (実施指数・面接指数) as shown: 「1.05」; None → 「―」."""
    return "―" if value is None else f"{value:.2f}"


@dataclass
class CategoryTally:
    households: int = 0
    covered: int = 0
    overdue: int = 0

    @property
    def coverage(self) -> float | None:
        return ratio(self.covered, self.households)


@dataclass
class Tally:
    """The figures of one unit (a beat, a post, a station, an officer's share)."""

    households: int = 0
    covered: int = 0
    carded: int = 0
    overdue: int = 0
    expected: float = 0.0
    by_category: dict[str, CategoryTally] = field(
        default_factory=lambda: {c: CategoryTally() for c in CATEGORIES}
    )
    visits: int = 0
    met: int = 0
    absent: int = 0
    refused: int = 0
    new_cards: int = 0
    corrections: int = 0
    concerns_resolved: int = 0
    open_concerns: int = 0
    oldest_concern: dt.datetime | None = None

    @property
    def coverage(self) -> float | None:
        return ratio(self.covered, self.households)

    @property
    def card_rate(self) -> float | None:
        return ratio(self.carded, self.households)

    @property
    def unknown(self) -> int:
        return self.households - self.carded

    @property
    def visit_index(self) -> float | None:
        return ratio(self.visits, self.expected) if self.expected else None

    @property
    def met_index(self) -> float | None:
        return ratio(self.met, self.expected) if self.expected else None

    @property
    def oldest_concern_days(self) -> int | None:
        if self.oldest_concern is None:
            return None
        return (timezone.localdate() - timezone.localdate(self.oldest_concern)).days

    def add(self, other: Tally) -> None:
        """Add another unit's figures (a beat's to its post's)."""
        self.add_households(other)
        self.add_activity(other)
        self.open_concerns += other.open_concerns
        if other.oldest_concern is not None and (
            self.oldest_concern is None or other.oldest_concern < self.oldest_concern
        ):
            self.oldest_concern = other.oldest_concern

    def add_households(self, other: Tally, share: float = 1.0) -> None:
        """Add another unit's household figures, scaled by `share` (an officer's part of a
        beat he walks with others)."""
        self.households += round(other.households * share)
        self.covered += round(other.covered * share)
        self.carded += round(other.carded * share)
        self.overdue += round(other.overdue * share)
        self.expected += other.expected * share
        for c in CATEGORIES:
            mine, theirs = self.by_category[c], other.by_category[c]
            mine.households += round(theirs.households * share)
            mine.covered += round(theirs.covered * share)
            mine.overdue += round(theirs.overdue * share)

    def add_activity(self, other: Tally) -> None:
        for name in ("visits", "met", "absent", "refused", "new_cards", "corrections"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.concerns_resolved += other.concerns_resolved


# --- the household figures ----------------------------------------------------------------


def household_tallies(
    households: QuerySet[Household],
    key: str,
    *,
    day: dt.date | None = None,
    policy: SchedulePolicy | None = None,
) -> dict[Any, Tally]:
    """Active households grouped by `key` (beat_id, station_id): one GROUP BY query."""
    day = day or timezone.localdate()
    policy = policy or current_policy()
    rows = (
        households.filter(status=HouseholdStatus.ACTIVE)
        .order_by()
        .values(key, "category", "leader_role")
        .annotate(
            n=Count("id"),
            covered=Count("id", filter=covered_q(policy, day)),
            overdue=Count("id", filter=Q(next_due__lt=day)),
        )
    )
    tallies: dict[Any, Tally] = defaultdict(Tally)
    for row in rows:
        tally = tallies[row[key]]
        n, covered, overdue = row["n"], row["covered"], row["overdue"]
        category = row["category"]
        tally.households += n
        tally.covered += covered
        tally.overdue += overdue
        if category != Category.UNKNOWN:
            tally.carded += n
        tally.expected += n / policy.months_for(category, leader=bool(row["leader_role"]))
        cat = tally.by_category[category]
        cat.households += n
        cat.covered += covered
        cat.overdue += overdue
    return dict(tallies)


# --- activity in a month ------------------------------------------------------------------


@dataclass
class Activity:
    """Activity of a month, by beat and by officer (every visit counts once in each)."""

    by_beat: dict[int, Tally]
    by_officer: dict[int, Tally]


def activity(post_ids: Iterable[int], month: dt.date) -> Activity:
    """Visits, cards, corrections and resolved concerns in `month` at these posts."""
    post_ids = list(post_ids)
    start, end = month_bounds(month)
    by_beat: dict[int, Tally] = defaultdict(Tally)
    by_officer: dict[int, Tally] = defaultdict(Tally)
    visits = (
        Visit.objects.filter(post_id__in=post_ids, started_at__gte=start, started_at__lt=end)
        .order_by()
        .values("household__beat_id", "officer_id")
        .annotate(
            n=Count("id"),
            met=Count("id", filter=Q(outcome=Outcome.MET)),
            absent=Count("id", filter=Q(outcome=Outcome.ABSENT)),
            refused=Count("id", filter=Q(outcome=Outcome.REFUSED)),
        )
    )
    for row in visits:
        for tally in (by_beat[row["household__beat_id"]], by_officer[row["officer_id"]]):
            tally.visits += row["n"]
            tally.met += row["met"]
            tally.absent += row["absent"]
            tally.refused += row["refused"]
    wanted = set(post_ids)
    for counted in month_revisions(month):
        if counted.post_id in wanted:
            for tally in (by_beat[counted.beat_id], by_officer[counted.officer_id]):
                tally.new_cards += counted.new
                tally.corrections += counted.corrections
    resolved = (
        Concern.objects.filter(
            household__post_id__in=post_ids,
            status=ConcernStatus.RESOLVED,
            resolved_at__gte=start,
            resolved_at__lt=end,
        )
        .order_by()
        .values("household__beat_id", "owner_id")
        .annotate(n=Count("id"))
    )
    for row in resolved:
        by_beat[row["household__beat_id"]].concerns_resolved += row["n"]
        by_officer[row["owner_id"]].concerns_resolved += row["n"]
    return Activity(dict(by_beat), dict(by_officer))


def revisions_in(start: dt.datetime, end: dt.datetime) -> QuerySet[CardRevision]:
    """Card revisions (新規・補正) made in [start, end) (indexed on revised_at)."""
    return CardRevision.objects.filter(revised_at__gte=start, revised_at__lt=end)


@dataclass(frozen=True)
class RevisionCount:
    """新規カード and 補正 of a month by one officer on one beat (the card's post kept too)."""

    station_id: int
    post_id: int
    beat_id: int
    officer_id: int
    new: int
    corrections: int


def month_revisions(month: dt.date) -> list[RevisionCount]:
    """The month's card revisions of the whole prefecture, counted by post, beat and officer.

    A month's revisions can only be found by their date (indexed on revised_at alone), so a
    station's count read the whole prefecture's month and kept its own: the same read for every
    station and for HQ. It is read once and shared through the cache for as long as the
    stations' figures are (station_cache_seconds()); without the cache it is read each time.
    """
    key = f"junkai.dashboards.revisions.{month:%Y-%m}.{timezone.localdate():%Y-%m-%d}"
    seconds = station_cache_seconds()
    found = cache.get(key) if seconds > 0 else None
    if isinstance(found, list):
        return found
    start, end = month_bounds(month)
    with replica_reads():
        rows = [
            RevisionCount(
                row["card__post__station_id"],
                row["card__post_id"],
                row["card__household__beat_id"],
                row["revised_by_id"],
                row["new"],
                row["corrections"],
            )
            for row in revisions_in(start, end)
            .order_by()
            .values(
                "card__post__station_id",
                "card__post_id",
                "card__household__beat_id",
                "revised_by_id",
            )
            .annotate(
                new=Count("id", filter=Q(basis=RevisionBasis.NEW)),
                corrections=Count("id", filter=~Q(basis=RevisionBasis.NEW)),
            )
        ]
    if seconds > 0:
        cache.set(key, rows, seconds)
    return rows


def open_concerns(post_ids: Iterable[int]) -> tuple[dict[int, Tally], dict[int, Tally]]:
    """Open concerns (count, oldest) by beat and by owner."""
    rows = (
        Concern.objects.filter(household__post_id__in=list(post_ids))
        .exclude(status=ConcernStatus.RESOLVED)
        .order_by()
        .values("household__beat_id", "owner_id")
        .annotate(n=Count("id"), oldest=Min("created_at"))
    )
    by_beat: dict[int, Tally] = defaultdict(Tally)
    by_owner: dict[int, Tally] = defaultdict(Tally)
    for row in rows:
        for tally in (by_beat[row["household__beat_id"]], by_owner[row["owner_id"]]):
            tally.open_concerns += row["n"]
            if tally.oldest_concern is None or row["oldest"] < tally.oldest_concern:
                tally.oldest_concern = row["oldest"]
    return dict(by_beat), dict(by_owner)


# --- registers (第5-3) --------------------------------------------------------------------


@dataclass
class RegisterFigures:
    binders_out: int = 0
    overdue_returns: int = 0
    unsigned_months: int = 0
    pending_night: int = 0
    pending_refusals: int = 0
    open_inspections: int = 0
    last_inspected: dt.date | None = None

    @property
    def pending_approvals(self) -> int:
        return self.pending_night + self.pending_refusals

    @property
    def inspection_due(self) -> bool:
        if self.last_inspected is None:
            return True
        return (timezone.localdate() - self.last_inspected).days >= INSPECTION_DUE_DAYS

    def add(self, other: RegisterFigures) -> None:
        self.binders_out += other.binders_out
        self.overdue_returns += other.overdue_returns
        self.unsigned_months += other.unsigned_months
        self.pending_night += other.pending_night
        self.pending_refusals += other.pending_refusals
        self.open_inspections += other.open_inspections


def register_figures(posts: list[Post]) -> dict[int, RegisterFigures]:
    """Per post."""
    ids = [p.id for p in posts]
    figures = {i: RegisterFigures() for i in ids}
    now = timezone.now()
    for row in (
        CheckoutBinder.objects.filter(open=True, checkout__post_id__in=ids)
        .order_by()
        .values("checkout__post_id")
        .annotate(n=Count("id"))
    ):
        figures[row["checkout__post_id"]].binders_out = row["n"]
    for row in (
        BinderCheckout.objects.filter(OPEN_CHECKOUT, post_id__in=ids, due_at__lt=now)
        .order_by()
        .values("post_id")
        .annotate(n=Count("id"))
    ):
        figures[row["post_id"]].overdue_returns = row["n"]
    for row in (
        NightVisitApproval.objects.filter(post_id__in=ids, status=NightApprovalStatus.PENDING)
        .order_by()
        .values("post_id")
        .annotate(n=Count("id"))
    ):
        figures[row["post_id"]].pending_night = row["n"]
    for row in (
        RefusalReport.objects.filter(post_id__in=ids)
        .filter(
            Q(manager_ack_at__isnull=True)
            | Q(needs_koban_head=True, koban_head_ack_at__isnull=True)
        )
        .order_by()
        .values("post_id")
        .annotate(n=Count("id"))
    ):
        figures[row["post_id"]].pending_refusals = row["n"]
    for row in (
        Inspection.objects.filter(post_id__in=ids)
        .order_by()
        .values("post_id")
        .annotate(
            open=Count("id", filter=Q(status=InspectionStatus.OPEN)), last=Max("inspected_on")
        )
    ):
        figures[row["post_id"]].open_inspections = row["open"]
        figures[row["post_id"]].last_inspected = row["last"]
    if posts:
        for cell in overdue_months(posts):
            figures[cell.post.id].unsigned_months += 1
    return figures


# --- a station, a post, a beat: the board the pages, API and report show ---------------


@dataclass
class OfficerRow:
    officer: Officer
    post: Post | None
    roles: list[str]
    beats: list[Beat]
    tally: Tally
    target: int | None  # 月間計画の予定件数

    @property
    def plan_rate(self) -> float | None:
        return ratio(self.tally.visits, self.target) if self.target else None


@dataclass
class Board:
    """The figures of a station (or one post of it, or one beat) for a month."""

    station: Station
    month: dt.date
    live: bool  # the household figures are as of now (the month is the current one)
    total: Tally
    posts: list[tuple[Post, Tally, RegisterFigures]]
    beats: list[tuple[Beat, Tally]]
    officers: list[OfficerRow]
    registers: RegisterFigures
    computed_at: dt.datetime

    @property
    def inspections_due(self) -> int:
        return sum(1 for _, _, r in self.posts if r.inspection_due)


def board(
    station: Station,
    *,
    posts: list[Post] | None = None,
    beat: Beat | None = None,
    month: dt.date | None = None,
) -> Board:
    """The station's figures, or only some of its posts, or only one beat.

    Household figures are live (as of now). Activity is for `month` (default: this month).
    """
    today = timezone.localdate()
    month = month_start(month or today)
    if beat is not None:
        posts = [beat.post]
    if posts is None:
        posts = list(Post.objects.filter(station=station).order_by("code"))
    post_ids = [p.id for p in posts]
    beats = list(Beat.objects.filter(post_id__in=post_ids).select_related("post"))
    if beat is not None:
        beats = [b for b in beats if b.id == beat.id]
    beat_ids = {b.id for b in beats}

    households = Household.objects.filter(post_id__in=post_ids)
    if beat is not None:
        households = households.filter(beat_id=beat.id)
    by_beat = household_tallies(households, "beat_id", day=today)
    acts = activity(post_ids, month)
    concerns_by_beat, concerns_by_owner = open_concerns(post_ids)

    beat_rows: list[tuple[Beat, Tally]] = []
    for b in beats:
        tally = Tally()
        tally.add(by_beat.get(b.id, Tally()))
        tally.add(acts.by_beat.get(b.id, Tally()))
        tally.add(concerns_by_beat.get(b.id, Tally()))
        beat_rows.append((b, tally))

    registers = register_figures(posts)
    post_rows = []
    total = Tally()
    all_registers = RegisterFigures()
    for p in posts:
        tally = post_tally(p, beat_rows)
        post_rows.append((p, tally, registers[p.id]))
        total.add(tally)
        all_registers.add(registers[p.id])

    officers = _officer_rows(post_ids, beat_ids, {b.id: t for b, t in beat_rows}, acts, month)
    for row in officers:
        row.tally.open_concerns = concerns_by_owner.get(row.officer.id, Tally()).open_concerns
        row.tally.oldest_concern = concerns_by_owner.get(row.officer.id, Tally()).oldest_concern
    if beat is not None:
        officers = [r for r in officers if any(b.id == beat.id for b in r.beats)]
    return Board(
        station=station,
        month=month,
        live=month == month_start(today),
        total=total,
        posts=post_rows,
        beats=beat_rows,
        officers=officers,
        registers=all_registers,
        computed_at=timezone.now(),
    )


#: A station's board (or a post's, or a beat's) is computed at most this often (seconds;
#: JUNKAI_DASHBOARD_STATION_SECONDS) and kept in the cache every app server shares: it tallies
#: every household of the station (~26,000 in the largest of a prefecture) and its month's
#: activity, the same for every reader and every view; the page says how old it is.
STATION_CACHE_SECONDS = 300


def station_cache_seconds() -> int:
    return int(getattr(settings, "JUNKAI_DASHBOARD_STATION_SECONDS", STATION_CACHE_SECONDS))


def board_cached(
    station: Station, *, posts: list[Post] | None = None, beat: Beat | None = None
) -> Board:
    """board() of this month, computed again once the last one is station_cache_seconds()
    old (or on another day: coverage and overdue are as of a day)."""
    seconds = station_cache_seconds()
    if seconds <= 0:
        return board(station, posts=posts, beat=beat)
    scope = (
        f"beat{beat.id}"
        if beat
        else ("posts" + "-".join(str(p.id) for p in posts) if posts else "all")
    )
    key = f"junkai.dashboards.board.{station.id}.{scope}.{timezone.localdate():%Y-%m-%d}"
    found = cache.get(key)
    if isinstance(found, Board):
        return found
    with replica_reads():  # minutes old by design: a replica's second of lag changes nothing
        computed = board(station, posts=posts, beat=beat)
    for row in computed.officers:
        # What the pages and the API show of an officer, and nothing more in the cache.
        officer = row.officer
        row.officer = Officer(
            id=officer.id, username=officer.username, full_name=officer.full_name, rank=officer.rank
        )
    cache.set(key, computed, seconds)
    return computed


def post_tally(post: Post, beat_rows: list[tuple[Beat, Tally]]) -> Tally:
    """The post's figures: the sum of its beats'."""
    tally = Tally()
    for beat, t in beat_rows:
        if beat.post_id == post.id:
            tally.add(t)
    return tally


#: Post-level roles whose holders walk beats or lead a post: the officers a chief evaluates.
OFFICER_ROLES = (Role.BEAT_OFFICER, Role.CUSTODIAN, Role.INSPECTOR, Role.MANAGER)


def _officer_rows(
    post_ids: list[int],
    beat_ids: set[int],
    beat_tallies: dict[int, Tally],
    acts: Activity,
    month: dt.date,
) -> list[OfficerRow]:
    """Officers serving today at these posts, with their share of their beats and their
    activity of the month; officers who left but recorded visits this month are listed too."""
    assignments = list(
        Assignment.objects.current()
        .filter(post_id__in=post_ids, role__in=OFFICER_ROLES)
        .select_related("officer", "post")
        .prefetch_related("beats")
        .order_by("post__code", "officer__username")
    )
    walkers: dict[int, int] = defaultdict(int)  # beat → officers walking it today
    seen_pairs: set[tuple[int, int]] = set()
    for a in assignments:
        for b in a.beats.all():
            if (a.officer_id, b.id) not in seen_pairs:
                seen_pairs.add((a.officer_id, b.id))
                walkers[b.id] += 1
    rows: dict[int, OfficerRow] = {}
    for a in assignments:
        row = rows.get(a.officer_id)
        if row is None:
            row = rows[a.officer_id] = OfficerRow(a.officer, a.post, [], [], Tally(), None)
        row.roles.append(a.role_label)
        for b in a.beats.all():
            if b.id in beat_ids and b not in row.beats:
                row.beats.append(b)
    others = set(acts.by_officer) - set(rows)
    if others:
        for officer in Officer.objects.filter(id__in=others).order_by("username"):
            rows[officer.id] = OfficerRow(
                officer, None, ["配置外（異動・応援等）"], [], Tally(), None
            )
    targets = dict(
        MonthlyPlan.objects.filter(officer_id__in=list(rows), month=month).values_list(
            "officer_id", "target_visits"
        )
    )
    for officer_id, row in rows.items():
        for b in row.beats:
            row.tally.add_households(beat_tallies.get(b.id, Tally()), 1 / max(walkers[b.id], 1))
        row.tally.add_activity(acts.by_officer.get(officer_id, Tally()))
        row.target = targets.get(officer_id)
    return list(rows.values())


# --- HQ: every station, in aggregate only --------------------------------------------------


@dataclass
class StationRow:
    station: Station
    tally: Tally
    registers: RegisterFigures


@dataclass
class HqBoard:
    rows: list[StationRow]
    total: Tally
    computed_at: dt.datetime


#: HQ's figures are computed at most this often (seconds; JUNKAI_DASHBOARD_HQ_SECONDS): they
#: read every household of the prefecture (~0.5 s at 500,000), and HQ compares stations, for
#: which a minute-old figure does as well; the page says when they were computed.
HQ_CACHE_SECONDS = 60


def hq_cache_seconds() -> int:
    return int(getattr(settings, "JUNKAI_DASHBOARD_HQ_SECONDS", HQ_CACHE_SECONDS))


def hq_board_cached() -> HqBoard:
    """hq_board() of this month, computed again when the last one is older than
    hq_cache_seconds()."""
    key = f"junkai.dashboards.hq.{month_start(timezone.localdate()):%Y-%m}"
    seconds = hq_cache_seconds()
    found = cache.get(key) if seconds > 0 else None
    if isinstance(found, HqBoard):
        return found
    with replica_reads():  # every station's households and visits: the replica's work
        rows, total = hq_board()
    board = HqBoard(rows, total, timezone.now())
    if seconds > 0:
        cache.set(key, board, seconds)
    return board


def hq_board(month: dt.date | None = None) -> tuple[list[StationRow], Tally]:
    """All stations side by side: the same figures, summed per station (no post, beat,
    officer or household is named)."""
    today = timezone.localdate()
    month = month_start(month or today)
    start, end = month_bounds(month)
    stations = list(Station.objects.order_by("code"))
    tallies = household_tallies(Household.objects.all(), "station_id", day=today)
    posts = list(Post.objects.all())
    for row in (
        # Through the (post, started_at) index: a month's visits, not ten years of them.
        Visit.objects.filter(
            post_id__in=[p.id for p in posts], started_at__gte=start, started_at__lt=end
        )
        .order_by()
        .values("station_id")
        .annotate(
            n=Count("id"),
            met=Count("id", filter=Q(outcome=Outcome.MET)),
            absent=Count("id", filter=Q(outcome=Outcome.ABSENT)),
            refused=Count("id", filter=Q(outcome=Outcome.REFUSED)),
        )
    ):
        t = tallies.setdefault(row["station_id"], Tally())
        t.visits, t.met, t.absent, t.refused = row["n"], row["met"], row["absent"], row["refused"]
    for revisions in month_revisions(month):
        t = tallies.setdefault(revisions.station_id, Tally())
        t.new_cards += revisions.new
        t.corrections += revisions.corrections
    for row in (
        Concern.objects.exclude(status=ConcernStatus.RESOLVED)
        .order_by()
        .values("household__station_id")
        .annotate(n=Count("id"), oldest=Min("created_at"))
    ):
        t = tallies.setdefault(row["household__station_id"], Tally())
        t.open_concerns, t.oldest_concern = row["n"], row["oldest"]
    for row in (
        Concern.objects.filter(
            status=ConcernStatus.RESOLVED, resolved_at__gte=start, resolved_at__lt=end
        )
        .order_by()
        .values("household__station_id")
        .annotate(n=Count("id"))
    ):
        tallies.setdefault(row["household__station_id"], Tally()).concerns_resolved = row["n"]
    per_post = register_figures(posts)
    registers: dict[int, RegisterFigures] = defaultdict(RegisterFigures)
    for p in posts:
        registers[p.station_id].add(per_post[p.id])
    rows = [StationRow(s, tallies.get(s.id, Tally()), registers[s.id]) for s in stations]
    total = Tally()
    for r in rows:
        total.add(r.tally)
    return rows, total


# --- the officer's own figures (home page) ------------------------------------------------


def own_figures(officer: Officer, month: dt.date | None = None) -> dict[str, Any] | None:
    """My beats' coverage and overdue, my visits of the month against my plan, my open
    concerns. None for an officer who walks no beat."""
    beats = list(own_beats(officer))
    if not beats:
        return None
    today = timezone.localdate()
    month = month_start(month or today)
    start, end = month_bounds(month)
    tally = Tally()
    for t in household_tallies(
        Household.objects.filter(beat__in=beats), "beat_id", day=today
    ).values():
        tally.add(t)
    done = Visit.objects.filter(officer=officer, started_at__gte=start, started_at__lt=end)
    counts = done.aggregate(n=Count("id"), met=Count("id", filter=Q(outcome=Outcome.MET)))
    plan = MonthlyPlan.objects.filter(officer=officer, month=month).first()
    concerns = Concern.objects.filter(owner=officer).exclude(status=ConcernStatus.RESOLVED)
    open_stats = concerns.aggregate(n=Count("id"), oldest=Min("created_at"))
    target = plan.target_visits if plan else None
    return {
        "beats": beats,
        "tally": tally,
        "visits": counts["n"],
        "met": counts["met"],
        "target": target,
        "plan_rate": ratio(counts["n"], target) if target else None,
        "open_concerns": open_stats["n"],
        "oldest_concern_days": (
            (today - timezone.localdate(open_stats["oldest"])).days
            if open_stats["oldest"]
            else None
        ),
    }


# --- trends (推移) from the month-end snapshots -------------------------------------------


def trend(
    *,
    station_ids: list[int] | None = None,
    post_ids: list[int] | None = None,
    beat_id: int | None = None,
    months: int = 12,
    live: Tally | None = None,
) -> dict[str, Any]:
    """Coverage and 把握率 at the end of each of the last `months` months (from the
    snapshots), and the live figure of now as the last point."""
    today = timezone.localdate()
    oldest = add_months(month_start(today), -months)
    rows = BeatMonthSnapshot.objects.filter(month__gte=oldest)
    if station_ids is not None:
        rows = rows.filter(station_id__in=station_ids)
    if post_ids is not None:
        rows = rows.filter(post_id__in=post_ids)
    if beat_id is not None:
        rows = rows.filter(beat_id=beat_id)
    sums = list(
        rows.order_by("month")
        .values("month")
        .annotate(
            households=Sum("households"),
            covered=Sum("covered"),
            carded=Sum("carded"),
            taken=Max("taken_at"),
        )
    )
    labels = [short_month(r["month"]) for r in sums]
    coverage = [_pct(r["covered"], r["households"]) for r in sums]
    card_rate = [_pct(r["carded"], r["households"]) for r in sums]
    if live is not None:
        labels.append("現在")
        coverage.append(_pct(live.covered, live.households))
        card_rate.append(_pct(live.carded, live.households))
    return {
        "labels": labels,
        "coverage": coverage,
        "card_rate": card_rate,
        "last_snapshot": sums[-1]["month"] if sums else None,
        "taken_at": sums[-1]["taken"] if sums else None,
    }


_ERA_LETTER = {"令和": "R", "平成": "H", "昭和": "S", "大正": "T", "明治": "M"}


def short_month(month: dt.date) -> str:
    """「R8.10末」: a month end on a chart's axis, in 和暦 as on the pages."""
    era, year = era_of(month)
    return f"{_ERA_LETTER.get(era, era)}{year}.{month.month}末"


def _pct(part: int | None, whole: int | None) -> float | None:
    return round(100 * part / whole, 1) if whole and part is not None else None


def snapshot_rows(month: dt.date) -> list[dict[str, Any]]:
    """Each beat's figures at the end of `month`, from what the records say today.

    Run on the 1st for the month just ended (as scheduled), it reads the stored dates: exact
    up to the changes of the first hours. Any other day (a late run, a backfill) it asks the
    visits whether a 面接 fell within the interval before that month end; category and status
    are today's, households registered after the month end are left out, and 期限超過 is
    taken as "not covered" (an absence's retry date is not reconstructed): an approximation.
    """
    policy = current_policy()
    day = next_month(month)  # the day after the month end
    end = month_bounds(month)[1]
    households = Household.objects.filter(status=HouseholdStatus.ACTIVE, created_at__lt=end)
    if timezone.localdate() == day:
        # Run on the 1st, as scheduled: the stored dates are the month end's (up to the visits
        # of the first hours), and reading them is one pass over the households.
        covered = covered_q(policy, day)
        overdue = Q(next_due__lt=day)
        grouped = households.order_by().values("beat_id", "post_id", "station_id")
        rows = grouped.annotate(
            households=Count("id"),
            covered=Count("id", filter=covered),
            carded=Count("id", filter=~Q(category=Category.UNKNOWN)),
            overdue=Count("id", filter=overdue),
        )
        return list(rows)

    # An older month: whether a MET visit fell within the interval before that month end.
    def met_since(since: dt.datetime) -> Q:
        met = Visit.objects.filter(
            household=OuterRef("pk"), outcome=Outcome.MET, started_at__gte=since
        ).filter(started_at__lt=end)
        return Q(Exists(met))

    where = within_interval_q(policy, day, met_since)
    past = (
        households.order_by()
        .values("beat_id", "post_id", "station_id")
        .annotate(
            households=Count("id"),
            covered=Count("id", filter=where),
            carded=Count("id", filter=~Q(category=Category.UNKNOWN)),
        )
    )
    # Not covered = overdue here: one EXISTS per household, not two.
    return [{**row, "overdue": row["households"] - row["covered"]} for row in past]
