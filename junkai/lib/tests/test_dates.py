"""A day's start in the local zone: the bound every query over typed dates uses."""

from __future__ import annotations

import datetime as dt

from django.test import SimpleTestCase
from django.utils import timezone

from junkai.lib.dates import start_of_day


class StartOfDayTest(SimpleTestCase):
    def test_a_day_begins_at_local_midnight_which_is_the_previous_evening_in_utc(self) -> None:
        start = start_of_day(dt.date(2026, 4, 1))
        self.assertTrue(timezone.is_aware(start))
        self.assertEqual(start, dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC))
        self.assertEqual(timezone.localtime(start).date(), dt.date(2026, 4, 1))
        just_before = start - dt.timedelta(microseconds=1)
        self.assertEqual(timezone.localtime(just_before).date(), dt.date(2026, 3, 31))

    def test_year_and_month_ends(self) -> None:
        for day, utc in (
            (dt.date(2026, 1, 1), dt.datetime(2025, 12, 31, 15, 0, tzinfo=dt.UTC)),
            (dt.date(2024, 2, 29), dt.datetime(2024, 2, 28, 15, 0, tzinfo=dt.UTC)),
        ):
            with self.subTest(day=day):
                self.assertEqual(start_of_day(day), utc)

    def test_it_follows_the_active_zone(self) -> None:
        with timezone.override("UTC"):
            self.assertEqual(
                start_of_day(dt.date(2026, 4, 1)), dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
            )
