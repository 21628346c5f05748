"""The demo registers: every post, the single-officer 駐在所 included, gets its cabinet and binders
holding its cards, and some history in every register."""

from __future__ import annotations

import time_machine

from junkai.audit.chain import verify
from junkai.audit.models import AuditEvent, EventType
from junkai.demo.registers import build_demo_registers
from junkai.households import actions as household_actions
from junkai.households.models import CardStatus, ContactCard
from junkai.registers.models import (
    Binder,
    BinderCheckout,
    Cabinet,
    CheckoutMonthReview,
    CheckoutStatus,
    FollowUpStatus,
    InspectionFollowUp,
    KeyCustody,
    LossReport,
)
from junkai.registers.reviews import overdue_months
from junkai.registers.testing import DAY
from junkai.testing import SAMPLE_CARD, PersonaTestCase


@time_machine.travel(DAY, tick=False)
class DemoRegistersTests(PersonaTestCase):
    def test_every_post_gets_its_registers_and_some_history(self) -> None:
        # A household with a card at 港町交番, whose binder the demo has stolen.
        k3 = self.post("K3")
        household = household_actions.do_create_household(
            k3.beats.order_by("code")[0], acting_officer=None, kind="RESIDENCE",
            name="港", town="港町", chome="1", banchi="1",
        )  # fmt: skip
        household_actions.do_save_card(
            household,
            {**SAMPLE_CARD, "binder_number": "1"},
            acting_officer=self.officer("kobancho3"),
            expected_version=None,
        )
        result = build_demo_registers(self.station)
        assert result is not None
        posts = list(self.station.posts.all())
        for post in posts:
            self.assertTrue(Cabinet.objects.filter(post=post).exists(), post.code)
            numbers = set(Binder.objects.filter(post=post).values_list("number", flat=True))
            self.assertTrue(numbers, post.code)
            cards = ContactCard.objects.filter(post=post, status=CardStatus.ACTIVE)
            self.assertTrue(set(cards.values_list("binder_number", flat=True)) <= numbers)
            self.assertTrue(KeyCustody.objects.filter(cabinet__post=post).exists(), post.code)
        c1 = self.post("C1")
        self.assertTrue(BinderCheckout.objects.filter(post=c1, self_confirmed=True).exists())
        self.assertFalse(
            BinderCheckout.objects.filter(self_confirmed=True).exclude(post=c1).exists()
        )
        self.assertTrue(CheckoutMonthReview.objects.filter(post=self.post("K1")).exists())
        self.assertTrue(overdue_months(posts))
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.CHECKOUT_OVERDUE_ALERT).count(), 1
        )
        self.assertTrue(InspectionFollowUp.objects.filter(status=FollowUpStatus.OPEN).exists())
        # 港町交番: a binder stolen three days ago, one of its households told so far.
        self.assertEqual(result.loss_reports, 1)
        loss = LossReport.objects.get()
        self.assertEqual(loss.post.code, "K3")
        self.assertEqual(loss.checkout.status, CheckoutStatus.LOST)  # type: ignore[union-attr]
        self.assertEqual(loss.entries.filter(informed_at__isnull=False).count(), 1)
        self.assertTrue(verify().ok)
        # Once only.
        self.assertIsNone(build_demo_registers(self.station))
