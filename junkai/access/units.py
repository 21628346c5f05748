"""Funnels for the organisation's units: beats and their maps, the station's and posts'
administration, dashboards and registers of a post. 404 alike for absent and out of scope; the
read of anything that names people is recorded."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from junkai.access.records import deny
from junkai.access.roles import (
    administered_stations,
    beats_visible_to,
    dashboard_posts,
    dashboard_stations,
    data_use_stations,
    is_hq,
    managed_posts,
    may_edit_beat_outline,
    outline_editable_posts,
    posts_visible_to,
    scope_of,
)
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.lib.errors import PermissionDeniedError
from junkai.org.models import Assignment, Beat, Officer, Post, Station


def access_beat(officer: Officer, beat_id: int) -> Beat:
    beat = (
        beats_visible_to(officer).select_related("post", "post__station").filter(id=beat_id).first()
    )
    if beat is None:
        raise deny(officer, "org.beat", beat_id)
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


def access_outline_beats(officer: Officer) -> list[Beat]:
    """The beats whose outlines the officer sets (for the bulk import); 404 when none."""
    beats = list(
        Beat.objects.filter(post__in=outline_editable_posts(officer))
        .select_related("post")
        .order_by("post__code", "code")
    )
    if not beats:
        raise deny(officer, "org.beat", "outlines")
    return beats


def access_beat_for_outline(officer: Officer, beat_id: int) -> Beat:
    """A beat whose outline the officer may set: 404 out of scope, 403 in scope but not its
    manager. The editing page shows the households as reference: a recorded map read."""

    beat = access_beat(officer, beat_id)
    if not may_edit_beat_outline(officer, beat):
        deny(officer, "org.beat", beat_id)
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


def access_data_use_station(officer: Officer, station_id: int) -> Station:
    """One of `data_use_stations`; 404 otherwise."""
    station = data_use_stations(officer).filter(id=station_id).first()
    if station is None:
        raise deny(officer, "org.station", station_id)
    return station


def access_managed_officer(viewer: Officer, officer_id: int) -> Officer:
    """An officer serving today at a post whose 管理責任者 the viewer is (専従日); 404 otherwise.

    Only the officer's name and post are shown: nothing personal, so no read is recorded.
    """
    current = Assignment.objects.current().filter(post__in=managed_posts(viewer))
    officer = Officer.objects.filter(id=officer_id, id__in=current.values("officer_id")).first()
    if officer is None:
        raise deny(viewer, "org.officer", officer_id)
    return officer


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
        raise deny(officer, "org.post", post_id)
    if record_read:
        record_register_read(officer, post=post, purpose=purpose)
    return post


def access_managed_post(officer: Officer, post_id: int) -> Post:
    """A post of which the officer is the 管理責任者; 404 otherwise."""
    post = managed_posts(officer).select_related("station").filter(id=post_id).first()
    if post is None:
        raise deny(officer, "org.post", post_id)
    return post


def access_station_admin(officer: Officer, station_id: int) -> Station:
    """A station whose organisation pages the officer may see and change; 404 otherwise."""
    station = administered_stations(officer).filter(id=station_id).first()
    if station is None:
        raise deny(officer, "org.station", station_id)
    return station


def access_post_admin(officer: Officer, post_id: int) -> Post:
    post = (
        Post.objects.filter(station__in=administered_stations(officer), id=post_id)
        .select_related("station")
        .first()
    )
    if post is None:
        raise deny(officer, "org.post", post_id)
    return post


def access_assignment_admin(officer: Officer, assignment_id: int) -> Assignment:
    assignment = (
        Assignment.objects.filter(station__in=administered_stations(officer), id=assignment_id)
        .select_related("officer", "station", "post")
        .first()
    )
    if assignment is None:
        raise deny(officer, "org.assignment", assignment_id)
    return assignment


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
        raise deny(viewer, "org.officer", officer_id)
    record(EventType.READ_OFFICER, actor=viewer, obj=target)
    return target


def _dashboard_denied(
    officer: Officer, object_type: str, object_id: int, station_id: int | None, post_id: int | None
) -> Exception:
    """404 for a unit outside the officer's scope; 403 for one he serves in without a role
    that reads its progress (a beat officer asking for his station's dashboard)."""

    denial = deny(officer, object_type, object_id)
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
