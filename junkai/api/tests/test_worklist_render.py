"""The work list's answer is built to its schema without ninja validating it again: it must be
exactly what validating it and rendering it would have sent."""

from __future__ import annotations

import json

from django.test import Client
from ninja.renderers import JSONRenderer

from junkai.accounts.actions import do_issue_api_token
from junkai.api.visits import Worklist
from junkai.households import actions as household_actions
from junkai.households.models import Building
from junkai.testing import PersonaTestCase


class WorklistRenderTests(PersonaTestCase):
    def test_answer_equals_the_schema_rendered(self) -> None:
        beat = self.beat("K1-1")
        building = Building.objects.create(
            post=beat.post, beat=beat, name="コーポ駅前", town="駅前町"
        )
        for n in range(3):
            household = household_actions.do_create_household(
                beat, acting_officer=None, kind="RESIDENCE", town="駅前町", banchi=str(n + 1),
                room=f"10{n}",
            )  # fmt: skip
            household.building = building
            household.save(update_fields=["building"])
        token, _ = do_issue_api_token(self.officer("officer1a"))
        response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/worklist")
        self.assertEqual(response["Content-Type"], "application/json; charset=utf-8")
        body = response.json()
        self.assertGreaterEqual(body["count"], 3)
        self.assertIn("駅前町1番地 コーポ駅前 100号室", [i["address"] for i in body["items"]])
        model = Worklist.model_validate(body)
        rendered = JSONRenderer().render(
            response.wsgi_request, model.model_dump(), response_status=200
        )
        self.assertEqual(json.loads(rendered), body)
