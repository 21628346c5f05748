"""亡失・盗難 on a phone and on tablets: the borrower reports binder 1 stolen from the 持出確認簿,
the report lists the households, the 地域課長 sees it in the list; nothing scrolls sideways."""

from __future__ import annotations

import time_machine
from playwright.sync_api import Page, ViewportSize

from junkai.org.models import Officer, Post
from junkai.registers import actions
from junkai.registers.models import LossReport
from junkai.registers.testing import DAY, build_post_registers
from junkai.testing import build_sample_households
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase, landing

SIZES: dict[str, ViewportSize] = {
    "390": {"width": 390, "height": 844},
    "810": {"width": 810, "height": 1080},
    "1080": {"width": 1080, "height": 810},
}


class LossBrowserTests(BrowserTestCase):
    def open_as(self, username: str, size: str) -> Page:
        page = self.browser.new_page(viewport=SIZES[size], locale="ja-JP")
        page.goto(f"{self.live_server_url}/login/")
        page.get_by_label("ログインID").fill(username)
        page.get_by_label("パスワード").fill("junkai-demo")
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_url(landing(self.live_server_url))
        return page

    def look(self, page: Page, name: str, size: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"loss-{name}-{size}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        self.assertLessEqual(width, SIZES[size]["width"], f"{name} at {size} scrolls sideways")

    def test_report_a_stolen_binder_and_follow_it(self) -> None:
        with time_machine.travel(DAY, tick=True):
            k1 = Post.objects.get(station__code="DEMO01", code="K1")
            build_sample_households(k1.station)
            binders = build_post_registers(k1, ("1", "2"))["binders"]
            checkout = actions.do_declare_checkout(
                binders,
                acting_officer=Officer.objects.get(username="officer1a"),
                purpose="巡回連絡",
            )
            actions.do_confirm_checkout_out(
                checkout, acting_officer=Officer.objects.get(username="officer1b")
            )
            base = self.live_server_url
            phone = self.open_as("officer1a", "390")
            try:
                phone.goto(f"{base}/registers/posts/{k1.id}/checkouts/")
                phone.get_by_role("link", name="簿冊 1 の亡失・盗難を報告").click()
                self.assertIn("1 世帯のカード", phone.inner_text("main"))
                phone.get_by_role("radio", name="盗難").check()
                # 亡失・盗難 are 44 px targets, as the visit form's 結果 are.
                for choice in phone.locator("[role=radiogroup] label > span").all():
                    box = choice.bounding_box()
                    assert box is not None
                    self.assertGreaterEqual(box["height"], 44)
                phone.get_by_label("発生日時（判明した日時）").fill("2026-06-10T09:30")
                phone.get_by_label("発生場所").fill("駅前町1丁目 路上（バイクの荷台ボックス）")
                phone.get_by_label("状況（どのように亡失・盗難に遭ったか）").fill(
                    "巡回連絡中、バイクを離れた約10分の間に荷台ボックスごと持ち去られた"
                )
                phone.get_by_label("措置（遺失届・被害届の届出先、捜索の状況）").fill(
                    "駅前警察署に被害届（受理番号 123）。周辺を捜索中"
                )
                self.look(phone, "form", "390")
                phone.get_by_role("button", name="報告する").click()
                phone.wait_for_url(f"{base}/registers/losses/*/")
                self.assertIn("駅前町1丁目2番3号", phone.inner_text("main"))
                self.look(phone, "report", "390")
                report = LossReport.objects.get()
                phone.goto(f"{base}/registers/posts/{k1.id}/checkouts/")
                self.assertIn(f"報告 #{report.id}", phone.inner_text("main"))
                self.look(phone, "register", "390")
            finally:
                phone.close()
            for size in ("810", "1080"):
                page = self.open_as("kacho", size)
                try:
                    page.goto(f"{base}/registers/losses/")
                    self.assertIn("対応中", page.inner_text("main"))
                    self.look(page, "list", size)
                    page.get_by_role("link", name=f"#{report.id}").click()
                    self.look(page, "report", size)
                    page.get_by_role("button", name="報告を完了にする").click()
                    self.assertIn("済んでいない世帯が1世帯", page.inner_text("main"))
                finally:
                    page.close()
            page = self.open_as("officer1b", "1080")
            try:
                page.goto(f"{base}/registers/losses/{report.id}/")
                page.get_by_role("button", name="連絡済").click()
                page.get_by_role("button", name="再作成済").click()
                self.assertIn("カードの再作成を記録しました", page.inner_text("main"))
                self.look(page, "report-done", "1080")
            finally:
                page.close()
            page = self.open_as("kacho", "390")
            try:
                page.goto(f"{base}/registers/losses/{report.id}/")
                page.get_by_role("button", name="報告を完了にする").click()
                self.assertIn("完了にしました", page.inner_text("main"))
                self.look(page, "closed", "390")
            finally:
                page.close()
