"""亡失・盗難 of a device (issue 18, one report over binders and devices, issue 16): the
households are those the device pulled under its checkout (not the beat's today), the checkout
is revoked at once (410 and wipe at the next contact), the 持出確認簿 entry says lost, the report
reaches the 地域課長, the 署長 and HQ, prints, and closes only when each household is done.
Through the API and the pages."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import time_machine
from pypdf import PdfReader

from junkai.audit.models import AuditEvent, EventType
from junkai.demo.organisation import DEMO_PASSWORD
from junkai.devices.models import DeviceCheckout
from junkai.devices.tests.test_api import MORNING, DeviceApi
from junkai.households import actions as household_actions
from junkai.registers.losses import open_loss_reports_for
from junkai.registers.models import BinderCheckout, CheckoutStatus, LossReport
from junkai.testing import SAMPLE_CARD

BODY = {
    "kind": "STOLEN",
    "occurred_at": (MORNING - dt.timedelta(minutes=30)).isoformat(),
    "place": "駅前町1丁目 路上（バイクの荷台ボックス）",
    "circumstances": "巡回連絡中、バイクを離れた間に端末ごと持ち去られた",
    "measures": "駅前警察署に被害届。周辺を捜索中",
}
FORM = {**BODY, "occurred_at": (MORNING - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")}


@time_machine.travel(MORNING, tick=False)
class DeviceLossApiTests(DeviceApi):
    def out_and_pulled(self) -> tuple[int, int]:
        checkout_id = self.out()
        self.assertEqual(self.pull(checkout_id).status_code, 200)
        return checkout_id, DeviceCheckout.objects.get(id=checkout_id).device_id

    def test_the_report_keeps_what_the_device_pulled_and_revokes_its_checkout(self) -> None:
        checkout_id, device_id = self.out_and_pulled()
        # Another officer of the post, neither borrower nor keeper: refused, and on the record.
        refused = self.send("officer1b", f"/devices/{device_id}/loss-reports", BODY)
        self.assertEqual(refused.status_code, 403, refused.content)
        self.assertIn("端末を持ち出している警察官", refused.json()["detail"])
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.ACCESS_DENIED,
                object_type="devices.device",
                purpose="亡失・盗難の報告",
            ).exists()
        )
        # Another station's officer: not found.
        self.assertEqual(
            self.send("other_officer", f"/devices/{device_id}/loss-reports", BODY).status_code,
            404,
        )
        # A wrong field is named and nothing changes.
        bad = self.send("officer1a", f"/devices/{device_id}/loss-reports", {**BODY, "place": ""})
        self.assertEqual(bad.status_code, 422)
        self.assertIn("place", bad.json()["errors"])
        self.assertEqual(LossReport.objects.count(), 0)
        self.assertEqual(self.pull(checkout_id).status_code, 200)
        # After the last pull a household with a card joins the beat: the device never held it.
        later = household_actions.do_create_household(
            self.beat("K1-1"), acting_officer=None, kind="RESIDENCE", name="後藤",
            town="駅前町", chome="1", banchi="2", go="7", block_group="1組", map_number=9,
        )  # fmt: skip
        household_actions.do_save_card(
            later,
            dict(SAMPLE_CARD),
            acting_officer=self.officer("officer1a"),
            expected_version=None,
        )

        made = self.send("officer1a", f"/devices/{device_id}/loss-reports", BODY)
        self.assertEqual(made.status_code, 201, made.content)
        report = made.json()
        self.assertEqual((report["device_id"], report["device_label"]), (device_id, "TAB-01"))
        self.assertEqual((report["binder_id"], report["binder_number"]), (None, ""))
        # The households pulled with a card (青木); not the one without a card, nor the later one.
        self.assertEqual([h["household_id"] for h in report["households"]], [self.aoki.id])
        self.assertEqual(report["pending_count"], 1)
        entry = BinderCheckout.objects.get(device_checkout__id=checkout_id)
        self.assertEqual(report["checkout_id"], entry.id)
        self.assertEqual(entry.status, CheckoutStatus.LOST)

        # Revoked at once: the next contact is told to wipe itself; no new lease.
        wiped = self.pull(checkout_id)
        self.assertEqual(wiped.status_code, 410)
        self.assertEqual(wiped["Clear-Site-Data"], '"storage"')
        lease = self.send("officer1a", f"/device-checkouts/{checkout_id}/lease")
        self.assertEqual(lease.status_code, 410)
        # Out of service until found; the listing says so.
        again = self.send(
            "officer1a",
            "/device-checkouts",
            {"device_id": device_id, "beat_id": self.beat("K1-1").id},
        )
        self.assertEqual(again.status_code, 422)
        self.assertIn("亡失・盗難の報告", again.json()["errors"]["device_id"][0])
        listed = self.api("kobancho1").get("/api/v1/devices").json()["items"]
        self.assertEqual(listed[0]["loss_report_id"], report["id"])
        twice = self.send("kobancho1", f"/devices/{device_id}/loss-reports", BODY)
        self.assertEqual(twice.status_code, 422)
        self.assertIn("報告済み", twice.json()["errors"]["device"][0])

        # It reaches the 地域課長, the 署長 and HQ (their inbox), and prints.
        for username in ("kacho", "chief", "hq"):
            self.assertEqual(
                [r.id for r in open_loss_reports_for(self.officer(username))],
                [report["id"]],
                username,
            )
        todo = self.client_for("kacho").get("/todo/")
        self.assertContains(todo, "盗難：端末 TAB-01（未了 1／1世帯）")
        pdf = self.api("kacho").get(f"/api/v1/loss-reports/{report['id']}/report.pdf")
        self.assertEqual(pdf.status_code, 200)
        text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
        self.assertIn("端末 TAB-01", text)
        self.assertIn("端末に同期されていたカード", text)

        # Followed household by household; closed by the 地域課長 only when each is done.
        base = f"/loss-reports/{report['id']}"
        closing = self.send("kacho", f"{base}/close")
        self.assertEqual(closing.status_code, 422)
        self.send("officer1a", f"{base}/households/{self.aoki.id}/informed", {"method": "PHONE"})
        done = self.send("officer1a", f"{base}/households/{self.aoki.id}/card-recreated")
        self.assertEqual(done.json()["pending_count"], 0)
        self.assertEqual(self.send("kacho", f"{base}/close").json()["status"], "CLOSED")

    def test_found_returns_the_device_to_service_under_a_new_checkout(self) -> None:
        checkout_id, device_id = self.out_and_pulled()
        report = self.send("kobancho1", f"/devices/{device_id}/loss-reports", BODY).json()
        found = self.send(
            "kobancho1", f"/loss-reports/{report['id']}/found", {"place": "交番の書庫"}
        )
        self.assertEqual(found.status_code, 200, found.content)
        # The lost checkout stays revoked; a new one may be declared and confirmed.
        self.assertEqual(self.pull(checkout_id).status_code, 410)
        again = self.send(
            "officer1a",
            "/device-checkouts",
            {"device_id": device_id, "beat_id": self.beat("K1-1").id},
        )
        self.assertEqual(again.status_code, 201, again.content)

    def test_a_device_at_the_post_is_reported_with_no_households(self) -> None:
        device_id = self.register().json()["id"]
        made = self.send("kobancho1", f"/devices/{device_id}/loss-reports", BODY)
        self.assertEqual(made.status_code, 201, made.content)
        self.assertEqual((made.json()["households"], made.json()["checkout_id"]), ([], None))


@time_machine.travel(MORNING, tick=False)
class DeviceLossPageTests(DeviceApi):
    def test_the_custodian_reports_from_the_post_page(self) -> None:
        checkout_id = self.out()
        self.pull(checkout_id)
        device_id = DeviceCheckout.objects.get(id=checkout_id).device_id
        keeper = self.client_for("kobancho1")
        page = keeper.get(f"/registers/posts/{self.post('K1').id}/")
        self.assertContains(page, "TAB-01")
        self.assertContains(page, f'href="/devices/{device_id}/loss/"')
        form = keeper.get(f"/devices/{device_id}/loss/")
        self.assertContains(form, "受持区 駅前一区 を持ち出しています（同期した世帯 2 世帯）")
        # A wrong field: 422, the field named, nothing recorded.
        wrong = keeper.post(f"/devices/{device_id}/loss/", {**FORM, "place": ""})
        self.assertEqual(wrong.status_code, 422)
        self.assertContains(wrong, "発生場所を入力してください", status_code=422)
        self.assertEqual(LossReport.objects.count(), 0)
        response = keeper.post(f"/devices/{device_id}/loss/", FORM)
        report = LossReport.objects.get()
        self.assertRedirects(response, f"/registers/losses/{report.id}/")
        shown = keeper.get(f"/registers/losses/{report.id}/")
        self.assertContains(shown, "端末 TAB-01")
        self.assertContains(shown, "カードが端末にあった世帯（亡失時 1世帯）")
        self.assertContains(shown, "駅前町1丁目2番3号")
        # The 持出確認簿 row says lost and links the report.
        register = keeper.get(f"/registers/posts/{self.post('K1').id}/checkouts/")
        self.assertContains(register, f"端末 TAB-01 亡失・盗難（報告 #{report.id}）")
        self.assertContains(register, "亡失により終了")
        # The post page: out of service, no second report offered.
        page = keeper.get(f"/registers/posts/{self.post('K1').id}/")
        self.assertContains(page, "盗難・使用停止")
        self.assertNotContains(page, f'href="/devices/{device_id}/loss/"')

    def test_the_borrower_reports_from_his_register_row_and_others_may_not(self) -> None:
        checkout_id = self.out()
        device_id = DeviceCheckout.objects.get(id=checkout_id).device_id
        url = f"/registers/posts/{self.post('K1').id}/checkouts/"
        mine = self.client_for("officer1a").get(url)
        self.assertContains(mine, f'href="/devices/{device_id}/loss/"')
        theirs = self.client_for("officer1b").get(url)
        self.assertNotContains(theirs, f'href="/devices/{device_id}/loss/"')
        self.assertEqual(
            self.client_for("officer1b").get(f"/devices/{device_id}/loss/").status_code, 403
        )
        self.assertEqual(
            self.client_for("other_officer").get(f"/devices/{device_id}/loss/").status_code, 404
        )
        response = self.client_for("officer1a").post(f"/devices/{device_id}/loss/", FORM)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(LossReport.objects.get().reported_by, self.officer("officer1a"))


@time_machine.travel(MORNING, tick=False)
class SecondOfficerOnTheSharedTabletTests(DeviceApi):
    """The device checkout's confirmations by a second officer on the borrower's tablet, with
    his own ID and password (accounts.cosign, as on the 持出確認簿 page), recorded as him."""

    def declared(self) -> int:
        device = self.register(who="kacho").json()
        made = self.send(
            "officer1a",
            "/device-checkouts",
            {"device_id": device["id"], "beat_id": self.beat("K1-1").id},
        )
        return int(made.json()["id"])

    def test_confirmed_out_and_back_as_him_while_the_tablet_stays_the_borrowers(self) -> None:
        checkout_id = self.declared()
        tablet = self.api("officer1a")
        wrong = self.send(
            tablet,
            f"/device-checkouts/{checkout_id}/confirm-out",
            {"co_signer": {"username": "officer1b", "password": "wrong-password"}},
        )
        self.assertEqual(wrong.status_code, 401)
        self.assertIn("正しくありません", wrong.json()["detail"])
        self.assertIsNone(DeviceCheckout.objects.get(id=checkout_id).entry.out_confirmed_at)
        # The borrower's own credentials are no second officer.
        himself = self.send(
            tablet,
            f"/device-checkouts/{checkout_id}/confirm-out",
            {"co_signer": {"username": "officer1a", "password": DEMO_PASSWORD}},
        )
        self.assertEqual(himself.status_code, 403)
        self.assertIn("持出警察官以外の者", himself.json()["detail"])
        out = self.send(
            tablet,
            f"/device-checkouts/{checkout_id}/confirm-out",
            {"co_signer": {"username": "officer1b", "password": DEMO_PASSWORD}},
        )
        self.assertEqual(out.status_code, 200, out.content)
        self.assertEqual(out.json()["entry"]["out_confirmed_by_id"], self.officer("officer1b").id)
        self.assertTrue(out.json()["syncable"])
        confirmed = AuditEvent.objects.get(event_type=EventType.CHECKOUT_CONFIRMED_OUT)
        self.assertEqual(confirmed.actor_id, self.officer("officer1b").id)
        signed = AuditEvent.objects.get(
            event_type=EventType.SIGN_IN,
            details__channel="co-sign",
            actor=self.officer("officer1b"),
        )
        self.assertEqual(
            (signed.actor_id, signed.details["device_officer"]),
            (self.officer("officer1b").id, self.officer("officer1a").id),
        )
        # The tablet is still the borrower's: he pulls and returns.
        self.assertEqual(self.pull(checkout_id).status_code, 200)
        self.assertEqual(
            self.send(tablet, f"/device-checkouts/{checkout_id}/return").status_code, 200
        )
        back = self.send(
            tablet,
            f"/device-checkouts/{checkout_id}/confirm-return",
            {"co_signer": {"username": "kobancho1", "password": DEMO_PASSWORD}},
        )
        self.assertEqual(back.status_code, 200, back.content)
        self.assertEqual(back.json()["entry"]["status"], "CLOSED")
        self.assertEqual(
            back.json()["entry"]["return_confirmed_by_id"], self.officer("kobancho1").id
        )

    def test_without_a_body_the_caller_confirms_as_before(self) -> None:
        checkout_id = self.declared()
        plain = self.api("officer1b").post(
            f"/api/v1/device-checkouts/{checkout_id}/confirm-out",
            b"",
            content_type="application/json",
        )
        self.assertEqual(plain.status_code, 200, plain.content)
        self.assertEqual(plain.json()["entry"]["out_confirmed_by_id"], self.officer("officer1b").id)

    def test_single_officer_chuzaisho_confirms_himself_on_his_tablet(self) -> None:
        device = self.register(who="kacho", post="C1").json()
        made = self.send(
            "chuzai1",
            "/device-checkouts",
            {"device_id": device["id"], "beat_id": self.beat("C1-1").id},
        ).json()
        out = self.send(
            "chuzai1",
            f"/device-checkouts/{made['id']}/confirm-out",
            {"co_signer": {"username": "chuzai1", "password": DEMO_PASSWORD}},
        )
        self.assertEqual(out.status_code, 200, out.content)
        self.assertTrue(out.json()["entry"]["self_confirmed"])

    def test_the_register_page_offers_the_co_signature_for_a_device_entry(self) -> None:
        checkout_id = self.declared()
        entry = DeviceCheckout.objects.get(id=checkout_id).entry
        tablet = self.client_for("officer1a")
        page = tablet.get(f"/registers/posts/{self.post('K1').id}/checkouts/")
        self.assertContains(page, "この端末で持出確認")
        response = tablet.post(
            f"/registers/checkouts/{entry.id}/confirm-out/",
            {"co_username": "officer1b", "co_password": DEMO_PASSWORD, "co_otp": ""},
        )
        self.assertEqual(response.status_code, 302)
        entry.refresh_from_db()
        self.assertEqual(entry.out_confirmed_by, self.officer("officer1b"))
