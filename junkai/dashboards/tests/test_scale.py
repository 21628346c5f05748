"""Read-heavy work on the replica alias (junkai.lib.replica), and HQ's figures in the cache all
app servers share (Django's database cache). The replica alias is the primary's test database
here (TEST MIRROR), so these check where the queries go, not replication itself."""

from __future__ import annotations

import datetime as dt
from unittest import mock, skipUnless

import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, router, transaction
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from junkai.dashboards import figures
from junkai.dashboards.tests.fixtures import FROZEN
from junkai.dashboards.tests.test_dashboards import DashboardTestCase
from junkai.households.models import Household
from junkai.lib.replica import replica_reads
from junkai.org.models import Station

#: SQLite's in-memory test database is one connection's: a second (the mirror) finds it locked.
ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


class RouterTests(TestCase):
    def test_reads_go_to_the_replica_only_inside_replica_reads_and_when_configured(self) -> None:
        self.assertEqual(router.db_for_read(Household), "default")
        with replica_reads():
            self.assertEqual(router.db_for_read(Household), "default")  # no replica configured
        with override_settings(JUNKAI_READ_REPLICA=True):
            self.assertEqual(router.db_for_read(Household), "default")
            with replica_reads():
                self.assertEqual(router.db_for_read(Household), "replica")
                self.assertEqual(router.db_for_write(Household), "default")
            self.assertEqual(router.db_for_read(Household), "default")

    @override_settings(JUNKAI_READ_REPLICA=True)
    def test_reads_inside_a_transaction_stay_on_the_primary(self) -> None:
        with replica_reads():
            self.assertEqual(router.db_for_read(Household), "replica")
            with transaction.atomic():
                self.assertEqual(router.db_for_read(Household), "default")
            self.assertEqual(router.db_for_read(Household), "replica")
        with transaction.atomic(), replica_reads():
            self.assertEqual(router.db_for_read(Household), "default")

    def test_the_replica_is_never_migrated(self) -> None:
        self.assertFalse(router.allow_migrate("replica", "households"))
        self.assertTrue(router.allow_migrate("default", "households"))

    def test_tests_point_the_replica_at_the_primary(self) -> None:
        self.assertEqual(
            connections["replica"].settings_dict["NAME"],
            connections["default"].settings_dict["NAME"],
        )


@skipUnless(ON_POSTGRESQL, "needs a second connection to the test database")
class HqReplicaTests(DashboardTestCase):
    databases = {"default", "replica"}

    @override_settings(JUNKAI_READ_REPLICA=True)
    def test_hq_figures_are_read_from_the_replica(self) -> None:
        client = self.client_for("d_hq")
        with (
            CaptureQueriesContext(connections["replica"]) as replica,
            CaptureQueriesContext(connection) as primary,
        ):
            response = client.get("/dashboard/hq/")
        self.assertEqual(response.status_code, 200)
        self.assertGreater(len(replica.captured_queries), 3)
        replica_sql = " ".join(q["sql"] for q in replica.captured_queries)
        self.assertIn("households_household", replica_sql)
        primary_sql = " ".join(q["sql"] for q in primary.captured_queries)
        # The session, the officer, the read's audit event and the cache stay on the primary.
        self.assertIn("django_session", primary_sql)
        self.assertIn("junkai_cache", primary_sql)
        self.assertNotIn("django_session", replica_sql)
        self.assertNotIn("audit_auditevent", replica_sql)


class SharedCacheTests(DashboardTestCase):
    def test_hq_figures_live_in_the_database_cache_every_server_reads(self) -> None:
        with time_machine.travel(FROZEN, tick=False):
            first = figures.hq_board_cached()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT COUNT(*) FROM junkai_cache WHERE cache_key LIKE %s",
                    ["%junkai.dashboards.hq.%"],
                )
                self.assertEqual(cursor.fetchone()[0], 1)
            # Another app server has no memory of this one's: only the table. It does not
            # compute the figures again.
            with mock.patch.object(figures, "hq_board", side_effect=AssertionError("computed")):
                again = figures.hq_board_cached()
        self.assertEqual(again.computed_at, first.computed_at)
        self.assertEqual([r.station.id for r in again.rows], [r.station.id for r in first.rows])
        self.assertTrue(all(isinstance(r.station, Station) for r in again.rows))

    def test_an_expired_entry_is_computed_again(self) -> None:
        with time_machine.travel(FROZEN, tick=False):
            figures.hq_board_cached()
        with time_machine.travel(FROZEN + dt.timedelta(seconds=61), tick=False):
            later = figures.hq_board_cached()
        self.assertEqual(later.computed_at, FROZEN + dt.timedelta(seconds=61))
        cache.clear()
