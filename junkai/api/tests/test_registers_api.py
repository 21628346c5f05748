"""Binders, the checkout register and its monthly review over the API (要領 第5-3(3)).

"Now" is fixed: binders are registered on 2026-05-01 and the tests run on 2026-06-10 10:00 JST.
"""

from __future__ import annotations

import json
from typing import Any

import time_machine
from django.test import Client

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.registers.models import BinderCheckout, CheckoutMonthReview
from junkai.registers.testing import DAY, RegistersTestCase


@time_machine.travel(DAY, tick=False)
class RegistersApiTests(RegistersTestCase):
    def api(self, username: str) -> Client:
        token, _ = do_issue_api_token(self.officer(username))
        return Client(headers={"Authorization": f"Bearer {token}"})

    def send(self, username: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.api(username).post(
            f"/api/v1{path}", json.dumps(body or {}), content_type="application/json"
        )

    def declare(self, username: str = "officer1a", binder_ids: list[int] | None = None) -> Any:
        ids = binder_ids if binder_ids is not None else [self.k1_binders[0].id]
        return self.send(username, "/checkouts", {"binder_ids": ids, "purpose": "巡回連絡"})

    # --- binders ----------------------------------------------------------------------

    def test_binders_of_the_callers_post(self) -> None:
        self.declare()
        response = self.api("officer1a").get("/api/v1/binders")
        self.assertEqual(response.status_code, 200)
        items = response.json()["items"]
        self.assertEqual(
            [(b["number"], b["post_id"]) for b in items],
            [("1", self.k1.id), ("2", self.k1.id), ("3", self.k1.id)],
        )
        self.assertEqual([b["checked_out"] for b in items], [True, False, False])
        self.assertEqual(
            set(items[0]),
            {"id", "number", "post_id", "title", "cabinet_id", "checked_out", "checkout_id"},
        )
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.READ_REGISTER, purpose="簿冊の一覧"
            ).exists()
        )
        chuzai = self.api("chuzai1").get("/api/v1/binders").json()["items"]
        self.assertEqual([b["id"] for b in chuzai], [self.c1_binder.id])
        self.assertEqual(self.api("staff").get("/api/v1/binders").json()["items"], [])
        self.assertEqual(
            self.api("officer1a").get(f"/api/v1/binders?post_id={self.k2.id}").status_code, 404
        )

    # --- the four steps -----------------------------------------------------------------

    def test_round_trip(self) -> None:
        response = self.declare(binder_ids=[self.k1_binders[1].id, self.k1_binders[0].id])
        self.assertEqual(response.status_code, 201, response.content)
        entry = response.json()
        self.assertEqual(entry["binder_numbers"], ["1", "2"])
        self.assertEqual(entry["status"], "DECLARED")
        self.assertEqual(entry["borrower_id"], self.officer("officer1a").id)
        self.assertEqual(entry["declared_to_id"], self.officer("kacho").id)
        self.assertEqual(entry["due_at"], "2026-06-10T22:00:00+09:00")
        checkout_id = entry["id"]

        denied = self.send("officer1a", f"/checkouts/{checkout_id}/confirm-out")
        self.assertEqual(denied.status_code, 403)
        self.assertIn("持出警察官以外の者", denied.json()["detail"])
        out = self.send("officer1b", f"/checkouts/{checkout_id}/confirm-out")
        self.assertEqual((out.status_code, out.json()["status"]), (200, "OUT"))
        self.assertFalse(out.json()["self_confirmed"])
        self.assertEqual(
            self.send("officer1b", f"/checkouts/{checkout_id}/return").status_code, 403
        )
        early = self.send("officer1b", f"/checkouts/{checkout_id}/confirm-return")
        self.assertEqual(early.status_code, 422)
        self.assertIn("返却を記録していません", early.json()["errors"]["status"][0])
        returned = self.send("officer1a", f"/checkouts/{checkout_id}/return")
        self.assertEqual(returned.json()["status"], "RETURNED")
        self.assertEqual(
            self.send("officer1a", f"/checkouts/{checkout_id}/confirm-return").status_code, 403
        )
        back = self.send("officer1b", f"/checkouts/{checkout_id}/confirm-return")
        self.assertEqual((back.status_code, back.json()["status"]), (200, "CLOSED"))
        self.assertEqual(back.json()["return_confirmed_by_id"], self.officer("officer1b").id)
        again = self.send("officer1b", f"/checkouts/{checkout_id}/confirm-return")
        self.assertEqual(again.status_code, 422)
        binders = self.api("officer1a").get("/api/v1/binders").json()["items"]
        self.assertFalse(any(b["checked_out"] for b in binders))

    def test_second_checkout_of_a_binder_out_is_refused(self) -> None:
        self.assertEqual(self.declare().status_code, 201)
        response = self.declare("officer1b", [self.k1_binders[2].id, self.k1_binders[0].id])
        self.assertEqual(response.status_code, 422)
        self.assertEqual(
            response.json()["errors"]["binder_ids"][0],
            "簿冊 1 は持出中です（返却の確認が済んでいません）",
        )
        self.assertEqual(BinderCheckout.objects.count(), 1)

    def test_binders_of_another_post_are_refused(self) -> None:
        # Out of his scope: absent and not-his answer alike.
        self.assertEqual(self.declare(binder_ids=[self.k2_binder.id]).status_code, 404)
        self.assertEqual(
            self.declare(binder_ids=[self.k1_binders[0].id, self.k2_binder.id]).status_code, 404
        )
        # The 地域課長 sees both posts, but one declaration is one post.
        mixed = self.declare("kacho", [self.k1_binders[0].id, self.k2_binder.id])
        self.assertEqual(mixed.status_code, 422)
        self.assertIn("同じ交番等の簿冊", mixed.json()["errors"]["binder_ids"][0])
        # Readers of the station (地域課長代理, 署長) do not take binders out.
        self.assertEqual(self.declare("dairi").status_code, 403)
        self.assertEqual(self.declare("chief").status_code, 403)
        self.assertFalse(BinderCheckout.objects.exists())

    def test_bad_input_names_the_field(self) -> None:
        empty = self.send("officer1a", "/checkouts", {"binder_ids": [], "purpose": "巡回連絡"})
        self.assertEqual(empty.json()["errors"], {"binder_ids": ["持ち出す簿冊を選んでください"]})
        no_purpose = self.send(
            "officer1a", "/checkouts", {"binder_ids": [self.k1_binders[0].id], "purpose": " "}
        )
        self.assertEqual(no_purpose.status_code, 422)
        self.assertEqual(
            no_purpose.json()["errors"], {"purpose": ["持出しの目的を入力してください"]}
        )

    def test_single_officer_chuzaisho_confirms_himself(self) -> None:
        entry = self.declare("chuzai1", [self.c1_binder.id]).json()
        out = self.send("chuzai1", f"/checkouts/{entry['id']}/confirm-out")
        self.assertEqual(out.status_code, 200)
        self.assertTrue(out.json()["self_confirmed"])
        self.assertEqual(out.json()["out_confirmed_by_id"], self.officer("chuzai1").id)
        self.send("chuzai1", f"/checkouts/{entry['id']}/return")
        back = self.send("chuzai1", f"/checkouts/{entry['id']}/confirm-return")
        self.assertEqual((back.json()["status"], back.json()["self_confirmed"]), ("CLOSED", True))

    def test_others_see_nothing_of_a_checkout(self) -> None:
        checkout_id = self.declare().json()["id"]
        for username in ("officer2a", "chuzai1", "staff", "hq"):
            response = self.send(username, f"/checkouts/{checkout_id}/confirm-out")
            self.assertEqual(response.status_code, 404, username)
        self.assertEqual(
            Client().post(f"/api/v1/checkouts/{checkout_id}/confirm-out").status_code, 401
        )

    def test_register_of_a_month(self) -> None:
        self.declare()
        response = self.api("kobancho1").get(
            f"/api/v1/checkouts?post_id={self.k1.id}&month=2026-06"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["month"], "2026-06")
        self.assertEqual([e["binder_numbers"] for e in response.json()["items"]], [["1"]])
        self.assertEqual(
            self.api("kobancho1")
            .get(f"/api/v1/checkouts?post_id={self.k1.id}&month=2026-05")
            .json()["items"],
            [],
        )
        self.assertEqual(
            self.api("officer2a").get(f"/api/v1/checkouts?post_id={self.k1.id}").status_code, 404
        )

    # --- monthly review ---------------------------------------------------------------------

    def test_manager_signs_a_month_and_others_may_not(self) -> None:
        body = {"post_id": self.k1.id, "month": "2026-05"}
        for username in ("officer1a", "kobancho1", "dairi", "chief"):
            response = self.send(username, "/checkout-reviews", body)
            self.assertEqual(response.status_code, 403, username)
            self.assertIn("管理責任者", response.json()["detail"])
        self.assertEqual(self.send("officer2a", "/checkout-reviews", body).status_code, 404)
        signed = self.send("kacho", "/checkout-reviews", body)
        self.assertEqual(signed.status_code, 201, signed.content)
        self.assertEqual(signed.json()["month"], "2026-05")
        self.assertEqual(signed.json()["reviewed_by_id"], self.officer("kacho").id)
        twice = self.send("kacho", "/checkout-reviews", body)
        self.assertEqual(twice.status_code, 422)
        self.assertIn("既に確認済み", twice.json()["errors"]["month"][0])
        self.assertEqual(CheckoutMonthReview.objects.count(), 1)

    def test_month_must_be_yyyy_mm_and_begun(self) -> None:
        bad = self.send("kacho", "/checkout-reviews", {"post_id": self.k1.id, "month": "5月"})
        self.assertEqual(bad.status_code, 422)
        self.assertIn("2026-05 の形式", bad.json()["errors"]["month"][0])
        future = self.send(
            "kacho", "/checkout-reviews", {"post_id": self.k1.id, "month": "2026-07"}
        )
        self.assertEqual(future.status_code, 422)
        self.assertIn("まだ始まっていない月", future.json()["errors"]["month"][0])
