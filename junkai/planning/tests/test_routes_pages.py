"""The route pages: choose from the work list (or 自動で選ぶ), the route with the map, the print."""

from __future__ import annotations

import io
import re
from pathlib import Path

import time_machine
from django.conf import settings
from pypdf import PdfReader

from junkai.audit.models import AuditEvent, EventType
from junkai.planning.tests.test_routes_api import NOW, RouteTestCase


@time_machine.travel(NOW, tick=False)
class RoutePageTests(RouteTestCase):
    def setUp(self) -> None:
        self.client = self.client_for("officer1a")

    def events(self, before: int, kind: EventType) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(id__gt=before, event_type=kind).order_by("id"))

    def last_id(self) -> int:
        return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def test_the_work_list_links_to_the_route_page(self) -> None:
        page = self.client.get("/worklist/").content.decode()
        self.assertIn('href="/routes/"', page)
        self.assertIn("巡回経路を作る", page)

    def test_the_form_lists_the_work_list_with_checkboxes_and_records_the_read(self) -> None:
        before = self.last_id()
        response = self.client.get("/routes/")
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        for household in self.doors:
            self.assertIn(f'name="household" value="{household.id}"', page)
            self.assertIn(household.address, page)
        self.assertIn("自動で選ぶ", page)
        self.assertIn("未登録", page)  # the door without a position is marked
        reads = self.events(before, EventType.LIST_HOUSEHOLDS)
        self.assertEqual([e.purpose for e in reads], ["巡回経路の作成"])
        self.assertNotIn(self.other["household"].address, page)

    def test_choosing_households_shows_the_route_in_order_with_times_and_map(self) -> None:
        before = self.last_id()
        chosen = [*self.high, self.night_only]
        response = self.client.post(
            "/routes/",
            {
                "household": [h.id for h in chosen],
                "start_time": "10:00",
                "hours": "3",
                "mode": "walk",
            },
        )
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        planned = self.events(before, EventType.ROUTE_PLANNED)
        self.assertEqual(len(planned), 1)
        order = planned[0].details["order"]
        self.assertEqual(sorted(order), sorted(h.id for h in self.high))
        # The stops appear in the planned order, each with its arrival time.
        by_id = {h.id: h for h in chosen}
        positions = [page.index(by_id[i].address) for i in order]
        self.assertEqual(positions, sorted(positions))
        self.assertEqual(len(re.findall(r'<span class="stopno">\d+</span>', page)), 3)
        self.assertIn("経路に入らなかった世帯（1件）", page)
        self.assertIn("夜間のみ", page)
        self.assertIn('id="route-map"', page)
        self.assertIn('id="route-data"', page)
        self.assertIn("巡回経路表を印刷", page)
        self.assertIn(f'name="order" value="{",".join(map(str, order))}"', page)

    def test_each_household_shown_on_the_route_is_on_its_own_access_log(self) -> None:
        from junkai.households.access import household_access_log

        before = self.last_id()
        chosen = [*self.high, self.night_only]
        response = self.client.post(
            "/routes/",
            {"household": [h.id for h in chosen], "start_time": "10:00", "hours": "3"},
        )
        self.assertEqual(response.status_code, 200)
        for household in chosen:  # the stops and the one left out, all named on the page
            log = household_access_log(household).filter(id__gt=before)
            self.assertEqual(
                [(e.event_type, e.purpose) for e in log],
                [(EventType.READ_HOUSEHOLD, "巡回経路の作成")],
                household,
            )

    def test_auto_pick(self) -> None:
        response = self.client.post(
            "/routes/", {"auto": "1", "start_time": "10:00", "hours": "4", "mode": "drive"}
        )
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        self.assertIn("自動で選択", page)
        for household in self.doors:
            self.assertIn(household.address, page)
        self.assertNotIn(self.night_only.address, page)

    def test_auto_pick_records_a_read_of_each_household_shown_and_no_other(self) -> None:
        before = self.last_id()
        response = self.client.post(
            "/routes/", {"auto": "1", "start_time": "10:00", "hours": "4", "mode": "drive"}
        )
        self.assertEqual(response.status_code, 200)
        (planned,) = self.events(before, EventType.ROUTE_PLANNED)
        reads = self.events(before, EventType.READ_HOUSEHOLD)
        self.assertEqual(
            [int(e.object_id) for e in reads], planned.details["order"] + planned.details["skipped"]
        )
        self.assertTrue(all(e.id > planned.id for e in reads))
        self.assertEqual({e.purpose for e in reads}, {"巡回経路の作成"})
        self.assertNotIn(self.night_only.id, [int(e.object_id) for e in reads])

    def test_bad_input_shows_the_message_and_plans_nothing(self) -> None:
        cases = [
            ({"start_time": "10:00", "hours": "3"}, "経路に入れる世帯を1件以上選んでください"),
            (
                {"household": [self.high[0].id], "start_time": "21:00", "hours": "3"},
                "開始時刻 21:00 は夜間",
            ),
            (
                {"household": [self.high[0].id], "start_time": "10:00", "start_lat": "33.2"},
                "緯度と経度の両方",
            ),
            (  # refused after the households were found: still no read of them
                {
                    "household": [self.high[0].id],
                    "start_time": "10:00",
                    "start_lat": "35.68",
                    "start_lon": "139.76",
                },
                "km以内",
            ),
        ]
        for data, message in cases:
            with self.subTest(message=message):
                before = self.last_id()
                response = self.client.post("/routes/", data)
                self.assertEqual(response.status_code, 422)
                self.assertIn(message, response.content.decode())
                self.assertEqual(self.events(before, EventType.ROUTE_PLANNED), [])
                self.assertEqual(self.events(before, EventType.READ_HOUSEHOLD), [])
        # The choice is kept on the page for another try.
        self.assertIn(
            f'value="{self.high[0].id}" id="hh{self.high[0].id}" checked', response.content.decode()
        )

    def test_another_stations_household_is_404(self) -> None:
        response = self.client.post(
            "/routes/",
            {"household": [self.high[0].id, self.other["household"].id], "start_time": "10:00"},
        )
        self.assertEqual(response.status_code, 404)

    def test_signed_out_goes_to_sign_in(self) -> None:
        self.client.logout()
        self.assertIn("/login/", self.client.get("/routes/")["Location"])

    def test_the_route_sheet_prints_the_order_and_records_each_household(self) -> None:
        order = [self.high[2].id, self.high[0].id, self.high[1].id]
        before = self.last_id()
        response = self.client.post(
            "/routes/sheet.pdf",
            {
                "order": ",".join(map(str, order)),
                "skipped": str(self.night_only.id),
                "start_time": "10:00",
                "hours": "3",
                "mode": "walk",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertIn("no-store", response["Cache-Control"])
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        self.assertIn("巡回経路表", text)
        self.assertIn("経路略図", text)
        self.assertIn("佐野 翔太", text)  # the printing officer, on the footer
        # Kept in the order given (the times recomputed), the skipped door listed with its reason.
        squashed = text.replace(" ", "")
        positions = [
            squashed.index(f"駅前町3丁目{h.banchi}番地")
            for h in (self.high[2], self.high[0], self.high[1])
        ]
        self.assertEqual(positions, sorted(positions))
        self.assertIn("経路に入らなかった世帯（1件）", squashed)
        printed = self.events(before, EventType.PRINT_FORM)
        # One event naming every household on the sheet.
        (event,) = printed
        self.assertEqual(
            sorted(event.household_rows.values_list("household_id", flat=True)),
            sorted([*order, self.night_only.id]),
        )
        self.assertEqual(event.details["form"], "巡回経路表")
        self.assertEqual(self.events(before, EventType.READ_HOUSEHOLD), [])  # a print, not a read
        # Kept for a look (pdftoppm), as the browser tests keep their screenshots.
        out = Path(settings.VAR_DIR) / "screenshots" / "route-sheet.pdf"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(response.content)

    def test_the_sheet_refuses_out_of_scope_and_empty(self) -> None:
        response = self.client.post(
            "/routes/sheet.pdf",
            {"order": f"{self.high[0].id},{self.other['household'].id}", "start_time": "10:00"},
        )
        self.assertEqual(response.status_code, 404)
        response = self.client.post("/routes/sheet.pdf", {"order": "", "start_time": "10:00"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("経路に世帯がありません", response.content.decode())
        self.assertEqual(self.client.get("/routes/sheet.pdf").status_code, 405)

    def test_ids_that_are_not_ids_are_422_not_a_server_error(self) -> None:
        # "²" passes str.isdigit but not int(); 20 digits pass int() but not the database.
        for bad in ("²", "9" * 20):
            with self.subTest(bad=bad):
                response = self.client.post("/routes/", {"household": [bad], "start_time": "10:00"})
                self.assertContains(response, "世帯の指定が正しくありません", status_code=422)
                for field in ("order", "skipped"):
                    response = self.client.post(
                        "/routes/sheet.pdf",
                        {"order": str(self.high[0].id), field: bad, "start_time": "10:00"},
                    )
                    self.assertEqual(response.status_code, 422, field)
                    self.assertIn("世帯の指定が正しくありません", response.content.decode())

    def test_the_sheet_bounds_the_left_out_list_and_checks_the_start(self) -> None:
        # The left-out list is printed (and each household recorded as printed): it may not be
        # longer than a route, or one POST prints any number of the post's doors.
        before = self.last_id()
        response = self.client.post(
            "/routes/sheet.pdf",
            {
                "order": str(self.high[0].id),
                "skipped": ",".join(str(i) for i in range(1, 5000)),
                "start_time": "10:00",
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("経路に入らなかった世帯は100件まで", response.content.decode())
        # A start in Tokyo for doors in Oita: refused as on the page, not printed.
        response = self.client.post(
            "/routes/sheet.pdf",
            {
                "order": str(self.high[0].id),
                "start_time": "10:00",
                "start_lat": "35.68",
                "start_lon": "139.76",
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("km以内", response.content.decode())
        self.assertEqual(self.events(before, EventType.PRINT_FORM), [])
