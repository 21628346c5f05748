"""`junkai synth` with visit history and `junkai synth-visits`, through the commands."""

from __future__ import annotations

import datetime as dt
from io import StringIO

from django.core.management import CommandError, call_command
from django.db.models import Count, Max
from django.test import TestCase
from django.utils import timezone

from junkai.households.models import Household, Outcome
from junkai.households.schedule import current_policy, due_date
from junkai.org.models import Assignment, Role
from junkai.visits.models import Visit


class SynthVisitHistoryTests(TestCase):
    def test_synth_builds_years_of_visits_consistent_with_each_schedule(self) -> None:
        out = StringIO()
        call_command("synth", households=400, stations=1, visit_years=3, stdout=out, verbosity=0)
        self.assertIn("巡回連絡", out.getvalue())
        visits = Visit.objects.all()
        households = Household.objects.filter(station__code__startswith="SYN")
        # Three years at 3–24 month intervals: several visits per household on average.
        self.assertGreater(visits.count(), households.count() * 2)
        now = timezone.now()
        span = visits.aggregate(first=Max("started_at"))
        self.assertLess(span["first"], now)
        self.assertFalse(visits.filter(started_at__lt=now - dt.timedelta(days=3 * 366)).exists())
        self.assertEqual(
            set(visits.values_list("outcome", flat=True).distinct()),
            {Outcome.MET, Outcome.ABSENT},
        )
        # Every visit is by the officer assigned to the household's beat.
        beat_officer = {
            beat_id: a.officer_id
            for a in Assignment.objects.current().filter(role=Role.BEAT_OFFICER)
            for beat_id in a.beats.values_list("id", flat=True)
        }
        for household_id, beat_id, officer_id in visits.values_list(
            "household_id", "household__beat_id", "officer_id"
        )[:500]:
            self.assertEqual(officer_id, beat_officer[beat_id], household_id)
        # Each household's schedule fields are what the visit actions would have left.
        policy = current_policy()
        checked = 0
        for household in households.annotate(n=Count("visits")).filter(n__gt=0)[:200]:
            newest = household.visits.order_by("-started_at").first()
            assert newest is not None
            self.assertEqual(household.last_visit_at, newest.started_at)
            self.assertEqual(household.last_outcome, newest.outcome)
            met = household.visits.filter(outcome=Outcome.MET).order_by("-started_at").first()
            self.assertEqual(household.last_met_at, met.started_at if met else None)
            self.assertEqual(household.next_due, due_date(household, policy))
            checked += 1
        self.assertEqual(checked, 200)
        # Some households end overdue and some not, as in life.
        today = timezone.localdate()
        self.assertTrue(households.filter(next_due__lt=today).exists())
        self.assertTrue(households.filter(next_due__gte=today).exists())

    def test_synth_visits_refuses_twice_and_without_synthetic_data(self) -> None:
        with self.assertRaisesMessage(CommandError, "合成データ（SYN…）がありません"):
            call_command("synth_visits", stdout=StringIO())
        call_command(
            "synth", households=100, stations=1, visit_years=0, verbosity=0, stdout=StringIO()
        )
        self.assertFalse(Visit.objects.exists())
        call_command("synth_visits", years=2, verbosity=0, stdout=StringIO())
        made = Visit.objects.count()
        self.assertGreater(made, 100)
        with self.assertRaisesMessage(CommandError, "既に巡回連絡の記録があります"):
            call_command("synth_visits", years=2, verbosity=0, stdout=StringIO())
        self.assertEqual(Visit.objects.count(), made)
        with self.assertRaisesMessage(CommandError, "--years は1以上"):
            call_command("synth_visits", years=0, stdout=StringIO())
