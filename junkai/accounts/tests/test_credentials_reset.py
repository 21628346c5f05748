"""A forgotten password or a lost phone: the officer's manager reissues the password (shown
once, changed at the next sign-in) or resets his second factor, only for someone below him,
each step audited and every session and token of the officer ended."""

from __future__ import annotations

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.testing import PersonaTestCase


class CredentialsResetTests(PersonaTestCase):
    def reissue(self, manager: str, username: str) -> tuple[int, str]:
        target = self.officer(username)
        response = self.client_for(manager).post(f"/org/officers/{target.id}/password/")
        return response.status_code, response.content.decode()

    def test_the_manager_reissues_a_forgotten_password_shown_once(self) -> None:
        target = self.officer("officer1a")
        old_session = self.client_for("officer1a")
        token, _ = do_issue_api_token(target)
        api = Client(headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(api.get("/api/v1/worklist").status_code, 200)
        self.assertEqual(old_session.get("/").status_code, 200)
        page = self.client_for("kacho").get(f"/org/officers/{target.id}/")
        self.assertContains(page, "パスワードを再発行する")

        status, body = self.reissue("kacho", "officer1a")
        self.assertEqual(status, 200)
        password = body.split('<p class="issued-password" aria-label="初期パスワード"><code>')[1]
        password = password.split("</code>")[0]
        self.assertEqual(len(password), 14)
        target.refresh_from_db()
        self.assertTrue(target.check_password(password))
        self.assertTrue(target.password_change_required)

        # His sessions and tokens ended; the event names who did it, not the password.
        self.assertEqual(old_session.get("/").status_code, 302)
        self.assertEqual(api.get("/api/v1/worklist").status_code, 401)
        event = AuditEvent.objects.filter(
            event_type=EventType.PASSWORD_CHANGED, object_id=str(target.id)
        ).latest("id")
        self.assertEqual(event.actor_id, self.officer("kacho").id)
        self.assertEqual(event.purpose, "パスワードの再発行")
        self.assertNotIn(password, str(event.details))

        # The issued password signs him in, straight to the password change.
        signed_in = Client().post(
            "/login/", {"username": "officer1a", "password": password}, follow=True
        )
        self.assertContains(signed_in, "パスワードの変更")

    def test_a_lockout_is_lifted_by_the_reissue(self) -> None:
        client = Client()
        for _ in range(5):
            client.post("/login/", {"username": "officer1a", "password": "wrong-password-1"})
        locked = client.post("/login/", {"username": "officer1a", "password": "wrong-password-1"})
        self.assertEqual(locked.status_code, 429)
        _, body = self.reissue("kacho", "officer1a")
        password = body.split("<code>")[1].split("</code>")[0]
        response = Client().post("/login/", {"username": "officer1a", "password": password})
        self.assertEqual(response.status_code, 302)

    def test_the_second_factor_is_reset_for_a_new_phone(self) -> None:
        target = self.officer("officer1a")
        TOTPDevice.objects.create(user=target, name="Junkai", confirmed=True)
        response = self.client_for("kacho").post(f"/org/officers/{target.id}/totp/", follow=True)
        self.assertContains(response, "二要素認証を削除しました")
        self.assertFalse(TOTPDevice.objects.filter(user=target).exists())
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.OTP_REMOVED, object_id=str(target.id)
            ).exists()
        )

    def test_only_someone_above_resets_them(self) -> None:
        chief, kacho = self.officer("chief"), self.officer("kacho")
        # A 地域課長 may not take over his chief's account, nor his own this way.
        for target in (chief, kacho):
            before = target.password
            status, _ = self.reissue("kacho", target.username)
            self.assertEqual(status, 403)
            target.refresh_from_db()
            self.assertEqual(target.password, before)
        page = self.client_for("kacho").get(f"/org/officers/{chief.id}/")
        self.assertContains(page, "上位の責任者")
        self.assertNotContains(page, "パスワードを再発行する")
        self.assertEqual(
            self.client_for("kacho").post(f"/org/officers/{chief.id}/totp/").status_code, 403
        )
        self.assertEqual(
            AuditEvent.objects.filter(
                event_type=EventType.ACCESS_DENIED, actor=kacho, object_id=str(chief.id)
            ).count(),
            2,
        )
        # The chief may reset his 地域課長's; a beat officer reaches no one's (not his to see).
        self.assertEqual(self.reissue("chief", "kacho")[0], 200)
        self.assertEqual(self.reissue("officer1b", "officer1a")[0], 404)
        # Another station's manager does not see this station's officers.
        self.assertEqual(self.reissue("other_chief", "officer1a")[0], 404)
