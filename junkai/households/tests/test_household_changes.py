"""Registering and changing households through the pages, and the daily category refresh."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command

from junkai.audit.models import AuditEvent, EventType
from junkai.households import actions
from junkai.households.models import Category, Household, HouseholdStatus, Priority
from junkai.testing import PersonaTestCase


class HouseholdPageTests(PersonaTestCase):
    def test_register_a_household(self) -> None:
        beat = self.beat("K1-2")
        client = self.client_for("officer1b")
        missing = client.post(
            f"/beats/{beat.id}/households/new/", {"kind": "RESIDENCE", "town": ""}
        )
        self.assertContains(missing, "町名を入力してください")
        self.assertFalse(Household.objects.filter(beat=beat).exists())
        response = client.post(
            f"/beats/{beat.id}/households/new/",
            {
                "kind": "RESIDENCE",
                "town": "駅前町",
                "chome": "3",
                "banchi": "1",
                "block_group": "2班",
            },
        )
        household = Household.objects.get(beat=beat)
        self.assertRedirects(response, f"/households/{household.id}/")
        self.assertEqual(household.category, Category.UNKNOWN)
        self.assertEqual(household.priority, Priority.HIGH)
        self.assertEqual((household.post, household.station), (beat.post, self.station))

    def test_elderly_flag_and_leader_role(self) -> None:
        client = self.client_for("officer1a")
        response = client.post(
            f"/households/{self.aoki.id}/edit/",
            {
                "kind": "RESIDENCE", "town": "駅前町", "chome": "1", "banchi": "2", "go": "3",
                "block_group": "1組", "map_number": "1", "elderly_flag": "on", "leader_role": "HANCHO",
            },
        )  # fmt: skip
        self.assertRedirects(response, f"/households/{self.aoki.id}/")
        self.aoki.refresh_from_db()
        self.assertEqual(self.aoki.category, Category.ELDERLY)
        self.assertEqual(self.aoki.leader_role, "HANCHO")

    def test_move_out_keeps_the_card(self) -> None:
        client = self.client_for("officer1a")
        client.post(f"/households/{self.aoki.id}/move-out/")
        self.aoki.refresh_from_db()
        self.assertEqual(self.aoki.status, HouseholdStatus.MOVED_OUT)
        page = client.get(f"/households/{self.aoki.id}/")
        self.assertContains(page, "青木 一郎")
        self.assertTrue(
            AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_MOVED_OUT).exists()
        )

    def test_other_post_cannot_change(self) -> None:
        client = self.client_for("officer2a")
        self.assertEqual(client.post(f"/households/{self.aoki.id}/move-out/").status_code, 404)
        self.aoki.refresh_from_db()
        self.assertEqual(self.aoki.status, HouseholdStatus.ACTIVE)


class CategoryRefreshTests(PersonaTestCase):
    def test_household_turns_elderly_on_the_youngest_65th_birthday(self) -> None:
        # 青木 一郎 born 1970-03-01, 青木 花 1972-07-07: all 65+ from 2037-07-07.
        self.assertEqual(self.aoki.category, Category.HOME)
        with time_machine.travel(dt.datetime(2037, 7, 6, 12, tzinfo=dt.UTC)):
            call_command("refresh_categories", stdout=StringIO())
            self.aoki.refresh_from_db()
            self.assertEqual(self.aoki.category, Category.HOME)
        with time_machine.travel(dt.datetime(2037, 7, 7, 12, tzinfo=dt.UTC)):
            out = StringIO()
            call_command("refresh_categories", stdout=out)
            self.assertIn("1 世帯", out.getvalue())
            self.aoki.refresh_from_db()
            self.assertEqual(self.aoki.category, Category.ELDERLY)
            self.assertEqual(self.aoki.priority, Priority.HIGH)

    def test_business_never_becomes_elderly(self) -> None:
        self.assertEqual(self.honmachi.category, Category.BUSINESS)
        self.assertEqual(self.honmachi.priority, Priority.LOW)
        actions.refresh_category(self.honmachi)
        self.assertEqual(self.honmachi.category, Category.BUSINESS)
