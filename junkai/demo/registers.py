"""Demo registers: every post of the demo station (the single-officer 駐在所 included) gets its
cabinet and binders holding its cards, the key in its custodian's hands (at 駅前交番 also a
handover to the designated deputy and back), some weeks of 持出確認簿 history (self-confirmed at
the single-officer 駐在所), signed months and an unsigned one, an overdue checkout with its
alert, and inspections (one with an open follow-up).

Built through the actions, backdated with `at=`; only the cards' 簿冊番号 are set in bulk (it is
demo data, and every card must sit in a binder that exists). Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from junkai.access.roles import custodians_of, managers_of, may_inspect
from junkai.households.models import CardStatus, ContactCard
from junkai.lib.months import current_month, month_start
from junkai.org import actions as org_actions
from junkai.org.models import Assignment, KeyDeputy, Officer, Post, Role, Station
from junkai.registers import actions
from junkai.registers.models import Binder, BinderCheckout, Cabinet

#: Cards per binder (a thick ring binder of 巡回連絡カード).
CARDS_PER_BINDER = 150
#: Days before today on which the demo history took binders out (weekly, about six weeks).
HISTORY_DAYS = (38, 31, 24, 17, 10, 3)
PURPOSES = ("巡回連絡（受持区内）", "巡回連絡（未把握世帯）", "巡回連絡（高齢者世帯）")


@dataclass(frozen=True)
class DemoRegisters:
    cabinets: int
    binders: int
    cards_renumbered: int
    checkouts: int
    reviews: int
    inspections: int
    loss_reports: int = 0


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def _binder_of(index: int) -> str:
    return str((index - 1) // CARDS_PER_BINDER + 1)


def renumber_cards(post: Post) -> int:
    """Every active card of the post in the binder its 索引番号 falls in (cards without one in
    binder 1); returns how many changed."""
    changed = []
    for card in ContactCard.objects.filter(post=post, status=CardStatus.ACTIVE).only(
        "id", "binder_number", "index_number"
    ):
        number = _binder_of(card.index_number) if card.index_number else "1"
        if card.binder_number != number:
            card.binder_number = number
            changed.append(card)
    ContactCard.objects.bulk_update(changed, ["binder_number"], batch_size=1000)
    return len(changed)


def _officers_at(post: Post) -> list[Officer]:
    current = Assignment.objects.current().filter(post=post)
    return list(Officer.objects.filter(id__in=current.values("officer_id")).order_by("username"))


def _beat_officers(post: Post) -> list[Officer]:
    current = Assignment.objects.current().filter(post=post, role=Role.BEAT_OFFICER)
    return list(Officer.objects.filter(id__in=current.values("officer_id")).order_by("username"))


def _key_story(post: Post, cabinet: Cabinet, now: dt.datetime) -> None:
    """The custodian has held the key since his designation; at a 交番 with a deputy the key
    went to the deputy for a few days' leave and came back."""
    custodian_assignment = (
        Assignment.objects.current().filter(post=post, role=Role.CUSTODIAN).order_by("id").first()
    )
    if custodian_assignment is None:
        return
    custodian = custodian_assignment.officer
    since = min(_local(custodian_assignment.valid_from, 8, 30), now - dt.timedelta(minutes=5))
    actions.do_hand_over_key(
        cabinet,
        custodian,
        acting_officer=None,
        reason="取扱責任者の指定に伴う保管",
        at=since,
    )
    deputy = KeyDeputy.objects.filter(post=post, valid_to__isnull=True).first()
    if deputy is None:
        return
    away, back = now.date() - dt.timedelta(days=7), now.date() - dt.timedelta(days=4)
    if away < deputy.valid_from or _local(away, 17) <= since:
        return
    actions.do_hand_over_key(
        cabinet,
        deputy.officer,
        acting_officer=custodian,
        reason="取扱責任者の休暇（3日間）",
        at=_local(away, 17, 15),
    )
    actions.do_hand_over_key(
        cabinet,
        custodian,
        acting_officer=custodian,
        reason="取扱責任者の帰所",
        at=_local(back, 8, 30),
    )


def _history(post: Post, binders: list[Binder], now: dt.datetime) -> int:
    """Weekly checkouts, each taken out in the morning and back in the afternoon."""
    borrowers = _beat_officers(post) or _officers_at(post)
    if not borrowers or not binders:
        return 0
    everyone = _officers_at(post)
    count = 0
    for i, days in enumerate(HISTORY_DAYS):
        day = now.date() - dt.timedelta(days=days)
        borrower = borrowers[i % len(borrowers)]
        if post.single_officer:
            confirmer = borrower
        else:
            others = [o for o in everyone if o.id != borrower.id]
            if not others:
                return count
            confirmer = others[i % len(others)]
        chosen = [binders[i % len(binders)]]
        if len(binders) > 1 and i % 3 == 0:
            chosen.append(binders[(i + 1) % len(binders)])
        checkout = actions.do_declare_checkout(
            chosen,
            acting_officer=borrower,
            purpose=PURPOSES[i % len(PURPOSES)],
            at=_local(day, 9, 30),
        )
        actions.do_confirm_checkout_out(checkout, acting_officer=confirmer, at=_local(day, 9, 35))
        actions.do_record_return(checkout, acting_officer=borrower, at=_local(day, 15, 40))
        actions.do_confirm_return(checkout, acting_officer=confirmer, at=_local(day, 15, 50))
        count += 1
    return count


def _sign_months(post: Post, *, leave_last_unsigned: bool) -> int:
    """The manager signs the ended months with entries (all, or all but the latest)."""
    manager = managers_of(post).order_by("id").first()
    if manager is None:
        return 0
    months = sorted(
        {
            month_start(timezone.localtime(moment).date())
            for moment in BinderCheckout.objects.filter(post=post).values_list(
                "declared_at", flat=True
            )
        }
    )
    ended = [m for m in months if m < current_month()]
    if leave_last_unsigned:
        ended = ended[:-1]
    for month in ended:
        actions.do_sign_checkout_month(post, month, acting_officer=manager)
    return len(ended)


def _inspections(posts: dict[str, Post], now: dt.datetime) -> int:
    count = 0
    inspector = Officer.objects.filter(username="dairi").first()
    k1 = posts.get("K1")
    if inspector is not None and k1 is not None and may_inspect(inspector, k1):
        actions.do_record_inspection(
            k1,
            acting_officer=inspector,
            inspected_on=now.date() - dt.timedelta(days=9),
            checklist={
                "cards_created": True,
                "cards_corrected": True,
                "cabinet_locked": True,
                "register_complete": False,
                "monthly_review_signed": True,
            },
            findings="持出確認簿の目的欄に受持区の記載がない記載が1件あった。",
            guidance="目的欄には巡回連絡を行う受持区・地区を具体的に記載すること。",
            follow_ups=["目的欄の記載要領を勤務員に周知し、結果を報告すること"],
        )
        count += 1
    c1 = posts.get("C1")
    manager = managers_of(c1).first() if c1 is not None else None
    if c1 is not None and manager is not None:
        inspection = actions.do_record_inspection(
            c1,
            acting_officer=manager,
            inspected_on=now.date() - dt.timedelta(days=20),
            checklist={
                "cards_created": True,
                "cards_corrected": True,
                "cabinet_locked": False,
                "register_complete": True,
                "monthly_review_signed": True,
            },
            findings="不在時に保管庫の鍵が執務机の引出しに置かれていた。",
            guidance="鍵は身に着けるか、施錠できる鍵箱で保管すること。",
            follow_ups=["鍵の保管方法の改善"],
        )
        officer = _beat_officers(c1)
        if officer:
            item = inspection.follow_ups.get()
            actions.do_follow_up(
                item,
                acting_officer=officer[0],
                action_taken="施錠式の鍵箱を設置し、不在時は鍵箱に保管することとした。",
            )
            actions.do_close_inspection(inspection, acting_officer=manager)
        count += 1
    return count


@transaction.atomic
def build_demo_registers(station: Station) -> DemoRegisters | None:
    """Once per station: None when its registers exist already."""
    if Cabinet.objects.filter(post__station=station).exists():
        return None
    now = timezone.now()
    posts = {p.code: p for p in Post.objects.filter(station=station).order_by("code")}
    kacho = managers_of(posts["K1"]).first() if "K1" in posts else None
    deputy = Officer.objects.filter(username="officer1c").first()
    if kacho is not None and deputy is not None and "K1" in posts:
        # 駅前交番: the manager designated a key deputy for the custodian's absences.
        valid_from = max(
            now.date() - dt.timedelta(days=14),
            Assignment.objects.current()
            .filter(officer=deputy, post=posts["K1"])
            .values_list("valid_from", flat=True)
            .first()
            or now.date(),
        )
        org_actions.do_designate_key_deputy(
            posts["K1"], deputy, acting_officer=kacho, valid_from=valid_from
        )
    cabinets = binders_made = renumbered = checkouts = reviews = 0
    for post in posts.values():
        cabinet = actions.do_create_cabinet(
            post, acting_officer=None, name="保管庫", location="執務室（施錠式キャビネット）"
        )
        cabinets += 1
        renumbered += renumber_cards(post)
        ranges: dict[str, tuple[int | None, int | None]] = {}
        for number, index in ContactCard.objects.filter(
            post=post, status=CardStatus.ACTIVE
        ).values_list("binder_number", "index_number"):
            low, high = ranges.get(number, (index, index))
            if index is not None:
                low = index if low is None else min(low, index)
                high = index if high is None else max(high, index)
            ranges[number] = (low, high)
        numbers = sorted(ranges, key=lambda n: (len(n), n)) or ["1"]
        binders = []
        for number in numbers:
            low, high = ranges.get(number, (None, None))
            title = "巡回連絡カード" + (f"（索引番号 {low}〜{high}）" if low else "")
            binders.append(
                actions.do_create_binder(
                    post, acting_officer=None, number=number, cabinet=cabinet, title=title
                )
            )
            binders_made += 1
        _key_story(post, cabinet, now)
        checkouts += _history(post, binders, now)
        # 駅前交番 and the 駐在所 are up to date; the others have last month to sign.
        reviews += _sign_months(post, leave_last_unsigned=post.code not in ("K1", "C1"))
    checkouts += _current(posts, now)
    losses = _loss(posts, now)
    actions.do_alert_overdue_checkouts(now=now)
    return DemoRegisters(
        cabinets=cabinets,
        binders=binders_made,
        cards_renumbered=renumbered,
        checkouts=checkouts,
        reviews=reviews,
        inspections=_inspections(posts, now),
        loss_reports=losses,
    )


def _current(posts: dict[str, Post], now: dt.datetime) -> int:
    """Today: a binder out at 駅前交番; yesterday's binder still out at 本町交番 (overdue)."""
    count = 0
    k1, k2 = posts.get("K1"), posts.get("K2")
    a, b = (Officer.objects.filter(username=u).first() for u in ("officer1a", "officer1b"))
    if k1 is not None and a is not None and b is not None:
        binder = Binder.objects.filter(post=k1).order_by("number").first()
        if binder is not None:
            checkout = actions.do_declare_checkout(
                [binder],
                acting_officer=a,
                purpose="巡回連絡（駅前一区）",
                at=now - dt.timedelta(minutes=20),
            )
            actions.do_confirm_checkout_out(
                checkout, acting_officer=b, at=now - dt.timedelta(minutes=15)
            )
            count += 1
    c, d = (Officer.objects.filter(username=u).first() for u in ("officer2a", "officer2b"))
    if k2 is not None and c is not None and d is not None:
        binder = Binder.objects.filter(post=k2).order_by("-number").first()
        yesterday = now.date() - dt.timedelta(days=1)
        if binder is not None:
            checkout = actions.do_declare_checkout(
                [binder],
                acting_officer=c,
                purpose="巡回連絡（本町一区）",
                at=_local(yesterday, 10, 0),
            )
            actions.do_confirm_checkout_out(checkout, acting_officer=d, at=_local(yesterday, 10, 5))
            count += 1
    return count


def _loss(posts: dict[str, Post], now: dt.datetime) -> int:
    """三日前: a binder of 港町交番 (K3) stolen from a motorbike while out; one household told."""
    post = posts.get("K3")
    keeper = custodians_of(post).first() if post is not None else None
    if post is None or keeper is None:
        return 0
    binder = Binder.objects.filter(post=post).order_by("number").first()
    borrower = (
        Officer.objects.filter(
            id__in=Assignment.objects.current().filter(post=post).values("officer_id")
        )
        .exclude(id=keeper.id)
        .order_by("username")
        .first()
    )
    if binder is None or borrower is None:
        return 0
    day = now.date() - dt.timedelta(days=3)
    checkout = actions.do_declare_checkout(
        [binder], acting_officer=borrower, purpose="巡回連絡", at=_local(day, 9, 0)
    )
    actions.do_confirm_checkout_out(checkout, acting_officer=keeper, at=_local(day, 9, 5))
    report = actions.do_report_loss(
        binder,
        acting_officer=borrower,
        kind="STOLEN",
        occurred_at=_local(day, 11, 20),
        place="受持区内の路上（バイクの荷台ボックス）",
        circumstances="巡回連絡中、バイクを離れた約10分の間に荷台ボックスごと持ち去られた",
        measures="管轄署に被害届。立ち回り先と周辺を捜索中",
        at=_local(day, 11, 50),
    )
    first = report.entries.order_by("index_number", "household_id").first()
    if first is not None:
        actions.do_record_household_informed(
            report,
            first.household_id,
            acting_officer=keeper,
            method="IN_PERSON",
            note="世帯主に説明し謝罪",
            at=_local(day, 16, 0),
        )
    return 1
