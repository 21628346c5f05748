"""Browser tests (Debian's chromium via Playwright): search, card entry, correction, conflict."""

from __future__ import annotations

from junkai.households.models import CardStatus, ContactCard, Household
from junkai.testing import build_sample_households
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase, landing


class HouseholdBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        from junkai.org.models import Station

        samples = build_sample_households(Station.objects.get(code="DEMO01"))
        self.aoki: Household = samples["aoki"]
        self.no_card: Household = samples["no_card"]

    def test_search_by_katakana_then_open(self) -> None:
        page = self.page
        self.sign_in("officer1b")
        page.wait_for_url(landing(self.live_server_url))
        page.get_by_role("link", name="検索", exact=True).click()
        page.get_by_label("氏名（漢字・かな）、住所、電話番号").fill("アオキ")
        page.get_by_role("button", name="検索").click()
        results = page.inner_text("main")
        self.assertIn("検索結果 1件", results)
        self.assertIn("青木 一郎", results)
        self.assertNotIn("090-1111-2222", results)
        self.assertNotIn("/search/", page.url.replace(f"{self.live_server_url}/search/", ""))
        page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=True)
        page.get_by_role("link", name="駅前町1丁目2番3号").click()
        # 青木 lives in K1-1, outside officer1b's beat: the purpose first, nothing of the card.
        self.assertIn("閲覧の目的", page.inner_text("main"))
        self.assertNotIn("090-1111-2222", page.inner_text("main"))
        page.screenshot(path=str(SCREENSHOTS / "read-purpose.png"), full_page=True)
        page.get_by_label("巡回連絡").check()
        page.get_by_role("button", name="目的を記録して開く").click()
        self.assertIn("090-1111-2222", page.inner_text("main"))
        page.screenshot(path=str(SCREENSHOTS / "household.png"), full_page=True)

    def test_card_entry_on_a_tablet(self) -> None:
        page = self.browser.new_page(viewport={"width": 820, "height": 1180}, locale="ja-JP")
        self.page.close()
        self.page = page
        self.sign_in("officer1a")
        page.wait_for_url(landing(self.live_server_url))
        page.goto(f"{self.live_server_url}/households/{self.no_card.id}/")
        page.get_by_role("link", name="カードを作成").click()
        page.fill("#id_residents-0-name", "木村 健")
        page.fill("#id_residents-0-kana", "キムラ ケン")
        page.fill("#id_residents-0-birth_date", "2024-02-30")
        page.fill("#id_residents-0-phone", "０９０－５５５５－６６６６")
        page.get_by_role("button", name="カードを作成").click()
        self.assertIn("「2024-02-30」は存在しない日付です", page.inner_text("main"))
        page.screenshot(path=str(SCREENSHOTS / "card-error.png"), full_page=True)
        self.assertFalse(ContactCard.objects.filter(household=self.no_card).exists())
        page.fill("#id_residents-0-birth_date", "S60.4.1")
        page.get_by_role("button", name="カードを作成").click()
        self.assertIn("巡回連絡カードを作成しました", page.inner_text("main"))
        self.assertIn("きむら けん", page.inner_text("main"))
        self.assertIn("昭和60年4月1日", page.inner_text("main"))
        page.screenshot(path=str(SCREENSHOTS / "card-created.png"), full_page=True)

    def test_correction_and_conflict(self) -> None:
        mine = self.page
        self.sign_in("officer1a")
        mine.wait_for_url(landing(self.live_server_url))
        mine.goto(f"{self.live_server_url}/households/{self.aoki.id}/card/")
        # A colleague opens the same card on another tablet and saves first.
        theirs = self.browser.new_page(viewport={"width": 1024, "height": 768}, locale="ja-JP")
        self.page = theirs
        self.sign_in("officer1b")
        theirs.wait_for_url(landing(self.live_server_url))
        theirs.goto(f"{self.live_server_url}/households/{self.aoki.id}/card/")
        theirs.fill("#id_residents-0-workplace", "市役所")
        theirs.get_by_role("button", name="補正を保存").click()
        self.assertIn("補正（第2版）", theirs.inner_text("main"))
        theirs.close()
        self.page = mine
        mine.fill("#id_residents-0-phone", "080-9999-0000")
        mine.get_by_role("button", name="補正を保存").click()
        text = mine.inner_text("main")
        self.assertIn("他の職員が先に更新しました", text)
        self.assertIn("市役所", text)
        self.assertIn("080-9999-0000", text)
        mine.screenshot(path=str(SCREENSHOTS / "card-conflict.png"), full_page=True)
        card = ContactCard.objects.get(household=self.aoki, status=CardStatus.ACTIVE)
        self.assertEqual(card.residents.get(position=0).phone, "090-1111-2222")
        # Start again from the latest version and correct the phone.
        mine.get_by_role("link", name="最新の内容（第2版）から編集し直す").click()
        mine.fill("#id_residents-0-phone", "080-9999-0000")
        mine.get_by_role("button", name="補正を保存").click()
        self.assertIn("補正（第3版）", mine.inner_text("main"))
        self.assertIn("080-9999-0000", mine.inner_text("main"))
        mine.screenshot(path=str(SCREENSHOTS / "household-history.png"), full_page=True)
