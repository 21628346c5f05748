"""record(..., household_ids=...): one event with a digest, one insert-only row per household."""

from __future__ import annotations

import hashlib
from unittest import skipUnless

from django.db import DatabaseError, connection, transaction
from django.test import TestCase

from junkai.audit.chain import households_hold, record
from junkai.audit.models import AuditEvent, AuditEventHousehold, EventType
from junkai.audit.tests.test_chain import tamper

ON_POSTGRES = connection.vendor == "postgresql"


class EventHouseholdTests(TestCase):
    def test_one_event_a_digest_and_a_row_per_household(self) -> None:
        event = record(
            EventType.PRINT_FORM,
            object_type="scope",
            details={"form": "2"},
            household_ids=[30, 4, 200, 4],
        )
        stored = AuditEvent.objects.get(id=event.id)
        self.assertEqual(stored.details["form"], "2")
        self.assertEqual(
            stored.details["households"],
            {"count": 3, "sha256": hashlib.sha256(b"4,30,200").hexdigest()},
        )
        self.assertEqual(
            sorted(
                AuditEventHousehold.objects.filter(event=stored).values_list(
                    "household_id", flat=True
                )
            ),
            [4, 30, 200],
        )
        self.assertTrue(households_hold(stored))
        tamper(
            "DELETE FROM audit_auditeventhousehold WHERE event_id = %s AND household_id = 30",
            [event.id],
        )
        self.assertFalse(households_hold(stored))

    def test_no_households_no_rows(self) -> None:
        event = record(EventType.LIST_HOUSEHOLDS, household_ids=[])
        self.assertEqual(AuditEvent.objects.get(id=event.id).details["households"]["count"], 0)
        self.assertFalse(AuditEventHousehold.objects.filter(event_id=event.id).exists())
        plain = record(EventType.LIST_HOUSEHOLDS)
        self.assertNotIn("households", AuditEvent.objects.get(id=plain.id).details)

    def test_rolled_back_with_the_change_it_records(self) -> None:
        with transaction.atomic():
            event = record(EventType.PRINT_FORM, household_ids=[1, 2])
            transaction.set_rollback(True)
        self.assertFalse(AuditEvent.objects.filter(id=event.id).exists())
        self.assertFalse(AuditEventHousehold.objects.filter(event_id=event.id).exists())

    @skipUnless(ON_POSTGRES, "the append-only triggers are PostgreSQL's")
    def test_postgres_refuses_update_delete_truncate(self) -> None:
        record(EventType.PRINT_FORM, household_ids=[1])
        for sql in (
            "UPDATE audit_auditeventhousehold SET household_id = 9",
            "DELETE FROM audit_auditeventhousehold",
            "TRUNCATE audit_auditeventhousehold",
        ):
            with (
                self.subTest(sql=sql),
                self.assertRaises(DatabaseError),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)
