"""The officer in the field (issue 17): 記録 wherever a household appears, back to the same
place of the same list with 次の世帯, 直近の巡回, lists by 町名・組, a day's route kept with a
done tick, and sign-in landing on 巡回予定."""

from __future__ import annotations

import html
import json
import re
from unittest import mock

import time_machine
from django.test import Client, SimpleTestCase

from junkai.audit.models import AuditEvent, EventType
from junkai.households.models import Household
from junkai.lib.returns import back_to_list, local_path
from junkai.lib.wareki import format_wareki
from junkai.planning.models import KeptRoute
from junkai.planning.tests.test_routes_api import NOW, RouteTestCase
from junkai.visits.models import Visit

VISIT = {
    "outcome": "MET",
    "method": "VISIT",
    "guidance_topics": ["1", "2"],
    "started_at": f"{NOW:%Y-%m-%d}T09:30",
    "refusal_explanation": "",
    "concern_kind": "",
    "concern_text": "",
    "observation": "",
    "note": "",
}


def record_links(page: str, household: Household) -> list[str]:
    """The 記録 links on a page that lead to this household's visit form."""
    found = re.findall(rf'href="(/households/{household.id}/visit/[^"]*)"', page)
    return [html.unescape(link) for link in found]


@time_machine.travel(NOW, tick=False)
class RecordFromEveryPlaceTests(RouteTestCase):
    """A visit is recorded from each place a household appears, through the one visit form and
    its rules, and the officer comes back to where he pressed 記録."""

    def setUp(self) -> None:
        self.client = self.client_for("officer1a")
        self.door = self.medium[0]

    def record_via(self, link: str) -> str:
        form = self.client.get(link)
        self.assertContains(form, "記録する")
        before = Visit.objects.filter(household=self.door).count()
        response = self.client.post(link, VISIT)
        self.assertEqual(response.status_code, 302, response.content.decode()[-2000:])
        self.assertEqual(Visit.objects.filter(household=self.door).count(), before + 1)
        return str(response["Location"])

    def test_household_page(self) -> None:
        page = self.client.get(f"/households/{self.door.id}/").content.decode()
        (link,) = record_links(page, self.door)
        self.assertEqual(self.record_via(link), f"/households/{self.door.id}/")

    def test_search_results(self) -> None:
        # The query is personal data: kept in the session, never in a URL (post/redirect/get).
        sent = self.client.post("/search/", {"query": self.door.address})
        self.assertEqual(sent["Location"], "/search/?results=1")
        page = self.client.get(sent["Location"]).content.decode()
        (link,) = record_links(page, self.door)
        self.assertNotIn(self.door.town, link)
        # Back to the same results after the record, the query still in its box.
        back = self.record_via(link)
        self.assertEqual(back, "/search/?results=1")
        again = self.client.get(back).content.decode()
        self.assertIn(f'value="{self.door.address}"', again)
        self.assertEqual(record_links(again, self.door), [link])

    def test_search_results_mark_the_next_household(self) -> None:
        self.client.post("/search/", {"query": self.door.town})
        page = self.client.get("/search/?results=1").content.decode()
        links = [
            html.unescape(x) for x in re.findall(r'href="(/households/\d+/visit/[^"]*)"', page)
        ]
        self.assertGreater(len(links), 1)
        after = int(re.findall(r"/households/(\d+)/visit/", links[1])[0])
        back = self.client.post(links[0], VISIT)["Location"]
        self.assertEqual(back, f"/search/?results=1&next_household={after}#h-{after}")
        again = self.client.get(back).content.decode()
        self.assertIn(f'<tr id="h-{after}" class="is-next">', again)
        self.assertEqual(again.count("次の世帯"), 1)
        # A new search (the navigation's 検索) forgets the last one.
        self.assertNotContains(self.client.get("/search/"), "検索結果")
        self.assertNotContains(self.client.get("/search/?results=1"), "検索結果")

    def test_beat_list(self) -> None:
        url = f"/beats/{self.door.beat_id}/households/?town={self.door.town}"
        page = self.client.get(url).content.decode()
        (link,) = record_links(page, self.door)
        back = self.record_via(link)
        self.assertTrue(back.startswith(f"/beats/{self.door.beat_id}/households/?town="), back)

    def test_map_popup(self) -> None:
        response = self.client.get(f"/beats/{self.door.beat_id}/map/")
        config = response.context["map_config"]
        link = config["visit_url"].replace("{id}", str(self.door.id))
        self.assertEqual(self.record_via(link), f"/beats/{self.door.beat_id}/map/")
        # The popup's 記録 is only for those who record at the post: the chief reads.
        chief = self.client_for("chief").get(f"/beats/{self.door.beat_id}/map/")
        self.assertEqual(chief.context["map_config"]["visit_url"], "")

    def test_route_stop(self) -> None:
        # (The door asks for afternoons.)
        self.client.post(
            "/routes/",
            {"household": [self.door.id], "start_time": "13:00", "hours": "2", "mode": "walk"},
        )
        page = self.client.get("/routes/today/").content.decode()
        (link,) = record_links(page, self.door)
        self.assertEqual(self.record_via(link), "/routes/today/")
        # The stop is ticked done (済) once its visit is recorded.
        page = self.client.get("/routes/today/").content.decode()
        self.assertIn('class="card stop done', page)
        self.assertIn("1 / 1戸", page)

    def test_a_household_not_due_is_recorded_from_its_page(self) -> None:
        # A resident who stops the officer in the street: recorded, then not due for months.
        page = self.client.get(f"/households/{self.door.id}/").content.decode()
        (link,) = record_links(page, self.door)
        self.record_via(link)
        worklist = self.client.get("/worklist/").context["rows"]
        self.assertNotIn(self.door.id, [h.id for h in worklist])
        page = self.client.get(f"/households/{self.door.id}/").content.decode()
        (link,) = record_links(page, self.door)
        self.record_via(link)
        self.assertEqual(Visit.objects.filter(household=self.door).count(), 2)

    def test_the_rules_still_hold_from_a_record_button(self) -> None:
        page = self.client.get(f"/households/{self.door.id}/").content.decode()
        (link,) = record_links(page, self.door)
        refused = self.client.post(link, {**VISIT, "outcome": "REFUSED"})
        self.assertContains(refused, "趣旨をどのように説明したか", status_code=422)
        phone = self.client.post(link, {**VISIT, "method": "PHONE"})
        self.assertContains(phone, "自治委員・区長・班長・組長", status_code=422)
        self.assertFalse(Visit.objects.filter(household=self.door).exists())

    def test_readers_get_no_record_button(self) -> None:
        chief = self.client_for("chief")
        self.state_read_purpose(chief, self.door)
        page = chief.get(f"/households/{self.door.id}/").content.decode()
        self.assertEqual(record_links(page, self.door), [])
        self.assertIn("直近の巡回", page)


@time_machine.travel(NOW, tick=False)
class BackToTheSamePlaceTests(RouteTestCase):
    def test_worklist_by_town_and_block_with_counts_then_the_next_household(self) -> None:
        client = self.client_for("officer1a")
        response = client.get("/worklist/?town=駅前町")
        groups = response.context["groups"]
        rows = [h for g in groups for h in g.rows]
        self.assertEqual(
            [(g.town, g.block_group) for g in groups],
            sorted({(h.town, h.block_group) for h in rows}),
        )
        page = response.content.decode()
        for g in groups:
            self.assertIn(f"{len(g.rows)}世帯", page)
        first, second = rows[0], rows[1]
        (link,) = record_links(page, first)
        self.assertIn(f"then={second.id}", link)
        back = client.post(link, VISIT)["Location"]
        self.assertTrue(back.startswith("/worklist/?town="), back)
        self.assertTrue(back.endswith(f"next_household={second.id}#h-{second.id}"), back)
        again = client.get(back)
        marked = [h.id for g in again.context["groups"] for h in g.rows if h.is_next]
        self.assertEqual(marked, [second.id])
        self.assertContains(again, "次の世帯")
        # The record buttons of the list marked 次の世帯 return to the list without the mark.
        self.assertNotIn("next_household", "".join(record_links(again.content.decode(), second)))

    def test_beat_list_folds_by_town_and_block_and_opens_the_next_household(self) -> None:
        client = self.client_for("officer1a")
        beat = self.door_beat()
        with mock.patch("junkai.households.views.FOLD_OVER", 1):
            page = client.get(f"/beats/{beat}/households/")
            self.assertTrue(page.context["folded"])
            self.assertFalse(any(g.open for g in page.context["groups"]))
            target = self.medium[1]
            marked = client.get(f"/beats/{beat}/households/?next_household={target.id}")
            opened = [g for g in marked.context["groups"] if g.open]
            self.assertEqual(len(opened), 1)
            self.assertIn(f'id="h-{target.id}" class="is-next"', str(opened[0].rows))

    def door_beat(self) -> int:
        return self.medium[0].beat_id

    def test_a_colleagues_beat_asks_why_with_patrol_chosen_then_opens_the_form(self) -> None:
        # officer1b walks another beat of 駅前交番: from a record button the read states why,
        # 巡回連絡 already chosen; stating it goes on to the visit form.
        client = self.client_for("officer1b")
        door = self.medium[0]
        link = f"/households/{door.id}/visit/?from=%2Fbeats%2F{door.beat_id}%2Fhouseholds%2F"
        asked = client.get(link)
        page = asked.content.decode()
        self.assertIn("閲覧の目的", page)
        self.assertNotIn(door.name or "青木", page)
        self.assertRegex(page, r'value="PATROL"[^>]*checked')
        self.assertIn(f'name="continue" value="{html.escape(link)}"', page)
        stated = client.post(f"/households/{door.id}/", {"purpose": "PATROL", "continue": link})
        self.assertRedirects(stated, link, fetch_redirect_response=False)
        form = client.get(link)
        self.assertContains(form, "記録する")
        read = AuditEvent.objects.filter(
            event_type=EventType.READ_HOUSEHOLD, object_id=str(door.id)
        ).latest("id")
        self.assertEqual(read.purpose, "巡回連絡")
        # A continue that is not this household's visit form goes to the household page.
        elsewhere = client.post(
            f"/households/{door.id}/", {"purpose": "PATROL", "continue": "https://evil.example/"}
        )
        self.assertRedirects(elsewhere, f"/households/{door.id}/", fetch_redirect_response=False)


@time_machine.travel(NOW, tick=False)
class RecentVisitsAndKeptRouteTests(RouteTestCase):
    def test_household_page_shows_recent_visits_in_wareki_and_the_next_due(self) -> None:
        client = self.client_for("officer1a")
        door = self.medium[0]
        client.post(f"/households/{door.id}/visit/", {**VISIT, "outcome": "ABSENT"})
        client.post(f"/households/{door.id}/visit/", VISIT)
        page = client.get(f"/households/{door.id}/").content.decode()
        panel = page.split("直近の巡回", 1)[1].split("</section>", 1)[0]
        self.assertIn(f"{format_wareki(NOW.date())} 09:30", panel)
        self.assertIn("面接", panel)
        self.assertIn("不在", panel)
        self.assertIn("佐野 翔太", panel)
        door.refresh_from_db()
        self.assertIn(f"次回予定日 <strong>{format_wareki(door.next_due)}</strong>", panel)

    def test_a_days_route_is_kept_for_its_officer_only(self) -> None:
        client = self.client_for("officer1a")
        client.post(
            "/routes/",
            {
                "household": [h.id for h in self.high],
                "start_time": "10:00",
                "hours": "3",
                "mode": "walk",
            },
        )
        kept = KeptRoute.objects.get()
        self.assertEqual(kept.stops.count(), 3)
        page = client.get("/routes/today/").content.decode()
        for door in self.high:
            self.assertIn(door.address, page)
        self.assertIn("0 / 3戸", page)
        listed = AuditEvent.objects.filter(
            event_type=EventType.LIST_HOUSEHOLDS, purpose="巡回経路"
        ).latest("id")
        self.assertEqual(listed.details["count"], 3)
        other = self.client_for("officer1b").get("/routes/today/").content.decode()
        self.assertIn("今日の巡回経路はまだありません", other)
        self.assertNotIn(self.high[0].address, other)

    def test_map_data_ticks_done_stops(self) -> None:
        client = self.client_for("officer1a")
        client.post(
            "/routes/",
            {"household": [self.high[0].id], "start_time": "10:00", "hours": "2", "mode": "walk"},
        )
        client.post(f"/households/{self.high[0].id}/visit/", {**VISIT, "outcome": "ABSENT"})
        data = client.get("/routes/today/").context["map_data"]
        self.assertEqual([s["done"] for s in data["stops"]], [True])
        self.assertTrue(json.dumps(data))


class SignInLandsOnTheWorkListTests(RouteTestCase):
    def test_officer_lands_on_his_work_list_manager_on_home(self) -> None:
        client = Client()
        response = client.post("/login/", {"username": "officer1a", "password": "junkai-demo"})
        self.assertRedirects(response, "/worklist/", fetch_redirect_response=False)
        manager = Client().post("/login/", {"username": "kacho", "password": "junkai-demo"})
        self.assertRedirects(manager, "/", fetch_redirect_response=False)

    def test_bottom_bar_for_officers_only(self) -> None:
        officer = self.client_for("officer1a").get("/worklist/").content.decode()
        self.assertIn('class="bottom-bar"', officer)
        for text in ("巡回予定", "検索", "地図", "メニュー"):
            self.assertIn(text, officer.split('class="bottom-bar"', 1)[1])
        manager = self.client_for("kacho").get("/").content.decode()
        self.assertNotIn('class="bottom-bar"', manager)
        self.assertIn("data-menu-toggle", manager)


class ReturnPathTests(SimpleTestCase):
    def test_only_paths_of_this_site_are_kept(self) -> None:
        for bad in (
            "",
            "https://evil.example/",
            "//evil.example/",
            "/\\evil",
            "worklist/",
            "/a\nb",
        ):
            self.assertEqual(local_path(bad), "", bad)
        self.assertEqual(local_path("/worklist/?town=駅前町"), "/worklist/?town=駅前町")

    def test_back_to_list_keeps_filters_and_marks_the_next(self) -> None:
        self.assertEqual(
            back_to_list("/worklist/?town=a&next_household=3", then=7),
            "/worklist/?town=a&next_household=7#h-7",
        )
        self.assertEqual(back_to_list("/search/", then=None), "/search/")
