"""A read outside the officer's own beats states why (issue 16): asked once on the page before
the card opens, required on the API; the 閲覧記録 shows it; a free-text note stays out of the
append-only audit row (its digest in it)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.test import Client
from django.utils import timezone

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, AuditNote, EventType
from junkai.households import actions as household_actions
from junkai.households.models import Household
from junkai.testing import PersonaTestCase
from junkai.visits import actions as visit_actions
from junkai.visits.models import NightVisitApproval


class StatedPurposeTests(PersonaTestCase):
    def reads(self, username: str) -> list[AuditEvent]:
        return list(
            AuditEvent.objects.filter(
                event_type=EventType.READ_HOUSEHOLD,
                actor=self.officer(username),
                object_id=str(self.aoki.id),
            ).order_by("id")
        )

    def test_own_beat_opens_at_once(self) -> None:
        page = self.client_for("officer1a").get(f"/households/{self.aoki.id}/")
        self.assertContains(page, "青木 一郎")
        self.assertEqual(len(self.reads("officer1a")), 1)

    def test_outside_his_beat_the_page_asks_first_and_remembers_the_beat(self) -> None:
        client = self.client_for("officer1b")  # walks K1-2; 青木 lives in K1-1
        asked = client.get(f"/households/{self.aoki.id}/")
        self.assertContains(asked, "閲覧の目的")
        self.assertNotContains(asked, "青木 一郎")
        self.assertEqual(self.reads("officer1b"), [])
        missing = client.post(f"/households/{self.aoki.id}/", {"purpose": "OTHER"})
        self.assertContains(missing, "目的を記入してください", status_code=422)
        stated = client.post(f"/households/{self.aoki.id}/", {"purpose": "INCIDENT"})
        self.assertRedirects(stated, f"/households/{self.aoki.id}/", fetch_redirect_response=False)
        self.assertContains(client.get(f"/households/{self.aoki.id}/"), "青木 一郎")
        # Remembered for the beat: the next read does not ask again.
        self.assertContains(client.get(f"/households/{self.aoki.id}/"), "青木 一郎")
        reads = self.reads("officer1b")
        self.assertEqual([r.purpose for r in reads], ["事件・事故", "事件・事故"])
        # The 閲覧記録 (the 地域課長's view of the household) shows why.
        kacho = self.client_for("kacho")
        self.state_read_purpose(kacho, self.aoki)  # 監督・点検
        self.assertContains(
            kacho.get(f"/households/{self.aoki.id}/"),
            '<td data-label="目的">事件・事故</td>',
        )

    def test_the_api_requires_a_purpose_and_keeps_the_note_apart(self) -> None:
        token, _ = do_issue_api_token(self.officer("officer1b"))
        api = Client(headers={"Authorization": f"Bearer {token}"})
        url = f"/api/v1/households/{self.aoki.id}"
        refused = api.get(url)
        self.assertEqual(refused.status_code, 422)
        self.assertIn("purpose", refused.json()["errors"])
        self.assertEqual(self.reads("officer1b"), [])
        note = "山田太郎（昭和50年1月1日生）の所在確認"
        answered = Client(
            headers={"Authorization": f"Bearer {token}", "X-Junkai-Purpose-Note": note}
        ).get(url, {"purpose": "OTHER"})
        self.assertEqual(answered.status_code, 200, answered.content)
        [read] = self.reads("officer1b")
        self.assertEqual(read.purpose, "その他")
        digest = hashlib.sha256(note.encode()).hexdigest()
        self.assertEqual(read.details["note"]["sha256"], digest)
        self.assertNotIn("山田", json.dumps(read.details, ensure_ascii=False) + read.purpose)
        self.assertEqual(AuditNote.objects.get(id=read.details["note"]["id"]).text, note)
        # His own beat needs none.
        own = api.get(f"/api/v1/households/{self.extra_k1_2().id}")
        self.assertEqual(own.status_code, 200)

    def extra_k1_2(self) -> Household:
        return household_actions.do_create_household(
            self.beat("K1-2"), acting_officer=None, kind="RESIDENCE", town="駅前町", banchi="9"
        )

    def test_the_card_print_and_revisions_ask_the_same_on_the_api(self) -> None:
        token, _ = do_issue_api_token(self.officer("officer1b"))
        api = Client(headers={"Authorization": f"Bearer {token}"})
        for url in (
            f"/api/v1/households/{self.aoki.id}/card.pdf",
            f"/api/v1/households/{self.aoki.id}/card/revisions",
        ):
            with self.subTest(url=url):
                refused = api.get(url)
                self.assertEqual(refused.status_code, 422)
                self.assertIn("purpose", refused.json()["errors"])
                self.assertEqual(api.get(url, {"purpose": "INCIDENT"}).status_code, 200)
        printed = AuditEvent.objects.filter(
            event_type=EventType.PRINT_FORM, actor=self.officer("officer1b")
        ).get()
        self.assertEqual((printed.purpose, printed.details["stated"]), ("事件・事故", "INCIDENT"))
        [revisions] = self.reads("officer1b")
        self.assertEqual(revisions.purpose, "事件・事故")
        # In his own beat, and for the officer of 青木's beat, nothing is asked.
        own = self.extra_k1_2()
        self.assertEqual(api.get(f"/api/v1/households/{own.id}/card.pdf").status_code, 200)
        self.assertEqual(api.get(f"/api/v1/households/{own.id}/card/revisions").status_code, 200)
        beat_officer = self.client_for("officer1a")
        self.assertEqual(
            beat_officer.get(f"/api/v1/households/{self.aoki.id}/card.pdf").status_code, 200
        )

    def test_the_page_print_uses_the_purpose_the_page_asked(self) -> None:
        client = self.client_for("officer1b")
        url = f"/api/v1/households/{self.aoki.id}/card.pdf"
        self.assertEqual(client.get(url).status_code, 422)
        self.state_read_purpose(client, self.aoki, "WELFARE")
        self.assertContains(client.get(f"/households/{self.aoki.id}/"), url)
        printed = client.get(url)
        self.assertEqual(printed.status_code, 200)
        self.assertEqual(printed["Content-Type"], "application/pdf")
        event = AuditEvent.objects.filter(event_type=EventType.PRINT_FORM).latest("id")
        self.assertEqual((event.actor, event.purpose), (self.officer("officer1b"), "安否確認"))

    def test_arriving_from_a_record_button_preselects_patrol(self) -> None:
        client = self.client_for("officer1b")
        checked = r'value="PATROL"[^>]*checked'
        arriving = client.get(f"/households/{self.aoki.id}/?via=visit")
        self.assertRegex(arriving.content.decode(), checked)
        self.assertNotRegex(client.get(f"/households/{self.aoki.id}/").content.decode(), checked)
        # Still a question: nothing of the card before it is answered.
        self.assertNotContains(arriving, "青木 一郎")


class TaskAtHandTests(PersonaTestCase):
    """A task waiting on the officer for a household explains opening its card: no purpose
    asked, the task named in the read's record (DESIGN.md "Stated purpose")."""

    def request_night_visit(self) -> NightVisitApproval:
        start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
        return visit_actions.do_request_night_approval(
            self.aoki,
            acting_officer=self.officer("officer1a"),
            planned_start=start.replace(hour=12),  # 21:00 JST
            planned_end=start.replace(hour=13),
            reason="日中は不在のため",
        )

    def test_a_waiting_approval_opens_the_card_without_asking(self) -> None:
        self.assertContains(
            self.client_for("kacho").get(f"/households/{self.aoki.id}/"), "閲覧の目的"
        )
        approval = self.request_night_visit()
        kacho = self.client_for("kacho")
        page = kacho.get(f"/households/{self.aoki.id}/")
        self.assertContains(page, "青木 一郎")
        self.assertNotContains(page, "閲覧の目的を選んでください")
        read = AuditEvent.objects.filter(
            event_type=EventType.READ_HOUSEHOLD, actor=self.officer("kacho")
        ).latest("id")
        self.assertEqual(read.purpose, "監督・点検")
        self.assertEqual(read.details["task"], "夜間実施の承認申請")
        self.assertContains(page, "（夜間実施の承認申請）")
        # The API too, without `purpose`.
        token, _ = do_issue_api_token(self.officer("kacho"))
        api = Client(headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(api.get(f"/api/v1/households/{self.aoki.id}").status_code, 200)
        # Someone the task does not wait on is still asked, and so is the 地域課長 once it is
        # decided.
        self.assertContains(
            self.client_for("officer1b").get(f"/households/{self.aoki.id}/"), "閲覧の目的"
        )
        self.assertEqual(
            self.client_for("officer1b").get(f"/api/v1/households/{self.aoki.id}").status_code,
            422,
        )
        visit_actions.do_approve_night_visit(approval, acting_officer=self.officer("kacho"))
        self.assertContains(
            self.client_for("kacho").get(f"/households/{self.aoki.id}/"), "閲覧の目的"
        )
        self.assertEqual(api.get(f"/api/v1/households/{self.aoki.id}").status_code, 422)

    def test_a_task_on_another_household_explains_nothing(self) -> None:
        self.request_night_visit()
        other = Household.objects.filter(beat=self.aoki.beat).exclude(id=self.aoki.id).first()
        assert other is not None
        self.assertContains(self.client_for("kacho").get(f"/households/{other.id}/"), "閲覧の目的")
