"""Every change about visits: recording one, reports to superiors and their acknowledgement,
night-visit approvals, the schedule policy, dedicated days, plans and handover notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import JSONField, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject
from django.utils import timezone

from junkai.access.roles import (
    can_write_post,
    is_hq,
    is_koban_head,
    is_section_chief,
    managed_posts,
    officers_of_station,
)
from junkai.audit.chain import record
from junkai.audit.models import AuditEvent, EventType
from junkai.households.access import households_visible_to
from junkai.households.models import (
    CardRevision,
    Household,
    HouseholdStatus,
    Outcome,
    SchedulePolicy,
)
from junkai.households.schedule import DUE_FIELDS, due_date, recompute_due
from junkai.lib.dates import start_of_day
from junkai.lib.errors import PermissionDeniedError
from junkai.org.models import Beat, Officer, PostKind
from junkai.visits.models import (
    Concern,
    ConcernKind,
    ConcernStatus,
    DedicatedDay,
    GuidanceTopic,
    HandoverNote,
    InfoReport,
    Method,
    MonthlyPlan,
    NightApprovalStatus,
    NightVisitApproval,
    RefusalReport,
    Visit,
)

#: 交番勤務員 report to the 地域課長 and also their 交番所長 (a 幹部交番 is a 交番 too).
KOBAN_KINDS = (PostKind.KOBAN, PostKind.KANBU_KOBAN)

#: A visit may be recorded a little ahead of the server clock (tablet clocks drift).
CLOCK_SKEW = dt.timedelta(minutes=5)

#: How far ahead a 専従日 may be set.
DEDICATED_DAY_HORIZON = dt.timedelta(days=366)


class ConcernIn(TypedDict, total=False):
    kind: str
    text: str
    owner_id: int


def _require_write(officer: Officer, household: Household) -> None:
    if not can_write_post(officer, household.post_id):
        raise PermissionDeniedError("この世帯の巡回連絡を記録する権限がありません")


def _night_approval_for(household: Household, started_at: dt.datetime) -> NightVisitApproval | None:
    return (
        NightVisitApproval.objects.filter(
            household=household,
            status=NightApprovalStatus.APPROVED,
            planned_start__lte=started_at,
            planned_end__gte=started_at,
        )
        .order_by("-planned_start")
        .first()
    )


def allowed_methods(household: Household) -> list[str]:
    """How a visit to this household may be made: by phone only for a community leader's
    household (自治委員・区長・班長・組長). Devices are sent this answer so the rule runs
    offline from the server's data, not from a copy of it."""
    return [Method.VISIT.value, Method.PHONE.value] if household.is_leader else [Method.VISIT.value]


def _visit_errors(
    household: Household,
    *,
    started_at: dt.datetime,
    method: str,
    outcome: str,
    topics: list[int],
    refusal_explanation: str,
    concerns: Sequence[ConcernIn],
    serving: dict[int, Officer],
) -> dict[str, str]:
    """Everything wrong with a visit as given, field by field (all at once, so the officer
    corrects the form in one go)."""
    errors: dict[str, str] = {}
    if method not in Method.values:
        errors["method"] = "方法は「訪問」か「電話」を選んでください"
    if outcome not in Outcome.values:
        errors["outcome"] = "結果は「面接」「不在」「拒否」のいずれかを選んでください"
    if started_at > timezone.now() + CLOCK_SKEW:
        errors["started_at"] = "実施日時が未来になっています"
    if any(t not in GuidanceTopic.values for t in topics):
        errors["guidance_topics"] = "指導連絡・情報提供事項は第4-4の(1)〜(6)から選んでください"
    if method in Method.values and method not in allowed_methods(household):
        errors["method"] = (
            "電話による巡回連絡は、自治委員・区長・班長・組長の世帯で訪問できない場合に限られます"
        )
    if outcome == Outcome.REFUSED and not refusal_explanation.strip():
        errors["refusal_explanation"] = (
            "拒否された場合は、趣旨をどのように説明したかを記入してください（第4-5(4)）"
        )
    if household.status != HouseholdStatus.ACTIVE:
        errors["household"] = "転出・空き家の世帯には巡回連絡を記録できません"
    for i, concern in enumerate(concerns):
        if concern.get("kind") not in ConcernKind.values:
            errors[f"concerns.{i}.kind"] = f"困りごと等{i + 1}の種別を選んでください"
        if not str(concern.get("text") or "").strip():
            errors[f"concerns.{i}.text"] = f"困りごと等{i + 1}の内容を入力してください"
        if concern.get("owner_id") and int(concern["owner_id"]) not in serving:
            errors[f"concerns.{i}.owner_id"] = (
                f"困りごと等{i + 1}の担当者はこの署の職員から選んでください"
            )
    return errors


def _revision_q(
    household: Household, officer: Officer, started_at: dt.datetime, card_revision_id: int | None
) -> QuerySet[CardRevision]:
    """The card revision (補正) made in this visit: the one named, if it is of this household's
    card; else the latest this officer accepted or corrected for it on the visit's day."""
    revisions = CardRevision.objects.filter(card__household=household)
    if card_revision_id is not None:
        return revisions.filter(id=card_revision_id)
    day = timezone.localdate(started_at)
    return revisions.filter(
        revised_by=officer,
        revised_at__gte=start_of_day(day),
        revised_at__lt=start_of_day(day + dt.timedelta(days=1)),
    ).order_by("-revised_at", "-id")


#: What the visit's rules read of the schedule policy (intervals, absent retry, night window).
_POLICY_FIELDS = (
    "id",
    "unknown_months",
    "elderly_months",
    "home_months",
    "business_months",
    "leader_months",
    "absent_retry_days",
    "night_start",
    "night_end",
    "horizon_days",
)


#: Read afresh under the row's lock: the due date's inputs and the status the rules check.
_FRESH_FIELDS = (*DUE_FIELDS, "status")


def _policy_shared() -> Subquery | RawSQL:
    """The saved policy as one JSON value, for `_rule_data`'s query. On PostgreSQL its row is
    share-locked (FOR KEY SHARE) for the visit's transaction, so a change of the intervals
    (do_set_policy, which locks it FOR UPDATE) and a visit take turns: the change waits for
    visits under way and then recomputes from what they wrote; a visit that comes during the
    change waits and reads the new intervals (a locking sub-select returns the row's newest
    version). Without it a visit could write a due date of the old intervals after the change
    had recomputed every household. A key-share lock conflicts with nothing visits do to each
    other. (SQLite: writers already take turns from BEGIN.)"""
    policy = SchedulePolicy.objects.order_by("id").values(
        json=JSONObject(**{name: name for name in _POLICY_FIELDS})
    )[:1]
    if connection.vendor != "postgresql":
        return Subquery(policy)
    sql, params = policy.query.sql_with_params()
    # Django's own compiled SQL with its parameters apart: nothing of the request is in it.
    return RawSQL(f"{sql} FOR KEY SHARE", params, output_field=JSONField())  # noqa: S611


def _rule_data(
    household: Household, officer: Officer, started_at: dt.datetime, card_revision_id: int | None
) -> tuple[SchedulePolicy, int | None]:
    """The schedule policy (its defaults while none is saved) and the id of the visit's card
    revision (`_revision_q`), in one query — recording a visit is an officer's hot path: two
    scalar subqueries on the household's row (one row, whether or not a policy is saved).

    The same query locks the household's row for the visit's transaction and reads afresh what
    its due date and the visit's rules depend on (`schedule.DUE_FIELDS`, its status) onto
    `household`: two visits to one household at once take turns, and the second computes from
    the first's values, not from those its caller read before (PostgreSQL; SQLite's writers
    already take turns from BEGIN)."""
    revision = _revision_q(household, officer, started_at, card_revision_id).values("id")[:1]
    row = (
        Household.objects.select_for_update()
        .filter(pk=household.pk)
        .values(*_FRESH_FIELDS, policy=_policy_shared(), revision=Subquery(revision))
        .get()
    )
    for name in _FRESH_FIELDS:
        setattr(household, name, row[name])
    if row["policy"] is None:
        return SchedulePolicy(), row["revision"]
    fields = {f.attname: f for f in SchedulePolicy._meta.concrete_fields}
    saved = SchedulePolicy.from_db(
        Household.objects.db,
        list(_POLICY_FIELDS),
        [fields[name].to_python(row["policy"][name]) for name in _POLICY_FIELDS],
    )
    return saved, row["revision"]


def _advance_schedule(
    household: Household, *, started_at: dt.datetime, outcome: str, policy: SchedulePolicy
) -> None:
    """A MET contact (a leader's phone call counts) restarts the interval; any contact is the
    last one tried. A visit recorded late does not move the household back."""
    if household.last_visit_at is None or started_at >= household.last_visit_at:
        household.last_visit_at = started_at
        household.last_outcome = outcome
    if outcome == Outcome.MET and (
        household.last_met_at is None or started_at > household.last_met_at
    ):
        household.last_met_at = started_at
    # next_due as refresh_due computes it, in the same UPDATE.
    household.next_due = due_date(household, policy)
    household.save(update_fields=["last_visit_at", "last_outcome", "last_met_at", "next_due"])


def _night_approval_required(
    household: Household, started_at: dt.datetime, policy: SchedulePolicy
) -> NightVisitApproval | None:
    """第4-3: a visit at night needs the approval obtained beforehand; None by day."""
    if not policy.is_night(started_at):
        return None
    approval = _night_approval_for(household, started_at)
    if approval is None:
        start, end = f"{policy.night_start:%H:%M}", f"{policy.night_end:%H:%M}"
        raise PermissionDeniedError(
            f"夜間（{start}〜{end}）の巡回連絡には、事前に地域課長"
            "（交番勤務員は地域課長及び交番所長）の承認が必要です。承認がないため記録できません"
        )
    return approval


@transaction.atomic
def do_record_visit(
    household: Household,
    *,
    acting_officer: Officer,
    started_at: dt.datetime,
    method: str = Method.VISIT,
    outcome: str,
    guidance_topics: Sequence[int] = (),
    note: str = "",
    refusal_explanation: str = "",
    companions: Iterable[Officer] = (),
    concerns: Sequence[ConcernIn] = (),
    observations: Sequence[str] = (),
    card_revision_id: int | None = None,
    along: Sequence[AuditEvent] = (),
) -> Visit:
    """巡回連絡の記録. Refused with a message naming the rule when the 要領 does not allow it.

    The visit is linked to the card revision made in it (named, or the officer's on that day),
    whichever way it is recorded (page, API). `along`: events prepared to go to the audit log
    with the visit's (`households.access.household_for_action`). The schedule policy is read
    with the household's row and the revision, in one query (`_rule_data`), share-locked: a
    device's push of many visits reads it with each, never once ahead of the lock."""
    _require_write(acting_officer, household)
    if timezone.is_naive(started_at):
        raise ValidationError({"started_at": "実施日時は時差付き（+09:00など）で指定してください"})
    policy, card_revision = _rule_data(household, acting_officer, started_at, card_revision_id)
    # A concern's owner must serve at the household's station today.
    owner_ids = {int(c["owner_id"]) for c in concerns if c.get("owner_id")}
    serving = (
        {o.id: o for o in officers_of_station(household.station).filter(id__in=owner_ids)}
        if owner_ids
        else {}
    )
    topics = sorted(set(guidance_topics))
    errors = _visit_errors(
        household,
        started_at=started_at,
        method=method,
        outcome=outcome,
        topics=topics,
        refusal_explanation=refusal_explanation,
        concerns=concerns,
        serving=serving,
    )
    if errors:
        raise ValidationError(errors)
    if card_revision_id is not None and card_revision is None:
        raise ValidationError({"card_revision_id": "この世帯のカードの補正を指定してください"})
    approval = _night_approval_required(household, started_at, policy)

    visit = Visit.objects.create(
        household=household,
        post_id=household.post_id,
        station_id=household.station_id,
        officer=acting_officer,
        started_at=started_at,
        method=method,
        outcome=outcome,
        guidance_topics=topics,
        note=note.strip(),
        refusal_explanation=refusal_explanation.strip(),
        card_revision_id=card_revision,
        night_approval=approval,
    )
    companions = [c for c in companions if c.id != acting_officer.id]
    if companions:
        visit.companions.set(companions)
    for concern in concerns:
        owner = serving[int(concern["owner_id"])] if concern.get("owner_id") else acting_officer
        Concern.objects.create(
            visit=visit,
            household=household,
            kind=concern["kind"],
            text=str(concern["text"]).strip(),
            owner=owner,
        )
    for text in observations:
        if text.strip():
            InfoReport.objects.create(
                visit=visit,
                station_id=household.station_id,
                text=text.strip(),
                reported_by=acting_officer,
            )
    if outcome == Outcome.REFUSED:
        RefusalReport.objects.create(
            visit=visit,
            station_id=household.station_id,
            post_id=household.post_id,
            needs_koban_head=household.post.kind in KOBAN_KINDS,
        )
    _advance_schedule(household, started_at=started_at, outcome=outcome, policy=policy)
    record(
        EventType.VISIT_RECORDED,
        actor=acting_officer,
        obj=visit,
        station_id=household.station_id,
        details={
            "household": household.id,
            "method": method,
            "outcome": outcome,
            "topics": topics,
            "concerns": len(concerns),
            "observations": len([o for o in observations if o.strip()]),
            "night_approval": approval.id if approval else None,
            "card_revision": card_revision,
        },
        along=along,
    )
    return visit


@transaction.atomic
def do_request_night_approval(
    household: Household,
    *,
    acting_officer: Officer,
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    reason: str,
) -> NightVisitApproval:
    _require_write(acting_officer, household)
    naive = {
        name: "予定日時は時差付き（+09:00など）で指定してください"
        for name, moment in (("planned_start", planned_start), ("planned_end", planned_end))
        if timezone.is_naive(moment)
    }
    if naive:
        raise ValidationError(naive)
    errors = {}
    if planned_end <= planned_start:
        errors["planned_end"] = "終了予定は開始予定より後にしてください"
    if planned_start < timezone.now() - CLOCK_SKEW:
        errors["planned_start"] = "承認は事前に受けてください（開始予定が過去です）"
    if not reason.strip():
        errors["reason"] = "夜間に実施する理由（住民等の都合）を入力してください"
    if errors:
        raise ValidationError(errors)
    approval = NightVisitApproval.objects.create(
        household=household,
        post_id=household.post_id,
        station_id=household.station_id,
        requested_by=acting_officer,
        planned_start=planned_start,
        planned_end=planned_end,
        reason=reason.strip()[:200],
        needs_koban_head=household.post.kind in KOBAN_KINDS,
    )
    record(
        EventType.NIGHT_APPROVAL_REQUESTED,
        actor=acting_officer,
        obj=approval,
        station_id=household.station_id,
        details={"household": household.id},
    )
    return approval


def night_approval_roles(officer: Officer, approval: NightVisitApproval) -> list[str]:
    """Which approvals this officer can give: "manager" (地域課長), "koban_head" (交番所長)."""
    roles = []
    if is_section_chief(officer, approval.station_id):
        roles.append("manager")
    if approval.needs_koban_head and is_koban_head(officer, approval.post_id):
        roles.append("koban_head")
    return roles


@transaction.atomic
def do_approve_night_visit(
    approval: NightVisitApproval, *, acting_officer: Officer
) -> NightVisitApproval:
    roles = night_approval_roles(acting_officer, approval)
    if not roles:
        raise PermissionDeniedError(
            "夜間実施の承認は地域課長（交番勤務員は地域課長及び交番所長）が行います"
        )
    if approval.status != NightApprovalStatus.PENDING:
        raise ValidationError({"__all__": "この申請は既に処理されています"})
    if approval.requested_by_id == acting_officer.id:
        raise PermissionDeniedError("自分の申請を自分で承認することはできません")
    now = timezone.now()
    if "manager" in roles and approval.manager_approved_at is None:
        approval.manager_approved_by, approval.manager_approved_at = acting_officer, now
    if "koban_head" in roles and approval.koban_head_approved_at is None:
        approval.koban_head_approved_by, approval.koban_head_approved_at = acting_officer, now
    complete = approval.manager_approved_at is not None and (
        not approval.needs_koban_head or approval.koban_head_approved_at is not None
    )
    if complete:
        approval.status = NightApprovalStatus.APPROVED
    approval.save(
        update_fields=[
            "manager_approved_by",
            "manager_approved_at",
            "koban_head_approved_by",
            "koban_head_approved_at",
            "status",
        ]
    )
    record(
        EventType.NIGHT_APPROVAL_APPROVED,
        actor=acting_officer,
        obj=approval,
        station_id=approval.station_id,
        details={"as": roles, "complete": complete, "household": approval.household_id},
    )
    return approval


@transaction.atomic
def do_reject_night_visit(
    approval: NightVisitApproval, *, acting_officer: Officer, reason: str
) -> NightVisitApproval:
    if not night_approval_roles(acting_officer, approval):
        raise PermissionDeniedError(
            "夜間実施の承認は地域課長（交番勤務員は地域課長及び交番所長）が行います"
        )
    if approval.status != NightApprovalStatus.PENDING:
        raise ValidationError({"__all__": "この申請は既に処理されています"})
    approval.status = NightApprovalStatus.REJECTED
    approval.rejected_by = acting_officer
    approval.rejection_reason = reason.strip()[:200]
    approval.save(update_fields=["status", "rejected_by", "rejection_reason"])
    record(
        EventType.NIGHT_APPROVAL_REJECTED,
        actor=acting_officer,
        obj=approval,
        station_id=approval.station_id,
        details={"household": approval.household_id},
    )
    return approval


@transaction.atomic
def do_acknowledge_refusal(report: RefusalReport, *, acting_officer: Officer) -> RefusalReport:
    now = timezone.now()
    acted = False
    if is_section_chief(acting_officer, report.station_id) and report.manager_ack_at is None:
        report.manager_ack_by, report.manager_ack_at = acting_officer, now
        acted = True
    if (
        report.needs_koban_head
        and is_koban_head(acting_officer, report.post_id)
        and report.koban_head_ack_at is None
    ):
        report.koban_head_ack_by, report.koban_head_ack_at = acting_officer, now
        acted = True
    if not acted:
        raise PermissionDeniedError(
            "この拒否の報告を確認する立場にありません（または確認済みです）"
        )
    report.save(
        update_fields=["manager_ack_by", "manager_ack_at", "koban_head_ack_by", "koban_head_ack_at"]
    )
    record(
        EventType.REFUSAL_ACKNOWLEDGED,
        actor=acting_officer,
        obj=report,
        station_id=report.station_id,
        details={"household": report.visit.household_id},
    )
    return report


@transaction.atomic
def do_acknowledge_info_report(report: InfoReport, *, acting_officer: Officer) -> InfoReport:
    if not is_section_chief(acting_officer, report.station_id):
        raise PermissionDeniedError("見聞情報の報告は地域課長が確認します")
    if report.acknowledged_at is not None:
        raise ValidationError({"__all__": "この報告は確認済みです"})
    report.acknowledged_by, report.acknowledged_at = acting_officer, timezone.now()
    report.save(update_fields=["acknowledged_by", "acknowledged_at"])
    record(
        EventType.INFO_REPORT_ACKNOWLEDGED,
        actor=acting_officer,
        obj=report,
        station_id=report.station_id,
        details={"household": report.visit.household_id},
    )
    return report


@transaction.atomic
def do_update_concern(
    concern: Concern, *, acting_officer: Officer, status: str, resolution: str = ""
) -> Concern:
    if not can_write_post(acting_officer, concern.household.post_id):
        raise PermissionDeniedError("この困りごと等を更新する権限がありません")
    if status not in ConcernStatus.values:
        raise ValidationError({"status": "対応状況の値が正しくありません"})
    if status == ConcernStatus.RESOLVED and not resolution.strip():
        raise ValidationError({"resolution": "対応済にするには対応結果を入力してください"})
    concern.status = status
    concern.resolution = resolution.strip()
    concern.resolved_at = timezone.now() if status == ConcernStatus.RESOLVED else None
    concern.save(update_fields=["status", "resolution", "resolved_at"])
    record(
        EventType.CONCERN_UPDATED,
        actor=acting_officer,
        obj=concern,
        station_id=concern.household.station_id,
        details={"status": status, "household": concern.household_id},
    )
    return concern


POLICY_FIELDS = (
    "unknown_months",
    "elderly_months",
    "home_months",
    "business_months",
    "leader_months",
    "absent_retry_days",
    "night_start",
    "night_end",
    "horizon_days",
)


def do_set_policy(*, acting_officer: Officer, **values: Any) -> SchedulePolicy:
    """本部地域課 edits the intervals; every household's due date follows (recompute_due)."""
    if not is_hq(acting_officer):
        raise PermissionDeniedError("実施頻度の基準は本部地域課が変更します")
    errors = {}
    limits = {f: (1, 60, "間隔は1〜60か月で入力してください") for f in POLICY_FIELDS[:5]}
    limits["absent_retry_days"] = (1, 180, "不在時の再訪は1〜180日で入力してください")
    limits["horizon_days"] = (1, 365, "作業リストの期間は1〜365日で入力してください")
    for field, (low, high, message) in limits.items():
        if field not in values:
            continue
        try:
            number = int(values[field])
        except (TypeError, ValueError):
            errors[field] = message
            continue
        if not low <= number <= high:
            errors[field] = message
    for field in ("night_start", "night_end"):
        if field in values and not isinstance(values[field], dt.time):
            errors[field] = "時刻は 19:00 の形式で指定してください"
    if values.get("night_start") is not None and values.get("night_start") == values.get(
        "night_end"
    ):
        errors["night_end"] = "夜間の終了は開始と異なる時刻にしてください"
    if errors:
        raise ValidationError(errors)
    # The change commits first: its row locked FOR UPDATE waits for the visits under way (they
    # share-lock it, visits.actions._policy_shared) and visits after it read the new intervals.
    with transaction.atomic():
        policy = (
            SchedulePolicy.objects.select_for_update().order_by("id").first() or SchedulePolicy()
        )
        old = {f: str(getattr(policy, f)) for f in POLICY_FIELDS}
        for field in POLICY_FIELDS:
            if field in values:
                setattr(policy, field, values[field])
        policy.updated_by = acting_officer
        policy.updated_at = timezone.now()
        policy.save()
        record(
            EventType.POLICY_CHANGED,
            actor=acting_officer,
            obj=policy,
            details={"old": old, "new": {f: str(getattr(policy, f)) for f in POLICY_FIELDS}},
        )
    # Then every due date follows, in short transactions of their own (a household a visit
    # holds is done once it commits): no visit waits for the whole recomputation.
    recompute_due()
    return policy


def dedicated_day_removable(day: dt.date) -> bool:
    """A 専従日 may be taken back until it comes; a past one is the record of that day's work
    (plan against actual), so it stays. The page asks this to offer 取消; the action enforces it."""
    return day >= timezone.localdate()


@transaction.atomic
def do_set_dedicated_day(
    officer: Officer, day: dt.date, *, acting_officer: Officer, remove: bool = False
) -> None:
    """専従日 (第3-2): set by the officer's 管理責任者."""
    post_ids = [a.post_id for a in officer.current_assignments() if a.post_id is not None]
    if not managed_posts(acting_officer).filter(id__in=post_ids).exists():
        raise PermissionDeniedError("専従日は所属の管理責任者が指定します")
    if remove:
        if not dedicated_day_removable(day):
            raise ValidationError(
                {"day": "過去の専従日は取り消せません（その日の実施の記録として残します）"}
            )
        removed, _ = DedicatedDay.objects.filter(officer=officer, day=day).delete()
        if not removed:
            raise ValidationError(
                {"day": "取り消す専従日が見つかりません（既に取り消されています）"}
            )
        record(
            EventType.DEDICATED_DAY_REMOVED, actor=acting_officer, obj=officer, details={"day": day}
        )
        return
    if day < timezone.localdate():
        raise ValidationError({"day": "過去の日は専従日に指定できません"})
    if day > timezone.localdate() + DEDICATED_DAY_HORIZON:
        raise ValidationError({"day": "専従日は1年先までの日を指定してください"})
    if DedicatedDay.objects.filter(officer=officer, day=day).exists():
        raise ValidationError({"day": "その日は既に専従日です"})
    DedicatedDay.objects.create(officer=officer, day=day, set_by=acting_officer)
    record(EventType.DEDICATED_DAY_SET, actor=acting_officer, obj=officer, details={"day": day})


@transaction.atomic
def do_save_monthly_plan(
    *,
    acting_officer: Officer,
    month: dt.date,
    areas: str,
    target_visits: int,
    households: Iterable[Household] = (),
) -> MonthlyPlan:
    """The officer's own plan for a month (計画的に実施)."""
    month = month.replace(day=1)
    if target_visits < 0 or target_visits > 2000:
        raise ValidationError({"target_visits": "予定件数は0〜2000で入力してください"})
    households = list(households)
    visible = set(
        households_visible_to(acting_officer)
        .filter(id__in=[h.id for h in households])
        .values_list("id", flat=True)
    )
    if any(h.id not in visible for h in households):
        raise ValidationError({"households": "計画に入れられるのは受持区の世帯だけです"})
    plan, _ = MonthlyPlan.objects.get_or_create(officer=acting_officer, month=month)
    plan.areas = areas.strip()[:200]
    plan.target_visits = target_visits
    plan.updated_at = timezone.now()
    plan.save(update_fields=["areas", "target_visits", "updated_at"])
    plan.households.set(households)
    record(
        EventType.MONTHLY_PLAN_SAVED,
        actor=acting_officer,
        obj=plan,
        details={"month": month, "target": target_visits, "households": len(households)},
    )
    return plan


@transaction.atomic
def do_add_handover_note(beat: Beat, *, acting_officer: Officer, text: str) -> HandoverNote:
    if not can_write_post(acting_officer, beat.post_id):
        raise PermissionDeniedError("この受持区の引継事項を書く権限がありません")
    if not text.strip():
        raise ValidationError({"text": "引継事項を入力してください"})
    note = HandoverNote.objects.create(beat=beat, author=acting_officer, text=text.strip())
    record(
        EventType.HANDOVER_NOTE_ADDED,
        actor=acting_officer,
        obj=note,
        station_id=beat.post.station_id,
    )
    return note
