"""A device's push (a visit, then a correction of the same household's card) while the card is
saved at the post: both lock the household's row before the card's, so neither waits on the
other in a circle. Before, the save at the post locked the card and then the household, the
push the household and then the card: PostgreSQL found a deadlock and one of them failed (a 500)
after a second. Now the save waits for the push and is told the card changed (409).

PostgreSQL, two connections: the push is held after its visit updated the household."""

from __future__ import annotations

import json
import threading
import unittest
from typing import Any

from django.db import connection, connections
from django.test import Client

from junkai.devices.tests.test_api import DeviceApiMixin
from junkai.visits.tests.test_concurrent_visits import (
    DAY,
    WAIT,
    HoldAfterHouseholdUpdate,
    TwoConnections,
)


@unittest.skipUnless(connection.vendor == "postgresql", "two connections and row locks")
class PushAndSaveAtOnceTests(DeviceApiMixin, TwoConnections):
    def test_a_push_and_a_save_at_the_post_take_turns(self) -> None:
        checkout_id = self.out()
        self.assertEqual(self.pull(checkout_id).status_code, 200)
        at_post = Client(headers={"authorization": f"Bearer {self.tokens['officer1b']}"})
        card = at_post.get(f"/api/v1/households/{self.aoki.id}?purpose=PATROL").json()["card"]
        version = card["version"]
        card["residents"][0]["phone"] = "080-1111-0000"
        changes = [
            {
                "client_id": "v-1",
                "kind": "visit",
                "household_id": self.aoki.id,
                "visit": {"started_at": DAY.isoformat(), "outcome": "MET", "guidance_topics": [1]},
            },
            self.card_change("c-1", version, remarks="端末で補正"),
        ]
        hold = HoldAfterHouseholdUpdate()
        answers: dict[str, Any] = {}

        def push() -> None:
            try:
                with connection.execute_wrapper(hold):
                    answers["push"] = self.send(
                        "officer1a",
                        "/sync/push",
                        {"checkout_id": checkout_id, "changes": changes, "read_log": []},
                    )
            finally:
                connections.close_all()

        def save() -> None:
            try:
                answers["save"] = at_post.put(
                    f"/api/v1/households/{self.aoki.id}/card",
                    json.dumps(card),
                    content_type="application/json",
                )
            finally:
                connections.close_all()

        push_thread, save_thread = threading.Thread(target=push), threading.Thread(target=save)
        push_thread.start()
        try:
            self.assertTrue(hold.holding.wait(WAIT), "the push never reached its visit's event")
            save_thread.start()
            self.assertTrue(self.waiting_on_a_lock(), "the save did not wait for the push")
        finally:
            hold.release.set()
            push_thread.join(WAIT)
        save_thread.join(WAIT)

        pushed = answers["push"]
        self.assertEqual(pushed.status_code, 200, pushed.content)
        self.assertEqual(
            [r["status"] for r in pushed.json()["results"]], ["applied", "applied"], pushed.content
        )
        # The save at the post came second, over a version the push had replaced.
        saved = answers["save"]
        self.assertEqual(saved.status_code, 409, saved.content)
