"""Sign-in through the page: Argon2id, lockout, the second factor, session limits, audit."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.contrib.auth.hashers import identify_hasher
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from junkai.audit.models import AuditEvent, EventType
from junkai.org.demo import DEMO_LOGINS, DEMO_PASSWORD
from junkai.testing import PersonaTestCase

BAD = "ログインIDまたはパスワードが正しくありません"


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


class SignInTests(PersonaTestCase):
    def sign_in(self, username: str, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
        return self.client.post("/login/", {"username": username, "password": password})

    def test_sign_in_page_is_japanese(self) -> None:
        response = self.client.get("/login/")
        self.assertContains(response, '<html lang="ja">')
        self.assertContains(response, "ログインID")

    def test_every_demo_login_works(self) -> None:
        for username in DEMO_LOGINS:
            with self.subTest(username=username):
                self.client.logout()
                response = self.sign_in(username)
                self.assertRedirects(response, "/", fetch_redirect_response=False)
                self.assertContains(self.client.get("/"), "現在の配置・指定")

    def test_passwords_are_argon2id(self) -> None:
        officer = self.officer("officer1a")
        self.assertEqual(identify_hasher(officer.password).algorithm, "argon2")
        self.assertIn("argon2id", officer.password)

    def test_unknown_user_and_wrong_password_answer_alike(self) -> None:
        unknown = self.sign_in("nobody", "whatever-123")
        wrong = self.sign_in("officer1a", "wrong-password")
        self.assertEqual(unknown.status_code, 401)
        self.assertEqual(wrong.status_code, 401)
        self.assertContains(unknown, BAD, status_code=401)
        self.assertContains(wrong, BAD, status_code=401)
        failures = AuditEvent.objects.filter(event_type=EventType.SIGN_IN_FAILED)
        self.assertEqual(failures.count(), 2)
        self.assertNotIn("wrong-password", str(list(failures.values_list("details", flat=True))))

    def test_lockout_after_five_failures_for_ten_minutes(self) -> None:
        with time_machine.travel(timezone.now(), tick=False) as clock:
            for _ in range(5):
                self.sign_in("officer1a", "wrong-password")
            locked = self.sign_in("officer1a")  # even the right password
            self.assertEqual(locked.status_code, 429)
            self.assertContains(locked, "10分間ロック", status_code=429)
            self.assertFalse(self.client.get("/").wsgi_request.user.is_authenticated)
            # Another officer is not affected: the lock is per username.
            self.assertEqual(self.sign_in("officer1b").status_code, 302)
            self.client.logout()
            clock.shift(dt.timedelta(minutes=9))
            self.assertEqual(self.sign_in("officer1a").status_code, 429)
            # That attempt counts too: the 10 minutes run from the last try.
            clock.shift(dt.timedelta(minutes=9))
            self.assertEqual(self.sign_in("officer1a").status_code, 429)
            clock.shift(dt.timedelta(minutes=10, seconds=1))
            self.assertEqual(self.sign_in("officer1a").status_code, 302)

    def test_sign_in_is_audited(self) -> None:
        self.sign_in("officer1a")
        event = AuditEvent.objects.filter(event_type=EventType.SIGN_IN).latest("id")
        self.assertEqual(event.actor_id, self.officer("officer1a").id)

    def test_open_redirect_is_refused(self) -> None:
        response = self.client.post(
            "/login/",
            {"username": "officer1a", "password": DEMO_PASSWORD, "next": "https://evil.example/"},
        )
        self.assertRedirects(response, "/", fetch_redirect_response=False)

    def test_idle_timeout_thirty_minutes(self) -> None:
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self.sign_in("officer1a")
            clock.shift(dt.timedelta(minutes=29))
            self.assertEqual(self.client.get("/").status_code, 200)
            clock.shift(dt.timedelta(minutes=31))
            self.assertEqual(self.client.get("/").status_code, 302)

    def test_absolute_timeout_twelve_hours(self) -> None:
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self.sign_in("officer1a")
            for _ in range(12 * 3 + 1):  # active every 20 minutes, past 12 hours
                clock.shift(dt.timedelta(minutes=20))
                response = self.client.get("/")
            self.assertEqual(response.status_code, 302)
            self.assertIn("/login/", response["Location"])

    def test_sign_out_needs_post_and_ends_session(self) -> None:
        self.sign_in("officer1a")
        self.assertEqual(self.client.get("/logout/").status_code, 405)
        self.client.post("/logout/")
        self.assertEqual(self.client.get("/").status_code, 302)


class SecondFactorTests(PersonaTestCase):
    def enroll(self, username: str) -> TOTPDevice:
        self.client.post("/login/", {"username": username, "password": DEMO_PASSWORD})
        page = self.client.get("/mfa/enroll/")
        self.assertContains(page, "<svg")
        device = TOTPDevice.objects.get(user__username=username, confirmed=False)
        bad = self.client.post("/mfa/enroll/", {"token": "12345"})
        self.assertContains(bad, "確認コードは6桁で入力してください")
        response = self.client.post("/mfa/enroll/", {"token": current_code(device)})
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        device.refresh_from_db()
        self.assertTrue(device.confirmed)
        self.client.logout()
        return device

    def test_enrolled_officer_must_give_a_code(self) -> None:
        device = self.enroll("officer1a")
        response = self.client.post("/login/", {"username": "officer1a", "password": DEMO_PASSWORD})
        self.assertRedirects(response, "/mfa/", fetch_redirect_response=False)
        # Nothing but /mfa/ until the code is given.
        self.assertRedirects(self.client.get("/"), "/mfa/", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/api/v1/me").status_code, 401)
        wrong = self.client.post("/mfa/", {"token": "000000"})
        self.assertContains(wrong, "確認コードが正しくありません")
        with time_machine.travel(timezone.now() + dt.timedelta(seconds=60), tick=False):
            right = self.client.post("/mfa/", {"token": current_code(device)})
            self.assertRedirects(right, "/", fetch_redirect_response=False)
            self.assertEqual(self.client.get("/").status_code, 200)
        self.assertTrue(AuditEvent.objects.filter(event_type=EventType.OTP_VERIFIED).exists())
        self.assertTrue(AuditEvent.objects.filter(event_type=EventType.OTP_FAILED).exists())

    @override_settings(JUNKAI_REQUIRE_MFA=True)
    def test_required_mfa_forces_enrollment_first(self) -> None:
        response = self.client.post("/login/", {"username": "officer1b", "password": DEMO_PASSWORD})
        self.assertRedirects(response, "/mfa/", fetch_redirect_response=False)
        page = self.client.get("/mfa/")
        self.assertContains(page, "全職員に二要素認証が必要です")
        self.assertRedirects(self.client.get("/account/"), "/mfa/", fetch_redirect_response=False)
        device = TOTPDevice.objects.get(user__username="officer1b")
        done = self.client.post("/mfa/", {"token": current_code(device)})
        self.assertRedirects(done, "/", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/account/").status_code, 200)
