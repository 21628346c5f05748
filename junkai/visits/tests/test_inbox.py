"""Whose reports reach which inbox (page and API alike, one rule in junkai.access): the
地域課長 gets his station's, a 交番所長 those of his post that need him, others none."""

from __future__ import annotations

import time_machine

from junkai.testing import PersonaTestCase
from junkai.visits.models import RefusalReport
from junkai.visits.tests.test_visit_pages import DAY, visit_post

NOT_RECIPIENT = "あなたの配置では受けるものはありません"


@time_machine.travel(DAY, tick=False)
class InboxRecipientTests(PersonaTestCase):
    def setUp(self) -> None:
        response = self.client_for("officer1a").post(
            f"/households/{self.aoki.id}/visit/",
            visit_post(
                outcome="REFUSED",
                started_at="2026-06-10T09:30",
                refusal_explanation="防犯のための訪問と説明した",
            ),
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(RefusalReport.objects.get().needs_koban_head)

    def test_the_section_chief_and_the_posts_head_see_it(self) -> None:
        for username in ("kacho", "kobancho1"):
            with self.subTest(username):
                page = self.client_for(username).get("/inbox/")
                self.assertContains(page, "防犯のための訪問と説明した")
                self.assertNotContains(page, NOT_RECIPIENT)

    def test_another_posts_head_sees_only_his_posts(self) -> None:
        page = self.client_for("kobancho2").get("/inbox/")
        self.assertNotContains(page, NOT_RECIPIENT)
        self.assertNotContains(page, "防犯のための訪問と説明した")

    def test_others_receive_nothing(self) -> None:
        for username in ("officer1a", "officer2a", "chief", "dairi", "hq"):
            with self.subTest(username):
                page = self.client_for(username).get("/inbox/")
                self.assertContains(page, NOT_RECIPIENT)
                self.assertNotContains(page, "防犯のための訪問と説明した")
