"""Every change to the 利用確認簿, to agency requests and to misuse flags (要領 第5-4 (2)).

One function each, `@transaction.atomic`, its audit event in the same transaction. A rule of
the 要領 that refuses the change raises PermissionDeniedError (403: who may not, or not yet)
or ValidationError naming the field (422); either way nothing is changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from junkai.access.roles import is_disclosure_manager, may_handle, recording_unit
from junkai.audit.chain import record
from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures import prefectures
from junkai.disclosures.access import may_handle_agency_request, may_review_flag
from junkai.disclosures.models import (
    FIELD_GROUPS,
    AgencyDocument,
    AgencyRequest,
    DataUse,
    DataUseStatus,
    DecisionStatus,
    MisuseFlag,
    MisuseFlagRead,
    ReleaseMethod,
    UnitScoped,
    fiscal_year,
)
from junkai.households.access import households_visible_to
from junkai.households.models import Household
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.kana import digits
from junkai.org.models import Officer, Station

#: The written request may be at most this large (setting JUNKAI_AGENCY_DOCUMENT_MAX_BYTES).
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024

#: First bytes of the files a written request may be: a PDF or a scanned image.
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)

NOT_A_UNIT = (
    "利用確認簿・照会は、巡回連絡カードを保有する交番等・地域課の職員が記録します。"
    "この配置では記録できません"
)

M = TypeVar("M", bound=UnitScoped)


def _required(values: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """{field: (value, label)} → errors for the empty ones, naming each field."""
    return {
        field: f"{label}を入力してください"
        for field, (value, label) in values.items()
        if not str(value or "").strip()
    }


def _too_long(values: Mapping[str, tuple[str, str, int]]) -> dict[str, str]:
    return {
        field: f"{label}は{limit}文字以内で入力してください"
        for field, (value, label, limit) in values.items()
        if len(str(value or "").strip()) > limit
    }


def _households_in_scope(
    officer: Officer, household_ids: Sequence[int], station: Station
) -> tuple[list[Household], dict[str, str]]:
    """The households named, each in the officer's scope and at the register's station.

    Absent and out of scope get the same message (as a 404 would).
    """
    ids = list(dict.fromkeys(int(i) for i in household_ids))
    if not ids:
        return [], {"household_ids": "対象の世帯を1件以上選んでください"}
    found = {h.id: h for h in households_visible_to(officer).filter(id__in=ids, station=station)}
    missing = [i for i in ids if i not in found]
    if missing:
        shown = "、".join(f"#{i}" for i in missing[:5])
        return [], {
            "household_ids": f"対象の世帯 {shown} が見つかりません（記録する職員の受持範囲の世帯に限ります）"
        }
    return [found[i] for i in ids], {}


def _next_number(model: type[M], station: Station, year: int) -> int:
    # The station row is locked so two entries recorded at once never share a number.
    Station.objects.select_for_update().filter(id=station.id).first()
    top = model._default_manager.filter(station=station, fiscal_year=year).aggregate(
        n=Max("number")
    )
    return int(top["n"] or 0) + 1


def _unit_of(officer: Officer) -> tuple[Station, Any]:
    unit = recording_unit(officer)
    if unit is None:
        raise PermissionDeniedError(NOT_A_UNIT)
    return unit


def _require_handler(officer: Officer, entry: UnitScoped, what: str) -> None:
    if not may_handle(officer, entry.station_id, entry.post_id):
        raise PermissionDeniedError(f"この{what}を取り扱う権限がありません（{entry.unit_label}）")


def _require_agency_handler(officer: Officer, entry: AgencyRequest) -> None:
    if not may_handle_agency_request(officer, entry):
        raise PermissionDeniedError(f"この照会を取り扱う権限がありません（{entry.unit_label}）")


def _require_manager(officer: Officer, entry: UnitScoped, message: str) -> None:
    if not is_disclosure_manager(officer, entry.station_id, entry.post_id):
        raise PermissionDeniedError(message)


def _release_items(
    entry_household_ids: set[int], items: Mapping[int, Sequence[str]]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """{household id: [group keys]} → the stored list; households with no group are left out."""
    errors: dict[str, str] = {}
    stored: list[dict[str, Any]] = []
    for household_id, groups in items.items():
        if int(household_id) not in entry_household_ids:
            errors["items"] = f"世帯 #{household_id} はこの申出の対象ではありません"
            continue
        unknown = [g for g in groups if g not in FIELD_GROUPS]
        if unknown:
            errors["items"] = (
                f"提供した内容の項目 {'、'.join(unknown)} は選べません（"
                f"{'・'.join(FIELD_GROUPS.values())} から選んでください）"
            )
            continue
        chosen = [g for g in FIELD_GROUPS if g in set(groups)]
        if chosen:
            stored.append({"household": int(household_id), "groups": chosen})
    if not errors and not stored:
        errors["items"] = "提供した内容（世帯ごとの項目）を1つ以上選んでください"
    return sorted(stored, key=lambda i: i["household"]), errors


def _release(
    entry: UnitScoped,
    *,
    acting_officer: Officer,
    items: Mapping[int, Sequence[str]],
    method: str,
    note: str,
    event: EventType,
    status: str,
) -> None:
    """Record what was released of which household (one event on each), and close the entry
    with `status`."""
    household_ids = set(entry.households.values_list("id", flat=True))  # type: ignore[attr-defined]
    errors: dict[str, str] = {}
    if method not in ReleaseMethod.values:
        errors["method"] = "提供の方法（閲覧・写しの交付・口頭）を選んでください"
    errors |= _too_long({"note": (note, "提供の備考", 200)})
    stored, item_errors = _release_items(household_ids, items)
    errors |= item_errors
    if errors:
        raise ValidationError(errors)
    released = {i["household"] for i in stored}
    households = {h.id: h for h in households_visible_to(acting_officer).filter(id__in=released)}
    if len(households) != len(released):
        raise PermissionDeniedError(
            "対象の世帯に、あなたの受持範囲にない世帯が含まれています。提供は記録できません"
        )
    entry.released_at = timezone.now()
    entry.released_by = acting_officer
    entry.release_method = method
    entry.released_items = stored
    entry.release_note = note.strip()
    # One event per household, on the household: it shows in each household's access log.
    for item in stored:
        household = households[item["household"]]
        record(
            event,
            actor=acting_officer,
            obj=household,
            station_id=household.station_id,
            purpose=entry.purpose,
            details={
                entry._meta.model_name or "entry": entry.pk,
                "groups": item["groups"],
                "method": method,
            },
        )
    entry.status = status  # type: ignore[attr-defined]
    entry.save(
        update_fields=[
            "released_at",
            "released_by",
            "release_method",
            "released_items",
            "release_note",
            "status",
        ]
    )


# --- 利用確認簿 (第7号様式) --------------------------------------------------------------


@transaction.atomic
def do_record_data_use(
    *,
    acting_officer: Officer,
    requester_name: str,
    requester_unit: str,
    requester_prefecture: str,
    police_phone: str,
    purpose: str,
    household_ids: Sequence[int],
) -> DataUse:
    """受付: a request by another unit of this prefecture or by another prefecture's police."""
    station, post = _unit_of(acting_officer)
    errors = _required(
        {
            "requester_name": (requester_name, "利用者の氏名"),
            "requester_unit": (requester_unit, "利用者の所属"),
            "requester_prefecture": (requester_prefecture, "都道府県警察"),
            "police_phone": (police_phone, "警察電話番号"),
            "purpose": (purpose, "利用目的"),
        }
    )
    errors |= _too_long(
        {
            "requester_name": (requester_name, "利用者の氏名", 64),
            "requester_unit": (requester_unit, "利用者の所属", 100),
            "police_phone": (police_phone, "警察電話番号", 32),
            "purpose": (purpose, "利用目的", 200),
        }
    )
    prefecture = prefectures.normalise(requester_prefecture or "")
    if requester_prefecture and prefecture is None:
        errors["requester_prefecture"] = "都道府県警察は都道府県名（例: 福岡県）で入力してください"
    if police_phone and not errors.get("police_phone") and len(digits(police_phone)) < 3:
        errors["police_phone"] = "警察電話番号を番号で入力してください（折り返し確認に使います）"
    households, household_errors = _households_in_scope(acting_officer, household_ids, station)
    errors |= household_errors
    if errors:
        raise ValidationError(errors)
    assert prefecture is not None
    now = timezone.now()
    year = fiscal_year(now)
    entry = DataUse.objects.create(
        station=station,
        post=post,
        fiscal_year=year,
        number=_next_number(DataUse, station, year),
        recorded_at=now,
        recorded_by=acting_officer,
        requester_name=requester_name.strip(),
        requester_unit=requester_unit.strip(),
        requester_prefecture=prefecture,
        other_prefecture=prefecture != prefectures.home_prefecture(),
        police_phone=police_phone.strip(),
        purpose=purpose.strip(),
    )
    entry.households.set(households)
    record(
        EventType.DATA_USE_REQUESTED,
        actor=acting_officer,
        obj=entry,
        station_id=station.id,
        purpose=entry.purpose,
        details={
            "households": [h.id for h in households],
            "other_prefecture": entry.other_prefecture,
            "post": post.id if post is not None else None,
        },
    )
    return entry


def _require_open(entry: DataUse) -> None:
    if entry.status == DataUseStatus.RELEASED:
        raise ValidationError({"status": "この申出は提供済みです"})
    if entry.status == DataUseStatus.REFUSED:
        raise ValidationError({"status": "この申出は不承認となっています"})


@transaction.atomic
def do_verify_identity(
    entry: DataUse,
    *,
    acting_officer: Officer,
    callback_number: str,
    note: str = "",
) -> DataUse:
    """第5-4(2)ア: the acting officer called back on the police phone and reached the requester."""
    _require_handler(acting_officer, entry, "利用確認簿の記録")
    entry = DataUse.objects.select_for_update().get(id=entry.id)
    _require_open(entry)
    if entry.verified_at is not None:
        raise ValidationError({"callback_number": "警察職員であることの確認は記録済みです"})
    errors = _required({"callback_number": (callback_number, "折り返し電話をかけた番号")})
    errors |= _too_long(
        {
            "callback_number": (callback_number, "折り返し電話をかけた番号", 32),
            "note": (note, "確認の備考", 200),
        }
    )
    if not errors and digits(callback_number) != digits(entry.police_phone) and not note.strip():
        errors["note"] = (
            "申出の警察電話番号と異なる番号に折り返した場合は、その番号で確認した理由を備考に記入してください"
        )
    if errors:
        raise ValidationError(errors)
    entry.verified_at = timezone.now()
    entry.verified_by = acting_officer
    entry.callback_number = callback_number.strip()
    entry.verification_note = note.strip()
    entry.status = DataUseStatus.VERIFIED
    entry.save(
        update_fields=[
            "verified_at",
            "verified_by",
            "callback_number",
            "verification_note",
            "status",
        ]
    )
    record(
        EventType.DATA_USE_IDENTITY_VERIFIED,
        actor=acting_officer,
        obj=entry,
        station_id=entry.station_id,
        details={"same_number": digits(callback_number) == digits(entry.police_phone)},
    )
    return entry


@transaction.atomic
def do_approve_data_use(entry: DataUse, *, acting_officer: Officer) -> DataUse:
    """The 管理責任者's approval of a provision to another prefecture's police."""
    _require_manager(
        acting_officer,
        entry,
        "他の都道府県警察への提供は管理責任者（地域課長）が承認します。あなたは承認できません",
    )
    entry = DataUse.objects.select_for_update().get(id=entry.id)
    _require_open(entry)
    if not entry.other_prefecture:
        raise ValidationError(
            {
                "status": "本県警察内の利用には管理責任者の承認は要りません（折り返し確認の後に提供できます）"
            }
        )
    if entry.approved_at is not None:
        raise ValidationError({"status": "この申出は承認済みです"})
    if entry.verified_at is None:
        raise ValidationError(
            {"status": "承認の前に、警察電話への折り返しで警察職員であることを確認してください"}
        )
    entry.approved_at = timezone.now()
    entry.approved_by = acting_officer
    entry.status = DataUseStatus.APPROVED
    entry.save(update_fields=["approved_at", "approved_by", "status"])
    record(
        EventType.DATA_USE_APPROVED,
        actor=acting_officer,
        obj=entry,
        station_id=entry.station_id,
        purpose=entry.purpose,
    )
    return entry


@transaction.atomic
def do_refuse_data_use(entry: DataUse, *, acting_officer: Officer, reason: str) -> DataUse:
    _require_manager(
        acting_officer, entry, "利用の申出を不承認にできるのは管理責任者（地域課長）です"
    )
    entry = DataUse.objects.select_for_update().get(id=entry.id)
    _require_open(entry)
    errors = _required({"reason": (reason, "不承認の理由")}) | _too_long(
        {"reason": (reason, "不承認の理由", 200)}
    )
    if errors:
        raise ValidationError(errors)
    entry.refused_at = timezone.now()
    entry.refused_by = acting_officer
    entry.refusal_reason = reason.strip()
    entry.status = DataUseStatus.REFUSED
    entry.save(update_fields=["refused_at", "refused_by", "refusal_reason", "status"])
    record(
        EventType.DATA_USE_REFUSED,
        actor=acting_officer,
        obj=entry,
        station_id=entry.station_id,
        purpose=entry.purpose,
    )
    return entry


@transaction.atomic
def do_release_data_use(
    entry: DataUse,
    *,
    acting_officer: Officer,
    items: Mapping[int, Sequence[str]],
    method: str = ReleaseMethod.SHOWN,
    note: str = "",
) -> DataUse:
    """提供: exactly which card data of which household was shown or given."""
    _require_handler(acting_officer, entry, "利用確認簿の記録")
    entry = DataUse.objects.select_for_update().get(id=entry.id)
    _require_open(entry)
    if entry.verified_at is None:
        raise PermissionDeniedError(
            "警察電話への折り返しで警察職員であることを確認するまで、提供できません（第5-4(2)ア）"
        )
    if entry.other_prefecture and entry.approved_at is None:
        raise PermissionDeniedError(
            "他の都道府県警察への提供には、管理責任者（地域課長）の承認が必要です。承認がないため提供できません"
        )
    _release(
        entry,
        acting_officer=acting_officer,
        items=items,
        method=method,
        note=note,
        event=EventType.DATA_USE_RELEASED,
        status=DataUseStatus.RELEASED,
    )
    return entry


# --- 他の行政機関からの照会 (第5-4(2)イ) ---------------------------------------------------


@transaction.atomic
def do_record_agency_request(
    *,
    acting_officer: Officer,
    agency_name: str,
    recipient_name: str,
    recipient_contact: str,
    purpose: str,
    legal_basis: str,
    household_ids: Sequence[int],
) -> AgencyRequest:
    """受付. Each item the 要領 asks the written request to state is required."""
    station, post = _unit_of(acting_officer)
    errors = _required(
        {
            "agency_name": (agency_name, "照会した行政機関"),
            "recipient_name": (recipient_name, "提供を受ける者の氏名"),
            "recipient_contact": (recipient_contact, "提供を受ける者の連絡先"),
            "purpose": (purpose, "利用目的"),
            "legal_basis": (legal_basis, "法令上の根拠"),
        }
    )
    errors |= _too_long(
        {
            "agency_name": (agency_name, "照会した行政機関", 100),
            "recipient_name": (recipient_name, "提供を受ける者の氏名", 64),
            "recipient_contact": (recipient_contact, "提供を受ける者の連絡先", 100),
            "purpose": (purpose, "利用目的", 200),
            "legal_basis": (legal_basis, "法令上の根拠", 200),
        }
    )
    households, household_errors = _households_in_scope(acting_officer, household_ids, station)
    errors |= household_errors
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    year = fiscal_year(now)
    entry = AgencyRequest.objects.create(
        station=station,
        post=post,
        fiscal_year=year,
        number=_next_number(AgencyRequest, station, year),
        recorded_at=now,
        recorded_by=acting_officer,
        agency_name=agency_name.strip(),
        recipient_name=recipient_name.strip(),
        recipient_contact=recipient_contact.strip(),
        purpose=purpose.strip(),
        legal_basis=legal_basis.strip(),
    )
    entry.households.set(households)
    record(
        EventType.AGENCY_REQUEST_RECEIVED,
        actor=acting_officer,
        obj=entry,
        station_id=station.id,
        purpose=entry.purpose,
        details={"households": [h.id for h in households]},
    )
    return entry


def sniff_document(upload: UploadedFile) -> str:
    """The kind of a written request from its first bytes; the name and the browser's word
    (content_type) are not trusted."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    raise ValidationError(
        {"file": "照会文書は PDF または画像（PNG・JPEG・TIFF）のファイルを添付してください"}
    )


def document_max_bytes() -> int:
    from django.conf import settings

    return int(getattr(settings, "JUNKAI_AGENCY_DOCUMENT_MAX_BYTES", DOCUMENT_MAX_BYTES))


@transaction.atomic
def do_attach_agency_document(
    entry: AgencyRequest, *, acting_officer: Officer, upload: UploadedFile
) -> AgencyRequest:
    """The written request (照会文書). Replaceable until the manager has decided."""
    _require_agency_handler(acting_officer, entry)
    entry = AgencyRequest.objects.select_for_update().get(id=entry.id)
    if entry.status != DecisionStatus.PENDING:
        raise ValidationError({"file": "提供の可否を判断した後は照会文書を差し替えられません"})
    limit = document_max_bytes()
    if upload.size is None or upload.size == 0:
        raise ValidationError({"file": "照会文書のファイルが空です"})
    if upload.size > limit:
        raise ValidationError(
            {"file": f"照会文書は {limit // (1024 * 1024)}MB 以下のファイルにしてください"}
        )
    kind = sniff_document(upload)
    upload.seek(0)
    content = upload.read()
    replaced = AgencyDocument.objects.filter(request=entry).delete()[0] > 0
    document = AgencyDocument.objects.create(
        request=entry,
        content=content,
        content_type=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=acting_officer,
        uploaded_at=timezone.now(),
    )
    entry.document_type = kind
    entry.document_size = document.size
    entry.document_sha256 = document.sha256
    entry.document_attached_at = document.uploaded_at
    entry.document_attached_by = acting_officer
    entry.save(
        update_fields=[
            "document_type",
            "document_size",
            "document_sha256",
            "document_attached_at",
            "document_attached_by",
        ]
    )
    record(
        EventType.AGENCY_REQUEST_DOCUMENT_ATTACHED,
        actor=acting_officer,
        obj=entry,
        station_id=entry.station_id,
        details={
            "type": kind,
            "size": document.size,
            "sha256": document.sha256,
            "replaced": replaced,
        },
    )
    return entry


@transaction.atomic
def do_decide_agency_request(
    entry: AgencyRequest, *, acting_officer: Officer, decision: str, reason: str
) -> AgencyRequest:
    """第5-4(2)イ: the 管理責任者 decides whether to provide, on the written request."""
    _require_manager(
        acting_officer,
        entry,
        "他の行政機関への提供の可否は管理責任者（地域課長）が判断します。あなたは判断できません",
    )
    entry = AgencyRequest.objects.select_for_update().get(id=entry.id)
    if entry.status != DecisionStatus.PENDING:
        raise ValidationError({"decision": "この照会は判断済みです"})
    errors: dict[str, str] = {}
    if not entry.has_document:
        errors["document"] = (
            "照会文書（提供を受ける者の氏名・連絡先、利用目的、法令上の根拠を記載した文書）が"
            "添付されていないため、判断できません"
        )
    if decision not in (DecisionStatus.APPROVED, DecisionStatus.REFUSED):
        errors["decision"] = "判断は「提供可（APPROVED）」か「提供不可（REFUSED）」を選んでください"
    errors |= _required({"reason": (reason, "判断の理由")}) | _too_long(
        {"reason": (reason, "判断の理由", 200)}
    )
    if errors:
        raise ValidationError(errors)
    entry.status = decision
    entry.decided_at = timezone.now()
    entry.decided_by = acting_officer
    entry.decision_reason = reason.strip()
    entry.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    record(
        EventType.AGENCY_REQUEST_DECIDED,
        actor=acting_officer,
        obj=entry,
        station_id=entry.station_id,
        purpose=entry.purpose,
        details={"decision": decision},
    )
    return entry


@transaction.atomic
def do_release_agency_request(
    entry: AgencyRequest,
    *,
    acting_officer: Officer,
    items: Mapping[int, Sequence[str]],
    method: str = ReleaseMethod.GIVEN,
    note: str = "",
) -> AgencyRequest:
    """The provision after the manager's approval, recorded like a data use."""
    _require_agency_handler(acting_officer, entry)
    entry = AgencyRequest.objects.select_for_update().get(id=entry.id)
    if entry.status == DecisionStatus.RELEASED:
        raise ValidationError({"status": "この照会は提供済みです"})
    if entry.status != DecisionStatus.APPROVED:
        raise PermissionDeniedError(
            "管理責任者（地域課長）が提供可と判断するまで、提供できません（第5-4(2)イ）"
        )
    _release(
        entry,
        acting_officer=acting_officer,
        items=items,
        method=method,
        note=note,
        event=EventType.AGENCY_REQUEST_RELEASED,
        status=DecisionStatus.RELEASED,
    )
    return entry


# --- misuse signals ------------------------------------------------------------------


@transaction.atomic
def do_raise_misuse_flag(
    *,
    station_id: int,
    post_id: int | None,
    officer_id: int,
    kind: str,
    window_start: Any,
    window_end: Any,
    event_ids: Sequence[int],
    household_count: int,
) -> MisuseFlag:
    """Raised by the scan (no acting officer: the system)."""
    flag = MisuseFlag.objects.create(
        station_id=station_id,
        post_id=post_id,
        officer_id=officer_id,
        kind=kind,
        window_start=window_start,
        window_end=window_end,
        event_ids=list(event_ids),
        household_count=household_count,
    )
    # Its events as rows (which flag holds a read; open flags by household): the scan's index.
    MisuseFlagRead.objects.bulk_create(
        MisuseFlagRead(
            flag=flag,
            event_id=event_id,
            household_id=(
                int(object_id)
                if object_type == "households.household" and object_id.isdigit()
                else None
            ),
            read_at=created_at,
        )
        for event_id, object_type, object_id, created_at in AuditEvent.objects.filter(
            id__in=set(event_ids)
        ).values_list("id", "object_type", "object_id", "created_at")
    )
    record(
        EventType.MISUSE_FLAGGED,
        obj=flag,
        station_id=station_id,
        details={
            "kind": kind,
            "officer": officer_id,
            "events": len(event_ids),
            "households": household_count,
        },
    )
    return flag


#: The note of a flag settled by the scan (no acting officer: the system).
SETTLED_NOTE = (
    "閲覧の前後の同じ勤務中に、この職員がこの世帯についての業務を記録しました（監査記録 {events}）。"
    "業務上の閲覧として自動で確認済みとしました。"
)


@transaction.atomic
def do_settle_misuse_flag(flag: MisuseFlag, *, explained_by: Sequence[int]) -> MisuseFlag:
    """The scan found the task that explains every read of an UNEXPLAINED flag (a visit or
    other work on the household recorded later in the shift). The flag is kept, marked
    reviewed by nobody with a note naming the audit records that explain it, so the manager
    still sees that it was raised and why it closed."""
    flag = MisuseFlag.objects.select_for_update().get(id=flag.id)
    if flag.reviewed_at is not None:
        return flag
    flag.reviewed_at = timezone.now()
    flag.note = SETTLED_NOTE.format(events="・".join(f"#{i}" for i in explained_by))
    flag.save(update_fields=["reviewed_at", "note"])
    record(
        EventType.MISUSE_REVIEWED,
        obj=flag,
        station_id=flag.station_id,
        details={"kind": flag.kind, "officer": flag.officer_id, "explained_by": list(explained_by)},
    )
    return flag


@transaction.atomic
def do_review_misuse_flag(flag: MisuseFlag, *, acting_officer: Officer, note: str) -> MisuseFlag:
    """The manager's review: what he found (asked the officer, checked the context)."""
    if not may_review_flag(acting_officer, flag):
        raise PermissionDeniedError(
            "この兆候を確認できるのは管理責任者と警察署長です（本人についての兆候は署長が確認します）"
        )
    flag = MisuseFlag.objects.select_for_update().get(id=flag.id)
    if flag.reviewed_at is not None:
        raise ValidationError({"note": "この兆候は確認済みです"})
    errors = _required({"note": (note, "確認結果")}) | _too_long({"note": (note, "確認結果", 2000)})
    if errors:
        raise ValidationError(errors)
    flag.reviewed_at = timezone.now()
    flag.reviewed_by = acting_officer
    flag.note = note.strip()
    flag.save(update_fields=["reviewed_at", "reviewed_by", "note"])
    record(
        EventType.MISUSE_REVIEWED,
        actor=acting_officer,
        obj=flag,
        station_id=flag.station_id,
        details={"kind": flag.kind, "officer": flag.officer_id},
    )
    return flag
