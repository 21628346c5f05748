"""Every change to the organisation: one function each, audited in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from junkai.access.roles import (
    administered_stations,
    is_station_chief,
    managed_posts,
    outline_editable_posts,
)
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.lib import geometry
from junkai.lib.errors import PermissionDeniedError
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


def _system(acting_officer: Officer | None) -> bool:
    """No acting officer means the command line (an administrator of the server); a superuser
    acts through the Django admin. Both stand outside the station hierarchy."""
    return acting_officer is None or acting_officer.is_superuser


def _station_of(*, station: Station | None, post: Post | None) -> Station | None:
    return post.station if post is not None else station


def _require_admin(acting_officer: Officer | None, station: Station) -> None:
    if (
        acting_officer is not None
        and not administered_stations(acting_officer).filter(id=station.id).exists()
    ):
        raise PermissionDeniedError("この警察署の配置を変更する権限がありません")


def _end_before(
    assignment: Assignment, day: dt.date, *, acting_officer: Officer | None, by: str
) -> None:
    """End an assignment the day before `day`; one that would not have started by then is
    cancelled (it never takes effect, not even today)."""
    if assignment.valid_from >= day:
        assignment.valid_to = assignment.valid_from
        assignment.cancelled = True
    else:
        assignment.valid_to = day - dt.timedelta(days=1)
    assignment.save(update_fields=["valid_to", "cancelled"])
    record(
        EventType.ASSIGNMENT_ENDED,
        actor=acting_officer,
        obj=assignment,
        station_id=assignment.station_id,
        details={"officer": assignment.officer_id, "valid_to": assignment.valid_to, "by": by},
    )


@transaction.atomic
def do_end_sessions(officer: Officer, *, acting_officer: Officer | None, reason: str) -> None:
    """End every session and API token of the officer (his session hash changes)."""
    Officer.objects.filter(id=officer.id).update(session_generation=F("session_generation") + 1)
    officer.refresh_from_db(fields=["session_generation"])
    record(
        EventType.SESSIONS_ENDED,
        actor=acting_officer,
        obj=officer,
        details={"reason": reason},
    )


@transaction.atomic
def do_assign(
    officer: Officer,
    *,
    acting_officer: Officer | None,
    role: Role | str,
    station: Station | None = None,
    post: Post | None = None,
    beats: Iterable[Beat] = (),
    unit_name: str = "",
    valid_from: dt.date | None = None,
    end_current: bool = True,
) -> Assignment:
    """配置: put an officer in a role at a unit (a transfer when `end_current`).

    A transfer ends the officer's other assignments the day before the new one starts, and
    ends his sessions at once: scope follows the assignment valid today.
    """
    role = Role(role)
    valid_from = valid_from or today()
    station = _station_of(station=station, post=post)
    beats = list(beats)
    if role in (Role.STAFF, Role.HQ):
        # Other units sit outside any station's organisation: only a superuser places them.
        if not _system(acting_officer):
            raise PermissionDeniedError("他部門・本部の配置はシステム管理者が行います")
    else:
        if station is None:
            raise ValidationError({"station": "警察署または交番等を指定してください"})
        if role == Role.STATION_CHIEF:
            if not _system(acting_officer):
                raise PermissionDeniedError("署長の配置はシステム管理者が行います")
        elif role == Role.MANAGER and post is None:
            if not (
                _system(acting_officer) or is_station_chief(acting_officer, station)  # type: ignore[arg-type]
            ):
                raise PermissionDeniedError("地域課長（管理責任者）の配置は署長が行います")
        elif role == Role.CUSTODIAN:
            raise ValidationError({"role": "取扱責任者は「取扱責任者の指定」から指定してください"})
        elif not _system(acting_officer):
            _require_admin(acting_officer, station)
    if role in (Role.CUSTODIAN, Role.BEAT_OFFICER) and post is None:
        raise ValidationError({"post": "交番等を指定してください"})
    if role == Role.MANAGER and post is not None and post.kind != PostKind.KANBU_KOBAN:
        raise ValidationError({"post": "交番等の管理責任者は幹部交番の所長に限られます"})
    if role == Role.STATION_CHIEF and post is not None:
        raise ValidationError({"post": "署長は警察署に配置します"})
    if post is None and beats:
        raise ValidationError({"beats": "受持区は交番等への配置でのみ指定できます"})
    for beat in beats:
        if post is None or beat.post_id != post.id:
            raise ValidationError({"beats": f"受持区「{beat.name}」は{post}の受持区ではありません"})
    if role != Role.BEAT_OFFICER and beats:
        raise ValidationError({"beats": "受持区は受持警察官等にのみ指定できます"})

    ended: list[int] = []
    if end_current and not _system(acting_officer):
        administered = set(administered_stations(acting_officer).values_list("id", flat=True))
        elsewhere = (
            Assignment.objects.valid_on(valid_from)
            .filter(officer=officer)
            .exclude(station_id__in=administered)
        )
        if elsewhere.exists():
            raise PermissionDeniedError(
                "他の所属に配置中の職員です。所属をまたぐ異動はシステム管理者（本部）が行います"
            )
    if end_current:
        for current in Assignment.objects.valid_on(valid_from).filter(officer=officer):
            _end_before(current, valid_from, acting_officer=acting_officer, by="transfer")
            ended.append(current.id)

    assignment = Assignment.objects.create(
        officer=officer,
        role=role,
        station=station,
        post=post,
        unit_name=unit_name,
        valid_from=valid_from,
    )
    if beats:
        assignment.beats.set(beats)
    record(
        EventType.ASSIGNMENT_CREATED,
        actor=acting_officer,
        obj=assignment,
        station_id=station.id if station else None,
        details={
            "officer": officer.id,
            "role": role.value,
            "post": post.id if post else None,
            "beats": [b.id for b in beats],
            "valid_from": valid_from,
            "ended": ended,
        },
    )
    if valid_from <= today():
        do_end_sessions(officer, acting_officer=acting_officer, reason="transfer")
    return assignment


@transaction.atomic
def do_end_assignment(
    assignment: Assignment, *, acting_officer: Officer | None, valid_to: dt.date | None = None
) -> Assignment:
    """配置終了: the assignment ends (yesterday by default, so today's scope loses it)."""
    if not _system(acting_officer) and (
        assignment.station is None
        or not administered_stations(acting_officer).filter(id=assignment.station.id).exists()
    ):
        raise PermissionDeniedError("この配置を終了する権限がありません")
    # Whoever may make an assignment may end it: the chief's own post only from outside the
    # station; custodians and the 地域課長 only by the chief (第5-2).
    if not _system(acting_officer):
        assert acting_officer is not None and assignment.station is not None
        chief = is_station_chief(acting_officer, assignment.station)
        if assignment.role == Role.STATION_CHIEF:
            raise PermissionDeniedError("署長の配置の終了はシステム管理者が行います")
        if assignment.role == Role.CUSTODIAN and not chief:
            raise PermissionDeniedError("取扱責任者の指定の終了は統括管理責任者（署長）が行います")
        if assignment.role == Role.MANAGER and assignment.post_id is None and not chief:
            raise PermissionDeniedError("地域課長（管理責任者）の配置の終了は署長が行います")
    valid_to = valid_to or today() - dt.timedelta(days=1)
    was_valid = assignment.is_valid_on(today())
    if assignment.cancelled or (
        assignment.valid_to is not None and assignment.valid_to <= valid_to
    ):
        raise ValidationError({"valid_to": "この配置はすでに終了しています"})
    if valid_to < assignment.valid_from - dt.timedelta(days=1):
        raise ValidationError({"valid_to": "終了日は開始日の前日以降の日付にしてください"})
    if valid_to < assignment.valid_from:
        # Ended the day before it began: it never takes effect.
        assignment.valid_to, assignment.cancelled = assignment.valid_from, True
    else:
        assignment.valid_to = valid_to
    assignment.save(update_fields=["valid_to", "cancelled"])
    record(
        EventType.ASSIGNMENT_ENDED,
        actor=acting_officer,
        obj=assignment,
        station_id=assignment.station_id,
        details={"officer": assignment.officer_id, "valid_to": valid_to, "by": "end"},
    )
    if was_valid and not assignment.is_valid_on(today()):
        do_end_sessions(
            assignment.officer, acting_officer=acting_officer, reason="assignment ended"
        )
    return assignment


@transaction.atomic
def do_designate_custodian(
    post: Post,
    officer: Officer,
    *,
    acting_officer: Officer | None,
    valid_from: dt.date | None = None,
) -> Assignment:
    """取扱責任者の指定 (第5-2(3)ア): by the station chief (統括管理責任者).

    At a 交番 the custodian is its 所長 by office, so the designee must head that 交番.
    The post's previous custodian's designation ends the day before.
    """
    if not (
        _system(acting_officer) or is_station_chief(acting_officer, post.station)  # type: ignore[arg-type]
    ):
        raise PermissionDeniedError("取扱責任者の指定は統括管理責任者（署長）が行います")
    valid_from = valid_from or today()
    if (
        post.kind == PostKind.KOBAN
        and not Assignment.objects.valid_on(valid_from)
        .filter(officer=officer, post=post, role=Role.INSPECTOR)
        .exists()
    ):
        raise ValidationError({"officer": "交番の取扱責任者は当該交番の所長です"})
    if (
        not Assignment.objects.valid_on(valid_from)
        .filter(officer=officer)
        .filter(post__station=post.station)
        .exists()
        and not Assignment.objects.valid_on(valid_from)
        .filter(officer=officer, station=post.station)
        .exists()
    ):
        raise ValidationError({"officer": "指定する職員はこの警察署に配置されていません"})
    previous = list(Assignment.objects.valid_on(valid_from).filter(post=post, role=Role.CUSTODIAN))
    for old in previous:
        _end_before(old, valid_from, acting_officer=acting_officer, by="designation")
    assignment = Assignment.objects.create(
        officer=officer,
        role=Role.CUSTODIAN,
        station=post.station,
        post=post,
        valid_from=valid_from,
    )
    record(
        EventType.CUSTODIAN_DESIGNATED,
        actor=acting_officer,
        obj=assignment,
        station_id=post.station_id,
        details={"officer": officer.id, "post": post.id, "valid_from": valid_from},
    )
    affected = {officer.id} | {old.officer_id for old in previous}
    if valid_from <= today():
        for affected_officer in Officer.objects.filter(id__in=affected):
            do_end_sessions(affected_officer, acting_officer=acting_officer, reason="designation")
    return assignment


@transaction.atomic
def do_designate_key_deputy(
    post: Post,
    officer: Officer,
    *,
    acting_officer: Officer,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> KeyDeputy:
    """保管庫の鍵の代理保管者の指定 (第5-3(4)): by the manager, for the custodian's absence."""
    if not (
        acting_officer.is_superuser or managed_posts(acting_officer).filter(id=post.id).exists()
    ):
        raise PermissionDeniedError("鍵の代理保管者の指定は管理責任者が行います")
    valid_from = valid_from or today()
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": "終了日は開始日以降の日付にしてください"})
    if not Assignment.objects.valid_on(valid_from).filter(officer=officer, post=post).exists():
        raise ValidationError(
            {"officer": "代理保管者はこの交番等に配置された職員から指定してください"}
        )
    for old in KeyDeputy.objects.filter(
        post=post, valid_to__isnull=True, valid_from__lte=valid_from
    ):
        old.valid_to = max(old.valid_from, valid_from - dt.timedelta(days=1))
        old.save(update_fields=["valid_to"])
        record(
            EventType.KEY_DEPUTY_ENDED,
            actor=acting_officer,
            obj=old,
            station_id=post.station_id,
            details={"officer": old.officer_id, "valid_to": old.valid_to},
        )
    deputy = KeyDeputy.objects.create(
        post=post,
        officer=officer,
        designated_by=acting_officer,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    record(
        EventType.KEY_DEPUTY_DESIGNATED,
        actor=acting_officer,
        obj=deputy,
        station_id=post.station_id,
        details={
            "officer": officer.id,
            "post": post.id,
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
    )
    return deputy


@transaction.atomic
def do_create_officer(
    *,
    acting_officer: Officer | None,
    username: str,
    full_name: str,
    full_name_kana: str = "",
    rank: str = "",
    staff_number: str | None = None,
    police_phone: str = "",
    password: str | None = None,
    password_hash: str | None = None,
) -> Officer:
    """職員登録. The password is hashed here (Argon2id); the officer must change it at his first
    sign-in, since whoever issued it knows it. `password_hash` lets the demo and the tests reuse
    one hash for their personas, who skip that change (the demo flag)."""
    if Officer.objects.filter(username=username).exists():
        raise ValidationError({"username": f"ログインID「{username}」は既に使われています"})
    officer = Officer(
        username=username,
        full_name=full_name,
        full_name_kana=full_name_kana,
        rank=rank,
        staff_number=staff_number,
        police_phone=police_phone,
    )
    if password_hash is not None:
        officer.password = password_hash
    else:
        officer.set_password(password)
        officer.password_change_required = password is not None
    officer.save(force_insert=True)
    record(EventType.OFFICER_CREATED, actor=acting_officer, obj=officer)
    return officer


@transaction.atomic
def do_create_station(*, acting_officer: Officer | None, code: str, name: str) -> Station:
    if not _system(acting_officer):
        raise PermissionDeniedError("警察署の登録はシステム管理者が行います")
    station = Station.objects.create(code=code, name=name)
    record(EventType.STATION_CREATED, actor=acting_officer, obj=station, station_id=station.id)
    return station


@transaction.atomic
def do_create_post(
    station: Station,
    *,
    acting_officer: Officer | None,
    code: str,
    name: str,
    kind: PostKind | str,
    single_officer: bool = False,
) -> Post:
    if not _system(acting_officer):
        _require_admin(acting_officer, station)
    if single_officer and kind != PostKind.CHUZAISHO:
        raise ValidationError({"single_officer": "一人勤務は駐在所にのみ設定できます"})
    post = Post.objects.create(
        station=station, code=code, name=name, kind=kind, single_officer=single_officer
    )
    record(EventType.POST_CREATED, actor=acting_officer, obj=post, station_id=station.id)
    return post


@transaction.atomic
def do_create_beat(post: Post, *, acting_officer: Officer | None, code: str, name: str) -> Beat:
    if not _system(acting_officer):
        _require_admin(acting_officer, post.station)
    beat = Beat.objects.create(post=post, code=code, name=name)
    record(EventType.BEAT_CREATED, actor=acting_officer, obj=beat, station_id=post.station_id)
    return beat


# --- the beat map: outlines and the post's position ------------------------------------


def _require_outline_manager(acting_officer: Officer | None, post: Post) -> None:
    if _system(acting_officer):
        return
    if not outline_editable_posts(acting_officer).filter(id=post.id).exists():
        raise PermissionDeniedError(
            "受持区の区域を設定できるのは管理責任者（地域課長・幹部交番所長）です"
        )


@transaction.atomic
def do_save_beat_outline(
    beat: Beat, outline: object, *, acting_officer: Officer | None, source: str = "画面"
) -> Beat:
    """受持区の区域: set (GeoJSON Polygon/MultiPolygon, a Feature or a one-feature
    FeatureCollection; text or parsed) or clear (None) the beat's outline.

    Bad GeoJSON raises ValidationError({"outline": …}) in Japanese and changes nothing.
    """
    _require_outline_manager(acting_officer, beat.post)
    if outline is None:
        geom = None
    else:
        try:
            geom = geometry.parse_outline(outline)
        except geometry.OutlineError as exc:
            raise ValidationError({"outline": str(exc)}) from exc
    beat.outline = geom
    beat.save(update_fields=["outline"])
    details: dict[str, object] = {"source": source, "cleared": geom is None}
    if geom is not None:
        details["type"] = geom["type"]
        details["vertices"] = geometry.vertex_count(geom)
    record(
        EventType.BEAT_OUTLINE_SAVED,
        actor=acting_officer,
        obj=beat,
        station_id=beat.post.station_id,
        details=details,
    )
    return beat


@transaction.atomic
def do_set_post_location(
    post: Post,
    *,
    acting_officer: Officer | None,
    latitude: object,
    longitude: object,
) -> Post:
    """Where the post stands (shown on its beats' maps; routes start there); both None clears."""
    from decimal import Decimal, InvalidOperation

    _require_outline_manager(acting_officer, post)
    values: dict[str, Decimal | None] = {}
    errors: dict[str, str] = {}
    for field, raw, low, high, label in (
        ("latitude", latitude, -90, 90, "緯度"),
        ("longitude", longitude, -180, 180, "経度"),
    ):
        if raw is None or raw == "":
            values[field] = None
            continue
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            errors[field] = f"{label}は数値で入力してください"
            continue
        if not number.is_finite() or not low <= number <= high:
            errors[field] = f"{label}は{low}〜{high}の範囲で入力してください"
            continue
        values[field] = number.quantize(Decimal("0.000001"))
    if not errors and (values["latitude"] is None) != (values["longitude"] is None):
        missing = "latitude" if values["latitude"] is None else "longitude"
        errors[missing] = "緯度と経度は両方入力してください（消すときは両方空欄）"
    if errors:
        raise ValidationError(errors)
    post.latitude = values["latitude"]
    post.longitude = values["longitude"]
    post.save(update_fields=["latitude", "longitude"])
    record(
        EventType.POST_LOCATION_SET,
        actor=acting_officer,
        obj=post,
        station_id=post.station_id,
        details={"cleared": post.latitude is None},
    )
    return post
