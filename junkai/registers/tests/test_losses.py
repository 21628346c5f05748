"""亡失・盗難 (issue 16): a lost binder's report lists exactly the households whose cards it
held when it was lost, the binder leaves service and the 持出確認簿 says so, the report reaches
the 地域課長, the 署長 and HQ, each household is followed to the end, and only then does the
地域課長 close it. Through the pages and the API."""

from __future__ import annotations

import datetime as dt
import json
from io import BytesIO
from pathlib import Path
from typing import Any, ClassVar

import time_machine
from django.conf import settings
from django.test import Client
from pypdf import PdfReader

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures.misuse import scan
from junkai.disclosures.models import MisuseKind
from junkai.households import actions as household_actions
from junkai.households.access import access_household
from junkai.households.models import CardStatus, ContactCard, Household
from junkai.org.models import Officer
from junkai.registers import actions
from junkai.registers.losses import open_loss_reports_for
from junkai.registers.models import BinderCheckout, CheckoutStatus, LossReport
from junkai.registers.testing import DAY, REGISTERED, RegistersTestCase
from junkai.testing import SAMPLE_CARD

FORM = {
    "kind": "STOLEN",
    "occurred_at": "2026-06-10T08:30",
    "place": "駅前町1丁目 路上（バイクの荷台ボックス）",
    "circumstances": "巡回連絡中、バイクを離れた間に荷台ボックスごと持ち去られた",
    "measures": "駅前警察署に被害届。周辺を捜索中",
}
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
API_BODY = {**FORM, "occurred_at": "2026-06-10T08:30:00+09:00"}


def _card(household: Household, binder: str, officer: Any, version: int | None) -> ContactCard:
    return household_actions.do_save_card(
        household,
        {**SAMPLE_CARD, "binder_number": binder},
        acting_officer=officer,
        expected_version=version,
    )


@time_machine.travel(DAY, tick=False)
class LossTestCase(RegistersTestCase):
    """Binder 1 of 駅前交番 holds the cards of 青木 and 駅前町1-2-9 (extra); officer1a has
    binders 1 and 2 out, confirmed by officer1b."""

    extra: ClassVar[Household]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with time_machine.travel(REGISTERED, tick=False):
            o1a = Officer.objects.get(username="officer1a")
            cls.extra = household_actions.do_create_household(
                cls.aoki.beat, acting_officer=None, kind="RESIDENCE", name="駅前", town="駅前町",
                chome="1", banchi="2", go="9", block_group="1組", map_number=3,
            )  # fmt: skip
            _card(cls.extra, "1", o1a, None)

    def api(self, username: str) -> Client:
        token, _ = do_issue_api_token(self.officer(username))
        return Client(headers={"Authorization": f"Bearer {token}"})

    def send(self, username: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.api(username).post(
            f"/api/v1{path}", json.dumps(body or {}), content_type="application/json"
        )

    def take_out(self) -> BinderCheckout:
        b1, b2 = self.k1_binders[0], self.k1_binders[1]
        checkout = actions.do_declare_checkout(
            [b1, b2], acting_officer=self.officer("officer1a"), purpose="巡回連絡"
        )
        return actions.do_confirm_checkout_out(checkout, acting_officer=self.officer("officer1b"))

    def report_by_page(self) -> LossReport:
        response = self.client_for("officer1a").post(
            f"/registers/binders/{self.k1_binders[0].id}/loss/", FORM
        )
        report = LossReport.objects.get()
        self.assertRedirects(response, f"/registers/losses/{report.id}/")
        return report


class LossPageTests(LossTestCase):
    def test_report_lists_the_households_held_then_and_closes_only_when_each_is_done(
        self,
    ) -> None:
        checkout = self.take_out()
        officer1a = self.client_for("officer1a")
        form = officer1a.get(f"/registers/binders/{self.k1_binders[0].id}/loss/")
        self.assertContains(form, "2 世帯のカード")
        report = self.report_by_page()
        self.assertEqual(report.reported_by.username, "officer1a")
        self.assertEqual(report.checkout_id, checkout.id)

        # Afterwards a card joins binder 1 and one leaves it: the report does not change.
        o1a = self.officer("officer1a")
        _card(self.no_card, "1", o1a, None)
        _card(self.extra, "2", o1a, 1)
        self.assertEqual(
            set(self.k1_binders[0].cards().values_list("household_id", flat=True)),
            {self.aoki.id, self.no_card.id},
        )
        page = self.client_for("kacho").get(f"/registers/losses/{report.id}/")
        self.assertContains(page, "駅前町1丁目2番3号")
        self.assertContains(page, "駅前町1丁目2番9号")
        self.assertNotContains(page, "駅前町1丁目2番4号")
        self.assertContains(page, "亡失時 2世帯")
        # Reading the report names its households in the audit log (their 閲覧記録).
        read = AuditEvent.objects.filter(
            event_type=EventType.READ_REGISTER, object_type="registers.lossreport"
        ).latest("id")
        self.assertEqual(
            set(read.household_rows.values_list("household_id", flat=True)),
            {self.aoki.id, self.extra.id},
        )

        kacho = self.client_for("kacho")
        refused = kacho.post(f"/registers/losses/{report.id}/close/", follow=True)
        self.assertContains(refused, "済んでいない世帯が2世帯あります")
        for household in (self.aoki, self.extra):
            officer1a.post(
                f"/registers/losses/{report.id}/households/{household.id}/informed/",
                {"method": "IN_PERSON", "note": "世帯主に説明し謝罪"},
            )
        officer1a.post(f"/registers/losses/{report.id}/households/{self.aoki.id}/card-recreated/")
        refused = kacho.post(f"/registers/losses/{report.id}/close/", follow=True)
        self.assertContains(refused, "済んでいない世帯が1世帯あります")
        report.refresh_from_db()
        self.assertEqual(report.status, "OPEN")
        officer1a.post(f"/registers/losses/{report.id}/households/{self.extra.id}/card-recreated/")
        # The extra household's card was corrected after the loss: that revision re-created it.
        entry = report.entries.get(household=self.extra)
        self.assertEqual(entry.card_revision.version, 2)  # type: ignore[union-attr]
        # Only the 地域課長 closes it.
        self.assertEqual(officer1a.post(f"/registers/losses/{report.id}/close/").status_code, 403)
        closed = kacho.post(f"/registers/losses/{report.id}/close/", follow=True)
        self.assertContains(closed, "亡失・盗難の報告を完了にしました")
        report.refresh_from_db()
        self.assertEqual(report.status, "CLOSED")
        self.assertEqual(open_loss_reports_for(self.officer("kacho")).count(), 0)

    def test_working_through_the_households_keeps_the_officers_place(self) -> None:
        """A binder holds up to 150 cards: the page counts what is done, shows only the
        households not done when asked, and a step returns to that household's row."""
        self.take_out()
        report = self.report_by_page()
        officer1a = self.client_for("officer1a")
        page = officer1a.get(f"/registers/losses/{report.id}/")
        self.assertContains(page, "住民等への連絡 <strong>0</strong>／2世帯")
        self.assertContains(page, "未了のみ表示（2世帯）")

        informed = officer1a.post(
            f"/registers/losses/{report.id}/households/{self.aoki.id}/informed/",
            {"method": "IN_PERSON", "note": "", "show": "pending"},
        )
        self.assertRedirects(
            informed,
            f"/registers/losses/{report.id}/?show=pending#household-{self.aoki.id}",
            fetch_redirect_response=False,
        )
        recreated = officer1a.post(
            f"/registers/losses/{report.id}/households/{self.aoki.id}/card-recreated/"
        )
        self.assertRedirects(
            recreated,
            f"/registers/losses/{report.id}/#household-{self.aoki.id}",
            fetch_redirect_response=False,
        )
        pending = officer1a.get(f"/registers/losses/{report.id}/?show=pending")
        self.assertContains(pending, "住民等への連絡 <strong>1</strong>／2世帯")
        self.assertContains(pending, "カードの再作成 <strong>1</strong>／2世帯")
        self.assertContains(pending, f'id="household-{self.extra.id}"')
        self.assertNotContains(pending, f'id="household-{self.aoki.id}"')
        self.assertContains(pending, "すべて表示（2世帯）")
        # A refused step goes back to the top, where its message is.
        refused = officer1a.post(
            f"/registers/losses/{report.id}/households/{self.extra.id}/informed/",
            {"method": "CARRIER_PIGEON"},
            follow=True,
        )
        self.assertEqual(refused.redirect_chain[-1][0], f"/registers/losses/{report.id}/")
        self.assertContains(refused, "連絡の方法")

    def test_binder_leaves_service_and_the_register_says_so(self) -> None:
        checkout = self.take_out()
        report = self.report_by_page()
        checkout.refresh_from_db()
        # Binder 2 is still out on the entry, binder 1 is closed as lost.
        self.assertEqual(checkout.status, CheckoutStatus.OUT)
        register = self.client_for("officer1b").get(f"/registers/posts/{self.k1.id}/checkouts/")
        self.assertContains(register, f"簿冊 1 亡失・盗難（報告 #{report.id}）")
        printed = self.client_for("kacho").get(f"/api/v1/posts/{self.k1.id}/checkouts.pdf")
        text = "".join(p.extract_text() for p in PdfReader(BytesIO(printed.content)).pages)
        # The note wraps in its narrow column.
        self.assertIn(f"亡失・盗難（報告 #{report.id}）", text.replace("\n", ""))
        binders = self.client_for("officer1b").get(f"/registers/posts/{self.k1.id}/")
        self.assertContains(binders, "盗難・使用停止")
        # It cannot be taken out again: not offered on the page, refused by the API.
        form = self.client_for("officer1b").get(f"/registers/posts/{self.k1.id}/checkouts/new/")
        self.assertNotContains(form, f'value="{self.k1_binders[0].id}"')
        refused = self.send(
            "officer1b", "/checkouts", {"binder_ids": [self.k1_binders[0].id], "purpose": "巡回"}
        )
        self.assertEqual(refused.status_code, 422)
        self.assertIn("亡失・盗難の報告があり", refused.json()["errors"]["binder_ids"][0])
        # Reported twice: refused.
        again = self.send("officer1a", f"/binders/{self.k1_binders[0].id}/loss-reports", API_BODY)
        self.assertEqual(again.status_code, 403)  # no longer out with him, and not a keeper
        again = self.send("kobancho1", f"/binders/{self.k1_binders[0].id}/loss-reports", API_BODY)
        self.assertEqual(again.status_code, 422)
        self.assertIn("既に亡失・盗難を報告済み", again.json()["errors"]["binder"][0])
        # Binder 2 comes back; the entry closes normally, binder 1 stays marked lost.
        o1a, o1b = self.officer("officer1a"), self.officer("officer1b")
        actions.do_record_return(checkout, acting_officer=o1a)
        actions.do_confirm_return(checkout, acting_officer=o1b)
        checkout.refresh_from_db()
        self.assertEqual(checkout.status, CheckoutStatus.CLOSED)
        # Found: it may go out again.
        self.client_for("officer1b").post(
            f"/registers/losses/{report.id}/found/", {"place": "駅前町2丁目 空き地"}
        )
        report.refresh_from_db()
        self.assertIsNotNone(report.found_at)
        self.assertEqual(self.send("officer1b", "/checkouts", {
            "binder_ids": [self.k1_binders[0].id], "purpose": "巡回連絡"}).status_code, 201)  # fmt: skip

    def test_an_entry_whose_only_binder_is_lost_ends_as_lost_and_is_not_overdue(self) -> None:
        checkout = actions.do_declare_checkout(
            [self.k1_binders[0]], acting_officer=self.officer("officer1a"), purpose="巡回連絡"
        )
        actions.do_confirm_checkout_out(checkout, acting_officer=self.officer("officer1b"))
        self.report_by_page()
        checkout.refresh_from_db()
        self.assertEqual(checkout.status, CheckoutStatus.LOST)
        register = self.client_for("kacho").get(f"/registers/posts/{self.k1.id}/checkouts/")
        self.assertContains(register, "亡失により終了")
        refused = self.send("officer1a", f"/checkouts/{checkout.id}/return")
        self.assertEqual(refused.status_code, 422)
        self.assertIn("亡失により終了", refused.json()["errors"]["status"][0])
        with time_machine.travel(DAY.replace(hour=23), tick=False):
            self.assertEqual(actions.do_alert_overdue_checkouts(), [])

    def test_who_may_report_and_who_sees(self) -> None:
        self.take_out()
        url = f"/registers/binders/{self.k1_binders[0].id}/loss/"
        # Same post, neither the borrower nor a keeper: 403, recorded.
        self.assertEqual(self.client_for("officer1b").post(url, FORM).status_code, 403)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.ACCESS_DENIED, purpose="亡失・盗難の報告"
            ).exists()
        )
        # Another post: 404, recorded.
        self.assertEqual(self.client_for("officer2a").get(url).status_code, 404)
        report = self.report_by_page()
        self.assertEqual(
            self.client_for("officer2a").get(f"/registers/losses/{report.id}/").status_code, 404
        )
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.ACCESS_DENIED,
                object_type="registers.lossreport",
                object_id=str(report.id),
            ).exists()
        )
        # HQ: the list of every station's reports, but not the households.
        hq_list = self.client_for("hq").get("/registers/losses/")
        self.assertContains(hq_list, self.station.name)
        self.assertNotContains(hq_list, f'href="/registers/losses/{report.id}/"')
        self.assertEqual(
            self.client_for("hq").get(f"/registers/losses/{report.id}/").status_code, 404
        )
        # It reaches the 地域課長, the 署長, HQ and the 交番所長 at once; not another post.
        for username in ("kacho", "chief", "hq", "kobancho1"):
            self.assertEqual(
                list(open_loss_reports_for(self.officer(username))), [report], username
            )
        self.assertEqual(list(open_loss_reports_for(self.officer("officer2a"))), [])
        for username in ("kacho", "chief", "hq"):
            self.assertContains(self.client_for(username).get("/"), "対応中の亡失・盗難の報告が1件")
        self.assertNotContains(self.client_for("officer2a").get("/"), "亡失・盗難の報告")
        event = AuditEvent.objects.get(event_type=EventType.LOSS_REPORTED)
        self.assertEqual(event.details["section_chiefs"], [self.officer("kacho").id])
        self.assertEqual(event.details["station_chiefs"], [self.officer("chief").id])
        self.assertEqual(event.details["hq"], [self.officer("hq").id])

    def test_bad_input_names_the_field_and_changes_nothing(self) -> None:
        response = self.client_for("kobancho1").post(
            f"/registers/binders/{self.k1_binders[0].id}/loss/",
            {**FORM, "kind": "", "place": "", "occurred_at": "2099-01-01T00:00"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "亡失（紛失）か盗難かを選んでください", status_code=422)
        self.assertContains(response, "発生場所を入力してください", status_code=422)
        self.assertEqual(LossReport.objects.count(), 0)
        # Typed without a picker: the message gives the form in 和暦, the same as every other
        # date-time field's, and a date so typed is read.
        url = f"/registers/binders/{self.k1_binders[0].id}/loss/"
        client = self.client_for("kobancho1")
        typed = client.post(url, {**FORM, "occurred_at": "6月10日 8時"})
        self.assertContains(
            typed,
            "発生日時は日付と時刻を選ぶか、R8.6.10 10:00 の形で入力してください",
            status_code=422,
        )
        self.assertNotContains(typed, "2026-06-10 09:30", status_code=422)
        self.assertEqual(LossReport.objects.count(), 0)
        client.post(url, {**FORM, "occurred_at": "R8.6.10 8:30"})
        self.assertEqual(LossReport.objects.get().occurred_at, DAY.replace(hour=8, minute=30))

    def test_pdf_lists_the_households(self) -> None:
        self.take_out()
        report = self.report_by_page()
        response = self.client_for("kacho").get(f"/api/v1/loss-reports/{report.id}/report.pdf")
        self.assertEqual(response["Content-Type"], "application/pdf")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "loss-report.pdf").write_bytes(response.content)
        text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)
        self.assertIn("亡失・盗難事故報告書", text)
        self.assertIn("令和8年6月10日", text)
        self.assertIn("駅前町1丁目2番3号", text)
        self.assertIn("駅前町1丁目2番9号", text)
        printed = AuditEvent.objects.filter(event_type=EventType.PRINT_FORM).latest("id")
        self.assertEqual(
            set(printed.household_rows.values_list("household_id", flat=True)),
            {self.aoki.id, self.extra.id},
        )
        self.assertEqual(
            self.client_for("officer2a")
            .get(f"/api/v1/loss-reports/{report.id}/report.pdf")
            .status_code,
            404,
        )


class LossApiTests(LossTestCase):
    def test_report_read_and_follow_up_through_the_api(self) -> None:
        self.take_out()
        created = self.send("officer1a", f"/binders/{self.k1_binders[0].id}/loss-reports", API_BODY)
        self.assertEqual(created.status_code, 201, created.content)
        body = created.json()
        rid = body["id"]
        self.assertEqual(body["kind"], "STOLEN")
        self.assertEqual(
            sorted(h["household_id"] for h in body["households"]),
            sorted([self.aoki.id, self.extra.id]),
        )
        self.assertTrue(all(h["informed_at"] is None for h in body["households"]))
        # A card added to binder 1 afterwards does not join the report.
        _card(self.no_card, "1", self.officer("officer1a"), None)
        read = self.api("kacho").get(f"/api/v1/loss-reports/{rid}")
        self.assertEqual(read.status_code, 200)
        self.assertEqual(
            {h["household_id"] for h in read.json()["households"]}, {self.aoki.id, self.extra.id}
        )
        self.assertEqual(read.json()["pending_count"], 2)

        informed = self.send(
            "officer1b",
            f"/loss-reports/{rid}/households/{self.aoki.id}/informed",
            {"method": "PHONE", "note": "世帯主に電話"},
        )
        self.assertEqual(informed.status_code, 200)
        row = next(h for h in informed.json()["households"] if h["household_id"] == self.aoki.id)
        self.assertIsNotNone(row["informed_at"])
        self.assertEqual(row["informed_method"], "PHONE")
        # Twice, a household not on it, a bad method: 422 naming the field.
        for path, payload, field in (
            (f"/households/{self.aoki.id}/informed", {"method": "PHONE"}, "household_id"),
            (f"/households/{self.no_card.id}/informed", {"method": "PHONE"}, "household_id"),
            (f"/households/{self.extra.id}/informed", {"method": "FAX"}, "method"),
            (f"/households/{self.extra.id}/informed", {"method": "OTHER"}, "note"),
        ):
            response = self.send("officer1b", f"/loss-reports/{rid}{path}", payload)
            self.assertEqual(response.status_code, 422, path)
            self.assertIn(field, response.json()["errors"], path)

        # Closing: not by an officer of the post (403, recorded), not while one is open (422).
        self.assertEqual(self.send("officer1a", f"/loss-reports/{rid}/close").status_code, 403)
        refused = self.send("kacho", f"/loss-reports/{rid}/close")
        self.assertEqual(refused.status_code, 422)
        self.assertIn("2世帯", refused.json()["errors"]["households"][0])
        # Found: re-creating the cards is no longer needed, telling the residents still is.
        found = self.send("officer1a", f"/loss-reports/{rid}/found", {"place": "駅前公園"})
        self.assertEqual(found.status_code, 200)
        self.assertEqual(found.json()["pending_count"], 1)
        self.assertEqual(self.send("kacho", f"/loss-reports/{rid}/close").status_code, 422)
        self.send("officer1a", f"/loss-reports/{rid}/households/{self.extra.id}/informed",
                  {"method": "LETTER"})  # fmt: skip
        closed = self.send("kacho", f"/loss-reports/{rid}/close")
        self.assertEqual(closed.status_code, 200)
        self.assertEqual(closed.json()["status"], "CLOSED")
        # Closed: nothing more changes.
        late = self.send(
            "officer1a", f"/loss-reports/{rid}/households/{self.extra.id}/card-recreated"
        )
        self.assertEqual(late.status_code, 422)

    def test_scope(self) -> None:
        report = actions.do_report_loss(
            self.k1_binders[2],
            acting_officer=self.officer("kobancho1"),
            kind="LOST",
            occurred_at=DAY,
            place="交番内",
            circumstances="保管庫から見当たらない",
            measures="交番内を捜索中",
        )
        self.assertEqual(report.entries.count(), 0)
        for username in ("officer2a", "hq", "staff"):
            response = self.api(username).get(f"/api/v1/loss-reports/{report.id}")
            self.assertEqual(response.status_code, 404, username)
            self.assertEqual(response.json(), {"detail": "見つかりません"} | response.json())
        self.assertEqual(
            self.send(
                "officer2a", f"/binders/{self.k1_binders[0].id}/loss-reports", API_BODY
            ).status_code,
            404,
        )
        # The borrower-or-keeper rule: officer1b has nothing out and keeps nothing.
        denied = self.send("officer1b", f"/binders/{self.k1_binders[0].id}/loss-reports", API_BODY)
        self.assertEqual(denied.status_code, 403)
        self.assertIn("取扱責任者", denied.json()["detail"])
        # Bad input: 422 naming each field.
        bad = self.send(
            "kobancho1",
            f"/binders/{self.k1_binders[0].id}/loss-reports",
            {**API_BODY, "kind": "BURNT", "place": " ", "occurred_at": "2026-06-10T08:30:00"},
        )
        self.assertEqual(bad.status_code, 422)
        self.assertEqual(set(bad.json()["errors"]), {"kind", "place", "occurred_at"})
        self.assertEqual(LossReport.objects.count(), 1)
        self.assertEqual(
            ContactCard.objects.filter(status=CardStatus.ACTIVE, binder_number="1").count(), 2
        )


class LossFollowUpExplainsReadsTests(LossTestCase):
    def test_telling_a_resident_explains_opening_his_card_and_nothing_else(self) -> None:
        self.take_out()
        report = self.report_by_page()
        kacho = self.officer("kacho")
        for household in (self.aoki, self.no_card):  # no_card's card was not in the binder
            access_household(kacho, household.id, purpose="世帯ページの閲覧")
        self.client_for("kacho").post(
            f"/registers/losses/{report.id}/households/{self.aoki.id}/informed/",
            {"method": "IN_PERSON", "note": "世帯主に説明し謝罪"},
        )
        with time_machine.travel(DAY + dt.timedelta(minutes=10), tick=False):
            flags = scan(since=DAY - dt.timedelta(hours=1)).flags
        flagged = {
            AuditEvent.objects.get(id=event_id).object_id
            for flag in flags
            if flag.officer_id == kacho.id and flag.kind == MisuseKind.UNEXPLAINED
            for event_id in flag.event_ids
        }
        self.assertEqual(flagged, {str(self.no_card.id)})
