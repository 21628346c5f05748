"""Misuse signals from the audit log: `junkai misuse-scan`.

"Now" is fixed with time-machine: reads happen on 2026-06-10 (JST) and the scan runs at noon
or later, once the ±2-hour context window around each read has passed.
"""

from __future__ import annotations

import datetime as dt
import unittest
from io import StringIO
from typing import ClassVar
from zoneinfo import ZoneInfo

import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures import actions
from junkai.disclosures.misuse import ScanResult, scan
from junkai.disclosures.models import MisuseFlag, MisuseKind
from junkai.households import actions as household_actions
from junkai.households.access import access_household, record_list_read
from junkai.households.models import Household
from junkai.registers import actions as register_actions
from junkai.testing import PersonaTestCase
from junkai.visits import actions as visit_actions

JST = ZoneInfo("Asia/Tokyo")
DAY = dt.datetime(2026, 6, 10, tzinfo=JST)
MIDNIGHT = DAY
NOON = DAY.replace(hour=12)
EVENING = DAY.replace(hour=18)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return DAY.replace(hour=hour, minute=minute)


class MisuseTestCase(PersonaTestCase):
    extra: ClassVar[list[Household]]
    more: ClassVar[list[Household]]

    @classmethod
    def setUpTestData(cls) -> None:
        with time_machine.travel(dt.datetime(2026, 6, 1, 9, tzinfo=JST), tick=False):
            super().setUpTestData()
            beat = cls.station.posts.get(code="K1").beats.get(code="K1-1")
            cls.extra = [
                household_actions.do_create_household(
                    beat,
                    acting_officer=None,
                    kind="RESIDENCE",
                    town="駅前町",
                    chome="5",
                    banchi=str(n),
                )
                for n in range(1, 6)
            ]
            cls.more = [
                household_actions.do_create_household(
                    beat,
                    acting_officer=None,
                    kind="RESIDENCE",
                    town="駅前町",
                    chome="6",
                    banchi=str(n),
                )
                for n in range(1, 11)
            ]

    def read(self, username: str, household: Household, moment: dt.datetime) -> None:
        with time_machine.travel(moment, tick=False):
            access_household(self.officer(username), household.id, purpose="世帯ページの閲覧")

    def scan_at(self, moment: dt.datetime, since: dt.datetime = MIDNIGHT) -> list[MisuseFlag]:
        with time_machine.travel(moment, tick=False):
            return scan(since=since).flags

    def kinds(self, flags: list[MisuseFlag]) -> set[tuple[str, str]]:
        return {(f.officer.username, f.kind) for f in flags}

    def visit(self, username: str, household: Household, moment: dt.datetime) -> int:
        with time_machine.travel(moment, tick=False):
            visit_actions.do_record_visit(
                household,
                acting_officer=self.officer(username),
                started_at=moment - dt.timedelta(minutes=10),
                outcome="MET",
            )
        return AuditEvent.objects.filter(event_type=EventType.VISIT_RECORDED).latest("id").id


class MisuseScanTests(MisuseTestCase):
    def test_normal_work_list_reads_are_not_flagged(self) -> None:
        client = self.client_for("officer1a")
        with time_machine.travel(at(10), tick=False):
            self.assertEqual(client.get("/worklist/").status_code, 200)
        self.read("officer1a", self.aoki, at(10, 5))
        self.read("officer1a", self.no_card, at(10, 20))
        self.assertEqual(self.scan_at(EVENING), [])

    def test_a_visit_on_the_beat_covers_reads_around_it(self) -> None:
        self.read("officer1a", self.extra[0], at(14))
        with time_machine.travel(at(15), tick=False):
            visit_actions.do_record_visit(
                self.extra[1],
                acting_officer=self.officer("officer1a"),
                started_at=at(14, 50),
                outcome="MET",
            )
        self.read("officer1a", self.extra[2], at(16))
        self.assertEqual(self.scan_at(at(23)), [])

    def test_a_read_with_no_work_around_it_is_flagged(self) -> None:
        self.read("officer1b", self.aoki, at(14))
        [flag] = self.scan_at(EVENING)
        self.assertEqual((flag.officer.username, flag.kind), ("officer1b", MisuseKind.UNEXPLAINED))
        self.assertEqual(flag.post, self.post("K1"))
        event = AuditEvent.objects.get(id=flag.event_ids[0])
        self.assertEqual(event.event_type, EventType.READ_HOUSEHOLD)
        self.assertEqual(event.object_id, str(self.aoki.id))
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.MISUSE_FLAGGED, object_id=str(flag.id)
            ).exists()
        )

    @unittest.skipUnless(connection.vendor == "postgresql", "the details indexes are PostgreSQL's")
    def test_tasks_on_the_households_read_are_found_by_the_details_index(self) -> None:
        # The scan finds a read's work by its household, not by walking its officer's day: the
        # tasks that name the household in details["household"] come from audit 0015's index.
        self.visit("officer1b", self.extra[0], at(13))
        self.read("officer1b", self.aoki, at(14))
        with CaptureQueriesContext(connection) as queries:
            self.scan_at(EVENING)
        [tasks] = [q["sql"] for q in queries if "\"details\" ? 'household'" in q["sql"]]
        with connection.cursor() as cursor:
            # A test's few rows make any index the cheapest: that the query can be answered by
            # the details index (its expression and partial predicate match the query's) is
            # shown with the log's other ways set aside, inside the test's transaction.
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_auditevent'"
                " AND indexname NOT LIKE 'audit_event_details_%' AND indexdef NOT LIKE"
                " '%(object_type, object_id, id)%' AND indexdef NOT LIKE 'CREATE UNIQUE%'"
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")  # (the primary key's order)
            cursor.execute(f"EXPLAIN {tasks}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        self.assertIn("Bitmap Index Scan on audit_event_details_household", plan)
        self.assertNotIn("Seq Scan", plan)

    def test_an_unexplained_read_is_flagged_within_five_minutes(self) -> None:
        self.read("officer1b", self.aoki, at(14))
        self.assertEqual(self.scan_at(at(14, 2)), [])  # the task may be recorded just after
        self.assertEqual(len(self.scan_at(at(14, 5))), 1)

    def test_a_task_on_the_household_later_in_the_shift_explains_the_read(self) -> None:
        # officer1b walks K1-2; 青木 is in K1-1. Read, flagged within 5 minutes…
        self.read("officer1b", self.aoki, at(14))
        [flag] = self.scan_at(at(14, 5))
        self.assertIsNone(flag.reviewed_at)
        # …then his visit to 青木 at 15:30 explains it: the flag is settled, not deleted.
        visit_event = self.visit("officer1b", self.aoki, at(15, 30))
        with time_machine.travel(at(15, 35), tick=False):
            result = scan(since=MIDNIGHT)
        self.assertEqual((result.flags, [f.id for f in result.settled]), ([], [flag.id]))
        flag.refresh_from_db()
        self.assertIsNotNone(flag.reviewed_at)
        self.assertIsNone(flag.reviewed_by)
        self.assertIn(f"#{visit_event}", flag.note)
        review = AuditEvent.objects.get(
            event_type=EventType.MISUSE_REVIEWED, object_id=str(flag.id)
        )
        self.assertEqual(review.details["explained_by"], [visit_event])
        # The manager still sees that it was raised, and why it closed.
        page = self.client_for("kacho").get(f"/misuse/{flag.id}/")
        self.assertContains(page, "自動（業務の記録による）")
        self.assertContains(page, f"#{visit_event}")
        self.assertEqual(self.scan_at(EVENING), [])

    def test_a_visit_recorded_minutes_after_the_read_raises_no_flag(self) -> None:
        self.read("officer1b", self.aoki, at(14))
        self.visit("officer1b", self.aoki, at(14, 4))  # more than the 3 settle minutes later
        self.assertEqual(self.scan_at(at(14, 10)), [])

    def test_work_on_another_household_or_another_shift_explains_nothing(self) -> None:
        self.read("officer1b", self.aoki, at(6))
        self.visit("officer1b", self.no_card, at(8))  # his neighbour, not 青木
        [flag] = self.scan_at(at(8, 5))
        with time_machine.travel(at(18, 35), tick=False):
            self.visit("officer1b", self.aoki, at(18, 30))  # 12½ hours on: another shift
            result = scan(since=MIDNIGHT)
        self.assertEqual(result.settled, [])
        flag.refresh_from_db()
        self.assertIsNone(flag.reviewed_at)

    def test_a_data_use_and_its_approval_explain_reads_of_the_households_it_names(self) -> None:
        self.read("officer1b", self.aoki, at(10))
        self.read("kacho", self.aoki, at(10, 30))
        with time_machine.travel(at(10, 20), tick=False):
            entry = actions.do_record_data_use(
                acting_officer=self.officer("officer1b"),
                requester_name="巡査部長 岸本 誠",
                requester_unit="刑事課",
                requester_prefecture="福岡県",
                police_phone="7-2231",
                purpose="所在確認",
                household_ids=[self.aoki.id],
            )
            actions.do_verify_identity(
                entry, acting_officer=self.officer("officer1b"), callback_number="7-2231"
            )
        with time_machine.travel(at(11), tick=False):
            actions.do_approve_data_use(entry, acting_officer=self.officer("kacho"))
        self.read("officer1b", self.no_card, at(10, 40))  # not named in the entry
        flags = self.scan_at(at(12))
        self.assertEqual(
            [(f.officer.username, f.household_count) for f in flags], [("officer1b", 1)]
        )
        event = AuditEvent.objects.get(id=flags[0].event_ids[0])
        self.assertEqual(event.object_id, str(self.no_card.id))

    def test_an_inspection_and_its_follow_up_explain_reads_of_that_posts_households(
        self,
    ) -> None:
        # 地域課長代理 inspects 駅前交番 the day before; a finding to deal with stays open.
        with time_machine.travel(at(9) - dt.timedelta(days=1), tick=False):
            inspection = register_actions.do_record_inspection(
                self.post("K1"),
                acting_officer=self.officer("dairi"),
                inspected_on=(DAY - dt.timedelta(days=1)).date(),
                checklist={},
                findings="保管庫が施錠されていなかった",
                follow_ups=["保管庫の施錠を確認すること"],
            )
        # Today, past the inspection's hours, he reads a card of that post and reports the
        # measure taken: the follow-up is work on the post's households, as the inspection was.
        elsewhere = household_actions.do_create_household(
            self.post("K2").beats.first(),  # type: ignore[arg-type]
            acting_officer=None,
            kind="RESIDENCE",
            town="本町",
            chome="1",
            banchi="1",
        )
        self.read("dairi", self.aoki, at(14))
        self.read("dairi", elsewhere, at(14, 5))  # 本町交番's: not the inspected post
        with time_machine.travel(at(14, 20), tick=False):
            register_actions.do_follow_up(
                inspection.follow_ups.get(),
                acting_officer=self.officer("dairi"),
                action_taken="施錠を確認し、鍵の引継ぎを指導した",
            )
        flags = self.scan_at(at(15))
        self.assertEqual([f.officer.username for f in flags], ["dairi"])
        [event_id] = flags[0].event_ids
        self.assertEqual(AuditEvent.objects.get(id=event_id).object_id, str(elsewhere.id))

    def test_a_list_explains_only_the_households_it_showed(self) -> None:
        # His own work list (his beat K1-2) shows none of K1-1: it explains no read there.
        client = self.client_for("officer1b")
        with time_machine.travel(at(10), tick=False):
            self.assertEqual(client.get("/worklist/").status_code, 200)
        self.read("officer1b", self.aoki, at(10, 30))
        [flag] = self.scan_at(at(11))
        self.assertEqual(flag.kind, MisuseKind.UNEXPLAINED)
        # A list that showed the household explains it (the 地域課長's list of K1-1 rows).
        with time_machine.travel(at(12), tick=False):
            record_list_read(
                self.officer("officer1b"),
                beat=None,
                count=1,
                purpose="作業リスト",
                household_ids=[self.extra[0].id],
            )
        self.read("officer1b", self.extra[0], at(12, 5))
        self.read("officer1b", self.extra[1], at(12, 6))
        flags = self.scan_at(at(13), since=at(11, 30))
        self.assertEqual(len(flags), 1)
        event = AuditEvent.objects.get(id=flags[0].event_ids[0])
        self.assertEqual(event.object_id, str(self.extra[1].id))

    def test_reads_in_his_own_beat_are_his_work(self) -> None:
        self.read("officer1a", self.aoki, at(3, 0) + dt.timedelta(hours=11))
        self.assertEqual([f for f in self.scan_at(EVENING) if f.kind == MisuseKind.UNEXPLAINED], [])

    @override_settings(JUNKAI_MISUSE_BULK_READS=4, JUNKAI_MISUSE_BULK_MINUTES=10)
    def test_a_burst_of_reads_is_flagged(self) -> None:
        client = self.client_for("officer1a")
        with time_machine.travel(at(10), tick=False):
            client.get("/worklist/")  # work context: the burst alone is the signal
        households = [self.aoki, self.no_card, *self.extra]
        for minute, household in enumerate(households):
            self.read("officer1a", household, at(10, 1 + minute))
        flags = self.scan_at(EVENING)
        self.assertEqual(self.kinds(flags), {("officer1a", MisuseKind.BULK)})
        [flag] = flags
        self.assertEqual(flag.household_count, len(households))
        self.assertEqual(len(flag.event_ids), len(households))
        self.assertEqual(flag.window_start, at(10, 1))
        self.assertEqual(flag.window_end, at(10, len(households)))

    @override_settings(JUNKAI_MISUSE_BULK_READS=4, JUNKAI_MISUSE_BULK_MINUTES=10)
    def test_reads_spread_over_the_day_are_not_a_burst(self) -> None:
        with time_machine.travel(at(8), tick=False):
            self.client_for("officer1a").get("/worklist/")
        for hour, household in enumerate([self.aoki, self.no_card, *self.extra]):
            self.read("officer1a", household, at(8 + hour // 2, 30 * (hour % 2)))
        self.assertNotIn(MisuseKind.BULK, {f.kind for f in self.scan_at(EVENING)})

    def test_reads_at_three_in_the_morning_are_flagged(self) -> None:
        client = self.client_for("officer1a")
        with time_machine.travel(at(2, 55), tick=False):
            client.get("/worklist/")
        self.read("officer1a", self.aoki, at(3))
        self.read("officer1a", self.no_card, at(3, 10))
        flags = self.scan_at(NOON)
        self.assertEqual(self.kinds(flags), {("officer1a", MisuseKind.OFF_HOURS)})
        self.assertEqual(flags[0].household_count, 2)

    @override_settings(JUNKAI_MISUSE_DUTY_START="02:00", JUNKAI_MISUSE_DUTY_END="23:00")
    def test_duty_hours_are_a_setting(self) -> None:
        with time_machine.travel(at(2, 55), tick=False):
            self.client_for("officer1a").get("/worklist/")
        self.read("officer1a", self.aoki, at(3))
        self.assertEqual(self.scan_at(NOON), [])

    def test_scanning_again_raises_nothing_new(self) -> None:
        self.read("officer1b", self.aoki, at(3))
        first = self.scan_at(NOON)
        self.assertEqual(
            self.kinds(first),
            {("officer1b", MisuseKind.OFF_HOURS), ("officer1b", MisuseKind.UNEXPLAINED)},
        )
        self.assertEqual(self.scan_at(EVENING), [])
        self.assertEqual(self.scan_at(EVENING, since=MIDNIGHT - dt.timedelta(hours=5)), [])
        # A later read is a new window; the earlier one is not raised again.
        self.read("officer1b", self.no_card, at(20))
        later = self.scan_at(at(23, 30))
        self.assertEqual(self.kinds(later), {("officer1b", MisuseKind.UNEXPLAINED)})
        self.assertEqual(len(later[0].event_ids), 1)
        self.assertEqual(MisuseFlag.objects.count(), 3)

    def test_command(self) -> None:
        self.read("officer1b", self.aoki, at(3))
        out = StringIO()
        with time_machine.travel(NOON, tick=False):
            call_command("misuse_scan", "--since", "2026-06-10", stdout=out)
        self.assertIn("勤務時間外の閲覧", out.getvalue())
        self.assertIn("2 件を新たに検出しました", out.getvalue())
        out = StringIO()
        with time_machine.travel(NOON, tick=False):
            call_command("misuse_scan", "--since", "2026-06-10T00:00", stdout=out)
        self.assertIn("0 件を新たに検出しました", out.getvalue())


class PeriodicScanTests(MisuseTestCase):
    """The 5-minute run (`scan()` with no period): what committed since the last run."""

    def run_at(self, moment: dt.datetime) -> ScanResult:
        with time_machine.travel(moment, tick=False):
            return scan()

    def test_an_unexplained_read_is_flagged_by_the_next_run_after_five_minutes(self) -> None:
        self.assertEqual(self.run_at(at(13, 58)).reads, 0)
        self.read("officer1b", self.aoki, at(14))
        self.assertEqual(self.run_at(at(14, 2)).flags, [])  # the task may be recorded just after
        [flag] = self.run_at(at(14, 5)).flags
        self.assertEqual((flag.officer.username, flag.kind), ("officer1b", MisuseKind.UNEXPLAINED))
        self.assertEqual(self.run_at(at(14, 10)).flags, [])

    def test_a_read_committed_after_the_run_that_passed_its_time_is_judged_late(self) -> None:
        self.run_at(at(8))  # the first run: the periodic scan's reads begin at 6:00
        self.run_at(at(14))
        # Recorded at 9:00 (hours before the last run) but committed only now, as an offline
        # read or a long transaction would: the next run still judges it.
        self.read("officer1b", self.aoki, at(9))
        [flag] = self.run_at(at(14, 5)).flags
        self.assertEqual(flag.window_start, at(9))

    def test_a_later_task_settles_the_flag_and_a_list_explains_only_its_rows(self) -> None:
        self.run_at(at(13))
        with time_machine.travel(at(13, 30), tick=False):
            record_list_read(
                self.officer("officer1b"),
                beat=None,
                count=1,
                purpose="作業リスト",
                household_ids=[self.extra[0].id],
            )
        self.read("officer1b", self.extra[0], at(13, 40))  # on the list
        self.read("officer1b", self.aoki, at(14))  # not on it
        [flag] = self.run_at(at(14, 5)).flags
        self.assertEqual(AuditEvent.objects.get(id=flag.event_ids[0]).object_id, str(self.aoki.id))
        visit_event = self.visit("officer1b", self.aoki, at(15, 30))
        result = self.run_at(at(15, 35))
        self.assertEqual((result.flags, [f.id for f in result.settled]), ([], [flag.id]))
        flag.refresh_from_db()
        self.assertIsNotNone(flag.reviewed_at)
        self.assertIn(f"#{visit_event}", flag.note)
        self.assertTrue(MisuseFlag.objects.filter(id=flag.id).exists())  # kept
        self.assertEqual(self.run_at(at(16)).settled, [])

    def test_a_burst_across_two_runs_is_one_flag(self) -> None:
        with override_settings(JUNKAI_MISUSE_BULK_READS=4, JUNKAI_MISUSE_BULK_MINUTES=10):
            self.run_at(at(9, 59))
            with time_machine.travel(at(10), tick=False):
                self.client_for("officer1a").get("/worklist/")
            households = [self.aoki, self.no_card, *self.extra]
            for minute, household in enumerate(households[:3]):
                self.read("officer1a", household, at(10, 1 + minute))
            self.assertEqual(self.run_at(at(10, 4)).flags, [])
            for minute, household in enumerate(households[3:]):
                self.read("officer1a", household, at(10, 4 + minute))
            [flag] = self.run_at(at(10, 9)).flags
        self.assertEqual((flag.kind, flag.household_count), (MisuseKind.BULK, len(households)))

    def test_the_queries_of_a_run_do_not_grow_with_the_open_flags(self) -> None:
        """Each measured run raises one flag and settles one, with 2 and then 8 flags open."""
        me = "officer1b"
        self.run_at(at(7))

        def round_(moment: dt.datetime, read: Household, visit: Household) -> int:
            self.read(me, read, moment)
            self.visit(me, visit, moment + dt.timedelta(minutes=1))
            with (
                time_machine.travel(moment + dt.timedelta(minutes=10), tick=False),
                CaptureQueriesContext(connection) as queries,
            ):
                result = scan()
            self.assertEqual((len(result.flags), len(result.settled)), (1, 1))
            return len(queries)

        def open_flags(first: int, hours: list[int]) -> None:
            for n, hour in enumerate(hours):
                self.read(me, self.more[first + n], at(hour, 5 * n))
            self.run_at(at(hours[-1], 50))

        open_flags(0, [7, 8])
        few = MisuseFlag.objects.filter(reviewed_at__isnull=True).count()
        first = round_(at(9), read=self.more[2], visit=self.more[0])
        open_flags(3, [10, 11, 12, 13, 14, 15])
        many = MisuseFlag.objects.filter(reviewed_at__isnull=True).count()
        second = round_(at(16), read=self.more[9], visit=self.more[1])
        self.assertEqual((few, many), (2, 8))
        self.assertEqual(second, first)
        self.assertLess(first, 60)
