"""Fixtures for tests of the registers (pages, API, the URL walk).

"Now" in these tests: the binders are registered on 2026-05-01 (so May is the first month of
each register) and the tests run on 2026-06-10 at 10:00 JST, a weekday morning.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from junkai.access.roles import custodians_of, may_inspect
from junkai.org import actions as org_actions
from junkai.org.models import Officer, Post, Rank, Role, today
from junkai.registers import actions
from junkai.registers.models import Binder, Cabinet
from junkai.testing import PersonaTestCase

JST = ZoneInfo("Asia/Tokyo")
REGISTERED = dt.datetime(2026, 5, 1, 9, 0, tzinfo=JST)
DAY = dt.datetime(2026, 6, 10, 10, 0, tzinfo=JST)


def build_post_registers(post: Post, numbers: tuple[str, ...] = ("1",)) -> dict[str, Any]:
    """A cabinet and binders for a post, the key with its custodian (if any)."""
    cabinet = actions.do_create_cabinet(post, acting_officer=None, name="保管庫", location="執務室")
    binders = [
        actions.do_create_binder(post, acting_officer=None, number=n, cabinet=cabinet)
        for n in numbers
    ]
    custodian = custodians_of(post).first()
    if custodian is not None:
        actions.do_hand_over_key(cabinet, custodian, acting_officer=None, reason="取扱責任者の保管")
    return {"cabinet": cabinet, "binders": binders}


def register_walk_ids(post: Post, borrower: Officer) -> dict[str, int]:
    """For junkai.web.tests.test_access_walk: a checkout and an inspection of `post`.

    The checkout is declared (not yet confirmed); the inspection, with one open follow-up item,
    is recorded by an inspector of the post's station (one is assigned if it has none).
    """
    made = build_post_registers(post, ("1", "L1"))
    checkout = actions.do_declare_checkout(
        made["binders"], acting_officer=borrower, purpose="巡回連絡"
    )
    # Binder L1 of the entry reported lost by its borrower (binder 1 stays on the entry).
    loss = actions.do_report_loss(
        made["binders"][1],
        acting_officer=borrower,
        kind="LOST",
        occurred_at=timezone.now(),
        place="受持区内",
        circumstances="巡回連絡中に紛失",
        measures="遺失届",
    )
    inspector = next(
        (
            a.officer
            for a in post.station.assignments.filter(role=Role.INSPECTOR, post__isnull=True)
            if may_inspect(a.officer, post)
        ),
        None,
    )
    if inspector is None:
        inspector = org_actions.do_create_officer(
            acting_officer=None,
            username=f"inspector-{post.station.code.lower()}",
            full_name="点検 担当",
            rank=Rank.KEIBUHO,
        )
        org_actions.do_assign(
            inspector,
            acting_officer=None,
            role=Role.INSPECTOR,
            station=post.station,
            unit_name="地域課",
            valid_from=post.station.assignments.order_by("valid_from").values_list(
                "valid_from", flat=True
            )[0],
            end_current=False,
        )
    inspection = actions.do_record_inspection(
        post,
        acting_officer=inspector,
        inspected_on=today() - dt.timedelta(days=1),
        checklist={"cards_created": True},
        findings="記載漏れ",
        follow_ups=["是正"],
    )
    return {
        "checkout_id": checkout.id,
        "inspection_id": inspection.id,
        "loss_report_id": loss.id,
        "binder_id": made["binders"][0].id,
    }


class RegistersTestCase(PersonaTestCase):
    """Personas, plus binders 1–3 at 駅前交番 (K1), 1 at 本町交番 (K2) and 1 at 山里駐在所 (C1)."""

    k1: ClassVar[Post]
    k2: ClassVar[Post]
    c1: ClassVar[Post]
    k1_binders: ClassVar[list[Binder]]
    k2_binder: ClassVar[Binder]
    c1_binder: ClassVar[Binder]
    k1_cabinet: ClassVar[Cabinet]

    @classmethod
    def setUpTestData(cls) -> None:
        with time_machine.travel(REGISTERED, tick=False):
            super().setUpTestData()
            cls.k1 = cls.station.posts.get(code="K1")
            cls.k2 = cls.station.posts.get(code="K2")
            cls.c1 = cls.station.posts.get(code="C1")
            k1 = build_post_registers(cls.k1, ("1", "2", "3"))
            cls.k1_binders, cls.k1_cabinet = k1["binders"], k1["cabinet"]
            cls.k2_binder = build_post_registers(cls.k2)["binders"][0]
            cls.c1_binder = build_post_registers(cls.c1)["binders"][0]
