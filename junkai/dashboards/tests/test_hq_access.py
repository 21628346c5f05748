"""本部地域課's view of every station: who may open it (page and API alike, one rule in
junkai.access) and that each view is on the record."""

from __future__ import annotations

from django.test import Client

from junkai.audit.models import AuditEvent, EventType
from junkai.dashboards.tests.test_dashboards import DashboardTestCase


class HqDashboardAccessTests(DashboardTestCase):
    def reads(self, username: str) -> list[tuple[str, int | None, str]]:
        return list(
            AuditEvent.objects.filter(
                event_type=EventType.READ_DASHBOARD, actor__username=username
            ).values_list("object_type", "station_id", "purpose")
        )

    def test_each_view_by_hq_is_recorded_as_the_prefecture(self) -> None:
        self.assertEqual(self.client_for("d_hq").get("/dashboard/hq/").status_code, 200)
        self.assertEqual(self.reads("d_hq"), [("prefecture", None, "全署の進捗状況")])
        response = self.bearer("d_hq").get("/api/v1/dashboard")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            self.reads("d_hq"),
            [("prefecture", None, "全署の進捗状況"), ("prefecture", None, "全署の進捗状況（API）")],
        )

    def test_anyone_else_is_refused_with_a_reason_and_nothing_is_recorded(self) -> None:
        page = self.client_for("d_chief").get("/dashboard/hq/")
        self.assertContains(page, "全署の進捗状況は本部地域課が閲覧できます", status_code=403)
        api: Client = self.bearer("d_chief")
        response = api.get("/api/v1/dashboard")
        self.assertEqual(response.status_code, 403)
        self.assertIn("station を指定してください", response.json()["detail"])
        self.assertEqual(self.reads("d_chief"), [])
