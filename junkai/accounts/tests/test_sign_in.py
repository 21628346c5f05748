"""Sign-in through the page: Argon2id, lockout, the second factor, session limits, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.hashers import identify_hasher
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from junkai.accounts.actions import do_issue_api_token
from junkai.accounts.models import SignInFailure
from junkai.accounts.throttle import SPRAY_IDS, SPRAY_PACE_S
from junkai.audit.models import AuditEvent, EventType
from junkai.demo.organisation import DEMO_LOGINS, DEMO_PASSWORD
from junkai.org import actions as org_actions
from junkai.testing import PersonaTestCase

BAD = "ログインIDまたはパスワードが正しくありません"


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


#: Demo logins with beats of their own to walk: sign-in lands them on 巡回予定.
BEAT_WALKERS = {"officer1a", "officer1b", "officer2a", "chuzai1"}


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
                # A beat officer lands on his work list (巡回予定); everyone else on home.
                landing = "/worklist/" if username in BEAT_WALKERS else "/"
                self.assertRedirects(response, landing, fetch_redirect_response=False)
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
        self.assertRedirects(response, "/worklist/", fetch_redirect_response=False)

    def test_landing_a_page_asked_for_is_kept_the_bare_address_is_not(self) -> None:
        asked = self.client.post(
            "/login/", {"username": "officer1a", "password": DEMO_PASSWORD, "next": "/beats/"}
        )
        self.assertRedirects(asked, "/beats/", fetch_redirect_response=False)
        self.client.logout()
        bare = self.client.post(
            "/login/", {"username": "officer1a", "password": DEMO_PASSWORD, "next": "/"}
        )
        self.assertRedirects(bare, "/worklist/", fetch_redirect_response=False)
        self.client.logout()
        manager = self.client.post(
            "/login/", {"username": "kacho", "password": DEMO_PASSWORD, "next": "/"}
        )
        self.assertRedirects(manager, "/", fetch_redirect_response=False)

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
            self.assertRedirects(right, "/worklist/", fetch_redirect_response=False)
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


class PasswordChangeTests(PersonaTestCase):
    """ASVS 6.2: officers change their own password; a password someone else issued is changed
    at the first sign-in, before the second factor is enrolled; breached passwords are refused."""

    NEW = "kanazawa-ekimae-1987-shift"

    def issue(self, username: str = "newcomer") -> None:
        org_actions.do_create_officer(
            acting_officer=None,
            username=username,
            full_name="新任 太郎",
            password="Issued-By-Kacho-2026",
        )

    @override_settings(JUNKAI_REQUIRE_MFA=True)
    def test_an_issued_password_is_changed_before_enrollment(self) -> None:
        self.issue()
        signed = self.client.post(
            "/login/", {"username": "newcomer", "password": "Issued-By-Kacho-2026"}
        )
        self.assertRedirects(signed, "/mfa/", fetch_redirect_response=False)
        # Not even the enrollment page (whoever knows the issued password would enroll his own
        # phone): only the change.
        self.assertRedirects(
            self.client.get("/mfa/"), "/account/password/", fetch_redirect_response=False
        )
        self.assertRedirects(
            self.client.get("/"), "/account/password/", fetch_redirect_response=False
        )
        self.assertFalse(TOTPDevice.objects.filter(user__username="newcomer").exists())
        # Nor the API through the session.
        self.assertEqual(self.client.get("/api/v1/me").status_code, 401)
        api = self.client.post(
            "/api/v1/auth/token",
            '{"username": "newcomer", "password": "Issued-By-Kacho-2026"}',
            content_type="application/json",
        )
        self.assertEqual(api.status_code, 403)
        changed = self.client.post(
            "/account/password/",
            {"current": "Issued-By-Kacho-2026", "new": self.NEW, "again": self.NEW},
        )
        self.assertRedirects(changed, "/mfa/", fetch_redirect_response=False)
        self.assertContains(self.client.get("/mfa/"), "全職員に二要素認証が必要です")
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.PASSWORD_CHANGED, actor__username="newcomer"
            ).exists()
        )

    def test_an_issued_password_opens_neither_pages_nor_the_api_until_changed(self) -> None:
        self.issue()
        signed = self.client.post(
            "/login/", {"username": "newcomer", "password": "Issued-By-Kacho-2026"}
        )
        self.assertEqual(signed.status_code, 302)
        self.assertRedirects(
            self.client.get("/"), "/account/password/", fetch_redirect_response=False
        )
        self.assertEqual(self.client.get("/api/v1/me").status_code, 401)

    def test_wrong_current_weak_or_breached_new_are_refused_in_japanese(self) -> None:
        client = self.client_for("officer1a")
        cases = {
            ("wrong-current-pass", self.NEW): "現在のパスワードが正しくありません",
            (DEMO_PASSWORD, "password1234"): "漏えいしたパスワードの一覧",
            (DEMO_PASSWORD, "short"): "短すぎます",
            (DEMO_PASSWORD, "12345678901234"): "数字だけ",
        }
        for (current, new), message in cases.items():
            with self.subTest(new=new):
                page = client.post(
                    "/account/password/", {"current": current, "new": new, "again": new}
                )
                self.assertEqual(page.status_code, 422)
                self.assertContains(page, message, status_code=422)
        officer = self.officer("officer1a")
        self.assertTrue(officer.check_password(DEMO_PASSWORD))

    def test_a_change_keeps_this_session_with_a_new_id_and_ends_tokens(self) -> None:
        client = self.client_for("officer1a")
        token, _ = do_issue_api_token(self.officer("officer1a"))
        old_key = client.session.session_key
        done = client.post(
            "/account/password/", {"current": DEMO_PASSWORD, "new": self.NEW, "again": self.NEW}
        )
        self.assertRedirects(done, "/account/", fetch_redirect_response=False)
        self.assertNotEqual(client.session.session_key, old_key)
        self.assertEqual(client.get("/account/").status_code, 200)
        bearer = Client(headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(bearer.get("/api/v1/me").status_code, 401)


class SessionRotationTests(PersonaTestCase):
    def test_the_session_id_changes_when_the_second_factor_is_given(self) -> None:
        officer = self.officer("officer1a")
        device = TOTPDevice.objects.create(user=officer, name="t", confirmed=True)
        self.client.post("/login/", {"username": "officer1a", "password": DEMO_PASSWORD})
        before = self.client.session.session_key
        self.client.post("/mfa/", {"token": current_code(device)})
        self.assertNotEqual(self.client.session.session_key, before)
        self.assertEqual(self.client.get("/").status_code, 200)


class SprayingTests(PersonaTestCase):
    """Many IDs failing from one source slow that source down (no address lockout: a 交番
    shares one); the lockout table keeps digests of what was typed, never the text."""

    def attempt(
        self, username: str, address: str = "10.0.0.9", password: str = "wrong-pass"
    ) -> Any:
        return self.client.post(
            "/login/", {"username": username, "password": password}, REMOTE_ADDR=address
        )

    def test_spraying_from_one_source_is_paced_and_others_are_not(self) -> None:
        for i in range(SPRAY_IDS):
            self.assertEqual(self.attempt(f"guess{i}").status_code, 401)
        paced = self.attempt("officer1a", password=DEMO_PASSWORD)
        self.assertEqual(paced.status_code, 429)
        self.assertIn("しばらく待ってから", paced.content.decode())
        self.assertTrue(paced["Retry-After"].isdigit())
        # Another address (another 交番) signs in at once.
        other = self.attempt("officer1b", address="10.0.1.1", password=DEMO_PASSWORD)
        self.assertEqual(other.status_code, 302)
        # The sprayer may try again after the pace.
        with time_machine.travel(timezone.now() + dt.timedelta(seconds=SPRAY_PACE_S + 1)):
            again = self.attempt("officer1a", password=DEMO_PASSWORD)
        self.assertEqual(again.status_code, 302)

    def test_one_officers_typos_do_not_pace_his_post(self) -> None:
        for _ in range(4):
            self.attempt("officer1a")
        self.assertEqual(self.attempt("officer1b", password=DEMO_PASSWORD).status_code, 302)

    def test_typed_ids_are_kept_as_digests(self) -> None:
        self.attempt("MyPassword-typed-as-id")
        stored = list(AccessAttempt.objects.values_list("username", flat=True)) + list(
            SignInFailure.objects.values_list("attempt", flat=True)
        )
        self.assertTrue(stored)
        self.assertFalse(any("MyPassword" in value for value in stored))
