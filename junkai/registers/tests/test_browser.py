"""The checkout round trip on tablets: officer1a declares, officer1b confirms it out, officer1a
records the return, officer1b confirms it back (要領 第5-3(3)ア〜ウ)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from playwright.sync_api import Page, ViewportSize

from junkai.org.models import Post
from junkai.registers.models import BinderCheckout, CheckoutStatus
from junkai.registers.testing import build_post_registers
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase, landing

DAY = dt.datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
TABLET: ViewportSize = {"width": 1024, "height": 768}


class CheckoutBrowserTests(BrowserTestCase):
    def tablet(self, username: str) -> Page:
        page = self.browser.new_page(viewport=TABLET, locale="ja-JP")
        page.goto(f"{self.live_server_url}/login/")
        page.get_by_label("ログインID").fill(username)
        page.get_by_label("パスワード").fill("junkai-demo")
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_url(landing(self.live_server_url))
        return page

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"registers-{name}.png"), full_page=True)

    def test_checkout_round_trip_by_two_officers(self) -> None:
        with time_machine.travel(DAY, tick=True):
            k1 = Post.objects.get(station__code="DEMO01", code="K1")
            build_post_registers(k1, ("1", "2", "3"))
            register = f"{self.live_server_url}/registers/posts/{k1.id}/checkouts/"
            borrower, confirmer = self.tablet("officer1a"), self.tablet("officer1b")
            try:
                # 1. officer1a declares binders 1 and 2 for the day's visits.
                borrower.goto(register)
                borrower.get_by_role("link", name="持出しを申告する").click()
                borrower.get_by_text("簿冊 1", exact=True).click()
                borrower.get_by_text("簿冊 2", exact=True).click()
                borrower.get_by_label("目的").fill("巡回連絡（駅前一区）")
                self.shot(borrower, "declare")
                borrower.get_by_role("button", name="申告する").click()
                borrower.wait_for_url(register)
                self.assertIn("持出しを申告しました", borrower.inner_text("main"))
                # He sees no button to confirm his own checkout.
                self.assertEqual(borrower.get_by_role("button", name="持出確認").count(), 0)
                self.shot(borrower, "declared")

                # 2. officer1b confirms it out.
                confirmer.goto(register)
                confirmer.get_by_role("button", name="持出確認").click()
                self.assertIn("の持出しを確認しました", confirmer.inner_text("main"))
                self.shot(confirmer, "confirmed-out")

                # 3. officer1a records the return.
                borrower.goto(register)
                borrower.get_by_role("button", name="返却").click()
                self.assertIn("返却を記録しました", borrower.inner_text("main"))
                self.assertEqual(borrower.get_by_role("button", name="返却確認").count(), 0)

                # 4. officer1b confirms it back.
                confirmer.goto(register)
                confirmer.get_by_role("button", name="返却確認").click()
                self.assertIn("の返却を確認しました", confirmer.inner_text("main"))
                self.shot(confirmer, "closed")

                checkout = BinderCheckout.objects.get()
                self.assertEqual(checkout.status, CheckoutStatus.CLOSED)
                self.assertEqual(
                    (checkout.out_confirmed_by.username, checkout.return_confirmed_by.username),  # type: ignore[union-attr]
                    ("officer1b", "officer1b"),
                )
                row = confirmer.locator(f"#checkout-{checkout.id}")
                self.assertIn("1、2", row.inner_text())
                self.assertIn("北川 美咲", row.inner_text())

                # The binders page shows them back in the cabinet.
                confirmer.get_by_role("link", name="簿冊・保管庫").click()
                self.assertEqual(confirmer.locator("text=保管中").count(), 3)
                self.shot(confirmer, "binders")
            finally:
                borrower.close()
                confirmer.close()

    def test_second_officer_confirms_on_the_same_device_at_each_size(self) -> None:
        """On the 交番's shared tablet (or a phone) officer1a declares a binder and officer1b
        confirms it out on the same device with his own ID and password: recorded as him, the
        device still signed in as officer1a (issue 17 item 11); the register fits each size."""
        with time_machine.travel(DAY, tick=True):
            k1 = Post.objects.get(station__code="DEMO01", code="K1")
            build_post_registers(k1, ("1", "2", "3"))
            register = f"{self.live_server_url}/registers/posts/{k1.id}/checkouts/"
            for number, (width, height) in zip(
                ("1", "2", "3"), ((390, 844), (810, 1080), (1080, 810)), strict=True
            ):
                page = self.browser.new_page(
                    viewport={"width": width, "height": height}, locale="ja-JP"
                )
                self.page.close()
                self.page = page
                self.sign_in("officer1a")
                page.wait_for_url(landing(self.live_server_url))
                page.goto(f"{register}new/")
                page.get_by_text(f"簿冊 {number}", exact=True).click()
                page.get_by_role("button", name="申告する").click()
                page.wait_for_url(register)
                co_sign = page.locator("details.co-sign").first
                co_sign.locator("summary").click()
                co_sign.get_by_label("確認者のログインID").fill("officer1b")
                co_sign.get_by_label("パスワード").fill("junkai-demo")
                self.shot(page, f"co-sign-{width}x{height}")
                co_sign.get_by_role("button", name="持出確認する").click()
                self.assertIn("の持出しを確認しました", page.inner_text("main"))
                checkout = BinderCheckout.objects.latest("id")
                assert checkout.out_confirmed_by is not None
                self.assertEqual(checkout.out_confirmed_by.username, "officer1b")
                self.assertEqual(checkout.borrower.username, "officer1a")
                self.assertLessEqual(page.evaluate("document.documentElement.scrollWidth"), width)
                self.shot(page, f"co-signed-{width}x{height}")
                page.goto(f"{self.live_server_url}/")  # the device is still officer1a's
                self.assertIn("佐野 翔太 さん", page.inner_text("main"))
                page.context.clear_cookies()

    def test_demo_registers_as_the_manager_inspector_and_chuzai_see_them(self) -> None:
        from junkai.demo.registers import build_demo_registers
        from junkai.households.models import Household
        from junkai.registers.models import Inspection
        from junkai.testing import build_sample_households

        with time_machine.travel(DAY, tick=True):
            station = Post.objects.get(station__code="DEMO01", code="K1").station
            build_sample_households(station)
            build_demo_registers(station)
            self.assertTrue(Household.objects.exists())
            base = self.live_server_url
            kacho = self.tablet("kacho")
            try:
                kacho.goto(f"{base}/registers/")
                self.shot(kacho, "index")
                kacho.goto(f"{base}/registers/reviews/")
                self.assertIn("未確認", kacho.inner_text("main"))
                self.shot(kacho, "reviews")
                kacho.goto(f"{base}/registers/alerts/")
                self.assertIn("本町交番", kacho.inner_text("main"))
                self.shot(kacho, "alerts")
                k2 = Post.objects.get(station=station, code="K2")
                kacho.goto(f"{base}/registers/reviews/{k2.id}/2026/5/")
                self.shot(kacho, "review-month")
            finally:
                kacho.close()
            kobancho = self.tablet("kobancho1")
            try:
                k1 = Post.objects.get(station=station, code="K1")
                kobancho.goto(f"{base}/registers/posts/{k1.id}/key/")
                self.shot(kobancho, "key")
                inspection = Inspection.objects.get(post=k1)
                kobancho.goto(f"{base}/registers/inspections/{inspection.id}/")
                self.shot(kobancho, "inspection")
                kobancho.goto(f"{base}/registers/posts/{k1.id}/inspections/new/")
                self.shot(kobancho, "inspection-form")
                kobancho.goto(f"{base}/registers/posts/{k1.id}/")
                self.shot(kobancho, "post")
            finally:
                kobancho.close()
            chuzai = self.tablet("chuzai1")
            try:
                c1 = Post.objects.get(station=station, code="C1")
                chuzai.goto(f"{base}/registers/posts/{c1.id}/checkouts/2026/5/")
                self.assertIn("本人確認", chuzai.inner_text("main"))
                self.shot(chuzai, "chuzai-may")
            finally:
                chuzai.close()
