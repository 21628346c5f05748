"""The dashboards through the pages, the API, the report and the snapshot command, on a small
station whose figures are known exactly (fixtures.py), with time frozen."""

from __future__ import annotations

import datetime as dt
import time
from io import BytesIO, StringIO
from typing import Any, ClassVar

import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, TestCase, override_settings
from openpyxl import load_workbook
from pypdf import PdfReader

from junkai.accounts.middleware import LOGIN_AT
from junkai.audit.models import AuditEvent, EventType
from junkai.dashboards import figures
from junkai.dashboards.models import BeatMonthSnapshot
from junkai.dashboards.tests.fixtures import FROZEN, JST, PASSWORD, build_known_station
from junkai.demo.organisation import DEMO_PASSWORD
from junkai.org.models import Officer
from junkai.testing import build_other_station


@time_machine.travel(FROZEN, tick=False)
class DashboardTestCase(TestCase):
    known: ClassVar[dict[str, Any]]
    other: ClassVar[dict[str, Any]]

    @classmethod
    def setUpTestData(cls) -> None:
        with time_machine.travel(FROZEN, tick=False):
            cls.known = build_known_station()
            cls.other = build_other_station()

    def setUp(self) -> None:
        cache.clear()  # HQ's figures are cached for minutes; each test has its own data

    def client_for(self, username: str) -> Client:
        client = Client()
        client.force_login(Officer.objects.get(username=username))
        session = client.session
        session[LOGIN_AT] = time.time()
        session.save()
        return client

    def bearer(self, username: str) -> Client:
        password = DEMO_PASSWORD if username.startswith("other_") else PASSWORD
        response = Client().post(
            "/api/v1/auth/token",
            {"username": username, "password": password},
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})

    @property
    def station_id(self) -> int:
        return int(self.known["station"].id)


class FigureTests(DashboardTestCase):
    def test_station_figures_are_exact(self) -> None:
        board = figures.board(self.known["station"])
        t = board.total
        self.assertEqual((t.households, t.covered, t.carded, t.overdue, t.unknown), (8, 4, 7, 2, 1))
        self.assertEqual(t.coverage, 0.5)
        self.assertEqual(t.card_rate, 7 / 8)
        beats = {b.name: tally for b, tally in board.beats}
        kita, yama = beats["北一区"], beats["山辺区"]
        self.assertEqual((kita.households, kita.covered, kita.carded, kita.overdue), (6, 3, 5, 1))
        self.assertAlmostEqual(kita.expected, 3 / 12 + 1 / 24 + 1 / 3 + 1 / 3)
        self.assertEqual((yama.households, yama.covered, yama.carded, yama.overdue), (2, 1, 2, 1))
        self.assertAlmostEqual(yama.expected, 2 / 6)
        # June's activity: the visits of earlier months do not count.
        self.assertEqual((kita.visits, kita.met, kita.absent), (2, 1, 1))
        self.assertEqual((kita.new_cards, kita.corrections, kita.concerns_resolved), (6, 1, 1))
        self.assertEqual((kita.open_concerns, kita.oldest_concern_days), (1, 0))
        self.assertEqual((yama.visits, yama.met, yama.new_cards), (1, 1, 2))
        by_category = board.total.by_category
        self.assertEqual(by_category["UNKNOWN"].households, 1)
        self.assertEqual(by_category["ELDERLY"].households, 2)
        self.assertEqual(by_category["BUSINESS"].covered, 1)
        # The leader met 4½ months ago is outside his 3-month interval, and overdue.
        self.assertEqual((by_category["HOME"].households, by_category["HOME"].covered), (4, 2))

    def test_evaluation_is_normalised_by_the_beat(self) -> None:
        board = figures.board(self.known["station"])
        rows = {r.officer.username: r for r in board.officers}
        kita1, kita2, yama1 = rows["kita1"], rows["kita2"], rows["yama1"]
        # Two officers walk 北一区: each carries half of its expected contacts.
        half = (3 / 12 + 1 / 24 + 2 / 3) / 2
        self.assertAlmostEqual(kita1.tally.expected, half)
        self.assertAlmostEqual(kita2.tally.expected, half)
        self.assertEqual((kita1.tally.visits, kita1.tally.met), (2, 1))
        self.assertAlmostEqual(kita1.tally.visit_index or 0, 2 / half)
        self.assertAlmostEqual(kita1.tally.met_index or 0, 1 / half)
        self.assertEqual(kita2.tally.visit_index, 0)
        # One visit to two elderly households a month is three times their pace (2/6 a month).
        self.assertAlmostEqual(yama1.tally.visit_index or 0, 3.0)
        self.assertEqual((kita1.tally.new_cards, kita1.tally.corrections), (6, 1))
        self.assertEqual(kita1.tally.concerns_resolved, 1)
        self.assertEqual((kita1.target, kita1.plan_rate), (4, 0.5))
        self.assertIsNone(yama1.target)


class PageTests(DashboardTestCase):
    def test_chief_sees_station_and_the_read_is_recorded(self) -> None:
        client = self.client_for("d_chief")
        before = AuditEvent.objects.filter(event_type=EventType.READ_DASHBOARD).count()
        response = client.get(f"/dashboard/stations/{self.station_id}/")
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        for text in ("50.0%", "87.5%", "駅北交番", "山辺駐在所", "北一区", "北 一郎", "算出方法"):
            self.assertIn(text, body)
        self.assertIn('id="chart-trend"', body)
        self.assertIn(f'href="/dashboard/posts/{self.known["koban"].id}/"', body)
        event = AuditEvent.objects.filter(event_type=EventType.READ_DASHBOARD).latest("id")
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.READ_DASHBOARD).count(), before + 1
        )
        self.assertEqual(event.actor_id, self.known["d_chief"].id)
        self.assertEqual(event.station_id, self.station_id)
        # Residents' names and addresses are not on a dashboard.
        self.assertNotIn("一ノ瀬", body)
        self.assertNotIn("駅北町", body)

    @override_settings(JUNKAI_DASHBOARD_STATION_SECONDS=0)  # computed on each view
    def test_station_page_queries_do_not_grow_with_the_station(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from junkai.households import actions as household_actions
        from junkai.org import actions as org_actions
        from junkai.visits import actions as visit_actions

        client = self.client_for("d_chief")
        url = f"/dashboard/stations/{self.station_id}/"
        client.get(url)
        with CaptureQueriesContext(connection) as before:
            client.get(url)
        beat = org_actions.do_create_beat(
            self.known["koban"], acting_officer=None, code="D1-2", name="北二区"
        )
        for i in range(5):
            h = household_actions.do_create_household(
                beat, acting_officer=None, kind="RESIDENCE", town="北町", banchi=str(i + 1)
            )
            visit_actions.do_record_visit(
                h,
                acting_officer=self.known["kita2"],
                started_at=FROZEN - dt.timedelta(hours=1),
                outcome="ABSENT",
            )
        with CaptureQueriesContext(connection) as after:
            response = client.get(url)
        self.assertContains(response, "北二区")
        self.assertEqual(len(after), len(before))

    def test_drill_down_to_the_work_list(self) -> None:
        client = self.client_for("d_kacho")
        kita = self.known["kita"]
        post = client.get(f"/dashboard/posts/{self.known['koban'].id}/")
        self.assertContains(post, f'href="/dashboard/beats/{kita.id}/"')
        beat = client.get(f"/dashboard/beats/{kita.id}/")
        self.assertContains(beat, f'href="/worklist/?beat={kita.id}"')
        self.assertContains(beat, "50.0%")
        worklist = client.get(f"/worklist/?beat={kita.id}")
        self.assertEqual(worklist.status_code, 200)

    def test_koban_head_sees_his_post_only(self) -> None:
        client = self.client_for("d_head")
        self.assertRedirects(
            client.get("/dashboard/"),
            f"/dashboard/posts/{self.known['koban'].id}/",
            fetch_redirect_response=False,
        )
        self.assertEqual(client.get(f"/dashboard/posts/{self.known['koban'].id}/").status_code, 200)
        self.assertEqual(client.get(f"/dashboard/beats/{self.known['kita'].id}/").status_code, 200)
        # Another post of his station is outside his scope altogether; the station is his.
        self.assertEqual(
            client.get(f"/dashboard/posts/{self.known['chuzai'].id}/").status_code, 404
        )
        self.assertEqual(client.get(f"/dashboard/stations/{self.station_id}/").status_code, 403)

    def test_beat_officer_cannot_see_the_station_dashboard(self) -> None:
        client = self.client_for("kita1")
        self.assertEqual(client.get(f"/dashboard/stations/{self.station_id}/").status_code, 403)
        self.assertEqual(client.get(f"/dashboard/posts/{self.known['koban'].id}/").status_code, 403)
        # Another post of his station is not his scope at all.
        self.assertEqual(
            client.get(f"/dashboard/posts/{self.known['chuzai'].id}/").status_code, 404
        )
        self.assertEqual(client.get("/dashboard/hq/").status_code, 403)
        self.assertEqual(
            AuditEvent.objects.filter(
                event_type=EventType.READ_DASHBOARD, actor=self.known["kita1"]
            ).count(),
            0,
        )

    def test_another_station_chief_gets_404(self) -> None:
        client = self.client_for("other_chief")
        for url in (
            f"/dashboard/stations/{self.station_id}/",
            f"/dashboard/posts/{self.known['koban'].id}/",
            f"/dashboard/beats/{self.known['kita'].id}/",
            f"/dashboard/stations/{self.station_id}/report.xlsx",
        ):
            self.assertEqual(client.get(url).status_code, 404, url)
        self.assertEqual(
            client.get(f"/dashboard/stations/{self.other['station'].id}/").status_code, 200
        )

    def test_officer_home_shows_his_own_progress(self) -> None:
        response = self.client_for("kita1").get("/")
        body = response.content.decode()
        self.assertIn("自分の進捗", body)
        self.assertIn("50.0%", body)  # his beat's coverage
        self.assertIn("達成率 50.0%", body)  # 2 of 4 planned visits
        self.assertIn("最長 0日経過", body)  # his open concern, heard today

    def test_hq_sees_stations_in_aggregate_only(self) -> None:
        client = self.client_for("d_hq")
        response = client.get("/dashboard/hq/")
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertIn("駅北警察署", body)
        self.assertIn("北辺警察署", body)
        for private in (
            "駅北交番",
            "北一区",
            "北 一郎",
            "一ノ瀬",
            "駅北町",
            "遠野 花子",
            "北辺交番",
        ):
            self.assertNotIn(private, body)
        self.assertEqual(client.get(f"/dashboard/stations/{self.station_id}/").status_code, 404)


class HqFreshnessTests(DashboardTestCase):
    def test_hq_figures_are_computed_at_most_every_minute_and_say_when(self) -> None:
        first = figures.hq_board_cached()
        self.assertEqual(first.computed_at, FROZEN)
        response = self.client_for("d_hq").get("/dashboard/hq/")
        self.assertContains(response, "1分ごとに集計し直します")
        self.assertContains(response, "令和8年6月15日 12:00 の集計")
        with time_machine.travel(FROZEN + dt.timedelta(seconds=50), tick=False):
            self.assertEqual(figures.hq_board_cached().computed_at, FROZEN)
        with time_machine.travel(FROZEN + dt.timedelta(seconds=70), tick=False):
            later = figures.hq_board_cached()
        self.assertEqual(later.computed_at, FROZEN + dt.timedelta(seconds=70))

    @override_settings(JUNKAI_DASHBOARD_HQ_SECONDS=0)
    def test_without_the_cache_every_view_computes(self) -> None:
        response = self.client_for("d_hq").get("/dashboard/hq/")
        self.assertContains(response, "表示のたびに集計")
        self.assertIsNone(cache.get("junkai.dashboards.hq.2026-06"))


class StationFreshnessTests(DashboardTestCase):
    """A station's figures are computed once per 5 minutes for every reader and app server
    (the shared database cache) and the page says how old they are."""

    def count_queries(self, client: Client, url: str) -> tuple[int, str]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        self.assertEqual(response.status_code, 200)
        return len(queries), response.content.decode()

    def test_the_figures_are_shared_for_five_minutes_and_say_how_old(self) -> None:
        from junkai.visits import actions as visit_actions

        url = f"/dashboard/stations/{self.station_id}/"
        computed, body = self.count_queries(self.client_for("d_chief"), url)
        self.assertIn("1分以内の集計です", body)
        self.assertIn("5分ごとに集計し直します", body)
        met = figures.board_cached(self.known["station"]).total.met
        household = self.known["kita"].households.filter(status="ACTIVE").first()
        visit_actions.do_record_visit(
            household,
            acting_officer=self.known["kita1"],
            started_at=FROZEN - dt.timedelta(hours=1),
            outcome="MET",
        )
        with time_machine.travel(FROZEN + dt.timedelta(minutes=3), tick=False):
            # Another reader (the 地域課長), as if on another app server: the same figures.
            cached, body = self.count_queries(self.client_for("d_kacho"), url)
            self.assertEqual(figures.board_cached(self.known["station"]).total.met, met)
        self.assertIn("3分前の集計です", body)
        self.assertLess(cached, computed - 10)
        with time_machine.travel(FROZEN + dt.timedelta(minutes=5, seconds=1), tick=False):
            again = figures.board_cached(self.known["station"])
            self.assertEqual(again.total.met, met + 1)
            self.assertEqual(again.computed_at, FROZEN + dt.timedelta(minutes=5, seconds=1))

    def test_a_post_and_a_beat_have_their_own_figures(self) -> None:
        station = self.known["station"]
        whole = figures.board_cached(station)
        post = figures.board_cached(station, posts=[self.known["koban"]])
        beat = figures.board_cached(station, beat=self.known["kita"])
        self.assertEqual([p.id for p, _, _ in post.posts], [self.known["koban"].id])
        self.assertEqual([b.id for b, _ in beat.beats], [self.known["kita"].id])
        self.assertGreater(whole.total.households, post.total.households)
        self.assertEqual(figures.board_cached(station, beat=self.known["kita"]).total, beat.total)

    def test_the_cache_keeps_no_officer_credentials(self) -> None:
        board = figures.board_cached(self.known["station"])
        self.assertTrue(board.officers)
        for row in board.officers:
            self.assertEqual(row.officer.password, "")
            self.assertTrue(row.officer.full_name)

    @override_settings(JUNKAI_DASHBOARD_STATION_SECONDS=0)
    def test_without_the_cache_the_page_says_it_is_live(self) -> None:
        response = self.client_for("d_chief").get(f"/dashboard/stations/{self.station_id}/")
        self.assertContains(response, "数値は表示時点の集計")


class ApiTests(DashboardTestCase):
    def test_station_contract(self) -> None:
        response = self.bearer("d_dairi").get(f"/api/v1/dashboard?station={self.station_id}")
        self.assertEqual(response.status_code, 200, response.content)
        data = response.json()
        self.assertEqual(data["coverage"], 0.5)
        self.assertEqual(data["card_rate"], 0.875)
        self.assertEqual(data["overdue"], 2)
        self.assertEqual(data["station"], {"id": self.station_id, "name": "駅北警察署"})
        beats = {b["name"]: b for b in data["beats"]}
        kita = beats["北一区"]
        self.assertEqual(kita["id"], self.known["kita"].id)
        self.assertEqual(
            (kita["coverage"], kita["overdue"], kita["households"], kita["visits"]), (0.5, 1, 6, 2)
        )
        self.assertAlmostEqual(kita["card_rate"], 5 / 6)
        self.assertEqual({p["name"] for p in data["posts"]}, {"駅北交番", "山辺駐在所"})
        officers = {o["name"]: o for o in data["officers"]}
        self.assertEqual(officers["北 一郎"]["plan_target"], 4)
        self.assertEqual(len(data["categories"]), 4)
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.READ_DASHBOARD).latest("id").purpose,
            "進捗状況の閲覧（API）",
        )

    def test_others_get_403_or_404(self) -> None:
        url = f"/api/v1/dashboard?station={self.station_id}"
        self.assertEqual(self.bearer("kita1").get(url).status_code, 403)
        self.assertEqual(self.bearer("other_chief").get(url).status_code, 404)
        self.assertEqual(self.bearer("d_hq").get(url).status_code, 404)
        self.assertEqual(self.bearer("d_chief").get("/api/v1/dashboard").status_code, 403)
        self.assertEqual(
            self.bearer("d_chief").get("/api/v1/dashboard?station=abc").status_code, 422
        )

    def test_hq_contract_is_aggregate_only(self) -> None:
        response = self.bearer("d_hq").get("/api/v1/dashboard")
        self.assertEqual(response.status_code, 200, response.content)
        data = response.json()
        stations = {s["name"]: s for s in data["stations"]}
        self.assertEqual(set(stations), {"駅北警察署", "北辺警察署"})
        mine = stations["駅北警察署"]
        self.assertEqual((mine["households"], mine["coverage"], mine["overdue"]), (8, 0.5, 2))
        self.assertEqual(data["total"]["households"], 9)
        text = response.content.decode()
        for private in ("駅北交番", "北一区", "北 一郎", "一ノ瀬", "駅北町", "遠野", "北辺町"):
            self.assertNotIn(private, text)
        self.assertNotIn("beats", data)
        self.assertNotIn("officers", data)


class ReportTests(DashboardTestCase):
    def test_excel_holds_the_figures(self) -> None:
        client = self.client_for("d_chief")
        response = client.get(f"/dashboard/stations/{self.station_id}/report.xlsx?month=2026-06")
        self.assertEqual(response.status_code, 200)
        book = load_workbook(BytesIO(response.content))
        self.assertEqual(
            book.sheetnames, ["総括", "交番等別", "受持区別", "職員別（評価）", "算出方法"]
        )
        summary = {row[0]: row[1] for row in book["総括"].iter_rows(min_row=4, values_only=True)}
        self.assertEqual(summary["世帯数（居住・営業中）"], 8)
        self.assertEqual(summary["実施率（間隔内に面接済）"], "50.0%")
        self.assertEqual(summary["把握率（カードあり）"], "87.5%")
        self.assertEqual(summary["期限超過"], 2)
        self.assertIn("出力者", str(book["総括"]["A1"].value))
        officers = list(book["職員別（評価）"].iter_rows(min_row=4, values_only=True))
        kita1 = next(r for r in officers if r[0] == "北 一郎")
        self.assertEqual(kita1[3], 2)  # visits
        event = AuditEvent.objects.filter(event_type=EventType.EXPORT_MONTHLY_REPORT).latest("id")
        self.assertEqual(event.details, {"month": "2026-06-01", "format": "xlsx"})

    def test_pdf_holds_the_figures(self) -> None:
        client = self.client_for("d_kacho")
        response = client.get(f"/dashboard/stations/{self.station_id}/report.pdf?month=2026-06")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
        for expected in (
            "駅北警察署",
            "令和8年6月",
            "50.0%",
            "87.5%",
            "北一区",
            "北 一郎",
            "印刷者",
        ):
            self.assertIn(expected, text)

    def test_a_bad_month_changes_nothing_and_says_why(self) -> None:
        client = self.client_for("d_chief")
        before = AuditEvent.objects.filter(event_type=EventType.EXPORT_MONTHLY_REPORT).count()
        response = client.get(
            f"/dashboard/stations/{self.station_id}/report.xlsx?month=2026-13", follow=True
        )
        self.assertContains(response, "対象月が正しくありません")
        response = client.get(
            f"/dashboard/stations/{self.station_id}/report.pdf?month=2026-09", follow=True
        )
        self.assertContains(response, "未来の月は指定できません")
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.EXPORT_MONTHLY_REPORT).count(), before
        )

    def test_a_past_month_uses_its_snapshot(self) -> None:
        BeatMonthSnapshot.objects.create(
            month=dt.date(2026, 5, 1),
            beat=self.known["kita"],
            post=self.known["koban"],
            station=self.known["station"],
            households=10,
            covered=9,
            carded=8,
            overdue=1,
        )
        response = self.client_for("d_chief").get(
            f"/dashboard/stations/{self.station_id}/report.xlsx?month=2026-05"
        )
        book = load_workbook(BytesIO(response.content))
        summary = {row[0]: row[1] for row in book["総括"].iter_rows(min_row=4, values_only=True)}
        self.assertEqual(summary["世帯数（居住・営業中）"], 10)  # 山辺区 has no snapshot row
        self.assertEqual(summary["実施率（間隔内に面接済）"], "90.0%")
        self.assertIn("令和8年5月末の集計", str(book["総括"]["A2"].value))


class SnapshotTests(DashboardTestCase):
    def test_snapshot_on_the_first_reads_the_stored_dates_and_is_idempotent(self) -> None:
        out = StringIO()
        with time_machine.travel(dt.datetime(2026, 7, 1, 6, 0, tzinfo=JST), tick=False):
            call_command("dashboard_snapshot", stdout=out)
            call_command("dashboard_snapshot", stdout=StringIO())
            board = figures.board(self.known["station"])
            trend = figures.trend(station_ids=[self.station_id], live=board.total)
        self.assertIn("令和8年6月末の集計を 3 受持区分保存しました", out.getvalue())
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.MONTH_SNAPSHOT_TAKEN).count(), 2
        )
        rows = BeatMonthSnapshot.objects.filter(month=dt.date(2026, 6, 1))
        self.assertEqual(rows.count(), 3)  # 北一区, 山辺区 and the other station's beat
        kita = rows.get(beat=self.known["kita"])
        # At the end of June h2 (retry 24 June) and h3 (due since 15 June) join h5 as overdue.
        self.assertEqual((kita.households, kita.covered, kita.carded, kita.overdue), (6, 3, 5, 3))
        self.assertEqual(trend["labels"], ["R8.6末", "現在"])
        self.assertEqual(trend["coverage"], [50.0, 50.0])
        self.assertEqual(trend["card_rate"], [87.5, 87.5])
        self.assertEqual(trend["last_snapshot"], dt.date(2026, 6, 1))

    def test_a_backfill_asks_the_visits(self) -> None:
        with time_machine.travel(dt.datetime(2026, 8, 20, 12, 0, tzinfo=JST), tick=False):
            call_command("dashboard_snapshot", "--month", "2026-06", stdout=StringIO())
        kita = BeatMonthSnapshot.objects.get(month=dt.date(2026, 6, 1), beat=self.known["kita"])
        self.assertEqual((kita.households, kita.covered, kita.carded, kita.overdue), (6, 3, 5, 3))
        yama = BeatMonthSnapshot.objects.get(month=dt.date(2026, 6, 1), beat=self.known["yama"])
        self.assertEqual((yama.households, yama.covered), (2, 1))

    def test_a_current_month_or_bad_month_is_refused(self) -> None:
        from django.core.management.base import CommandError

        with self.assertRaisesMessage(CommandError, "終わった月"):
            call_command("dashboard_snapshot", "--month", "2026-06", stdout=StringIO())
        with self.assertRaisesMessage(CommandError, "2026-05 の形式"):
            call_command("dashboard_snapshot", "--month", "May", stdout=StringIO())
        self.assertFalse(BeatMonthSnapshot.objects.exists())
