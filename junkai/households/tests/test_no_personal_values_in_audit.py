"""The audit log names objects and purposes, never personal values."""

from __future__ import annotations

import json

from junkai.audit.models import AuditEvent
from junkai.testing import SAMPLE_CARD, PersonaTestCase


class NoPersonalValuesTests(PersonaTestCase):
    def test_card_life_leaves_no_personal_value_in_the_log(self) -> None:
        client = self.client_for("officer1a")
        client.post("/login/", {"username": "junkai-demo-typed-as-id", "password": "x"})
        client.get(f"/households/{self.aoki.id}/")
        client.post("/search/", {"query": "青木 一郎"}, follow=True)
        client.post(f"/beats/{self.beat('K1-1').id}/export/", {"purpose": "防犯指導"})
        token = client.post(
            "/api/v1/auth/token",
            json.dumps({"username": "officer1a", "password": "junkai-demo"}),
            content_type="application/json",
        ).json()["token"]
        from django.test import Client

        api = Client(headers={"Authorization": f"Bearer {token}"})
        card = api.get(f"/api/v1/households/{self.aoki.id}").json()["card"]
        card["residents"][0]["phone"] = "080-7777-8888"
        self.assertEqual(
            api.put(
                f"/api/v1/households/{self.aoki.id}/card",
                json.dumps(card),
                content_type="application/json",
            ).status_code,
            200,
        )
        values = {
            "junkai-demo-typed-as-id",
            "080-7777-8888",
            "090-1111-2222",
            token,
            *(str(v) for r in SAMPLE_CARD["residents"] for v in r.values()),  # type: ignore[attr-defined]
        } - {"M", "世帯主", "妻"}
        log = " ".join(
            json.dumps(details, ensure_ascii=False) + purpose
            for details, purpose in AuditEvent.objects.values_list("details", "purpose")
        )
        leaked = sorted(v for v in values if v in log)
        self.assertEqual(leaked, [])
