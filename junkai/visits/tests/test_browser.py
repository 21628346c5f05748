"""The officer's day on a tablet: an ordinary visit from the work list in three taps."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import time_machine

from junkai.org.models import Station
from junkai.testing import build_sample_households
from junkai.visits.models import Visit
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase, landing

DAY = dt.datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


class VisitBrowserTests(BrowserTestCase):
    def test_ordinary_visit_in_three_interactions(self) -> None:
        # The server's clock is set to a weekday morning (no night approval involved); the
        # browser's clock is its own.
        with time_machine.travel(DAY, tick=True):
            samples = build_sample_households(Station.objects.get(code="DEMO01"))
            page = self.browser.new_page(viewport={"width": 820, "height": 1180}, locale="ja-JP")
            self.page.close()
            self.page = page
            self.sign_in("officer1a")
            page.wait_for_url(landing(self.live_server_url))
            page.goto(f"{self.live_server_url}/worklist/")
            page.screenshot(path=str(SCREENSHOTS / "worklist.png"), full_page=True)
            row = page.locator(".card.work", has_text="駅前町1丁目2番3号")
            # 1: open the record form from the work list row.
            row.get_by_role("link", name="記録").click()
            page.screenshot(path=str(SCREENSHOTS / "visit-form.png"), full_page=True)
            # 2: the guidance given (面接 is already chosen).
            page.get_by_text("(2) 身近な犯罪等の発生状況と被害防止").click()
            # 3: save.
            page.get_by_role("button", name="記録する").first.click()
            # Back to the same place of the list, the next household marked.
            page.wait_for_url(re.compile(r".*/worklist/(\?next_household=\d+#h-\d+)?$"))
            self.assertIn("巡回連絡を記録しました", page.inner_text("main"))
            visit = Visit.objects.get(household=samples["aoki"])
            self.assertEqual(
                (visit.outcome, visit.method, visit.guidance_topics), ("MET", "VISIT", [2])
            )
            self.assertNotIn(
                "駅前町1丁目2番3号", " ".join(page.locator(".card.work").all_inner_texts())
            )
