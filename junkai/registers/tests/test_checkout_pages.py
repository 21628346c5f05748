"""The 持出確認簿 through the pages: declare, confirm out, return, confirm return; who may do
which step (第5-3(3)ア〜ウ); the single-officer 駐在所; overdue alerts; the monthly review (エ)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.registers import actions
from junkai.registers.models import Binder, BinderCheckout, CheckoutMonthReview, CheckoutStatus
from junkai.registers.testing import DAY, JST, RegistersTestCase


def _new(client: Client, post_id: int, binder_ids: list[int], purpose: str = "巡回連絡") -> Any:
    return client.post(
        f"/registers/posts/{post_id}/checkouts/new/",
        {"binder_ids": [str(i) for i in binder_ids], "purpose": purpose},
    )


@time_machine.travel(DAY, tick=False)
class CheckoutRoundTripTests(RegistersTestCase):
    def declare(self, username: str = "officer1a", binders: list[int] | None = None) -> Any:
        ids = binders if binders is not None else [self.k1_binders[0].id]
        return _new(self.client_for(username), self.k1.id, ids)

    def test_round_trip_with_a_second_officer(self) -> None:
        response = self.declare(binders=[self.k1_binders[0].id, self.k1_binders[1].id])
        self.assertRedirects(response, f"/registers/posts/{self.k1.id}/checkouts/")
        checkout = BinderCheckout.objects.get()
        self.assertEqual(checkout.borrower.username, "officer1a")
        self.assertEqual(checkout.declared_to.username, "kacho")  # type: ignore[union-attr]
        self.assertEqual(checkout.due_at, dt.datetime(2026, 6, 10, 22, 0, tzinfo=JST))
        self.assertEqual(checkout.status, CheckoutStatus.DECLARED)

        officer1a, officer1b = self.client_for("officer1a"), self.client_for("officer1b")
        # 第5-3(3)ウ: the borrower may not confirm his own checkout at a 交番.
        denied = officer1a.post(f"/registers/checkouts/{checkout.id}/confirm-out/")
        self.assertEqual(denied.status_code, 403)
        self.assertIn("持出警察官以外の者", denied.content.decode())
        officer1b.post(f"/registers/checkouts/{checkout.id}/confirm-out/")
        checkout.refresh_from_db()
        self.assertEqual(checkout.status, CheckoutStatus.OUT)
        self.assertFalse(checkout.self_confirmed)
        # Only the borrower records the return.
        self.assertEqual(
            officer1b.post(f"/registers/checkouts/{checkout.id}/return/").status_code, 403
        )
        officer1a.post(f"/registers/checkouts/{checkout.id}/return/")
        self.assertEqual(
            officer1a.post(f"/registers/checkouts/{checkout.id}/confirm-return/").status_code, 403
        )
        # The custodian (交番所長) confirms the return.
        self.client_for("kobancho1").post(f"/registers/checkouts/{checkout.id}/confirm-return/")
        checkout.refresh_from_db()
        self.assertEqual(checkout.status, CheckoutStatus.CLOSED)
        self.assertEqual(checkout.return_confirmed_by.username, "kobancho1")  # type: ignore[union-attr]
        self.assertEqual(
            list(
                AuditEvent.objects.filter(object_id=str(checkout.id))
                .filter(event_type__in=range(610, 614))
                .values_list("event_type", flat=True)
            ),
            [610, 611, 612, 613],
        )
        # Back in the cabinet: it may go out again.
        self.assertEqual(self.declare("officer1b").status_code, 302)

    def test_a_binder_out_cannot_be_declared_again(self) -> None:
        self.declare()
        response = self.declare("officer1b", [self.k1_binders[0].id, self.k1_binders[2].id])
        self.assertEqual(response.status_code, 422)
        self.assertIn("簿冊 1 は持出中です", response.content.decode())
        self.assertEqual(BinderCheckout.objects.count(), 1)

    def test_steps_out_of_order_are_refused_with_a_message(self) -> None:
        self.declare()
        checkout = BinderCheckout.objects.get()
        response = self.client_for("officer1a").post(
            f"/registers/checkouts/{checkout.id}/return/", follow=True
        )
        self.assertIn("持出しの確認が済んでいません", response.content.decode())
        checkout.refresh_from_db()
        self.assertIsNone(checkout.returned_at)

    def test_purpose_and_binders_are_required(self) -> None:
        response = _new(self.client_for("officer1a"), self.k1.id, [], purpose="")
        body = response.content.decode()
        self.assertEqual(response.status_code, 422)
        self.assertIn("持ち出す簿冊を選んでください", body)
        self.assertIn("持出しの目的を入力してください", body)

    def test_a_binder_of_another_post_is_refused(self) -> None:
        # The form lists this post's binders only: another post's is not a valid choice.
        response = _new(self.client_for("officer1a"), self.k1.id, [self.k2_binder.id])
        self.assertEqual(response.status_code, 422)
        self.assertIn("この交番等のものではありません", response.content.decode())
        # And the other post's pages are not his to see.
        self.assertEqual(
            _new(self.client_for("officer1a"), self.k2.id, [self.k2_binder.id]).status_code,
            404,
        )

    def test_binders_to_pick_are_in_binder_number_order_whatever_their_titles(self) -> None:
        # A title lengthens the checkbox label: the order must still be 簿冊番号's (9 before 10).
        for number, title in (("10", ""), ("9", "東一丁目〜三丁目（旧町名）")):
            actions.do_create_binder(
                self.k1, acting_officer=None, number=number, cabinet=self.k1_cabinet, title=title
            )
        page = self.client_for("officer1a").get(f"/registers/posts/{self.k1.id}/checkouts/new/")
        self.assertEqual(page.status_code, 200)
        ids = re.findall(r'name="binder_ids" value="(\d+)"', page.content.decode())
        numbers = dict(Binder.objects.filter(post=self.k1).values_list("id", "number"))
        self.assertEqual([numbers[int(i)] for i in ids], ["1", "2", "3", "9", "10"])

    def test_readers_see_the_register_but_do_not_declare(self) -> None:
        self.declare()
        dairi = self.client_for("dairi")
        page = dairi.get(f"/registers/posts/{self.k1.id}/checkouts/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "佐野 翔太")
        self.assertNotContains(page, "持出しを申告する")
        self.assertEqual(
            dairi.get(f"/registers/posts/{self.k1.id}/checkouts/new/").status_code, 403
        )
        self.assertEqual(
            self.client_for("officer2a")
            .get(f"/registers/posts/{self.k1.id}/checkouts/")
            .status_code,
            404,
        )

    def test_register_page_shows_the_form_columns_and_the_right_buttons(self) -> None:
        self.declare()
        url = f"/registers/posts/{self.k1.id}/checkouts/"
        mine = self.client_for("officer1a").get(url)
        for column in ("持出日時", "簿冊番号", "持出警察官", "目的", "申告先", "持出確認者"):
            self.assertContains(mine, f"<th>{column}</th>", html=False)
        self.assertContains(mine, "<th>返却日時</th><th>返却確認者</th>", html=False)
        self.assertNotContains(mine, ">持出確認</button>")
        self.assertContains(self.client_for("officer1b").get(url), ">持出確認</button>")
        before = AuditEvent.objects.filter(event_type=EventType.READ_REGISTER).count()
        self.client_for("officer1b").get(url)
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.READ_REGISTER).count(), before + 1
        )

    def test_register_page_queries_do_not_grow_with_entries(self) -> None:
        client = self.client_for("officer1b")
        url = f"/registers/posts/{self.k1.id}/checkouts/"
        self.declare()
        client.get(url)  # warm the session and the officer's assignments
        # The read's audit row: one insert on PostgreSQL (sealed after commit); on SQLite it
        # is sealed inline (savepoint, insert, seal head, pending, seal, release).
        expected = 9 if connection.vendor == "postgresql" else 14
        with self.assertNumQueries(expected):
            client.get(url)
        for binder in self.k1_binders[1:]:
            self.declare(binders=[binder.id])
        with self.assertNumQueries(expected):
            client.get(url)

    def test_earlier_months_open_entries_stay_on_the_current_page(self) -> None:
        with time_machine.travel(dt.datetime(2026, 5, 28, 10, 0, tzinfo=JST), tick=False):
            self.declare()
        page = self.client_for("officer1b").get(f"/registers/posts/{self.k1.id}/checkouts/")
        self.assertEqual(len(page.context["earlier"]), 1)
        self.assertContains(page, "前月以前に持ち出し")


#: A month and day without an era (6月10日 10:00, 6/10), as the register's columns showed them.
BARE_MONTH_DAY = re.compile(r"(?<![年\d.])\d{1,2}月\d{1,2}日|(?<![\d.])\d{1,2}/\d{1,2}(?![\d/])")


@time_machine.travel(DAY, tick=False)
class RegisterDatesTests(RegistersTestCase):
    def test_every_date_of_the_register_pages_is_in_wareki(self) -> None:
        """The register, the post's binders (持出中 since when), the form's binders out and the
        monthly review grid: R8.6.10 10:00, never 6月10日 or 6/10."""
        _new(self.client_for("officer1b"), self.k1.id, [self.k1_binders[1].id])
        _new(self.client_for("officer1a"), self.k1.id, [self.k1_binders[0].id])
        checkout = BinderCheckout.objects.filter(borrower__username="officer1a").get()
        self.client_for("officer1b").post(f"/registers/checkouts/{checkout.id}/confirm-out/")
        self.client_for("officer1a").post(f"/registers/checkouts/{checkout.id}/return/")
        self.client_for("kacho").post(f"/registers/reviews/{self.k1.id}/2026/5/")
        for username, url in (
            ("officer1a", f"/registers/posts/{self.k1.id}/checkouts/"),
            ("officer1a", f"/registers/posts/{self.k1.id}/checkouts/new/"),
            ("kobancho1", f"/registers/posts/{self.k1.id}/"),
            ("kacho", "/registers/reviews/"),
        ):
            response = self.client_for(username).get(url)
            self.assertEqual(response.status_code, 200, url)
            main = response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
            text = re.sub(r"<[^>]+>", " ", main)
            self.assertIn("R8.6.10", text, url)
            self.assertEqual(BARE_MONTH_DAY.findall(text), [], url)
        register = self.client_for("officer1a").get(f"/registers/posts/{self.k1.id}/checkouts/")
        self.assertContains(register, 'title="令和8年6月10日 10:00">R8.6.10 10:00</time>')


@time_machine.travel(DAY, tick=False)
class SingleOfficerChuzaishoTests(RegistersTestCase):
    def test_the_officer_confirms_himself_and_the_entry_says_so(self) -> None:
        client = self.client_for("chuzai1")
        _new(client, self.c1.id, [self.c1_binder.id])
        checkout = BinderCheckout.objects.get(post=self.c1)
        client.post(f"/registers/checkouts/{checkout.id}/confirm-out/")
        checkout.refresh_from_db()
        self.assertEqual(checkout.out_confirmed_by.username, "chuzai1")  # type: ignore[union-attr]
        self.assertTrue(checkout.self_confirmed)
        client.post(f"/registers/checkouts/{checkout.id}/return/")
        client.post(f"/registers/checkouts/{checkout.id}/confirm-return/")
        checkout.refresh_from_db()
        self.assertEqual(checkout.status, CheckoutStatus.CLOSED)
        page = client.get(f"/registers/posts/{self.c1.id}/checkouts/")
        self.assertContains(page, ">本人確認</span>", count=2)
        event = AuditEvent.objects.get(
            event_type=EventType.CHECKOUT_CONFIRMED_OUT, object_id=str(checkout.id)
        )
        self.assertEqual(event.details, {"self_confirmed": True})


@time_machine.travel(DAY, tick=False)
class OverdueAlertTests(RegistersTestCase):
    def test_alert_once_per_overdue_checkout_to_custodian_and_manager(self) -> None:
        _new(self.client_for("officer1a"), self.k1.id, [self.k1_binders[0].id])
        checkout = BinderCheckout.objects.get()
        self.client_for("officer1b").post(f"/registers/checkouts/{checkout.id}/confirm-out/")
        call_command("checkout_alerts", stdout=open("/dev/null", "w"))  # noqa: SIM115
        self.assertFalse(AuditEvent.objects.filter(event_type=614).exists())
        with time_machine.travel(dt.datetime(2026, 6, 10, 22, 30, tzinfo=JST), tick=False):
            for _ in range(2):
                call_command("checkout_alerts", stdout=open("/dev/null", "w"))  # noqa: SIM115
            events = AuditEvent.objects.filter(event_type=EventType.CHECKOUT_OVERDUE_ALERT)
            self.assertEqual(events.count(), 1)
            details = events.get().details
            self.assertEqual(details["custodians"], [self.officer("kobancho1").id])
            self.assertEqual(details["managers"], [self.officer("kacho").id])
            for username in ("kobancho1", "kacho"):
                page = self.client_for(username).get("/registers/alerts/")
                self.assertEqual([e.id for e in page.context["overdue"]], [checkout.id])
                self.assertContains(page, "期限超過")
            self.assertEqual(
                self.client_for("officer2a").get("/registers/alerts/").context["overdue"], []
            )

    def test_a_checkout_after_the_cutoff_is_due_the_next_evening(self) -> None:
        with time_machine.travel(dt.datetime(2026, 6, 10, 22, 30, tzinfo=JST), tick=False):
            _new(self.client_for("officer1a"), self.k1.id, [self.k1_binders[0].id])
        self.assertEqual(
            BinderCheckout.objects.get().due_at, dt.datetime(2026, 6, 11, 22, 0, tzinfo=JST)
        )

    def test_the_cutoff_is_a_setting(self) -> None:
        with self.settings(JUNKAI_CHECKOUT_RETURN_BY="17:15"):
            _new(self.client_for("officer1a"), self.k1.id, [self.k1_binders[0].id])
        self.assertEqual(
            BinderCheckout.objects.get().due_at, dt.datetime(2026, 6, 10, 17, 15, tzinfo=JST)
        )


@time_machine.travel(DAY, tick=False)
class MonthlyReviewTests(RegistersTestCase):
    def test_unsigned_month_is_overdue_to_manager_and_chief_until_signed(self) -> None:
        for username in ("kacho", "chief"):
            months = self.client_for(username).get("/registers/alerts/").context["months"]
            self.assertIn((self.k1.id, dt.date(2026, 5, 1)), [(c.post.id, c.month) for c in months])
        self.assertEqual(
            self.client_for("officer1a").get("/registers/alerts/").context["months"], []
        )
        grid = self.client_for("kacho").get("/registers/reviews/")
        self.assertContains(grid, "未確認")

        response = self.client_for("kacho").post(f"/registers/reviews/{self.k1.id}/2026/5/")
        self.assertRedirects(response, "/registers/reviews/")
        review = CheckoutMonthReview.objects.get(post=self.k1)
        self.assertEqual(
            (review.month, review.reviewed_by.username), (dt.date(2026, 5, 1), "kacho")
        )
        self.assertTrue(
            AuditEvent.objects.filter(event_type=EventType.CHECKOUT_MONTH_REVIEWED).exists()
        )
        months = self.client_for("chief").get("/registers/alerts/").context["months"]
        self.assertNotIn((self.k1.id, dt.date(2026, 5, 1)), [(c.post.id, c.month) for c in months])
        again = self.client_for("kacho").post(
            f"/registers/reviews/{self.k1.id}/2026/5/", follow=True
        )
        self.assertContains(again, "既に確認済みです")
        self.assertEqual(CheckoutMonthReview.objects.count(), 1)

    def test_only_the_manager_signs(self) -> None:
        for username in ("officer1a", "kobancho1", "chief", "dairi"):
            client = self.client_for(username)
            self.assertEqual(client.get("/registers/reviews/").status_code, 404, username)
            self.assertEqual(
                client.post(f"/registers/reviews/{self.k1.id}/2026/5/").status_code, 404, username
            )
        self.assertFalse(CheckoutMonthReview.objects.exists())

    def test_a_future_month_cannot_be_signed(self) -> None:
        response = self.client_for("kacho").post(
            f"/registers/reviews/{self.k1.id}/2026/7/", follow=True
        )
        self.assertContains(response, "まだ始まっていない月")
        self.assertFalse(CheckoutMonthReview.objects.exists())


@time_machine.travel(DAY, tick=False)
class ConfirmerRuleIsOneStatementTests(RegistersTestCase):
    """Who may confirm a checkout (第5-3(3)ウ) is one rule (actions.confirmation_refusal): the
    page offers the button to exactly those whom the action, through the page and the API,
    lets confirm."""

    def test_the_button_and_the_action_agree_for_every_persona(self) -> None:

        # (post, borrower, {confirmer: may he confirm?})
        cases = (
            (
                self.k1,
                "officer1a",
                {"officer1a": False, "officer1b": True, "kobancho1": True, "kacho": True},
            ),
            # A single-officer 駐在所: the officer confirms his own (ただし書).
            (self.c1, "chuzai1", {"chuzai1": True, "kacho": True, "officer1b": False}),
        )
        number = 100
        for post, borrower, confirmers in cases:
            cabinet = post.cabinets.get()
            for username in confirmers:
                with self.subTest(post=post.code, confirmer=username):
                    number += 1
                    binder = actions.do_create_binder(
                        post, acting_officer=None, number=str(number), cabinet=cabinet
                    )
                    checkout = actions.do_declare_checkout(
                        [binder], acting_officer=self.officer(borrower), purpose="巡回連絡"
                    )
                    client = self.client_for(username)
                    page = client.get(f"/registers/posts/{post.id}/checkouts/")
                    offered = (
                        page.status_code == 200
                        # The plain button; the co-signature form (accounts.cosign) is
                        # for someone else on this device.
                        and f'action="/registers/checkouts/{checkout.id}/confirm-out/">'
                        in page.content.decode()
                    )
                    token, _ = do_issue_api_token(self.officer(username))
                    api = Client(headers={"Authorization": f"Bearer {token}"}).post(
                        f"/api/v1/checkouts/{checkout.id}/confirm-out",
                        "{}",
                        content_type="application/json",
                    )
                    self.assertEqual(offered, api.status_code == 200, api.content)
                    self.assertEqual(offered, confirmers[username])
