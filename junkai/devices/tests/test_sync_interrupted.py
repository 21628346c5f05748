"""Sync runs interrupted at random points lose no change and make none twice (issue 18; the
full run of 1,000 against gunicorn, with connections cut and workers killed, is
bench/sync_kill.py). Here, through the API: the server dies part-way through a push (an error
raised at a random change: the push's transaction rolls back), the answer is lost after the
push committed, or the body arrives cut short — and each time the device sends the same batch
again, sometimes with changes acknowledged long before."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from typing import Any
from unittest import mock

import time_machine

from junkai.audit.models import AuditEvent, EventType
from junkai.devices import actions
from junkai.devices.models import SyncChange
from junkai.devices.tests.test_api import MORNING, DeviceApi
from junkai.visits.models import Visit

RUNS = 25


class Died(Exception):
    """The server process stopping part-way through a push."""


def dies_at(fatal: int, apply: Callable[..., Any]) -> Callable[..., Any]:
    """`_apply` that applies the changes before the `fatal`-th new one, then dies there."""
    calls = [0]

    def dying(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] >= fatal:
            raise Died
        return apply(*args, **kwargs)

    return dying


@time_machine.travel(MORNING, tick=False)
class InterruptedSyncTests(DeviceApi):
    def test_random_interruptions_lose_nothing_and_duplicate_nothing(self) -> None:
        rng = random.Random(18)  # noqa: S311 (a pattern of interruptions, not a secret)
        checkout_id = self.out()
        tablet = self.api("officer1a")
        households = [self.aoki.id, self.no_card.id]
        before = Visit.objects.count()
        sent: dict[str, dict[str, Any]] = {}
        answers: dict[str, dict[str, Any]] = {}
        modes: list[str] = []
        apply = actions._apply

        def push(batch: list[dict[str, Any]], *, cut: bool = False) -> Any:
            body = json.dumps({"checkout_id": checkout_id, "changes": batch})
            if cut:
                body = body[: rng.randint(1, len(body) - 1)]
            return tablet.post("/api/v1/sync/push", body, content_type="application/json")

        for n in range(RUNS):
            batch: list[dict[str, Any]] = [
                {
                    "client_id": f"r{n}-{i}",
                    "kind": "visit",
                    "household_id": rng.choice(households),
                    "visit": {
                        "started_at": (
                            MORNING - dt.timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 3))
                        ).isoformat(),
                        "outcome": rng.choice(["MET", "ABSENT"]),
                        "guidance_topics": [rng.randint(1, 6)],
                    },
                }
                for i in range(rng.randint(1, 4))
            ]
            if answers and rng.random() < 0.3:
                batch = [sent[c] for c in rng.sample(sorted(answers), 1)] + batch
            for change in batch:
                sent.setdefault(change["client_id"], change)
            mode = rng.choice(["died", "answer lost", "body cut"])
            modes.append(mode)
            if mode == "died":
                new = sum(1 for c in batch if c["client_id"] not in answers)
                dying = dies_at(rng.randint(1, new), apply)
                with (
                    mock.patch.object(actions, "_apply", dying),
                    self.assertRaises(Died),
                    self.assertLogs("django.request", "ERROR"),  # the 500, kept off the output
                ):
                    push(batch)
            elif mode == "answer lost":
                self.assertEqual(push(batch).status_code, 200)
            else:
                self.assertIn(push(batch, cut=True).status_code, (400, 422))
            # The device's next sync: the same batch again, answered this time.
            answered = push(batch)
            self.assertEqual(answered.status_code, 200, answered.content)
            results = answered.json()["results"]
            self.assertEqual([r["client_id"] for r in results], [c["client_id"] for c in batch])
            for result in results:
                self.assertEqual(result["status"], "applied", result)
                kept = {k: v for k, v in result.items() if k != "replayed"}
                answers.setdefault(result["client_id"], kept)
                self.assertEqual(answers[result["client_id"]], kept)

        self.assertEqual(set(modes), {"died", "answer lost", "body cut"})
        stored = SyncChange.objects.filter(checkout_id=checkout_id)
        self.assertEqual(sorted(stored.values_list("client_id", flat=True)), sorted(sent))
        visit_ids = {a["visit_id"] for a in answers.values()}
        self.assertEqual(len(visit_ids), len(sent))  # one visit per change: none lost
        self.assertEqual(Visit.objects.count() - before, len(sent))  # and none twice
        self.assertEqual(
            AuditEvent.objects.filter(
                event_type=EventType.VISIT_RECORDED,
                object_id__in=[str(v) for v in visit_ids],
            ).count(),
            len(sent),
        )
