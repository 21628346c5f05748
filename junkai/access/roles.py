"""Who holds which role where, today: the predicates the actions and pages ask.

Role predicates read only the organisation (assignments, posts, stations, key deputies), so every
app may ask them and the organisation app itself (its actions) stands on them without reaching up.
Scopes of personal data follow the assignments valid today (DESIGN.md, 要領 第5-2):

    受持警察官等 BEAT_OFFICER   the beats of their own post
    取扱責任者   CUSTODIAN      their post
    交番所長      INSPECTOR@post  their post
    地域課長代理  INSPECTOR@station  their station (read)
    管理責任者   MANAGER@station  their station;  MANAGER@幹部交番: that post
    署長         STATION_CHIEF  their station
    STAFF, HQ                   nothing directly (only what a 利用確認簿 entry released)

The funnels that read personal data with these scopes (404 alike, the read recorded) live in
`junkai/access/` (organisation units) and in each app's `access.py`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import Q, QuerySet

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


class HeldByUnit(Protocol):
    """Anything kept by a station and perhaps a post (a household, an entry of a register)."""

    @property
    def station_id(self) -> int: ...
    @property
    def post_id(self) -> int | None: ...


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


def own_beat_ids(officer: Officer) -> set[int]:
    """The beats an officer walks today (受持区), from the assignments already loaded."""
    return {b.id for a in officer.current_assignments() for b in a.beats.all()}


def own_beats(officer: Officer) -> QuerySet[Beat]:
    """The beats an officer is assigned to walk (受持区), for work lists — not a scope."""
    return Beat.objects.filter(id__in=own_beat_ids(officer))


def section_chief_stations(officer: Officer) -> set[int]:
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
    return Post.objects.filter(
        Q(id__in=_own_post_ids(officer)) | Q(station_id__in=section_chief_stations(officer))
    )


def _own_post_ids(officer: Officer) -> set[int]:
    return {
        a.post_id
        for a in officer.current_assignments()
        if a.post_id is not None and a.role in POST_ROLES
    }


def can_write_post(officer: Officer, post_id: int) -> bool:
    # His own post is known from the assignments already loaded: no query on the hot path.
    if (
        getattr(officer, "is_authenticated", False)
        and officer.is_active
        and post_id in _own_post_ids(officer)
    ):
        return True
    return posts_writable_by(officer).filter(id=post_id).exists()


def unit_scope(officer: Officer | Any) -> Q | None:
    """Rows kept by a station or a post (station_id, post_id) in the officer's scope; None
    when he has none."""
    scope = scope_of(officer)
    if scope.empty:
        return None
    return Q(station_id__in=scope.station_ids) | Q(post_id__in=scope.post_ids)


def register_scope(officer: Officer | Any) -> Q | None:
    """Rows whose post falls in the officer's scope; None when he has none."""
    scope = scope_of(officer)
    if scope.empty:
        return None
    return Q(post__station_id__in=scope.station_ids) | Q(post_id__in=scope.post_ids)


def outline_editable_posts(officer: Officer | Any) -> QuerySet[Post]:
    """Posts whose beat outlines the officer may set: the 管理責任者 of the post (managed_posts)
    and the station's 地域課長 for every post of his station, 幹部交番 included."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return Post.objects.none()
    return Post.objects.filter(
        Q(id__in=managed_posts(officer).values("id"))
        | Q(station_id__in=section_chief_stations(officer))
    )


def may_edit_beat_outline(officer: Officer | Any, beat: Beat) -> bool:
    return outline_editable_posts(officer).filter(id=beat.post_id).exists()


def data_use_stations(officer: Officer | Any) -> QuerySet[Station]:
    """Stations whose 利用確認簿 (第7号様式) the officer reads: his station, or his post's
    station — of which he then sees his post's entries only (`data_uses_visible_to`)."""
    scope = scope_of(officer)
    if scope.empty:
        return Station.objects.none()
    return Station.objects.filter(
        Q(id__in=scope.station_ids) | Q(posts__id__in=scope.post_ids)
    ).distinct()


def may_view_access_log(officer: Officer, household: HeldByUnit) -> bool:
    """A household's access log is for its 管理責任者 and the station chief only."""
    return any(
        a.role in (Role.MANAGER, Role.STATION_CHIEF)
        and (
            (a.post_id is None and a.station_id == household.station_id)
            or a.post_id == household.post_id
        )
        for a in officer.current_assignments()
    )


def may_account_disclosures(officer: Officer, household: HeldByUnit) -> bool:
    """Who hands a resident the list of every release of his household's data (the disclosure
    accounting): whoever keeps its 閲覧記録 — its 管理責任者 (地域課長; at a 幹部交番 its 所長)
    and the 署長 (統括管理責任者), who answer for the cards (要領 第5-2 (1)(2))."""
    return may_view_access_log(officer, household)


def is_section_chief(officer: Officer, station_id: int) -> bool:
    """警察署地域課長 (the station's 管理責任者): approves night visits, receives reports."""
    return station_id in section_chief_stations(officer)


def koban_head_posts(officer: Officer) -> set[int]:
    """Posts whose 交番所長 the officer is: an INSPECTOR assigned at the post, or a 幹部交番's
    所長 (its MANAGER)."""
    return {
        a.post_id
        for a in officer.current_assignments()
        if a.role in (Role.INSPECTOR, Role.MANAGER) and a.post_id is not None
    }


def is_koban_head(officer: Officer, post_id: int) -> bool:
    """交番所長 of the post: an INSPECTOR assigned at it, or a 幹部交番's 所長 (its MANAGER)."""
    return post_id in koban_head_posts(officer)


def is_hq(officer: Officer) -> bool:
    """本部地域課 (or a superuser): sets the prefecture's schedule policy."""
    return officer.is_superuser or any(a.role == Role.HQ for a in officer.current_assignments())


def report_recipient_units(officer: Officer) -> Scope:
    """The units whose reports come to the officer's inbox (拒否の報告, 見聞情報, 夜間実施):
    stations where he is 地域課長, posts where he is 交番所長. Empty for everyone else."""
    return Scope(frozenset(section_chief_stations(officer)), frozenset(koban_head_posts(officer)))


def receives_reports(officer: Officer | Any) -> bool:
    """Whether `report_recipient_units` has any: the navigation's 報告・承認 link asks this."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return False
    return not report_recipient_units(officer).empty


def follows_progress(officer: Officer | Any) -> bool:
    """Whether any dashboard is the officer's (`dashboard_stations`, `dashboard_posts`, HQ), from
    the assignments already loaded: the navigation asks on every page."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return False
    return (
        is_hq(officer)
        or bool(koban_head_posts(officer))
        or any(
            a.role in STATION_WIDE_ROLES and a.post_id is None and a.station_id is not None
            for a in officer.current_assignments()
        )
    )


def manages_a_post(officer: Officer | Any) -> bool:
    """Whether the officer is a 管理責任者 (`managed_posts`), from the loaded assignments."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return False
    return any(a.role == Role.MANAGER for a in officer.current_assignments())


def reports_addressed_to(units: Scope) -> Q:
    """Refusal reports and night-visit requests for `units` to act on: every one of a
    地域課長's station; at a 交番所長's post, those that need him (交番勤務員 の分)."""
    return Q(station_id__in=units.station_ids) | Q(
        post_id__in=units.post_ids, needs_koban_head=True
    )


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


def is_disclosure_manager(officer: Officer, station_id: int, post_id: int | None) -> bool:
    """管理責任者 of the unit: the 地域課長, or at a 幹部交番 its 所長 (第5-2(2)ア)."""
    if is_section_chief(officer, station_id):
        return True
    return post_id is not None and any(
        a.role == Role.MANAGER and a.post_id == post_id for a in officer.current_assignments()
    )


# --- misuse signals ------------------------------------------------------------------


def flag_reader_filter(officer: Officer) -> Q | None:
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
    return flag_reader_filter(officer) is not None


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


def section_chiefs_of(station: Station) -> QuerySet[Officer]:
    """The station's 地域課長 today (MANAGER at the station, no post)."""
    current = Assignment.objects.current().filter(
        station=station, post__isnull=True, role=Role.MANAGER
    )
    return Officer.objects.filter(id__in=current.values("officer_id"), is_active=True)


def station_chiefs_of(station: Station) -> QuerySet[Officer]:
    """The station's 署長 (統括管理責任者) today."""
    current = Assignment.objects.current().filter(station=station, role=Role.STATION_CHIEF)
    return Officer.objects.filter(id__in=current.values("officer_id"), is_active=True)


def hq_officers() -> QuerySet[Officer]:
    """本部地域課 today."""
    current = Assignment.objects.current().filter(role=Role.HQ)
    return Officer.objects.filter(id__in=current.values("officer_id"), is_active=True)


def loss_report_units(officer: Officer | Any) -> tuple[Scope, bool]:
    """Whose 亡失・盗難の報告 reach the officer to act on: the stations where he is 署長 or
    地域課長, the posts where he is 取扱責任者 or 交番所長 (幹部交番所長), and every station for HQ
    (the bool). From the assignments already loaded."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return Scope(), False
    stations = {
        a.station_id
        for a in officer.current_assignments()
        if a.role in (Role.STATION_CHIEF, Role.MANAGER)
        and a.post_id is None
        and a.station_id is not None
    }
    posts = {
        a.post_id
        for a in officer.current_assignments()
        if a.role in (Role.CUSTODIAN, Role.INSPECTOR, Role.MANAGER) and a.post_id is not None
    }
    return Scope(frozenset(stations), frozenset(posts)), is_hq(officer)


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


#: Who stands above whom when credentials are reissued: only someone higher resets them.
_CREDENTIAL_RANK = {Role.STATION_CHIEF: 3, Role.MANAGER: 2, Role.HQ: 3}


def credentials_reset_refusal(viewer: Officer, target: Officer) -> str | None:
    """Why the viewer may not reissue the target's password or reset his second factor (None:
    he may). Within the station he administers (the caller's funnel), and only for someone below
    him: a 地域課長 for the 代理・所長 and officers, the 署長 also for the 地域課長; the 署長's
    own, HQ's and an administrator's only by the system administrator. Otherwise a manager
    could take over the account of the one who supervises him."""
    if viewer.id == target.id:
        return "ご自身のパスワードはアカウントの画面で変更します"
    if target.is_superuser:
        return "システム管理者の認証情報は変更できません"
    if viewer.is_superuser:
        return None
    highest = max(
        (_CREDENTIAL_RANK.get(Role(a.role), 1) for a in target.current_assignments()), default=1
    )
    mine = max(
        (
            _CREDENTIAL_RANK.get(Role(a.role), 1)
            for a in viewer.current_assignments()
            if a.station_id in _administered_station_ids(viewer)
        ),
        default=0,
    )
    if mine <= highest:
        return "この職員のパスワードの再発行・二要素認証の再登録は、上位の責任者（署長の場合はシステム管理者）が行います"
    return None


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
    station_ids = section_chief_stations(officer)
    post_ids = {
        a.post_id
        for a in officer.current_assignments()
        if a.role == Role.MANAGER and a.post_id is not None
    }
    return Post.objects.filter(
        Q(station_id__in=station_ids, kind__in=[k for k in PostKind if k != PostKind.KANBU_KOBAN])
        | Q(id__in=post_ids)
    )


def officers_of_station(station: Station) -> QuerySet[Officer]:
    """Officers with an assignment valid today at the station or one of its posts."""
    current = Assignment.objects.current().filter(Q(station=station) | Q(post__station=station))
    return Officer.objects.filter(id__in=current.values("officer_id"))


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
    heads = koban_head_posts(officer)
    return Post.objects.filter(Q(station__in=dashboard_stations(officer)) | Q(id__in=heads))
