"""The second officer's 持出確認 on the same device (issue 17 item 11; DESIGN "Second officer on
the same device"): his own ID and password (and TOTP where MFA is on), through the sign-in's
lockout and throttle, recorded as him; the tablet's session stays the first officer's."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from junkai.audit.models import AuditEvent, EventType
from junkai.demo.organisation import DEMO_PASSWORD
from junkai.registers import actions
from junkai.registers.models import BinderCheckout
from junkai.registers.testing import DAY, RegistersTestCase


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@time_machine.travel(DAY, tick=False)
class SecondOfficerOnTheSameDeviceTests(RegistersTestCase):
    def setUp(self) -> None:
        self.checkout = actions.do_declare_checkout(
            [self.k1_binders[0]], acting_officer=self.officer("officer1a"), purpose="巡回連絡"
        )
        # The 交番's tablet, signed in as the borrower.
        self.tablet = self.client_for("officer1a")

    def confirm(self, username: str, password: str, code: str = "", step: str = "confirm-out"):  # type: ignore[no-untyped-def]
        return self.tablet.post(
            f"/registers/checkouts/{self.checkout.id}/{step}/",
            {"co_username": username, "co_password": password, "co_otp": code},
        )

    def test_the_register_offers_it_to_the_borrower(self) -> None:
        page = self.tablet.get(f"/registers/posts/{self.k1.id}/checkouts/").content.decode()
        self.assertIn("この端末で持出確認", page)
        self.assertIn('name="co_password"', page)
        # One who may confirm himself gets the plain button instead.
        other = self.client_for("officer1b").get(f"/registers/posts/{self.k1.id}/checkouts/")
        self.assertNotContains(other, "この端末で持出確認")

    def test_success_is_recorded_as_him_and_the_session_stays(self) -> None:
        response = self.confirm("officer1b", DEMO_PASSWORD)
        self.assertEqual(response.status_code, 302)
        page = self.tablet.get(response["Location"])
        self.assertContains(page, "簿冊 1 の持出しを確認しました（確認者 巡査長 北川 美咲）")
        self.checkout.refresh_from_db()
        self.assertEqual(self.checkout.out_confirmed_by, self.officer("officer1b"))
        event = AuditEvent.objects.filter(event_type=EventType.CHECKOUT_CONFIRMED_OUT).get()
        self.assertEqual(event.actor_id, self.officer("officer1b").id)
        co_sign = AuditEvent.objects.filter(
            event_type=EventType.SIGN_IN, details__channel="co-sign"
        ).get()
        self.assertEqual(co_sign.actor_id, self.officer("officer1b").id)
        self.assertEqual(co_sign.details["device_officer"], self.officer("officer1a").id)
        # Still the borrower's tablet.
        home = self.tablet.get("/")
        self.assertEqual(home.wsgi_request.user, self.officer("officer1a"))
        # The return, the same way.
        actions.do_record_return(self.checkout, acting_officer=self.officer("officer1a"))
        self.confirm("kobancho1", DEMO_PASSWORD, step="confirm-return")
        self.checkout.refresh_from_db()
        self.assertEqual(self.checkout.return_confirmed_by, self.officer("kobancho1"))

    def test_a_wrong_password_is_refused_and_counted_by_the_lockout(self) -> None:
        for _ in range(4):
            response = self.confirm("officer1b", "wrong-password")
            self.assertEqual(response.status_code, 302)
        page = self.tablet.get(f"/registers/posts/{self.k1.id}/checkouts/")
        self.assertContains(page, "確認者のログインIDまたはパスワードが正しくありません")
        self.assertEqual(AuditEvent.objects.filter(event_type=EventType.SIGN_IN_FAILED).count(), 4)
        fifth = self.confirm("officer1b", "wrong-password")
        self.assertEqual(fifth.status_code, 429)
        self.assertContains(fifth, "10分間ロック", status_code=429)
        # Locked for the sign-in too, even with the right password; and for the co-signature.
        signing_in = Client().post("/login/", {"username": "officer1b", "password": DEMO_PASSWORD})
        self.assertEqual(signing_in.status_code, 429)
        self.assertEqual(self.confirm("officer1b", DEMO_PASSWORD).status_code, 429)
        self.checkout.refresh_from_db()
        self.assertIsNone(self.checkout.out_confirmed_by)
        # The tablet's officer was not signed out.
        self.assertEqual(self.tablet.get("/").wsgi_request.user, self.officer("officer1a"))

    def test_the_borrower_cannot_confirm_his_own(self) -> None:
        self.confirm("officer1a", DEMO_PASSWORD)
        page = self.tablet.get(f"/registers/posts/{self.k1.id}/checkouts/")
        self.assertContains(page, "持出警察官以外の者が行います")
        self.checkout.refresh_from_db()
        self.assertIsNone(self.checkout.out_confirmed_by)

    def test_an_officer_of_another_post_cannot(self) -> None:
        self.confirm("officer2a", DEMO_PASSWORD)
        self.checkout.refresh_from_db()
        self.assertIsNone(self.checkout.out_confirmed_by)

    def test_with_mfa_his_code_is_needed(self) -> None:
        # officer1b uses TOTP: his password alone does not do, nor a wrong code.
        device = TOTPDevice.objects.create(user=self.officer("officer1b"), confirmed=True)
        page = self.tablet.get(f"/registers/posts/{self.k1.id}/checkouts/").content.decode()
        self.assertIn('name="co_otp"', page)
        self.confirm("officer1b", DEMO_PASSWORD)
        wrong = "000000" if current_code(device) != "000000" else "111111"
        self.confirm("officer1b", DEMO_PASSWORD, wrong)
        self.assertIsNone(BinderCheckout.objects.get(id=self.checkout.id).out_confirmed_by)
        self.assertEqual(
            AuditEvent.objects.filter(
                event_type=EventType.OTP_FAILED, details__channel="co-sign"
            ).count(),
            2,
        )
        # django-otp slows down after failures (as on the sign-in): a minute later, his code.
        with time_machine.travel(DAY + dt.timedelta(minutes=1), tick=False):
            device.refresh_from_db()
            self.confirm("officer1b", DEMO_PASSWORD, current_code(device))
        self.assertEqual(
            BinderCheckout.objects.get(id=self.checkout.id).out_confirmed_by,
            self.officer("officer1b"),
        )
