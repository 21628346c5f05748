"""The demo households: every category, buildings, leaders, card history, readings in kana."""

from __future__ import annotations

import re
from collections import Counter
from typing import ClassVar

from django.test import TestCase

from junkai.audit.chain import verify
from junkai.audit.models import AuditEvent, EventType
from junkai.demo.households import beat_specs, build_demo_households, generate_rows
from junkai.demo.organisation import build_demo
from junkai.households.bulk import BulkResult
from junkai.households.models import (
    Building,
    CardRevision,
    Category,
    ContactCard,
    Household,
    HouseholdKind,
    LeaderRole,
    Resident,
    RevisionBasis,
)
from junkai.org.models import Beat, Station

HIRAGANA = re.compile(r"^[ぁ-ゖー]+ [ぁ-ゖー]+$")


class DemoHouseholdsTest(TestCase):
    station: ClassVar[Station]
    result: ClassVar[BulkResult]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.station = build_demo()
        cls.result = build_demo_households(cls.station, count=300)

    def test_counts_and_one_audit_event(self) -> None:
        self.assertEqual(self.result.households, 300)
        self.assertEqual(Household.objects.filter(station=self.station).count(), 300)
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.HOUSEHOLDS_IMPORTED).count(), 1
        )
        self.assertTrue(verify().ok)

    def test_every_beat_and_every_category(self) -> None:
        beats = Beat.objects.filter(post__station=self.station)
        self.assertEqual(
            set(Household.objects.values_list("beat_id", flat=True).distinct()),
            set(beats.values_list("id", flat=True)),
        )
        self.assertFalse(Household.objects.filter(post__code="P1").exists())  # no beats
        categories = Counter(Household.objects.values_list("category", flat=True))
        self.assertEqual(set(categories), set(Category.values))
        # 未把握 ≈ 8 %: no card at all.
        self.assertTrue(5 <= categories[Category.UNKNOWN] <= 50, categories)
        self.assertFalse(
            Household.objects.filter(category=Category.UNKNOWN, cards__isnull=False).exists()
        )
        self.assertTrue(
            Household.objects.filter(category=Category.ELDERLY, elderly_flag=False).exists()
        )
        self.assertTrue(Household.objects.filter(elderly_flag=True).exists())
        for business in Household.objects.filter(kind=HouseholdKind.BUSINESS).exclude(name=""):
            self.assertNotIn(" ", business.name)  # 佐藤商店, not a person

    def test_buildings_leaders_and_street_order(self) -> None:
        self.assertTrue(Building.objects.filter(beat__post__station=self.station).exists())
        in_buildings = Household.objects.filter(building__isnull=False)
        self.assertTrue(in_buildings.exists())
        for household in in_buildings:
            self.assertTrue(household.room)
            assert household.building is not None
            self.assertEqual(household.building.beat_id, household.beat_id)
        self.assertEqual(
            set(Household.objects.exclude(leader_role="").values_list("leader_role", flat=True)),
            {r.value for r in LeaderRole if r.value},
        )
        for beat in Beat.objects.filter(post__station=self.station):
            numbers = list(
                Household.objects.filter(beat=beat)
                .order_by("map_number")
                .values_list("map_number", flat=True)
            )
            self.assertEqual(numbers, list(range(1, len(numbers) + 1)))
        self.assertFalse(Household.objects.filter(latitude__isnull=True).exists())

    def test_history_of_corrections(self) -> None:
        corrected = ContactCard.objects.filter(version__gt=1)
        self.assertTrue(corrected.exists())
        for card in corrected[:20]:
            revisions = list(card.revisions.order_by("version"))
            self.assertEqual([r.version for r in revisions], list(range(1, card.version + 1)))
            self.assertEqual(revisions[0].basis, RevisionBasis.NEW)
            times = [r.revised_at for r in revisions]
            self.assertEqual(times, sorted(times))
            self.assertEqual(card.updated_at, times[-1])
            self.assertTrue(all(r.changes for r in revisions))
        notes = set(CardRevision.objects.exclude(note="").values_list("note", flat=True))
        self.assertIn("出生による世帯員の追加", notes)

    def test_names_and_readings(self) -> None:
        residents = Resident.objects.filter(card__household__kind=HouseholdKind.RESIDENCE)
        self.assertTrue(residents.exists())
        for name, kana, birth in residents.values_list("name", "kana", "birth_date"):
            self.assertRegex(kana, HIRAGANA, name)
            self.assertEqual(len(name.split(" ")), 2, name)
            self.assertIsNotNone(birth)
        heads = residents.filter(relation="世帯主")
        self.assertTrue(heads.exists())

    def test_same_seed_same_households(self) -> None:
        beats = list(Beat.objects.filter(post__station=self.station).select_related("post"))
        specs = beat_specs(beats, {})
        first = [
            (r.fields["town"], r.fields.get("name")) for r in generate_rows(specs, count=50, seed=3)
        ]
        again = [
            (r.fields["town"], r.fields.get("name")) for r in generate_rows(specs, count=50, seed=3)
        ]
        other = [
            (r.fields["town"], r.fields.get("name")) for r in generate_rows(specs, count=50, seed=4)
        ]
        self.assertEqual(first, again)
        self.assertNotEqual(first, other)
