"""Two visits to one household at the same moment: the household's row is locked for the
visit's transaction, so the second computes the due date from the first's values, never from
those read before it (PostgreSQL: two connections, the first held inside its transaction).

The first request (the later visit) is held after it updated the household, before its audit
event; the second (an earlier visit, recorded late) is sent meanwhile and must wait for the
first's lock. Without the lock it would wait only at its own UPDATE and then write the values it
read before the first committed: last_met_at and next_due of the older visit.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import unittest
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection, connections
from django.test import Client

from junkai.accounts.actions import do_issue_api_token
from junkai.households.models import Household, SchedulePolicy
from junkai.households.schedule import current_policy, due_date
from junkai.lib.dates import add_months
from junkai.testing import JunkaiTransactionTestCase, PersonaMixin, other_connection
from junkai.visits.actions import POLICY_FIELDS, do_set_policy
from junkai.visits.models import Visit

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = dt.datetime(2026, 6, 10, 10, 0, tzinfo=TOKYO)
WAIT = 20.0  # seconds: the longest any step here may take on a loaded machine


class HoldAfterHouseholdUpdate:
    """An execute wrapper: once the household's row is updated, holds the next audit INSERT
    (still inside the visit's transaction) until released."""

    def __init__(self) -> None:
        self.updated = False
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if sql.startswith('UPDATE "households_household"'):
            self.updated = True
        elif self.updated and "INSERT INTO audit_auditevent" in sql and not self.holding.is_set():
            self.holding.set()
            self.release.wait(WAIT)
        return execute(sql, params, many, context)


class TwoConnections(PersonaMixin, JunkaiTransactionTestCase):
    def setUp(self) -> None:
        traveller = time_machine.travel(DAY, tick=True)  # by day: no night approval needed
        traveller.start()
        self.addCleanup(traveller.stop)
        self.build_personas()
        self.tokens = {
            name: do_issue_api_token(self.officer(name))[0] for name in ("officer1a", "officer1b")
        }

    def post_visit(self, officer: str, started_at: dt.datetime, answers: dict[str, Any]) -> None:
        """In a thread of its own (its own database connection)."""
        try:
            response = Client().post(
                "/api/v1/visits",
                json.dumps(
                    {
                        "household_id": self.aoki.id,
                        "started_at": started_at.isoformat(),
                        "method": "VISIT",
                        "outcome": "MET",
                        "guidance_topics": [1],
                    }
                ),
                content_type="application/json",
                headers={"authorization": f"Bearer {self.tokens[officer]}"},
            )
            answers[officer] = (response.status_code, response.json())
        finally:
            connections.close_all()

    def waiting_on_a_lock(self) -> bool:
        with other_connection(autocommit=True) as other:
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                row = other.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ).fetchone()
                if row is not None and row[0] > 0:
                    return True
                time.sleep(0.05)
        return False


@unittest.skipUnless(connection.vendor == "postgresql", "two connections and a row lock")
class ConcurrentVisitTests(TwoConnections):
    def test_the_due_date_is_the_latest_visits_when_two_are_recorded_at_once(self) -> None:
        later, earlier = DAY - dt.timedelta(hours=1), DAY - dt.timedelta(days=3)
        hold = HoldAfterHouseholdUpdate()
        answers: dict[str, Any] = {}

        def first() -> None:
            with connection.execute_wrapper(hold):
                self.post_visit("officer1a", later, answers)

        first_thread = threading.Thread(target=first)
        second_thread = threading.Thread(
            target=self.post_visit, args=("officer1b", earlier, answers)
        )
        first_thread.start()
        try:
            self.assertTrue(hold.holding.wait(WAIT), "the first visit never reached its event")
            second_thread.start()
            # The second visit waits for the first's row lock while the first is held.
            self.assertTrue(self.waiting_on_a_lock(), "the second visit did not wait")
            self.assertNotIn("officer1b", answers)
        finally:
            hold.release.set()
            first_thread.join(WAIT)
        if second_thread.is_alive() or second_thread.ident is not None:
            second_thread.join(WAIT)
        self.assertEqual(answers["officer1a"][0], 201, answers)
        self.assertEqual(answers["officer1b"][0], 201, answers)

        household = Household.objects.get(id=self.aoki.id)
        self.assertEqual(Visit.objects.filter(household=household).count(), 2)
        # Both visits kept; the household's schedule follows the latest of them.
        self.assertEqual(household.last_met_at, later)
        self.assertEqual(household.last_visit_at, later)
        months = current_policy().months_for(household.category, leader=household.is_leader)
        self.assertEqual(household.next_due, add_months(later.astimezone(TOKYO).date(), months))


class HoldBeforeHouseholdLock:
    """An execute wrapper: holds the first statement that locks a household's row (a card
    save's, after the request read the household) until released."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        locking = '"households_household"' in sql and "FOR UPDATE" in sql
        if locking and not self.holding.is_set():
            self.holding.set()
            self.release.wait(WAIT)
        return execute(sql, params, many, context)


@unittest.skipUnless(connection.vendor == "postgresql", "two connections and a row lock")
class CardSaveDuringAVisitTests(TwoConnections):
    """A card corrected at the post while the officer at the door records a visit: the card's
    save recomputes the due date (its category may change) from the household as the visit left
    it, never from the copy it read before the visit committed."""

    def test_a_card_save_does_not_undo_the_visits_due_date(self) -> None:
        api = Client(headers={"authorization": f"Bearer {self.tokens['officer1a']}"})
        card = api.get(f"/api/v1/households/{self.aoki.id}").json()["card"]
        card["residents"][0]["phone"] = "080-7777-8888"
        before = Household.objects.get(id=self.aoki.id)
        visited = DAY - dt.timedelta(hours=1)
        self.assertNotEqual(before.last_met_at, visited)
        hold = HoldBeforeHouseholdLock()
        answers: dict[str, Any] = {}

        def save_card() -> None:
            try:
                with connection.execute_wrapper(hold):
                    response = api.put(
                        f"/api/v1/households/{self.aoki.id}/card",
                        json.dumps(card),
                        content_type="application/json",
                    )
                answers["card"] = response.status_code
            finally:
                connections.close_all()

        card_thread = threading.Thread(target=save_card)
        card_thread.start()
        try:
            self.assertTrue(hold.holding.wait(WAIT), "the card save never reached the household")
            # The visit at the door goes through while the card's save is held.
            self.post_visit("officer1b", visited, answers)
        finally:
            hold.release.set()
            card_thread.join(WAIT)
        self.assertEqual((answers["card"], answers["officer1b"][0]), (200, 201), answers)

        household = Household.objects.get(id=self.aoki.id)
        self.assertEqual(household.last_met_at, visited)
        months = current_policy().months_for(household.category, leader=household.is_leader)
        self.assertEqual(household.next_due, add_months(visited.astimezone(TOKYO).date(), months))


class HoldBeforeAuditEvent:
    """An execute wrapper: holds the first audit INSERT (an action's event, the end of its
    work, still inside its transaction) until released."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if "INSERT INTO audit_auditevent" in sql and not self.holding.is_set():
            self.holding.set()
            self.release.wait(WAIT)
        return execute(sql, params, many, context)


@unittest.skipUnless(connection.vendor == "postgresql", "two connections and a row lock")
class VisitDuringAPolicyChangeTests(TwoConnections):
    """本部地域課 changes the intervals while an officer records a visit: the visit waits for the
    change and computes its due date from the new intervals, never writing one of the old
    intervals over the change's recomputation."""

    def test_a_visit_during_the_change_follows_the_new_intervals(self) -> None:
        hold = HoldBeforeAuditEvent()
        answers: dict[str, Any] = {}
        months = dict.fromkeys(POLICY_FIELDS[:5], 7)
        hq = self.officer("hq")
        # The row a migration creates (this test case's flush removed it).
        SchedulePolicy.objects.get_or_create()

        def change() -> None:
            try:
                with connection.execute_wrapper(hold):
                    do_set_policy(acting_officer=hq, **months)
                answers["policy"] = "changed"
            finally:
                connections.close_all()

        policy_thread = threading.Thread(target=change)
        visit_thread = threading.Thread(
            target=self.post_visit, args=("officer1a", DAY - dt.timedelta(hours=1), answers)
        )
        policy_thread.start()
        try:
            self.assertTrue(hold.holding.wait(WAIT), "the change never reached its event")
            visit_thread.start()
            self.assertTrue(self.waiting_on_a_lock(), "the visit did not wait for the change")
        finally:
            hold.release.set()
            policy_thread.join(WAIT)
        visit_thread.join(WAIT)
        self.assertEqual((answers["policy"], answers["officer1a"][0]), ("changed", 201), answers)
        household = Household.objects.get(id=self.aoki.id)
        visited = (DAY - dt.timedelta(hours=1)).astimezone(TOKYO).date()
        self.assertEqual(household.next_due, add_months(visited, 7))

    def change_intervals(self, answers: dict[str, Any]) -> None:
        """本部地域課 sets every interval to 7 months (in a thread of its own)."""
        try:
            do_set_policy(acting_officer=self.officer("hq"), **dict.fromkeys(POLICY_FIELDS[:5], 7))
            answers["policy"] = "changed"
        finally:
            connections.close_all()

    def test_a_change_during_a_visit_waits_for_it_and_then_follows(self) -> None:
        hold = HoldAfterHouseholdUpdate()
        answers: dict[str, Any] = {}
        SchedulePolicy.objects.get_or_create()

        def visit() -> None:
            with connection.execute_wrapper(hold):
                self.post_visit("officer1a", DAY - dt.timedelta(hours=1), answers)

        visit_thread, policy_thread = (
            threading.Thread(target=visit),
            threading.Thread(target=self.change_intervals, args=(answers,)),
        )
        visit_thread.start()
        try:
            self.assertTrue(hold.holding.wait(WAIT), "the visit never reached its event")
            policy_thread.start()
            self.assertTrue(self.waiting_on_a_lock(), "the change did not wait for the visit")
        finally:
            hold.release.set()
            visit_thread.join(WAIT)
        policy_thread.join(WAIT)
        self.assertEqual((answers["officer1a"][0], answers["policy"]), (201, "changed"), answers)
        household = Household.objects.get(id=self.aoki.id)
        visited = (DAY - dt.timedelta(hours=1)).astimezone(TOKYO).date()
        self.assertEqual(household.next_due, add_months(visited, 7))
        # Every other household follows the new intervals too.
        policy = current_policy()
        for other in Household.objects.exclude(id=self.aoki.id):
            self.assertEqual(other.next_due, due_date(other, policy), other)

    def test_a_household_held_by_a_card_save_is_recomputed_once_it_commits(self) -> None:
        # The card's save holds 青木's row (no policy lock): the recomputation skips it, does
        # every other household, then waits for it alone and follows the new intervals.
        api = Client(headers={"authorization": f"Bearer {self.tokens['officer1a']}"})
        card = api.get(f"/api/v1/households/{self.aoki.id}").json()["card"]
        card["residents"][0]["phone"] = "080-7777-8888"
        SchedulePolicy.objects.get_or_create()
        hold = HoldAfterHouseholdUpdate()
        answers: dict[str, Any] = {}

        def save_card() -> None:
            try:
                with connection.execute_wrapper(hold):
                    answers["card"] = api.put(
                        f"/api/v1/households/{self.aoki.id}/card",
                        json.dumps(card),
                        content_type="application/json",
                    ).status_code
            finally:
                connections.close_all()

        card_thread, policy_thread = (
            threading.Thread(target=save_card),
            threading.Thread(target=self.change_intervals, args=(answers,)),
        )
        card_thread.start()
        try:
            self.assertTrue(hold.holding.wait(WAIT), "the card save never reached its event")
            policy_thread.start()
            self.assertTrue(self.waiting_on_a_lock(), "the recomputation did not wait for 青木")
            # Meanwhile every other household already follows the new intervals.
            policy = current_policy()
            self.assertEqual(policy.home_months, 7)
            for other in Household.objects.exclude(id=self.aoki.id):
                self.assertEqual(other.next_due, due_date(other, policy), other)
        finally:
            hold.release.set()
            card_thread.join(WAIT)
        policy_thread.join(WAIT)
        self.assertEqual((answers["card"], answers["policy"]), (200, "changed"), answers)
        aoki = Household.objects.get(id=self.aoki.id)
        self.assertEqual(aoki.next_due, due_date(aoki, current_policy()))
