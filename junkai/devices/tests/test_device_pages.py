"""The keeper's pages for devices: 端末の登録 and 使用停止 from the post's register page, the
same actions as the API (POST /api/v1/devices, /devices/{id}/revoke) with their messages in
Japanese, refusals on the record, and the reason kept out of the audit row (its digest only)."""

from __future__ import annotations

import hashlib

import time_machine

from junkai.audit.models import AuditEvent, EventType
from junkai.devices.models import Device, DeviceCheckout
from junkai.devices.tests.test_api import MORNING, DeviceApi
from junkai.registers.models import BinderCheckout, CheckoutStatus


@time_machine.travel(MORNING, tick=False)
class DevicePagesTests(DeviceApi):
    def test_the_keeper_registers_a_device_from_the_register_page(self) -> None:
        post = self.post("K1")
        client = self.client_for("kobancho1")
        register = client.get(f"/registers/posts/{post.id}/")
        self.assertContains(register, f'href="/devices/posts/{post.id}/new/"')
        self.assertContains(register, "登録された端末はありません")

        url = f"/devices/posts/{post.id}/new/"
        self.assertEqual(client.get(url).status_code, 200)
        empty = client.post(url, {"label": "  "})
        self.assertContains(empty, "端末名を入力してください", status_code=422)
        long = client.post(url, {"label": "T" * 65})
        self.assertContains(long, "端末名は64文字以内で入力してください", status_code=422)
        self.assertFalse(Device.objects.filter(post=post).exists())

        made = client.post(url, {"label": "TAB-03"})
        device = Device.objects.get(post=post, label="TAB-03")
        self.assertRedirects(
            made, f"/registers/posts/{post.id}/#device-{device.id}", fetch_redirect_response=False
        )
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.DEVICE_REGISTERED,
                object_id=str(device.id),
                actor__username="kobancho1",
            ).exists()
        )
        again = client.post(url, {"label": "TAB-03"})
        self.assertContains(again, "既に登録されています", status_code=422)
        self.assertEqual(Device.objects.filter(post=post).count(), 1)
        shown = client.get(f"/registers/posts/{post.id}/")
        self.assertContains(shown, "TAB-03")
        self.assertContains(shown, f'href="/devices/{device.id}/revoke/"')

    def test_an_officer_who_keeps_nothing_is_refused_and_on_the_record(self) -> None:
        post = self.post("K1")
        device_id = self.register().json()["id"]
        client = self.client_for("officer1a")
        register = client.get(f"/registers/posts/{post.id}/")
        self.assertNotContains(register, "/devices/posts/")
        self.assertNotContains(register, "/revoke/")
        before = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()
        self.assertEqual(
            client.post(f"/devices/posts/{post.id}/new/", {"label": "X"}).status_code, 403
        )
        refused = client.post(f"/devices/{device_id}/revoke/", {"reason": "故障"})
        self.assertEqual(refused.status_code, 403)
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count(), before + 2
        )
        self.assertEqual(Device.objects.filter(post=post).count(), 1)
        self.assertIsNone(Device.objects.get(id=device_id).revoked_at)
        # Another station's officer: 404, as for anything out of scope.
        other = self.client_for("other_officer")
        self.assertEqual(other.get(f"/devices/{device_id}/revoke/").status_code, 404)
        self.assertEqual(other.get(f"/devices/posts/{post.id}/new/").status_code, 404)

    def test_revoking_a_device_out_ends_its_entry_and_keeps_the_reason_off_the_audit_row(
        self,
    ) -> None:
        checkout_id = self.out()
        self.assertEqual(self.pull(checkout_id).status_code, 200)
        device = DeviceCheckout.objects.get(id=checkout_id).device
        client = self.client_for("kobancho1")
        url = f"/devices/{device.id}/revoke/"
        page = client.get(url)
        self.assertContains(page, "受持区 ")
        self.assertContains(page, "次の接続で端末内のデータを消去します")
        self.assertContains(page, f'href="/devices/{device.id}/loss/"')  # lost: report it instead

        empty = client.post(url, {"reason": ""})
        self.assertContains(empty, "理由を入力してください", status_code=422)
        self.assertIsNone(Device.objects.get(id=device.id).revoked_at)

        reason = "画面の故障のため更新（TAB-01 後継は TAB-05）"
        done = client.post(url, {"reason": reason})
        self.assertEqual(done.status_code, 302)
        device.refresh_from_db()
        self.assertIsNotNone(device.revoked_at)
        self.assertEqual(device.revoke_reason, reason)
        entry = BinderCheckout.objects.get(device_checkout__id=checkout_id)
        self.assertEqual(entry.status, CheckoutStatus.REVOKED)
        self.assertEqual(self.pull(checkout_id).status_code, 410)  # the device wipes itself

        event = AuditEvent.objects.get(
            event_type=EventType.DEVICE_REVOKED, object_id=str(device.id)
        )
        self.assertEqual(
            event.details["reason_sha256"], hashlib.sha256(reason.encode()).hexdigest()
        )
        self.assertNotIn("故障", str(event.details))

        entries = client.get(f"/registers/posts/{device.post_id}/checkouts/")
        self.assertContains(entries, "使用停止により終了")
        register = client.get(f"/registers/posts/{device.post_id}/")
        self.assertContains(register, '<span class="badge danger">使用停止</span>')
        self.assertContains(register, reason)
        self.assertNotContains(register, f'href="/devices/{device.id}/revoke/"')
        # Once revoked, the page says so and changes nothing.
        again = client.post(url, {"reason": "重ねて"}, follow=True)
        self.assertContains(again, "既に使用停止されています")
        self.assertEqual(AuditEvent.objects.filter(event_type=EventType.DEVICE_REVOKED).count(), 1)
