"""Who may see what. Every read of personal data goes through a function here.

Scope follows the assignments valid today (DESIGN.md, 要領 第5-2):

    受持警察官等 BEAT_OFFICER   the beats of their own post
    取扱責任者   CUSTODIAN      their post
    交番所長      INSPECTOR@post  their post
    地域課長代理  INSPECTOR@station  their station (read)
    管理責任者   MANAGER@station  their station;  MANAGER@幹部交番: that post
    署長         STATION_CHIEF  their station
    STAFF, HQ                   nothing directly (only what a 利用確認簿 entry released)

Absent and out-of-scope objects answer the same 404, and the denial is audited.

Every view declares its rule with one of the decorators at the bottom; a test walks every URL
pattern and API operation and fails on a view that declares none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404

from junkai.audit.chain import record
from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures.models import AgencyRequest, DataUse, MisuseFlag
from junkai.households.models import Building, Household
from junkai.org.models import (
    Assignment,
    Beat,
    KeyDeputy,
    Officer,
    Post,
    PostKind,
    Role,
    Station,
    today,
)
from junkai.registers.models import Binder, BinderCheckout, Inspection
from junkai.visits.models import Concern, InfoReport, NightVisitApproval, RefusalReport

STATION_WIDE_ROLES = {Role.STATION_CHIEF, Role.MANAGER, Role.INSPECTOR}
POST_ROLES = {Role.CUSTODIAN, Role.BEAT_OFFICER, Role.MANAGER, Role.INSPECTOR}


@dataclass(frozen=True)
class Scope:
    """The units whose personal data an officer may see today."""

    station_ids: frozenset[int] = field(default_factory=frozenset)
    post_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.station_ids and not self.post_ids


def scope_of(officer: Officer | Any) -> Scope:
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return Scope()
    stations: set[int] = set()
    posts: set[int] = set()
    for a in officer.current_assignments():
        if a.role in STATION_WIDE_ROLES and a.post_id is None and a.station_id is not None:
            stations.add(a.station_id)
        elif a.role in POST_ROLES and a.post_id is not None:
            posts.add(a.post_id)
    return Scope(frozenset(stations), frozenset(posts))


def posts_visible_to(officer: Officer | Any) -> QuerySet[Post]:
    scope = scope_of(officer)
    if scope.empty:
        return Post.objects.none()
    return Post.objects.filter(Q(station_id__in=scope.station_ids) | Q(id__in=scope.post_ids))


def beats_visible_to(officer: Officer | Any) -> QuerySet[Beat]:
    scope = scope_of(officer)
    if scope.empty:
        return Beat.objects.none()
    return Beat.objects.filter(
        Q(post__station_id__in=scope.station_ids) | Q(post_id__in=scope.post_ids)
    )


def own_beats(officer: Officer) -> QuerySet[Beat]:
    """The beats an officer is assigned to walk (受持区), for work lists — not a scope."""
    ids = [b.id for a in officer.current_assignments() for b in a.beats.all()]
    return Beat.objects.filter(id__in=ids)


def _section_chief_stations(officer: Officer) -> set[int]:
    """Stations whose 地域課長 (MANAGER at the station, no post) the officer is."""
    return {
        a.station_id
        for a in officer.current_assignments()
        if a.role == Role.MANAGER and a.post_id is None and a.station_id is not None
    }


def posts_writable_by(officer: Officer | Any) -> QuerySet[Post]:
    """Posts whose cards the officer may create and correct.

    Post-level roles (受持警察官等, 取扱責任者, 交番所長, 幹部交番所長) at their post, and the 地域課長
    across his station. The chief and the 地域課長代理 read; they do not write cards.
    """
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return Post.objects.none()
    post_ids = {
        a.post_id
        for a in officer.current_assignments()
        if a.post_id is not None and a.role in POST_ROLES
    }
    return Post.objects.filter(
        Q(id__in=post_ids) | Q(station_id__in=_section_chief_stations(officer))
    )


def can_write_post(officer: Officer, post_id: int) -> bool:
    return posts_writable_by(officer).filter(id=post_id).exists()


def _unit_scope(officer: Officer | Any) -> Q | None:
    """Rows kept by a station or a post (station_id, post_id) in the officer's scope; None
    when he has none."""
    scope = scope_of(officer)
    if scope.empty:
        return None
    return Q(station_id__in=scope.station_ids) | Q(post_id__in=scope.post_ids)


def _register_scope(officer: Officer | Any) -> Q | None:
    """Rows whose post falls in the officer's scope; None when he has none."""
    scope = scope_of(officer)
    if scope.empty:
        return None
    return Q(post__station_id__in=scope.station_ids) | Q(post_id__in=scope.post_ids)


def households_visible_to(officer: Officer | Any) -> QuerySet[Household]:
    """The households whose personal data the officer may see (not yet a recorded read)."""
    in_scope = _unit_scope(officer)
    return Household.objects.none() if in_scope is None else Household.objects.filter(in_scope)


def access_household(
    officer: Officer, household_id: int, *, purpose: str = "閲覧", record_read: bool = True
) -> Household:
    """One household with its card, for the officer; 404 alike for absent and out of scope.

    The read goes to the access log (閲覧記録) with its purpose.
    """
    household = (
        households_visible_to(officer)
        .select_related("beat", "post", "station", "building")
        .filter(id=household_id)
        .first()
    )
    if household is None:
        raise _deny(officer, "households.household", household_id)
    if record_read:
        record(
            EventType.READ_HOUSEHOLD,
            actor=officer,
            obj=household,
            station_id=household.station_id,
            purpose=purpose,
        )
    return household


def access_households(
    officer: Officer,
    household_ids: list[int],
    *,
    purpose: str = "閲覧",
    record_read: bool = True,
) -> list[Household]:
    """Households named by id, in the order given; 404 alike if any is absent or out of scope.

    Each read goes to that household's own access log (閲覧記録), one READ_HOUSEHOLD event per
    household in the order given, all in one transaction. With record_read=False the caller
    records what it shows instead (a route planned names the households by id only; a form
    printed records PRINT_FORM on each).
    """
    wanted = list(dict.fromkeys(household_ids))
    found = {
        h.id: h
        for h in households_visible_to(officer)
        .select_related("beat", "post", "building")
        .filter(id__in=wanted)
    }
    for household_id in wanted:
        if household_id not in found:
            raise _deny(officer, "households.household", household_id)
    households = [found[i] for i in wanted]
    if record_read:
        with transaction.atomic():
            for household in households:
                record(
                    EventType.READ_HOUSEHOLD,
                    actor=officer,
                    obj=household,
                    station_id=household.station_id,
                    purpose=purpose,
                )
    return households


def access_household_for_write(
    officer: Officer, household_id: int, *, purpose: str = "補正画面の表示"
) -> Household:
    """A household whose card the officer may change: in scope and at a post he writes for.

    Edit pages show the card too, so this is a recorded read like any other.
    """
    from junkai.org.actions import PermissionDeniedError

    household = access_household(officer, household_id, record_read=False)
    if not can_write_post(officer, household.post_id):
        # In scope but read-only (the chief, the 地域課長代理): 403, and on the record.
        _deny(officer, "households.household", household_id)
        raise PermissionDeniedError("この交番等の巡回連絡カードを変更する権限がありません")
    record(
        EventType.READ_HOUSEHOLD,
        actor=officer,
        obj=household,
        station_id=household.station_id,
        purpose=purpose,
    )
    return household


def access_beat(officer: Officer, beat_id: int) -> Beat:
    beat = (
        beats_visible_to(officer).select_related("post", "post__station").filter(id=beat_id).first()
    )
    if beat is None:
        raise _deny(officer, "org.beat", beat_id)
    return beat


# --- the beat map (受持区地図) and beat outlines ----------------------------------------


def access_beat_map(officer: Officer, beat_id: int, *, purpose: str = "受持区地図の閲覧") -> Beat:
    """A beat whose map the officer may see: its households' positions, addresses, categories
    and due dates are personal data, so the read is recorded (READ_BEAT_MAP)."""
    beat = access_beat(officer, beat_id)
    record(
        EventType.READ_BEAT_MAP,
        actor=officer,
        obj=beat,
        station_id=beat.post.station_id,
        purpose=purpose,
    )
    return beat


def outline_editable_posts(officer: Officer | Any) -> QuerySet[Post]:
    """Posts whose beat outlines the officer may set: the 管理責任者 of the post (managed_posts)
    and the station's 地域課長 for every post of his station, 幹部交番 included."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return Post.objects.none()
    return Post.objects.filter(
        Q(id__in=managed_posts(officer).values("id"))
        | Q(station_id__in=_section_chief_stations(officer))
    )


def may_edit_beat_outline(officer: Officer | Any, beat: Beat) -> bool:
    return outline_editable_posts(officer).filter(id=beat.post_id).exists()


def access_outline_beats(officer: Officer) -> list[Beat]:
    """The beats whose outlines the officer sets (for the bulk import); 404 when none."""
    beats = list(
        Beat.objects.filter(post__in=outline_editable_posts(officer))
        .select_related("post")
        .order_by("post__code", "code")
    )
    if not beats:
        raise _deny(officer, "org.beat", "outlines")
    return beats


def access_beat_for_outline(officer: Officer, beat_id: int) -> Beat:
    """A beat whose outline the officer may set: 404 out of scope, 403 in scope but not its
    manager. The editing page shows the households as reference: a recorded map read."""
    from junkai.org.actions import PermissionDeniedError

    beat = access_beat(officer, beat_id)
    if not may_edit_beat_outline(officer, beat):
        _deny(officer, "org.beat", beat_id)
        raise PermissionDeniedError(
            "受持区の区域を設定できるのは管理責任者（地域課長・幹部交番所長）です"
        )
    record(
        EventType.READ_BEAT_MAP,
        actor=officer,
        obj=beat,
        station_id=beat.post.station_id,
        purpose="受持区の区域の設定",
    )
    return beat


def access_building(officer: Officer, building_id: int) -> Building:
    """An apartment building (アパート等) of a post in the officer's scope; 404 otherwise.

    The caller records what it shows of the households living there."""
    in_scope = _register_scope(officer)
    building = (
        Building.objects.filter(in_scope, id=building_id)
        .select_related("post", "post__station", "beat")
        .first()
        if in_scope is not None
        else None
    )
    if building is None:
        raise _deny(officer, "households.building", building_id)
    return building


def data_use_stations(officer: Officer | Any) -> QuerySet[Station]:
    """Stations whose 利用確認簿 (第7号様式) the officer reads: his station, or his post's
    station — of which he then sees his post's entries only (`data_uses_visible_to`)."""
    scope = scope_of(officer)
    if scope.empty:
        return Station.objects.none()
    return Station.objects.filter(
        Q(id__in=scope.station_ids) | Q(posts__id__in=scope.post_ids)
    ).distinct()


def access_data_use_station(officer: Officer, station_id: int) -> Station:
    """One of `data_use_stations`; 404 otherwise."""
    station = data_use_stations(officer).filter(id=station_id).first()
    if station is None:
        raise _deny(officer, "org.station", station_id)
    return station


def record_list_read(
    officer: Officer, *, beat: Beat | None, count: int, purpose: str = "一覧"
) -> None:
    """A list of households (names, addresses) is personal data too: one event per list.

    Without a beat the list spans the officer's whole scope.
    """
    record(
        EventType.LIST_HOUSEHOLDS,
        actor=officer,
        obj=beat,
        object_type="" if beat else "scope",
        station_id=beat.post.station_id if beat else None,
        purpose=purpose,
        details={"count": count},
    )


def household_access_log(household: Household) -> QuerySet[AuditEvent]:
    """Audit events on the household and its cards (reads, prints, changes, releases), newest
    first. Only for those `may_view_access_log` admits; the caller records that read."""
    card_ids = [str(i) for i in household.cards.values_list("id", flat=True)]
    return (
        AuditEvent.objects.filter(
            Q(object_type="households.household", object_id=str(household.id))
            | Q(object_type="households.contactcard", object_id__in=card_ids)
        )
        .select_related("actor")
        .order_by("-id")
    )


def read_access_log(
    officer: Officer, household: Household, *, purpose: str, limit: int
) -> list[AuditEvent] | None:
    """The household's 閲覧記録 (newest `limit` events) for those `may_view_access_log` admits,
    the read recorded; None for anyone else (the caller decides whether that is a denial: the
    household page simply shows no log, the API answers 403)."""
    if not may_view_access_log(officer, household):
        return None
    record(
        EventType.READ_ACCESS_LOG,
        actor=officer,
        obj=household,
        station_id=household.station_id,
        purpose=purpose,
    )
    return list(household_access_log(household)[:limit])


def may_view_access_log(officer: Officer, household: Household) -> bool:
    """A household's access log is for its 管理責任者 and the station chief only."""
    return any(
        a.role in (Role.MANAGER, Role.STATION_CHIEF)
        and (
            (a.post_id is None and a.station_id == household.station_id)
            or a.post_id == household.post_id
        )
        for a in officer.current_assignments()
    )


def is_section_chief(officer: Officer, station_id: int) -> bool:
    """警察署地域課長 (the station's 管理責任者): approves night visits, receives reports."""
    return station_id in _section_chief_stations(officer)


def _koban_head_posts(officer: Officer) -> set[int]:
    """Posts whose 交番所長 the officer is: an INSPECTOR assigned at the post, or a 幹部交番's
    所長 (its MANAGER)."""
    return {
        a.post_id
        for a in officer.current_assignments()
        if a.role in (Role.INSPECTOR, Role.MANAGER) and a.post_id is not None
    }


def is_koban_head(officer: Officer, post_id: int) -> bool:
    """交番所長 of the post: an INSPECTOR assigned at it, or a 幹部交番's 所長 (its MANAGER)."""
    return post_id in _koban_head_posts(officer)


def is_hq(officer: Officer) -> bool:
    """本部地域課 (or a superuser): sets the prefecture's schedule policy."""
    return officer.is_superuser or any(a.role == Role.HQ for a in officer.current_assignments())


def access_concern(officer: Officer, concern_id: int) -> Concern:
    """A concern of a household in the officer's scope; the read of its household is recorded."""
    concern = (
        Concern.objects.filter(id=concern_id, household__in=households_visible_to(officer))
        .select_related("owner", "visit", "visit__officer")
        .first()
    )
    if concern is None:
        raise _deny(officer, "visits.concern", concern_id)
    concern.household = access_household(officer, concern.household_id, purpose="困りごと等の対応")
    return concern


def access_managed_officer(viewer: Officer, officer_id: int) -> Officer:
    """An officer serving today at a post whose 管理責任者 the viewer is (専従日); 404 otherwise.

    Only the officer's name and post are shown: nothing personal, so no read is recorded.
    """
    current = Assignment.objects.current().filter(post__in=managed_posts(viewer))
    officer = Officer.objects.filter(id=officer_id, id__in=current.values("officer_id")).first()
    if officer is None:
        raise _deny(viewer, "org.officer", officer_id)
    return officer


def _scoped(officer: Officer, model: Any, object_id: int, label: str) -> Any:
    in_scope = _unit_scope(officer)
    found = None if in_scope is None else model.objects.filter(in_scope, id=object_id).first()
    if found is None:
        raise _deny(officer, label, object_id)
    return found


def access_night_approval(officer: Officer, approval_id: int) -> NightVisitApproval:
    """A night-visit request of a post or station in the officer's scope; 404 otherwise."""
    approval: NightVisitApproval = _scoped(
        officer, NightVisitApproval, approval_id, "visits.nightvisitapproval"
    )
    return approval


def access_refusal_report(officer: Officer, report_id: int) -> RefusalReport:
    report: RefusalReport = _scoped(officer, RefusalReport, report_id, "visits.refusalreport")
    return report


def report_recipient_units(officer: Officer) -> Scope:
    """The units whose reports come to the officer's inbox (拒否の報告, 見聞情報, 夜間実施):
    stations where he is 地域課長, posts where he is 交番所長. Empty for everyone else."""
    return Scope(frozenset(_section_chief_stations(officer)), frozenset(_koban_head_posts(officer)))


def reports_addressed_to(units: Scope) -> Q:
    """Refusal reports and night-visit requests for `units` to act on: every one of a
    地域課長's station; at a 交番所長's post, those that need him (交番勤務員 の分)."""
    return Q(station_id__in=units.station_ids) | Q(
        post_id__in=units.post_ids, needs_koban_head=True
    )


def access_info_report(officer: Officer, report_id: int) -> InfoReport:
    """Observations go to the 地域課長: only he reads them."""
    report = InfoReport.objects.filter(id=report_id).first()
    if report is None or not is_section_chief(officer, report.station_id):
        raise _deny(officer, "visits.inforeport", report_id)
    return report


# --- disclosures: 利用確認簿, agency requests, misuse flags (第5-4(2)) ----------------


def data_uses_visible_to(officer: Officer | Any) -> QuerySet[DataUse]:
    """利用確認簿 entries of the units in the officer's scope (not yet a recorded read)."""
    in_scope = _unit_scope(officer)
    if in_scope is None:
        return DataUse.objects.none()
    return DataUse.objects.filter(in_scope)


def agency_requests_visible_to(officer: Officer | Any) -> QuerySet[AgencyRequest]:
    in_scope = _unit_scope(officer)
    if in_scope is None:
        return AgencyRequest.objects.none()
    return AgencyRequest.objects.filter(in_scope)


def access_data_use(
    officer: Officer,
    data_use_id: int,
    *,
    purpose: str = "利用確認簿の閲覧",
    record_read: bool = True,
) -> DataUse:
    """One 利用確認簿 entry for the officer; 404 alike for absent and out of scope.

    The entry names households (addresses, the requester): its read goes to the log.
    """
    entry = (
        data_uses_visible_to(officer)
        .select_related("station", "post", "recorded_by", "verified_by", "approved_by")
        .filter(id=data_use_id)
        .first()
    )
    if entry is None:
        raise _deny(officer, "disclosures.datause", data_use_id)
    if record_read:
        record(
            EventType.READ_DISCLOSURE,
            actor=officer,
            obj=entry,
            station_id=entry.station_id,
            purpose=purpose,
        )
    return entry


def access_agency_request(
    officer: Officer,
    agency_request_id: int,
    *,
    purpose: str = "照会の閲覧",
    record_read: bool = True,
) -> AgencyRequest:
    entry = (
        agency_requests_visible_to(officer)
        .select_related("station", "post", "recorded_by", "decided_by")
        .filter(id=agency_request_id)
        .first()
    )
    if entry is None:
        raise _deny(officer, "disclosures.agencyrequest", agency_request_id)
    if record_read:
        record(
            EventType.READ_DISCLOSURE,
            actor=officer,
            obj=entry,
            station_id=entry.station_id,
            purpose=purpose,
        )
    return entry


def recording_unit(officer: Officer | Any) -> tuple[Station, Post | None] | None:
    """The register an officer writes in: his post's (交番等), or his station's 地域課.

    None for other units (刑事課, HQ): they ask for data, they do not hold it.
    """
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return None
    assignments = officer.current_assignments()
    for a in assignments:
        if a.post is not None and a.role in POST_ROLES:
            return a.post.station, a.post
    for a in assignments:
        if a.post_id is None and a.station is not None and a.role in STATION_WIDE_ROLES:
            return a.station, None
    return None


def may_handle(officer: Officer, station_id: int, post_id: int | None) -> bool:
    """Verify a caller and release card data for a unit: those who hold its cards.

    A post's entries: its own officers and the 地域課長 (as for writing its cards). The 地域課's
    entries: the station-wide roles.
    """
    if post_id is not None:
        return can_write_post(officer, post_id)
    return any(
        a.role in STATION_WIDE_ROLES and a.post_id is None and a.station_id == station_id
        for a in officer.current_assignments()
    )


def may_handle_agency_request(officer: Officer, entry: AgencyRequest) -> bool:
    """Attach the written request to, and release data for, an agency request: those who hold
    the unit's cards (`may_handle`) and its 管理責任者, who decides on it."""
    return may_handle(officer, entry.station_id, entry.post_id) or is_disclosure_manager(
        officer, entry.station_id, entry.post_id
    )


def is_disclosure_manager(officer: Officer, station_id: int, post_id: int | None) -> bool:
    """管理責任者 of the unit: the 地域課長, or at a 幹部交番 its 所長 (第5-2(2)ア)."""
    if is_section_chief(officer, station_id):
        return True
    return post_id is not None and any(
        a.role == Role.MANAGER and a.post_id == post_id for a in officer.current_assignments()
    )


# --- misuse signals ------------------------------------------------------------------


def _flag_reader_filter(officer: Officer) -> Q | None:
    """The 地域課長 and the 署長 see their station's flags; a 幹部交番's 所長 his post's."""
    stations = {
        a.station_id
        for a in officer.current_assignments()
        if a.role in (Role.MANAGER, Role.STATION_CHIEF)
        and a.post_id is None
        and a.station_id is not None
    }
    posts = {
        a.post_id
        for a in officer.current_assignments()
        if a.role == Role.MANAGER and a.post_id is not None
    }
    if not stations and not posts:
        return None
    return Q(station_id__in=stations) | Q(post_id__in=posts)


def may_see_misuse_flags(officer: Officer) -> bool:
    return _flag_reader_filter(officer) is not None


def misuse_flags_visible_to(officer: Officer) -> QuerySet[MisuseFlag]:
    readers = _flag_reader_filter(officer)
    if readers is None:
        return MisuseFlag.objects.none()
    return MisuseFlag.objects.filter(readers)


def access_misuse_flag(officer: Officer, misuse_flag_id: int) -> MisuseFlag:
    """A flag for its manager: 404 out of scope; 403 for others in scope (it names an officer
    and the audit events behind it). The read of those events is recorded."""
    from junkai.org.actions import PermissionDeniedError

    in_scope = _unit_scope(officer)
    flag = (
        MisuseFlag.objects.filter(in_scope, id=misuse_flag_id)
        .select_related("officer", "station", "post", "reviewed_by")
        .first()
        if in_scope is not None
        else None
    )
    if flag is None:
        raise _deny(officer, "disclosures.misuseflag", misuse_flag_id)
    if not misuse_flags_visible_to(officer).filter(id=flag.id).exists():
        _deny(officer, "disclosures.misuseflag", misuse_flag_id)
        raise PermissionDeniedError("不適正利用の兆候は管理責任者と警察署長のみが確認できます")
    record(
        EventType.READ_AUDIT_LOG,
        actor=officer,
        obj=flag,
        station_id=flag.station_id,
        purpose="不適正利用の兆候の確認",
    )
    return flag


def may_review_flag(officer: Officer, flag: MisuseFlag) -> bool:
    """The manager reviews; a flag about the manager himself goes to the 署長 alone."""
    if flag.officer_id == officer.id:
        return False
    return misuse_flags_visible_to(officer).filter(id=flag.id).exists()


# --- registers: binders, the checkout register, keys, inspections (第5-3) ------------


def binders_visible_to(officer: Officer | Any) -> QuerySet[Binder]:
    where = _register_scope(officer)
    return Binder.objects.none() if where is None else Binder.objects.filter(where)


def checkouts_visible_to(officer: Officer | Any) -> QuerySet[BinderCheckout]:
    where = _register_scope(officer)
    return BinderCheckout.objects.none() if where is None else BinderCheckout.objects.filter(where)


def inspections_visible_to(officer: Officer | Any) -> QuerySet[Inspection]:
    where = _register_scope(officer)
    return Inspection.objects.none() if where is None else Inspection.objects.filter(where)


def access_binders(officer: Officer, binder_ids: list[int]) -> list[Binder]:
    """Binders named by id, in the order given; 404 alike if any is absent or out of scope."""
    wanted = list(dict.fromkeys(binder_ids))
    found = {b.id: b for b in binders_visible_to(officer).filter(id__in=wanted)}
    for binder_id in wanted:
        if binder_id not in found:
            raise _deny(officer, "registers.binder", binder_id)
    return [found[i] for i in wanted]


def record_register_read(
    officer: Officer, *, post: Post | None, purpose: str, obj: Any = None
) -> None:
    """The registers name officers, binders and their movements: each view of one is logged."""
    record(
        EventType.READ_REGISTER,
        actor=officer,
        obj=obj if obj is not None else post,
        object_type="" if obj is not None or post is not None else "scope",
        station_id=post.station_id if post is not None else None,
        purpose=purpose,
    )


def access_register_post(
    officer: Officer, post_id: int, *, purpose: str, record_read: bool = True
) -> Post:
    """A post whose registers (binders, 持出確認簿, key, inspections) the officer may see."""
    post = posts_visible_to(officer).select_related("station").filter(id=post_id).first()
    if post is None:
        raise _deny(officer, "org.post", post_id)
    if record_read:
        record_register_read(officer, post=post, purpose=purpose)
    return post


def access_checkout(officer: Officer, checkout_id: int) -> BinderCheckout:
    """An entry of the 持出確認簿 of a post in the officer's scope; 404 otherwise."""
    checkout = (
        checkouts_visible_to(officer)
        .select_related("post", "post__station", "borrower")
        .filter(id=checkout_id)
        .first()
    )
    if checkout is None:
        raise _deny(officer, "registers.bindercheckout", checkout_id)
    return checkout


def access_inspection(
    officer: Officer, inspection_id: int, *, record_read: bool = True
) -> Inspection:
    """An inspection of a post in the officer's scope; 404 otherwise. The view is recorded."""
    inspection = (
        inspections_visible_to(officer)
        .select_related("post", "post__station", "inspector", "closed_by")
        .filter(id=inspection_id)
        .first()
    )
    if inspection is None:
        raise _deny(officer, "registers.inspection", inspection_id)
    if record_read:
        record_register_read(officer, post=inspection.post, purpose="巡視・点検", obj=inspection)
    return inspection


# --- who is who at a post (no personal data: names and roles) -------------------------------


def managers_of(post: Post) -> QuerySet[Officer]:
    """The post's 管理責任者 today: the 地域課長, or at a 幹部交番 its 所長 (第5-2(2)ア)."""
    if post.kind == PostKind.KANBU_KOBAN:
        where = Q(post=post)
    else:
        where = Q(station_id=post.station_id, post__isnull=True)
    current = Assignment.objects.current().filter(where, role=Role.MANAGER)
    return Officer.objects.filter(id__in=current.values("officer_id"), is_active=True)


def custodians_of(post: Post) -> QuerySet[Officer]:
    """The post's 取扱責任者 today."""
    current = Assignment.objects.current().filter(post=post, role=Role.CUSTODIAN)
    return Officer.objects.filter(id__in=current.values("officer_id"), is_active=True)


def is_custodian(officer: Officer, post_id: int) -> bool:
    return any(
        a.role == Role.CUSTODIAN and a.post_id == post_id for a in officer.current_assignments()
    )


def is_post_manager(officer: Officer, post_id: int) -> bool:
    return managed_posts(officer).filter(id=post_id).exists()


def serves_at_post(officer: Officer, post_id: int) -> bool:
    """Assigned today at the post itself (any post-level role)."""
    return any(a.post_id == post_id for a in officer.current_assignments())


def may_confirm_checkout(officer: Officer, post: Post) -> bool:
    """持出確認者・返却確認者 (第5-3(3)ウ): an officer of the post, its custodian or manager.

    Whether he is the borrower himself is the action's question, not this one's.
    """
    return serves_at_post(officer, post.id) or is_post_manager(officer, post.id)


def keeps_post(officer: Officer, post: Post) -> bool:
    """Registers a post's cabinets and binders: its custodian, its 交番所長, its manager."""
    return (
        is_custodian(officer, post.id)
        or is_koban_head(officer, post.id)
        or is_post_manager(officer, post.id)
    )


def may_inspect(officer: Officer, post: Post) -> bool:
    """巡視・点検: an inspector (地域課長代理 of the station, 交番所長 of the post) or the manager."""
    return any(
        a.role == Role.INSPECTOR
        and ((a.post_id is None and a.station_id == post.station_id) or a.post_id == post.id)
        for a in officer.current_assignments()
    ) or is_post_manager(officer, post.id)


def _deputies_on(post: Post, day: dt.date) -> QuerySet[KeyDeputy]:
    """The key deputies the manager designated for the post, valid on `day`."""
    return KeyDeputy.objects.filter(post=post, valid_from__lte=day).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day)
    )


def may_hold_key(officer: Officer, post: Post, day: dt.date | None = None) -> bool:
    """The key is held by the custodian, or by the deputy the manager designated (第5-3(4))."""
    day = day or today()
    if (
        Assignment.objects.valid_on(day)
        .filter(officer=officer, post=post, role=Role.CUSTODIAN)
        .exists()
    ):
        return True
    return _deputies_on(post, day).filter(officer=officer).exists()


def alert_posts(officer: Officer | Any) -> QuerySet[Post]:
    """Posts whose overdue checkouts are the officer's to chase: as custodian or manager."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return Post.objects.none()
    custodian_of = [
        a.post_id
        for a in officer.current_assignments()
        if a.role == Role.CUSTODIAN and a.post_id is not None
    ]
    return Post.objects.filter(Q(id__in=custodian_of) | Q(id__in=managed_posts(officer)))


def review_watch_posts(officer: Officer | Any) -> QuerySet[Post]:
    """Posts whose unsigned months show as overdue to the officer: the manager and the chief."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return Post.objects.none()
    chief_of = [
        a.station_id
        for a in officer.current_assignments()
        if a.role == Role.STATION_CHIEF and a.station_id is not None
    ]
    return Post.objects.filter(Q(station_id__in=chief_of) | Q(id__in=managed_posts(officer)))


def eligible_key_holders(post: Post, day: dt.date | None = None) -> QuerySet[Officer]:
    """Who may receive the key on `day`: the custodian and the designated deputies."""
    day = day or today()
    custodians = Assignment.objects.valid_on(day).filter(post=post, role=Role.CUSTODIAN)
    deputies = _deputies_on(post, day)
    return Officer.objects.filter(
        Q(id__in=custodians.values("officer_id")) | Q(id__in=deputies.values("officer_id")),
        is_active=True,
    )


# --- administration of the organisation (who may change assignments) -------------------


def _administered_station_ids(officer: Officer | Any) -> set[int]:
    if not getattr(officer, "is_authenticated", False):
        return set()
    return {
        a.station_id
        for a in officer.current_assignments()
        if a.role in (Role.STATION_CHIEF, Role.MANAGER)
        and a.post_id is None
        and a.station_id is not None
    }


def administered_stations(officer: Officer | Any) -> QuerySet[Station]:
    """Stations whose organisation the officer keeps current: its chief and 地域課長."""
    return Station.objects.filter(id__in=_administered_station_ids(officer))


def administers_a_station(officer: Officer | Any) -> bool:
    """Whether `administered_stations` has any, from the assignments already loaded: the nav
    asks on every page, and this costs it no query."""
    return bool(_administered_station_ids(officer))


def is_station_chief(officer: Officer, station: Station) -> bool:
    return any(
        a.role == Role.STATION_CHIEF and a.station_id == station.id
        for a in officer.current_assignments()
    )


def managed_posts(officer: Officer) -> QuerySet[Post]:
    """Posts whose 管理責任者 the officer is (第5-2(2)ア): the 地域課長 for his station's posts
    except its 幹部交番, whose own 所長 is their 管理責任者."""
    station_ids = _section_chief_stations(officer)
    post_ids = {
        a.post_id
        for a in officer.current_assignments()
        if a.role == Role.MANAGER and a.post_id is not None
    }
    return Post.objects.filter(
        Q(station_id__in=station_ids, kind__in=[k for k in PostKind if k != PostKind.KANBU_KOBAN])
        | Q(id__in=post_ids)
    )


def access_managed_post(officer: Officer, post_id: int) -> Post:
    """A post of which the officer is the 管理責任者; 404 otherwise."""
    post = managed_posts(officer).select_related("station").filter(id=post_id).first()
    if post is None:
        raise _deny(officer, "org.post", post_id)
    return post


def _deny(officer: Officer | Any, object_type: str, object_id: object) -> Http404:
    record(
        EventType.ACCESS_DENIED,
        actor=officer if getattr(officer, "is_authenticated", False) else None,
        object_type=object_type,
        object_id=str(object_id)[:64],
    )
    return Http404("見つかりません")


def access_station_admin(officer: Officer, station_id: int) -> Station:
    """A station whose organisation pages the officer may see and change; 404 otherwise."""
    station = administered_stations(officer).filter(id=station_id).first()
    if station is None:
        raise _deny(officer, "org.station", station_id)
    return station


def access_post_admin(officer: Officer, post_id: int) -> Post:
    post = (
        Post.objects.filter(station__in=administered_stations(officer), id=post_id)
        .select_related("station")
        .first()
    )
    if post is None:
        raise _deny(officer, "org.post", post_id)
    return post


def access_assignment_admin(officer: Officer, assignment_id: int) -> Assignment:
    assignment = (
        Assignment.objects.filter(station__in=administered_stations(officer), id=assignment_id)
        .select_related("officer", "station", "post")
        .first()
    )
    if assignment is None:
        raise _deny(officer, "org.assignment", assignment_id)
    return assignment


def officers_of_station(station: Station) -> QuerySet[Officer]:
    """Officers with an assignment valid today at the station or one of its posts."""
    current = Assignment.objects.current().filter(Q(station=station) | Q(post__station=station))
    return Officer.objects.filter(id__in=current.values("officer_id"))


def access_officer_record(viewer: Officer, officer_id: int) -> Officer:
    """An officer's own record (職員番号, 警察電話番号): for the station that administers him.

    The read is audited: officers' own data is personal data too.
    """
    # Only officers serving there today: not those who left, nor those merely announced.
    current = Assignment.objects.current().filter(
        Q(station__in=administered_stations(viewer))
        | Q(post__station__in=administered_stations(viewer))
    )
    target = Officer.objects.filter(id=officer_id, id__in=current.values("officer_id")).first()
    if target is None:
        raise _deny(viewer, "org.officer", officer_id)
    record(EventType.READ_OFFICER, actor=viewer, obj=target)
    return target


# --- progress dashboards (第3-3 進捗状況の把握, 第3-4 点検) --------------------------------


def dashboard_stations(officer: Officer | Any) -> QuerySet[Station]:
    """Stations whose progress the officer follows: their chief, 地域課長 and 地域課長代理."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return Station.objects.none()
    ids = {
        a.station_id
        for a in officer.current_assignments()
        if a.role in STATION_WIDE_ROLES and a.post_id is None and a.station_id is not None
    }
    return Station.objects.filter(id__in=ids)


def dashboard_posts(officer: Officer | Any) -> QuerySet[Post]:
    """Posts whose progress the officer follows: his stations' posts, and the post of a
    交番所長 or 幹部交番所長 (INSPECTOR or MANAGER assigned at the post)."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return Post.objects.none()
    heads = _koban_head_posts(officer)
    return Post.objects.filter(Q(station__in=dashboard_stations(officer)) | Q(id__in=heads))


def _dashboard_denied(
    officer: Officer, object_type: str, object_id: int, station_id: int | None, post_id: int | None
) -> Exception:
    """404 for a unit outside the officer's scope; 403 for one he serves in without a role
    that reads its progress (a beat officer asking for his station's dashboard)."""
    from junkai.org.actions import PermissionDeniedError

    denial = _deny(officer, object_type, object_id)
    scope = scope_of(officer)
    in_scope = (station_id is not None and station_id in scope.station_ids) or (
        post_id is not None and post_id in scope.post_ids
    )
    if not in_scope and station_id is not None and post_id is None:
        in_scope = Post.objects.filter(station_id=station_id, id__in=scope.post_ids).exists()
    if in_scope:
        return PermissionDeniedError(
            "進捗状況は署長・地域課長・地域課長代理（交番等は交番所長も）が閲覧できます"
        )
    return denial


def record_dashboard_read(
    officer: Officer, *, obj: Any, station_id: int | None, purpose: str = "進捗状況の閲覧"
) -> None:
    """Dashboards name officers and count their work: each view of one is on the record."""
    record(
        EventType.READ_DASHBOARD,
        actor=officer,
        obj=obj,
        object_type="" if obj is not None else "prefecture",
        station_id=station_id,
        purpose=purpose,
    )


def access_hq_dashboard(
    officer: Officer,
    *,
    purpose: str = "全署の進捗状況",
    refusal: str = "全署の進捗状況は本部地域課が閲覧できます",
) -> None:
    """Every station side by side, in aggregate only: 本部地域課 (and a superuser); 403 with
    `refusal` for anyone else. The view is recorded like a station's."""
    from junkai.org.actions import PermissionDeniedError

    if not is_hq(officer):
        raise PermissionDeniedError(refusal)
    record_dashboard_read(officer, obj=None, station_id=None, purpose=purpose)


def access_dashboard_station(
    officer: Officer, station_id: int, *, purpose: str = "進捗状況の閲覧", record_read: bool = True
) -> Station:
    """A station's dashboard: its chief, 地域課長 and 地域課長代理; 404/403 for others."""
    station = dashboard_stations(officer).filter(id=station_id).first()
    if station is None:
        raise _dashboard_denied(officer, "org.station", station_id, station_id, None)
    if record_read:
        record_dashboard_read(officer, obj=station, station_id=station.id, purpose=purpose)
    return station


def access_dashboard_post(
    officer: Officer, post_id: int, *, purpose: str = "進捗状況の閲覧", record_read: bool = True
) -> Post:
    """A post's dashboard: the station's readers and the post's own 所長."""
    post = dashboard_posts(officer).select_related("station").filter(id=post_id).first()
    if post is None:
        found = Post.objects.filter(id=post_id).values_list("station_id", flat=True).first()
        raise _dashboard_denied(officer, "org.post", post_id, found, post_id)
    if record_read:
        record_dashboard_read(officer, obj=post, station_id=post.station_id, purpose=purpose)
    return post


def access_dashboard_beat(
    officer: Officer, beat_id: int, *, purpose: str = "進捗状況の閲覧", record_read: bool = True
) -> Beat:
    beat = (
        Beat.objects.filter(post__in=dashboard_posts(officer), id=beat_id)
        .select_related("post", "post__station")
        .first()
    )
    if beat is None:
        found = Beat.objects.filter(id=beat_id).values_list("post_id", "post__station_id").first()
        post_id, station_id = found if found else (None, None)
        raise _dashboard_denied(officer, "org.beat", beat_id, station_id, post_id)
    if record_read:
        record_dashboard_read(officer, obj=beat, station_id=beat.post.station_id, purpose=purpose)
    return beat


# --- declaring each view's rule --------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])

#: The rules a view may declare; the URL walk test knows what each one allows.
RULES = {
    "public": "誰でも（サインイン前の画面）",
    "signed_in": "サインインした職員（本人の情報のみ）",
    "station_admin": "署長・地域課長（所属署の組織管理）",
    "post_manager": "管理責任者（地域課長・幹部交番所長）の所管する交番等",
    "scoped": "access.py の関数で範囲を確かめる個人情報の画面",
    "superuser": "システム管理者のみ",
    "dashboard": "進捗状況（署長・地域課長・代理、交番所長は所属の交番等、本部は署単位の集計）",
}


def declare_access(rule: str) -> Callable[[F], F]:
    if rule not in RULES:
        raise ValueError(f"unknown access rule {rule!r}")

    def mark(view: F) -> F:
        view.junkai_access = rule  # type: ignore[attr-defined]
        return view

    return mark
