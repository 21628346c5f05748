"""要対応: every decision or step that waits on a person, in one inbox.

One entry per kind in `KINDS`. Each names who must act (through the role predicates of
`junkai.access.roles` and the apps' access checks — the same ones the actions enforce), counts
what waits on that officer, and lists the newest few with a link to the page where he acts. A new
kind is one more entry (`query_kind(...)` over a queryset, or a `PendingKind` with its own count
and rows).

Rows carry no resident's personal data (no names, no addresses): the unit, the date, the
officer concerned and a label, so the inbox, the navigation's count and the home pages never
read a household. The page it links to reads it, with its own access check and purpose.

Cost: a count query per kind for the navigation and the home page; on the 要対応 page one
query per kind (the rows), and a count only where there are more rows than it shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from junkai.access.purposes import ReadPurpose
from junkai.access.roles import (
    POST_ROLES,
    alert_posts,
    flag_reader_filter,
    koban_head_posts,
    loss_report_units,
    managed_posts,
    scope_of,
    section_chief_stations,
)
from junkai.disclosures.models import (
    AgencyRequest,
    DataUse,
    DataUseStatus,
    DecisionStatus,
    MisuseFlag,
)
from junkai.lib.wareki import format_wareki
from junkai.org.models import Officer, Role
from junkai.registers.losses import open_loss_reports_for
from junkai.registers.models import (
    OPEN_CHECKOUT,
    BinderCheckout,
    FollowUpStatus,
    InspectionFollowUp,
    LossReport,
)
from junkai.registers.reviews import overdue_months
from junkai.visits.models import (
    Concern,
    ConcernStatus,
    InfoReport,
    NightApprovalStatus,
    NightVisitApproval,
    RefusalReport,
)

#: Rows shown per kind on the 要対応 page (the rest behind the kind's own list).
ROWS_PER_KIND = 10


@dataclass(frozen=True)
class PendingRow:
    when: str  # 和暦
    what: str
    unit: str
    who: str
    url: str


@dataclass(frozen=True)
class PendingKind:
    """One kind of pending decision.

    `reaches(officer)` whether his roles ever make this kind his to act on (asked of the
    assignments already loaded: no query); `count(officer)` how many wait on him;
    `rows(officer, limit)` the oldest `limit` of them.
    """

    key: str
    label: str
    basis: str  # the 要領's article, or what the rule is
    actor: str  # who acts, in the 要領's words
    reaches: Callable[[Officer], bool]
    count: Callable[[Officer], int]
    rows: Callable[[Officer, int], list[PendingRow]]
    list_url: Callable[[], str] = field(default=lambda: "")
    #: The rows waiting on him as a queryset, where there is one: `counts()` counts every
    #: such kind in one query (None: `count` is asked on its own).
    waiting: Callable[[Officer], QuerySet[Any]] | None = None
    #: Where a row names its household (a lookup from `waiting`), for a task about one: while
    #: it waits on him, opening that household's card needs no stated purpose; `purpose` is
    #: the one the task states (`task_at_hand`).
    household: str = ""
    purpose: ReadPurpose = ReadPurpose.SUPERVISION


@dataclass
class PendingGroup:
    kind: PendingKind
    count: int
    rows: list[PendingRow]

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.rows))


def _when(moment: dt.datetime | dt.date | None) -> str:
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment)
    return format_wareki(moment)


def query_kind(
    *,
    key: str,
    label: str,
    basis: str,
    actor: str,
    waiting_on: Callable[[Officer], Q | None],
    base: Callable[[], QuerySet[Any]],
    row: Callable[[Any], PendingRow],
    order: tuple[str, ...],
    related: tuple[str, ...] = (),
    list_url: Callable[[], str] = lambda: "",
    household: str = "",
    purpose: ReadPurpose = ReadPurpose.SUPERVISION,
) -> PendingKind:
    """A kind read from one table: `waiting_on(officer)` is the rows waiting on him (None when
    his roles never reach this kind); `base()` the pending rows of every unit."""

    def reaches(officer: Officer) -> bool:
        return waiting_on(officer) is not None

    def count(officer: Officer) -> int:
        where = waiting_on(officer)
        return 0 if where is None else base().filter(where).order_by().count()

    def rows(officer: Officer, limit: int) -> list[PendingRow]:
        where = waiting_on(officer)
        if where is None:
            return []
        found = base().filter(where).select_related(*related).order_by(*order)[:limit]
        return [row(item) for item in found]

    def waiting(officer: Officer) -> QuerySet[Any]:
        where = waiting_on(officer)
        return base().none() if where is None else base().filter(where)

    return PendingKind(
        key, label, basis, actor, reaches, count, rows, list_url, waiting, household, purpose
    )


# --- who must act: from the assignments already loaded, as Q over (station_id, post_id) ---------


def _ids(values: Iterable[int | None]) -> set[int]:
    return {v for v in values if v is not None}


def _manager_post_ids(officer: Officer) -> set[int]:
    """Posts whose MANAGER the officer is (a 幹部交番's 所長)."""
    return _ids(
        a.post_id
        for a in officer.current_assignments()
        if a.role == Role.MANAGER and a.post_id is not None
    )


def _disclosure_manager(officer: Officer) -> Q | None:
    """管理責任者 of the unit (`is_disclosure_manager`): the 地域課長 for his station's entries,
    a 幹部交番's 所長 for his post's."""
    stations, posts = section_chief_stations(officer), _manager_post_ids(officer)
    if not stations and not posts:
        return None
    return Q(station_id__in=stations) | Q(post_id__in=posts)


def _handler(officer: Officer) -> Q | None:
    """The unit that recorded the entry and holds the cards (`may_handle`): his post's entries
    for a post's officers, the 地域課's own entries for its station-wide roles. (The 地域課長 may
    handle a post's entries too, but they wait on the post, not on him.)"""
    scope = scope_of(officer)
    if scope.empty:
        return None
    posts = _ids(
        a.post_id for a in officer.current_assignments() if a.role in POST_ROLES and a.post_id
    )
    return Q(post_id__in=posts) | Q(post__isnull=True, station_id__in=scope.station_ids)


def _reports_waiting(officer: Officer, manager_field: str, head_field: str) -> Q | None:
    """A report or request to the 地域課長 (every one of his station) and, for 交番勤務員, also
    to the 交番所長 (第4-3, 第4-5(4)), not yet done by the role he holds."""
    stations, heads = section_chief_stations(officer), koban_head_posts(officer)
    if not stations and not heads:
        return None
    return Q(station_id__in=stations, **{f"{manager_field}__isnull": True}) | Q(
        post_id__in=heads, needs_koban_head=True, **{f"{head_field}__isnull": True}
    )


def _night_waiting(officer: Officer) -> Q | None:
    where = _reports_waiting(officer, "manager_approved_at", "koban_head_approved_at")
    # One's own request is approved by someone else (do_approve_night_visit).
    return None if where is None else where & ~Q(requested_by=officer)


def _refusal_waiting(officer: Officer) -> Q | None:
    return _reports_waiting(officer, "manager_ack_at", "koban_head_ack_at")


def _info_waiting(officer: Officer) -> Q | None:
    stations = section_chief_stations(officer)
    return Q(station_id__in=stations) if stations else None


def _flags_waiting(officer: Officer) -> Q | None:
    readers = flag_reader_filter(officer)
    # A flag about the reader himself goes to the 署長 alone (may_review_flag).
    return None if readers is None else readers & ~Q(officer=officer)


def _overdue_waiting(officer: Officer) -> Q | None:
    """Overdue returns: the post's custodian and manager chase them (alert_posts); the
    borrower brings them back."""
    if scope_of(officer).empty:
        return None
    return Q(post_id__in=alert_posts(officer).values("id")) | Q(borrower=officer)


def _confirm_waiting(officer: Officer) -> Q | None:
    """持出確認・返却確認 (第5-3(3)ウ): an officer of the post other than the borrower; at a
    single-officer 駐在所 the borrower himself."""
    posts = _ids(a.post_id for a in officer.current_assignments())
    if not posts:
        return None
    return Q(post_id__in=posts) & (~Q(borrower=officer) | Q(post__single_officer=True))


def _follow_up_waiting(officer: Officer) -> Q | None:
    """措置の報告: the post's officers (`do_follow_up`)."""
    posts = _ids(a.post_id for a in officer.current_assignments())
    return Q(inspection__post_id__in=posts) if posts else None


def _concerns_waiting(officer: Officer) -> Q | None:
    return None if scope_of(officer).empty else Q(owner=officer)


# --- rows ---------------------------------------------------------------------------------


def _unit(entry: Any) -> str:
    return str(entry.unit_label)


def _night_row(a: NightVisitApproval) -> PendingRow:
    return PendingRow(
        _when(a.requested_at),
        "夜間実施の承認申請",
        a.post.name,
        str(a.requested_by),
        reverse("inbox"),
    )


def _refusal_row(r: RefusalReport) -> PendingRow:
    return PendingRow(
        _when(r.visit.started_at), "拒否の報告", r.post.name, str(r.visit.officer), reverse("inbox")
    )


def _info_row(i: InfoReport) -> PendingRow:
    return PendingRow(
        _when(i.reported_at), "見聞情報の報告", i.station.name, str(i.reported_by), reverse("inbox")
    )


def _data_use_row(e: DataUse) -> PendingRow:
    return PendingRow(
        _when(e.recorded_at),
        f"{e.label}（{e.requester_prefecture}警察・{e.get_status_display()}）",
        _unit(e),
        str(e.recorded_by),
        reverse("data_use_detail", args=[e.id]),
    )


def _agency_row(e: AgencyRequest) -> PendingRow:
    missing = "・文書未添付" if e.status == DecisionStatus.PENDING and not e.has_document else ""
    return PendingRow(
        _when(e.recorded_at),
        f"照会 {e.label}（{e.agency_name}{missing}）",
        _unit(e),
        str(e.recorded_by),
        reverse("agency_request_detail", args=[e.id]),
    )


def _flag_row(f: MisuseFlag) -> PendingRow:
    return PendingRow(
        _when(f.raised_at),
        f.get_kind_display(),
        f.post.name if f.post is not None else f"{f.station.name}地域課",
        str(f.officer),
        reverse("misuse_flag", args=[f.id]),
    )


def _checkout_row(c: BinderCheckout) -> PendingRow:
    what = "持出確認簿"
    if c.out_confirmed_at is None:
        what = "持出しの確認待ち"
    elif c.returned_at is not None and c.return_confirmed_at is None:
        what = "返却の確認待ち"
    elif c.return_confirmed_at is None:
        what = f"返却期限 {_when(c.due_at)} {timezone.localtime(c.due_at):%H:%M}"
    return PendingRow(
        _when(c.declared_at),
        what,
        c.post.name,
        str(c.borrower),
        reverse("checkout_register", args=[c.post_id]),
    )


def _follow_up_row(f: InspectionFollowUp) -> PendingRow:
    inspection = f.inspection
    return PendingRow(
        _when(inspection.inspected_on),
        f"点検の措置事項: {f.text}",
        inspection.post.name,
        str(inspection.inspector),
        reverse("inspection_detail", args=[inspection.id]),
    )


def _concern_row(c: Concern) -> PendingRow:
    return PendingRow(
        _when(c.created_at),
        f"{c.get_kind_display()}（{c.get_status_display()}）",
        "",
        str(c.owner),
        reverse("concerns"),
    )


# --- unsigned monthly reviews (not one table: the months a post kept a register) ---------------


def _review_posts(officer: Officer) -> list[Any] | None:
    if not _reviews_reach(officer):
        return None
    return list(managed_posts(officer).order_by("code"))


def _reviews_reach(officer: Officer) -> bool:
    return any(a.role == Role.MANAGER for a in officer.current_assignments())


def _reviews_count(officer: Officer) -> int:
    posts = _review_posts(officer)
    return len(overdue_months(posts)) if posts else 0


def _reviews_rows(officer: Officer, limit: int) -> list[PendingRow]:
    posts = _review_posts(officer)
    cells = overdue_months(posts) if posts else []
    return [
        PendingRow(
            cell.label,
            f"持出確認簿の月次確認（{cell.entries}件の記載）",
            cell.post.name,
            "",
            reverse(
                "checkout_review_month", args=[cell.post.id, cell.month.year, cell.month.month]
            ),
        )
        for cell in cells[:limit]
    ]


def _open_data_uses() -> QuerySet[DataUse]:
    return DataUse.objects.filter(
        Q(status=DataUseStatus.REQUESTED)
        | Q(status=DataUseStatus.VERIFIED, other_prefecture=False)
        | Q(status=DataUseStatus.APPROVED)
    )


def _open_agency_requests() -> QuerySet[AgencyRequest]:
    return AgencyRequest.objects.filter(
        Q(status=DecisionStatus.PENDING, document_sha256="") | Q(status=DecisionStatus.APPROVED)
    )


def _overdue_checkouts() -> QuerySet[BinderCheckout]:
    # Open entries only: one closed by a loss or by the device's revocation is not chased.
    return BinderCheckout.objects.filter(OPEN_CHECKOUT, due_at__lt=timezone.now())


def _unconfirmed_checkouts() -> QuerySet[BinderCheckout]:
    return BinderCheckout.objects.filter(OPEN_CHECKOUT).filter(
        Q(out_confirmed_at__isnull=True)
        | Q(returned_at__isnull=False, return_confirmed_at__isnull=True)
    )


# --- 亡失・盗難: open reports (registers.losses says whom each reaches) ---------------------------


def _losses_reach(officer: Officer) -> bool:
    units, hq = loss_report_units(officer)
    return hq or bool(units.station_ids or units.post_ids)


def _loss_row(r: LossReport, *, acts_on_it: bool) -> PendingRow:
    subject = r.subject
    return PendingRow(
        when=_when(r.reported_at),
        what=f"{r.get_kind_display()}：{subject}（未了 {getattr(r, 'pending_count', 0)}／{getattr(r, 'household_count', 0)}世帯）",
        # HQ sees which station, not another station's posts (DESIGN: HQ aggregates).
        unit=r.post.name if acts_on_it else r.post.station.name,
        who=str(r.reported_by),
        # HQ follows every station's reports from their list (it opens no report: no households).
        url=reverse("loss_report", args=[r.id]) if acts_on_it else reverse("loss_reports"),
    )


def _losses_rows(officer: Officer, limit: int) -> list[PendingRow]:
    units, _ = loss_report_units(officer)
    reports = open_loss_reports_for(officer).select_related("reported_by")
    return [
        _loss_row(
            r,
            acts_on_it=r.post.station_id in units.station_ids
            or r.post_id in units.post_ids
            or r.reported_by_id == officer.id,
        )
        for r in reports[:limit]
    ]


LOSS_KIND = PendingKind(
    "loss_report",
    "亡失・盗難の報告（対応中）",
    "第5-3（カードの適正な管理）",
    "地域課長・署長・本部、交番等の取扱責任者",
    _losses_reach,
    lambda officer: open_loss_reports_for(officer).order_by().count(),
    _losses_rows,
    lambda: reverse("loss_reports"),
    open_loss_reports_for,
    household="entries__household_id",
)


KINDS: list[PendingKind] = [
    LOSS_KIND,
    query_kind(
        key="data_use_approval",
        label="他県警察への提供の承認",
        basis="第5-4(2)ア",
        actor="管理責任者",
        waiting_on=_disclosure_manager,
        base=lambda: DataUse.objects.filter(
            other_prefecture=True, status=DataUseStatus.VERIFIED, approved_at__isnull=True
        ),
        row=_data_use_row,
        order=("recorded_at", "id"),
        related=("station", "post", "recorded_by"),
        list_url=lambda: reverse("data_use_register"),
        household="households",
        purpose=ReadPurpose.INQUIRY,
    ),
    query_kind(
        key="agency_decision",
        label="他の行政機関からの照会の判断",
        basis="第5-4(2)イ",
        actor="管理責任者",
        waiting_on=_disclosure_manager,
        # Without its written request he cannot decide yet, but it waits for his decision all
        # the same (the row says the document is missing).
        base=lambda: AgencyRequest.objects.filter(status=DecisionStatus.PENDING),
        row=_agency_row,
        order=("recorded_at", "id"),
        related=("station", "post", "recorded_by"),
        list_url=lambda: reverse("agency_requests"),
        household="households",
        purpose=ReadPurpose.INQUIRY,
    ),
    PendingKind(
        key="checkout_review",
        label="持出確認簿の月次確認（未了の月）",
        basis="第5-3(3)エ",
        actor="管理責任者",
        reaches=_reviews_reach,
        count=_reviews_count,
        rows=_reviews_rows,
        list_url=lambda: reverse("checkout_reviews"),
    ),
    query_kind(
        key="misuse_flag",
        label="不適正利用の兆候（未確認）",
        basis="第5-4(1)",
        actor="管理責任者・警察署長",
        waiting_on=_flags_waiting,
        base=lambda: MisuseFlag.objects.filter(reviewed_at__isnull=True),
        row=_flag_row,
        order=("raised_at", "id"),
        related=("station", "post", "officer"),
        list_url=lambda: reverse("misuse_flags"),
        household="read_rows__household_id",
    ),
    query_kind(
        key="overdue_return",
        label="返却期限を過ぎた簿冊",
        basis="第5-3(3)イ",
        actor="取扱責任者・管理責任者・持出警察官",
        waiting_on=_overdue_waiting,
        base=_overdue_checkouts,
        row=_checkout_row,
        order=("due_at", "id"),
        related=("post", "borrower"),
        list_url=lambda: reverse("register_alerts"),
    ),
    query_kind(
        key="night_approval",
        label="夜間実施の承認申請",
        basis="第4-3",
        actor="地域課長（交番勤務員は地域課長及び交番所長）",
        waiting_on=_night_waiting,
        base=lambda: NightVisitApproval.objects.filter(status=NightApprovalStatus.PENDING),
        row=_night_row,
        order=("requested_at", "id"),
        related=("post", "requested_by"),
        list_url=lambda: reverse("inbox"),
        household="household_id",
    ),
    query_kind(
        key="refusal_report",
        label="拒否の報告",
        basis="第4-5(4)",
        actor="地域課長（交番勤務員は地域課長及び交番所長）",
        waiting_on=_refusal_waiting,
        base=lambda: RefusalReport.objects.all(),
        row=_refusal_row,
        order=("visit__started_at", "id"),
        related=("post", "visit__officer"),
        list_url=lambda: reverse("inbox"),
        household="visit__household_id",
    ),
    query_kind(
        key="info_report",
        label="見聞情報の報告",
        basis="第4-5(3)",
        actor="地域課長",
        waiting_on=_info_waiting,
        base=lambda: InfoReport.objects.filter(acknowledged_at__isnull=True),
        row=_info_row,
        order=("reported_at", "id"),
        related=("station", "reported_by"),
        list_url=lambda: reverse("inbox"),
        household="visit__household_id",
    ),
    query_kind(
        key="checkout_confirmation",
        label="持出確認・返却確認",
        basis="第5-3(3)ア〜ウ",
        actor="持出警察官以外のこの交番等の警察官",
        waiting_on=_confirm_waiting,
        base=_unconfirmed_checkouts,
        row=_checkout_row,
        order=("declared_at", "id"),
        related=("post", "borrower"),
    ),
    query_kind(
        key="data_use_open",
        label="利用確認簿: 折り返し確認・提供の記録",
        basis="第5-4(2)ア",
        actor="カードを保有する交番等の警察官",
        waiting_on=_handler,
        base=_open_data_uses,
        row=_data_use_row,
        order=("recorded_at", "id"),
        related=("station", "post", "recorded_by"),
        list_url=lambda: reverse("data_use_register"),
        household="households",
        purpose=ReadPurpose.INQUIRY,
    ),
    query_kind(
        key="agency_open",
        label="照会: 文書の添付・提供の記録",
        basis="第5-4(2)イ",
        actor="カードを保有する交番等の警察官",
        waiting_on=_handler,
        base=_open_agency_requests,
        row=_agency_row,
        order=("recorded_at", "id"),
        related=("station", "post", "recorded_by"),
        list_url=lambda: reverse("agency_requests"),
        household="households",
        purpose=ReadPurpose.INQUIRY,
    ),
    query_kind(
        key="inspection_follow_up",
        label="巡視・点検の措置事項",
        basis="第3-4",
        actor="点検を受けた交番等の警察官",
        waiting_on=_follow_up_waiting,
        base=lambda: InspectionFollowUp.objects.filter(status=FollowUpStatus.OPEN),
        row=_follow_up_row,
        order=("inspection__inspected_on", "id"),
        related=("inspection__post", "inspection__inspector"),
        list_url=lambda: reverse("inspections"),
    ),
    query_kind(
        key="concern",
        label="困りごと・意見・要望（未対応・対応中）",
        basis="第4-4(5)",
        actor="担当の警察官",
        waiting_on=_concerns_waiting,
        base=lambda: Concern.objects.exclude(status=ConcernStatus.RESOLVED),
        row=_concern_row,
        order=("created_at", "id"),
        related=("owner",),
        list_url=lambda: reverse("concerns"),
        household="household_id",
        purpose=ReadPurpose.CONSULTATION,
    ),
]


def task_at_hand(officer: Officer | Any, household_id: int) -> tuple[ReadPurpose, str] | None:
    """The first kind with a row about this household waiting on the officer: its purpose and
    label (registered with access.purposes by this app's config). An exists() per kind his
    roles reach, asked only for a read outside his own beats that states no purpose."""
    if not _active(officer):
        return None
    for kind in KINDS:
        waiting = kind.waiting if kind.household and kind.reaches(officer) else None
        if (
            waiting is not None
            and waiting(officer).filter(**{kind.household: household_id}).exists()
        ):
            return kind.purpose, kind.label
    return None


def _active(officer: Officer | Any) -> bool:
    return bool(getattr(officer, "is_authenticated", False) and officer.is_active)


def counts(officer: Officer | Any) -> list[tuple[PendingKind, int]]:
    """(kind, how many wait on the officer) for each kind his roles reach: the kinds read from
    a table in one query together, the others (the monthly reviews) a count each."""
    if not _active(officer):
        return []
    kinds = [kind for kind in KINDS if kind.reaches(officer)]
    together = [kind for kind in kinds if kind.waiting is not None]
    found = dict(
        zip(
            [kind.key for kind in together],
            count_together([kind.waiting(officer) for kind in together if kind.waiting]),
            strict=True,
        )
    )
    return [(kind, found[kind.key] if kind.key in found else kind.count(officer)) for kind in kinds]


def count_together(querysets: list[QuerySet[Any]]) -> list[int]:
    """`.count()` of each queryset, in one query (a scalar subquery each) instead of one each:
    the navigation's 要対応 count and the home and dashboard pages ask a dozen kinds."""
    if not querysets:
        return []
    parts: list[str] = []
    params: list[Any] = []
    for n, queryset in enumerate(querysets):
        try:
            sql, more = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # a filter that can match nothing (`id__in=[]`)
            parts.append("0")
            continue
        # The queryset's own SQL and parameters, as Django compiled them (no text of ours).
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) counted_{n})")  # noqa: S608
        params.extend(more)
    with connections[querysets[0].db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return [int(n) for n in row]


def total(officer: Officer | Any) -> int:
    return sum(n for _, n in counts(officer))


def reaches_any(officer: Officer | Any) -> bool:
    """Whether any kind is ever the officer's (the navigation's 要対応 link): no query."""
    return _active(officer) and any(kind.reaches(officer) for kind in KINDS)


def groups(officer: Officer | Any, *, limit: int = ROWS_PER_KIND) -> list[PendingGroup]:
    """Each kind his roles reach, with the oldest `limit` rows: a query a kind, and a count
    only when there may be more than it shows."""
    if not _active(officer):
        return []
    found = []
    for kind in KINDS:
        if not kind.reaches(officer):
            continue
        rows = kind.rows(officer, limit)
        n = len(rows) if len(rows) < limit else kind.count(officer)
        found.append(PendingGroup(kind, n, rows))
    return found
