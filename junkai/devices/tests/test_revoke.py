"""A device taken out of use without a loss report (端末の使用停止): revocation is not a return.
The 持出確認簿 entry ends as 「使用停止により終了」 — on the register page, its API and the 第6号
print — and is no longer chased as overdue (the register's alerts, 要対応, `junkai
checkout-alerts`), while another device's entry past its due time still is. Through the API and
the pages."""

from __future__ import annotations

import datetime as dt
from io import BytesIO, StringIO

import time_machine
from django.core.management import call_command
from pypdf import PdfReader

from junkai.audit.models import AuditEvent, EventType
from junkai.devices.models import DeviceCheckout
from junkai.devices.tests.test_api import MORNING, DeviceApi
from junkai.registers.models import BinderCheckout

#: The next morning: both entries are past their cut-off (22:00 of the day they went out).
NEXT_MORNING = MORNING + dt.timedelta(days=1)


@time_machine.travel(MORNING, tick=False)
class RevokedDeviceTests(DeviceApi):
    def test_the_entry_ends_as_revoked_and_is_no_longer_chased(self) -> None:
        revoked_id = self.out()
        kept_id = self.out(label="TAB-02")
        self.assertEqual(self.pull(revoked_id).status_code, 200)
        device_id = DeviceCheckout.objects.get(id=revoked_id).device_id
        answer = self.send(
            "kobancho1", f"/devices/{device_id}/revoke", {"reason": "故障のため廃棄"}
        )
        self.assertEqual((answer.status_code, answer.json()["revoked"]), (200, True))

        # Its event says the entry ended with it; the device is told to wipe itself.
        event = AuditEvent.objects.get(
            event_type=EventType.DEVICE_CHECKOUT_REVOKED, object_id=str(revoked_id)
        )
        self.assertEqual(event.details["entry_status"], "REVOKED")
        self.assertEqual(self.pull(revoked_id).status_code, 410)
        entry = BinderCheckout.objects.get(device_checkout__id=revoked_id)
        self.assertIsNotNone(entry.revoked_at)
        self.assertIsNone(entry.returned_at)  # not a return
        self.assertIsNone(entry.return_confirmed_at)
        # The borrower can no longer record a return on it.
        refused = self.send("officer1a", f"/device-checkouts/{revoked_id}/return")
        self.assertEqual(refused.status_code, 422, refused.content)
        self.assertIn("使用停止", refused.json()["errors"]["status"][0])

        with time_machine.travel(NEXT_MORNING, tick=False):
            shown = self.api("kobancho1").get(f"/api/v1/device-checkouts/{revoked_id}").json()
            self.assertEqual(
                (shown["revoked"], shown["entry"]["status"], shown["entry"]["overdue"]),
                (True, "REVOKED", False),
            )
            kept = self.api("kobancho1").get(f"/api/v1/device-checkouts/{kept_id}").json()
            self.assertEqual((kept["entry"]["status"], kept["entry"]["overdue"]), ("OUT", True))

            # The 持出確認簿 page: the row says so, with no 期限超過 and no 返却 button.
            post = self.post("K1").id
            page = self.client_for("officer1a").get(f"/registers/posts/{post}/checkouts/")
            self.assertEqual(page.status_code, 200)
            html = page.content.decode()
            row = html[html.index(f'id="checkout-{entry.id}"') :]
            row = row[: row.index("</tr>")]
            self.assertIn("使用停止により終了", row)
            self.assertIn("返却ではありません", row)
            self.assertNotIn("期限超過", row)
            self.assertNotIn("checkout_return", row)
            self.assertNotIn('type="submit">返却<', row)
            kept_entry = BinderCheckout.objects.get(device_checkout__id=kept_id)
            kept_row = html[html.index(f'id="checkout-{kept_entry.id}"') :]
            self.assertIn("期限超過", kept_row[: kept_row.index("</tr>")])

            # Not chased: the register's alerts, 要対応, the periodic alert.
            alerts = self.client_for("kobancho1").get("/registers/alerts/").content.decode()
            self.assertIn(f"checkout-{kept_entry.id}", alerts)
            self.assertNotIn(f"checkout-{entry.id}", alerts)
            todo = self.client_for("kobancho1").get("/todo/").content.decode()
            self.assertIn('data-kind="overdue_return" data-count="1"', todo)
            call_command("checkout_alerts", stdout=StringIO())
            alerted = set(
                AuditEvent.objects.filter(event_type=EventType.CHECKOUT_OVERDUE_ALERT).values_list(
                    "object_id", flat=True
                )
            )
            self.assertIn(str(kept_entry.id), alerted)
            self.assertNotIn(str(entry.id), alerted)

            # The 第6号 print of the month says it ended by revocation, not a return.
            month = f"{MORNING:%Y-%m}"
            pdf = self.api("kobancho1").get(f"/api/v1/posts/{post}/checkouts.pdf?month={month}")
            self.assertEqual(pdf.status_code, 200, pdf.content[:300])
            text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
            self.assertIn("使用停止により終了", text.replace("\n", ""))

    def test_a_device_already_returned_keeps_its_entry_waiting_for_the_confirmation(self) -> None:
        checkout_id = self.out()
        self.assertEqual(
            self.send("officer1a", f"/device-checkouts/{checkout_id}/return").status_code, 200
        )
        device_id = DeviceCheckout.objects.get(id=checkout_id).device_id
        self.send("kobancho1", f"/devices/{device_id}/revoke", {"reason": "更新のため廃棄"})
        shown = self.api("kobancho1").get(f"/api/v1/device-checkouts/{checkout_id}").json()
        self.assertEqual(shown["entry"]["status"], "RETURNED")
        back = self.send("officer1b", f"/device-checkouts/{checkout_id}/confirm-return")
        self.assertEqual((back.status_code, back.json()["entry"]["status"]), (200, "CLOSED"))
