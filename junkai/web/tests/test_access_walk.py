"""Walks every URL pattern and API operation as every persona.

Fails when a view or API operation declares no access rule (junkai.access.declare_access), and
when any persona sees another station's records, or reaches a view its rule does not allow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path
from ninja.operation import PathView

from junkai.accounts.actions import do_issue_api_token
from junkai.testing import OTHER_MARKERS, PERSONAS, PersonaTestCase

#: Views that are not ours: the superuser-only Django admin and ninja's schema pages.
FOREIGN_NAMESPACES = {"admin"}
#: ninja's schema pages (for signed-in officers: docs_decorator in junkai/api/api.py).
NINJA_DOCS = {"openapi.json", "docs", ""}


def _walk(
    patterns: list[Any], prefix: str = "", ns: str = ""
) -> Iterator[tuple[str, URLPattern, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern), p.namespace or ns)
        else:
            yield prefix + str(p.pattern), p, ns


def ninja_operations(callback: Callable[..., Any]) -> list[Any]:
    for cell in getattr(callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return list(cell.cell_contents.operations)
    return []


def routes() -> list[tuple[str, str, Callable[..., Any], str]]:
    """(route, method-or-'*', view function, namespace) for every view and API operation."""
    found = []
    for route, pattern, ns in _walk(get_resolver().url_patterns):
        operations = ninja_operations(pattern.callback)
        if operations:
            for op in operations:
                for method in op.methods:
                    found.append((route, method, op.view_func, ns))
        else:
            found.append((route, "*", pattern.callback, ns))
    return found


def undeclared() -> list[str]:
    missing = []
    for route, method, view, ns in routes():
        if ns in FOREIGN_NAMESPACES:
            continue
        if ns == "api" and route.removeprefix("api/v1/") in NINJA_DOCS and method == "*":
            continue
        if not hasattr(view, "junkai_access"):
            missing.append(f"{method} /{route}")
    return missing


def _undeclared_view(request: Any) -> HttpResponse:
    return HttpResponse("no rule")


def _reports(household: Any, username: str) -> dict[str, int]:
    import datetime as dt

    from django.utils import timezone

    from junkai.org.models import Officer
    from junkai.visits import actions as visit_actions
    from junkai.visits.models import InfoReport

    officer = Officer.objects.get(username=username)
    daytime = timezone.localtime().replace(hour=10, minute=0) - dt.timedelta(days=1)
    visit = visit_actions.do_record_visit(
        household,
        acting_officer=officer,
        started_at=daytime,
        outcome="REFUSED",
        refusal_explanation="趣旨を説明した",
        observations=["不審車両"],
    )
    tomorrow_night = timezone.localtime().replace(hour=20, minute=0) + dt.timedelta(days=1)
    approval = visit_actions.do_request_night_approval(
        household,
        acting_officer=officer,
        planned_start=tomorrow_night,
        planned_end=tomorrow_night + dt.timedelta(hours=1),
        reason="住民の都合",
    )
    from junkai.visits.models import Concern

    met = visit_actions.do_record_visit(
        household,
        acting_officer=officer,
        started_at=daytime + dt.timedelta(hours=1),
        outcome="MET",
        guidance_topics=[5],
        concerns=[{"kind": "TROUBLE", "text": "騒音"}],
    )
    from junkai.disclosures.testing import disclosure_walk_ids

    today = timezone.localdate()
    return {
        **disclosure_walk_ids(household, username),
        "report_id": visit.refusal_report.id,
        "approval_id": approval.id,
        "info_id": InfoReport.objects.get(visit=visit).id,
        "concern_id": Concern.objects.get(visit=met).id,
        "year": today.year,
        "month": today.month,
    }


def names_object(route: str) -> bool:
    """A parameter that names a record (…_id), not a month."""
    return re.search(r"<(?:\w+:)?\w+_id>|\{\w+_id\}", route) is not None


def dashboard_readers(route: str) -> set[str]:
    """Who may read a dashboard route named with the own ids (the station, 駅前交番, 駅前一区)."""
    if "station_id" in route:
        return {"chief", "kacho", "dairi"}
    if "post_id" in route or "beat_id" in route:
        return {"chief", "kacho", "dairi", "kobancho1"}
    return {"hq"}


urlpatterns = [*get_resolver().url_patterns, path("forgot/", _undeclared_view)]


class DeclarationTests(PersonaTestCase):
    def test_every_view_and_operation_declares_its_rule(self) -> None:
        self.assertGreater(len(routes()), 15)
        self.assertEqual(undeclared(), [])

    @override_settings(ROOT_URLCONF=__name__)
    def test_a_new_view_without_a_rule_is_caught(self) -> None:
        self.assertEqual(undeclared(), ["* /forgot/"])


class WalkTests(PersonaTestCase):
    own_reports: ClassVar[dict[str, int]]
    other_reports: ClassVar[dict[str, int]]
    own_registers: ClassVar[dict[str, int]]
    other_registers: ClassVar[dict[str, int]]
    own_documents: ClassVar[dict[str, int]]
    other_documents: ClassVar[dict[str, int]]
    own_devices: ClassVar[dict[str, int]]
    other_devices: ClassVar[dict[str, int]]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # A refusal, an observation and a night request on each side, for the inbox routes.
        cls.own_reports = _reports(cls.aoki, "officer1a")
        cls.other_reports = _reports(cls.other["household"], "other_officer")
        # A declared checkout and an inspection with an open follow-up on each side.
        from junkai.org.models import Officer
        from junkai.registers.testing import register_walk_ids

        cls.own_registers = register_walk_ids(
            cls.station.posts.get(code="K1"), Officer.objects.get(username="officer1a")
        )
        cls.other_registers = register_walk_ids(cls.other["post"], cls.other["officer"])
        # A building (アパート等) on each side, for the printed forms (第3号様式).
        from junkai.documents.testing import document_walk_ids

        cls.own_documents = document_walk_ids(
            cls.station.posts.get(code="K1").beats.get(code="K1-1")
        )
        cls.other_documents = document_walk_ids(cls.other["beat"])
        # A device out with a beat and a card conflict kept from it, on each side.
        from junkai.devices.testing import device_walk_ids

        cls.own_devices = device_walk_ids(cls.aoki, Officer.objects.get(username="officer1a"))
        cls.other_devices = device_walk_ids(cls.other["household"], cls.other["officer"])

    def other_ids(self) -> dict[str, int]:
        other = self.other
        _, token = do_issue_api_token(other["officer"])
        return {
            "station_id": other["station"].id,
            "post_id": other["post"].id,
            "assignment_id": other["assignment"].id,
            "officer_id": other["officer"].id,
            "token_id": token.id,
            "beat_id": other["beat"].id,
            "household_id": other["household"].id,
            **self.other_reports,
            **self.other_registers,
            **self.other_documents,
            **self.other_devices,
        }

    def own_ids(self) -> dict[str, int]:
        officer = self.officer("officer1a")
        _, token = do_issue_api_token(self.officer("kacho"))
        return {
            "station_id": self.station.id,
            "post_id": self.post("K1").id,
            "assignment_id": officer.current_assignments()[0].id,
            "officer_id": officer.id,
            "token_id": token.id,
            "beat_id": self.beat("K1-1").id,
            "household_id": self.aoki.id,
            **self.own_reports,
            **self.own_registers,
            **self.own_documents,
            **self.own_devices,
        }

    def url(self, route: str, ids: dict[str, int]) -> str:
        # Django converters (<int:post_id>) and ninja parameters ({post_id}) alike.
        return "/" + re.sub(
            r"<(?:\w+:)?(\w+)>|\{(\w+)\}", lambda m: str(ids[str(m.group(1) or m.group(2))]), route
        )

    def clients(self) -> dict[str, Client]:
        clients = {"anonymous": Client()}
        for username in PERSONAS:
            clients[username] = self.client_for(username)
            token, _ = do_issue_api_token(self.officer(username))
            clients[f"{username}:bearer"] = Client(headers={"Authorization": f"Bearer {token}"})
        return clients

    def request(self, client: Client, method: str, url: str) -> Any:
        if method in ("*", "GET"):
            return client.get(url)
        return getattr(client, method.lower())(url, {}, content_type="application/json")

    def test_no_persona_sees_another_station(self) -> None:
        ids = self.other_ids()
        leaks = []
        checked = 0
        clients = self.clients()
        for route, method, view, ns in routes():
            if ns in FOREIGN_NAMESPACES:
                continue
            url = self.url(route, ids)
            if method == "DELETE":
                clients = self.clients()  # it may revoke the token the clients carry
            for who, client in clients.items():
                # Pages with the browser session, the API with bearer tokens.
                if who != "anonymous" and who.endswith(":bearer") != (ns == "api"):
                    continue
                response = self.request(client, method, url)
                checked += 1
                if ns == "api" and "no-store" not in response.get("Cache-Control", ""):
                    leaks.append(f"{who} {method} {url}: no Cache-Control: no-store")
                body = response.content.decode(errors="replace")
                for marker in OTHER_MARKERS:
                    if marker in body:
                        leaks.append(f"{who} {method} {url}: {marker}")
                rule = getattr(view, "junkai_access", "public")
                names_an_object = names_object(route)
                if (
                    rule in ("station_admin", "post_manager", "scoped", "superuser", "dashboard")
                    and names_an_object
                    and response.status_code == 200
                ):
                    leaks.append(f"{who} {method} {url}: 200 for a {rule} view of another station")
        self.assertGreater(checked, 1000)
        self.assertEqual(leaks, [])

    def test_rules_hold_for_each_persona_on_own_station(self) -> None:
        ids = self.own_ids()
        admins = {"chief", "kacho"}
        # Personas whose scope covers 駅前交番 (the own ids point there).
        k1_scope = {"chief", "kacho", "dairi", "kobancho1", "officer1a", "officer1b"}
        # Pages every persona with the scope must be able to read.
        reads = {"beats/<int:beat_id>/households/", "households/<int:household_id>/"}
        problems = []
        clients = self.clients()
        for route, method, view, ns in routes():
            if ns in FOREIGN_NAMESPACES or ns == "api":
                continue
            rule = getattr(view, "junkai_access")  # noqa: B009
            url = self.url(route, ids)
            for who, client in clients.items():
                if who.endswith(":bearer"):
                    continue
                response = self.request(client, method, url)
                status = response.status_code
                # No answer to a signed-in officer is kept in a cache (ASVS 14.3).
                if who != "anonymous" and "no-store" not in response.get("Cache-Control", ""):
                    problems.append(f"{who} {method} {url}: no Cache-Control: no-store")
                if who == "anonymous":
                    ok = status == 200 if rule == "public" else status in (302, 405)
                elif rule == "station_admin":
                    ok = status in (200, 302, 405) if who in admins else status in (404, 405)
                elif rule == "post_manager":
                    # 駅前交番's 管理責任者 is the 地域課長 (kacho) alone.
                    ok = status == 200 if who == "kacho" else status in (404, 405)
                elif rule == "dashboard":
                    # 進捗状況 (junkai.dashboards): others get 403 (serving there) or 404.
                    readers = dashboard_readers(route)
                    ok = status in (200, 302, 405) if who in readers else status in (403, 404, 405)
                elif rule == "scoped" and names_object(route):
                    if who not in k1_scope:
                        ok = status in (404, 405)
                    elif route in reads:
                        ok = status == 200
                    else:  # writes: readers in scope (chief, dairi) get 403
                        ok = status in (200, 302, 403, 405)
                else:
                    ok = status in (200, 302, 405)
                if not ok:
                    problems.append(f"{who} {url} ({rule}): {status}")
        self.assertEqual(problems, [])

    def test_every_scoped_page_that_shows_data_records_the_read(self) -> None:
        from junkai.audit.models import AuditEvent

        # Forms that name a beat but show nothing of its households.
        no_personal_data = {
            "beats/<int:beat_id>/households/new/",
            "beats/<int:beat_id>/export/",
        }
        ids = self.own_ids()
        client = self.client_for("officer1a")
        silent = []
        shown = 0
        for route, method, view, ns in routes():
            rule = getattr(view, "junkai_access", "")
            if rule != "scoped" or method not in ("*", "GET") or not names_object(route):
                continue
            if route in no_personal_data:
                continue
            url = self.url(route, ids)
            before = AuditEvent.objects.count()
            if ns == "api":
                token, _ = do_issue_api_token(self.officer("officer1a"))
                before = AuditEvent.objects.count()
                response = Client(headers={"Authorization": f"Bearer {token}"}).get(url)
            else:
                response = client.get(url)
            if response.status_code == 200:
                shown += 1
                if AuditEvent.objects.count() == before:
                    silent.append(url)
        self.assertGreater(shown, 5)
        self.assertEqual(silent, [])

    def test_api_needs_authentication(self) -> None:
        anonymous = Client()
        for route, method, view, ns in routes():
            if ns != "api" or method == "*" or getattr(view, "junkai_access") == "public":  # noqa: B009
                continue
            url = self.url(route, self.own_ids())
            status = self.request(anonymous, method, url).status_code
            self.assertEqual(status, 401, f"{method} {url}")
