"""要対応 (junkai.dashboards.pending): every kind of decision that waits on a person shows in
the inbox with its count, for those who must act and for nobody else; the navigation's count,
the home page and the dashboard's tile agree with it."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from junkai.dashboards.pending import KINDS
from junkai.disclosures import actions as disclosure_actions
from junkai.disclosures.models import AgencyRequest, DataUse
from junkai.disclosures.testing import disclosure_walk_ids
from junkai.org.models import Officer
from junkai.registers import actions as register_actions
from junkai.registers.testing import DAY, JST, RegistersTestCase
from junkai.visits import actions as visit_actions
from junkai.visits.models import GuidanceTopic

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

#: What waits on whom in the fixture below: {username: {kind: count}}; a kind missing from a
#: persona's map is not his (its section is not on his page).
EXPECTED: dict[str, dict[str, int]] = {
    "kacho": {
        "data_use_approval": 1,
        "agency_decision": 2,  # one still without its written request
        "checkout_review": 3,  # May, at each of the three posts that keep a register
        "misuse_flag": 1,
        "overdue_return": 1,
        "night_approval": 1,
        "refusal_report": 1,
        "info_report": 1,
        "data_use_open": 0,
        "agency_open": 0,
        "concern": 0,
        "loss_report": 1,
    },
    "kobancho1": {
        "overdue_return": 1,  # the post's 取扱責任者 chases it
        "night_approval": 1,
        "refusal_report": 1,
        "checkout_confirmation": 1,
        "data_use_open": 1,
        "agency_open": 1,
        "inspection_follow_up": 1,
        "concern": 0,
        "loss_report": 1,
    },
    "chief": {
        "misuse_flag": 1,
        "loss_report": 1,
        "overdue_return": 0,
        "data_use_open": 0,
        "agency_open": 0,
        "concern": 0,
    },
    "officer1a": {
        # The borrower brings back his overdue binders; he does not confirm his own checkout.
        "overdue_return": 1,
        "checkout_confirmation": 0,
        "data_use_open": 1,
        "agency_open": 1,
        "inspection_follow_up": 1,
        "concern": 1,
    },
    "officer1b": {
        "overdue_return": 0,
        "checkout_confirmation": 1,
        "data_use_open": 1,
        "agency_open": 1,
        "inspection_follow_up": 1,
        "concern": 0,
    },
    "officer2a": {
        "overdue_return": 0,
        "checkout_confirmation": 0,
        "data_use_open": 0,
        "agency_open": 0,
        "inspection_follow_up": 0,
        "concern": 0,
    },
}


def page_counts(html: str) -> dict[str, int]:
    return {kind: int(n) for kind, n in re.findall(r'data-kind="(\w+)" data-count="(\d+)"', html)}


@time_machine.travel(DAY, tick=False)
class TodoInboxTests(RegistersTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        officer1a, officer1b = cls.get("officer1a"), cls.get("officer1b")
        kobancho1 = cls.get("kobancho1")
        with time_machine.travel(dt.datetime(2026, 5, 20, 9, 0, tzinfo=JST), tick=False):
            # A binder taken out in May, confirmed, never returned: overdue by June.
            out = register_actions.do_declare_checkout(
                [cls.k1_binders[0]], acting_officer=officer1a, purpose="巡回連絡"
            )
            register_actions.do_confirm_checkout_out(out, acting_officer=officer1b)
        with time_machine.travel(DAY - dt.timedelta(hours=1), tick=False):
            # Declared this morning, waiting for a second officer's 持出確認.
            register_actions.do_declare_checkout(
                [cls.k1_binders[1]], acting_officer=officer1a, purpose="巡回連絡"
            )
            # 他県 (北海道) entry, a pending agency request and a misuse flag about officer1a.
            ids = disclosure_walk_ids(cls.aoki, "officer1a")
            other = DataUse.objects.get(id=ids["data_use_id"])
            disclosure_actions.do_verify_identity(
                other, acting_officer=officer1b, callback_number="7-0000"
            )
            # An entry of this prefecture, waiting for its call-back (the post's officers).
            disclosure_actions.do_record_data_use(
                acting_officer=officer1a,
                requester_name="巡査 試験",
                requester_unit="刑事課",
                requester_prefecture="大分県",
                police_phone="7-0001",
                purpose="捜査",
                household_ids=[cls.aoki.id],
            )
            # An agency request with its written request: the 管理責任者 decides.
            decided = disclosure_actions.do_record_agency_request(
                acting_officer=officer1a,
                agency_name="市役所",
                recipient_name="試験",
                recipient_contact="000-0000",
                purpose="試験",
                legal_basis="試験",
                household_ids=[cls.aoki.id],
            )
            disclosure_actions.do_attach_agency_document(
                decided,
                acting_officer=officer1a,
                upload=SimpleUploadedFile("shokai.pdf", PDF, "application/pdf"),
            )
            # A refusal with a concern and an observation; a night-visit request.
            visit_actions.do_record_visit(
                cls.aoki,
                acting_officer=officer1a,
                started_at=DAY - dt.timedelta(hours=2),
                outcome="REFUSED",
                refusal_explanation="趣旨を説明した",
                guidance_topics=[GuidanceTopic(1)],
                concerns=[{"kind": "TROUBLE", "text": "街灯が暗い"}],
                observations=["不審な車両"],
            )
            visit_actions.do_request_night_approval(
                cls.aoki,
                acting_officer=officer1a,
                planned_start=DAY + dt.timedelta(hours=10),
                planned_end=DAY + dt.timedelta(hours=11),
                reason="日中不在",
            )
            register_actions.do_record_inspection(
                cls.k1,
                acting_officer=kobancho1,
                inspected_on=DAY.date(),
                checklist={},
                findings="施錠の不備",
                follow_ups=["保管庫の施錠を徹底"],
            )
            # A binder reported lost by the post's custodian: it reaches the station and HQ.
            register_actions.do_report_loss(
                cls.k1_binders[2],
                acting_officer=kobancho1,
                kind="LOST",
                occurred_at=DAY - dt.timedelta(hours=3),
                place="交番前",
                circumstances="保管庫から見当たらない",
                measures="遺失届を提出",
            )

    @staticmethod
    def get(username: str) -> Officer:
        return Officer.objects.get(username=username)

    def todo(self, username: str) -> tuple[Client, str]:
        client = self.client_for(username)
        response = client.get("/todo/")
        self.assertEqual(response.status_code, 200)
        return client, response.content.decode()

    def test_every_kind_shows_with_its_count_for_those_who_act_and_nobody_else(self) -> None:
        shown_somewhere: set[str] = set()
        for username, expected in EXPECTED.items():
            with self.subTest(username=username):
                client, html = self.todo(username)
                counts = page_counts(html)
                self.assertEqual(
                    {k: counts.get(k) for k in expected}, expected, f"{username}: {counts}"
                )
                # Kinds his roles do not reach have no section on his page.
                self.assertEqual(set(counts) - set(expected), set(), username)
                shown_somewhere |= {k for k, n in counts.items() if n}
                # The navigation's count is the page's total.
                total = sum(counts.values())
                self.assertEqual(client.get("/todo/count/").content.decode(), str(total or ""))
                home = client.get("/").content.decode()
                self.assertIn('href="/todo/"', home)
                self.assertIn(f'data-todo-total="{total}"', home)
        # Every kind of the registry (bar none) was seen waiting on someone.
        self.assertEqual(shown_somewhere, {k.key for k in KINDS})

    def test_hq_sees_only_the_loss_report(self) -> None:
        client, html = self.todo("hq")
        self.assertEqual(page_counts(html), {"loss_report": 1})
        # HQ follows it from the list of reports (the report itself names households).
        self.assertIn('href="/registers/losses/"', html)
        self.assertNotRegex(html, r'href="/registers/losses/\d+/"')
        self.assertEqual(client.get("/registers/losses/").status_code, 200)
        _, html = self.todo("kacho")
        self.assertRegex(html, r'href="/registers/losses/\d+/"')

    def test_others_and_another_station_see_nothing(self) -> None:
        for username in ("staff",):
            with self.subTest(username=username):
                client, html = self.todo(username)
                self.assertContains(client.get("/todo/"), "対応を待つ承認・確認・報告はありません")
                self.assertNotIn('href="/todo/"', client.get("/").content.decode())
        chief = Client()
        chief.force_login(self.other["chief"])
        self.assertEqual(chief.get("/todo/count/").content.decode(), "")
        html = chief.get("/todo/").content.decode()
        self.assertFalse(any(page_counts(html).values()), html)

    def test_rows_link_to_where_one_acts_and_name_no_resident(self) -> None:
        _, html = self.todo("kacho")
        other = DataUse.objects.filter(other_prefecture=True).get()
        decided = AgencyRequest.objects.exclude(document_sha256="").get()
        undocumented = AgencyRequest.objects.filter(document_sha256="").get()
        self.assertIn(f'href="/data-uses/{other.id}/"', html)
        self.assertIn(f'href="/agency-requests/{decided.id}/"', html)
        self.assertIn(f'href="/agency-requests/{undocumented.id}/"', html)
        self.assertIn("市役所・文書未添付", html)
        self.assertIn(f'href="/registers/reviews/{self.k1.id}/2026/5/"', html)
        self.assertIn('href="/inbox/"', html)
        self.assertIn("令和8年", html)
        for personal in (self.aoki.address, "街灯が暗い", "不審な車両", "青木"):
            self.assertNotIn(personal, html)

    def test_the_dashboard_tile_counts_and_links(self) -> None:
        client, html = self.todo("kacho")
        total = sum(page_counts(html).values())
        board = client.get(f"/dashboard/stations/{self.station.id}/").content.decode()
        self.assertRegex(
            board, rf'<a class="stat stat-link" href="/todo/" data-todo-total="{total}"'
        )

    def test_acting_removes_it(self) -> None:
        _, html = self.todo("kacho")
        flag_counts = page_counts(html)["misuse_flag"]
        other = DataUse.objects.filter(other_prefecture=True).get()
        disclosure_actions.do_approve_data_use(other, acting_officer=self.get("kacho"))
        _, html = self.todo("kacho")
        self.assertEqual(page_counts(html)["data_use_approval"], 0)
        self.assertEqual(page_counts(html)["misuse_flag"], flag_counts)
