"""Offline field use, server side, through the API: a device registered to the post, a beat
taken out onto it under the 持出確認簿 with a second officer, the key leased per shift, pull
with a cursor, the idempotent outbox, card conflicts kept, the offline read log merged and
checked, 410 (and wipe) once the checkout is returned or the device revoked.

"Now" is tomorrow 10:00 JST (a weekday or not, a daytime visit), after the fixtures were made.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from cryptography.exceptions import InvalidTag
from django.db import connection
from django.test import Client, SimpleTestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from junkai.accounts.actions import do_issue_api_token
from junkai.accounts.middleware import LOGIN_AT
from junkai.audit.models import AuditEvent, AuditEventHousehold, EventType
from junkai.devices import keys, readlog
from junkai.devices.actions import CheckoutGone, do_push
from junkai.devices.models import CardConflict, DeviceCheckout, SyncChange
from junkai.disclosures.models import MisuseFlag, MisuseKind
from junkai.households import actions as household_actions
from junkai.households import cards
from junkai.households.legend import due_status
from junkai.households.models import CardRevision, CardStatus
from junkai.registers.actions import do_alert_overdue_checkouts
from junkai.registers.models import BinderCheckout
from junkai.testing import PersonaMixin, PersonaTestCase
from junkai.visits.models import Visit

JST = ZoneInfo("Asia/Tokyo")
MORNING = (dt.datetime.now(JST) + dt.timedelta(days=1)).replace(
    hour=10, minute=0, second=0, microsecond=0
)


class DeviceApiMixin(PersonaMixin, SimpleTestCase):
    """The API as the device, its borrower and the post use it (shared with test_losses and the
    two-connection tests, which are TransactionTestCases)."""

    def api(self, username: str) -> Client:
        token, _ = do_issue_api_token(self.officer(username))
        return Client(headers={"Authorization": f"Bearer {token}"})

    def send(self, who: str | Client, path: str, body: dict[str, Any] | None = None) -> Any:
        client = self.api(who) if isinstance(who, str) else who
        return client.post(
            f"/api/v1{path}", json.dumps(body or {}), content_type="application/json"
        )

    def register(self, who: str = "kobancho1", label: str = "TAB-01", post: str = "K1") -> Any:
        return self.send(who, "/devices", {"post_id": self.post(post).id, "label": label})

    def out(
        self,
        beat: str = "K1-1",
        borrower: str = "officer1a",
        confirmer: str = "officer1b",
        label: str = "TAB-01",
    ) -> int:
        post = beat.split("-")[0]
        device = self.register(post=post, who="kacho", label=label).json()
        declared = self.send(
            borrower,
            "/device-checkouts",
            {"device_id": device["id"], "beat_id": self.beat(beat).id},
        )
        self.assertEqual(declared.status_code, 201, declared.content)
        checkout_id = declared.json()["id"]
        confirmed = self.send(confirmer, f"/device-checkouts/{checkout_id}/confirm-out")
        self.assertEqual(confirmed.status_code, 200, confirmed.content)
        return int(checkout_id)

    def pull(self, checkout_id: int, cursor: str | None = None, who: str = "officer1a") -> Any:
        query = f"?checkout={checkout_id}" + (f"&cursor={cursor}" if cursor else "")
        return self.api(who).get(f"/api/v1/sync/pull{query}")

    def card_change(self, client_id: str, version: int, **fields: Any) -> dict[str, Any]:
        card = self.aoki.cards.get(status=CardStatus.ACTIVE)
        return {
            "client_id": client_id,
            "kind": "card",
            "household_id": self.aoki.id,
            "card": {**cards.snapshot(card), "version": version, **fields},
        }


class DeviceApi(DeviceApiMixin, PersonaTestCase):
    pass


@time_machine.travel(MORNING, tick=False)
class DeviceApiTests(DeviceApi):
    # --- devices ------------------------------------------------------------------------

    def test_the_custodian_registers_lists_and_revokes(self) -> None:
        made = self.register()
        self.assertEqual(made.status_code, 201, made.content)
        self.assertEqual(made.json()["label"], "TAB-01")
        self.assertEqual(self.register().status_code, 422)  # the same label at the post
        refused = self.register(who="officer1a", label="TAB-02")
        self.assertEqual(refused.status_code, 403)
        self.assertIn("取扱責任者", refused.json()["detail"])
        listed = self.api("officer1a").get("/api/v1/devices").json()["items"]
        self.assertEqual([d["label"] for d in listed], ["TAB-01"])
        self.assertEqual(self.api("officer2a").get("/api/v1/devices").json()["items"], [])
        self.assertTrue(AuditEvent.objects.filter(event_type=EventType.DEVICE_REGISTERED).exists())
        revoked = self.send("kobancho1", f"/devices/{made.json()['id']}/revoke", {"reason": "紛失"})
        self.assertEqual((revoked.status_code, revoked.json()["revoked"]), (200, True))

    def test_scope_refusals_are_recorded(self) -> None:
        device_id = self.register().json()["id"]
        other = self.other["officer"]
        before = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()
        # Another station's officer names this post's device: 404, and on the record.
        answer = self.send(
            "other_officer",
            "/device-checkouts",
            {"device_id": device_id, "beat_id": self.other["beat"].id},
        )
        self.assertEqual(answer.status_code, 404)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.ACCESS_DENIED,
                actor=other,
                object_type="devices.device",
                object_id=str(device_id),
            ).exists()
        )
        # A beat of another post (本町一区) onto 駅前交番's device: out of the officer's scope.
        answer = self.send(
            "officer1a",
            "/device-checkouts",
            {"device_id": device_id, "beat_id": self.beat("K2-1").id},
        )
        self.assertEqual(answer.status_code, 404)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.ACCESS_DENIED, object_type="org.beat"
            ).exists()
        )
        # Registering at another station's post.
        self.assertEqual(
            self.send(
                "kobancho1", "/devices", {"post_id": self.other["post"].id, "label": "X"}
            ).status_code,
            404,
        )
        after = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()
        self.assertGreaterEqual(after - before, 3)

    # --- the checkout --------------------------------------------------------------------

    def test_a_second_officer_confirms_and_the_register_names_device_and_beat(self) -> None:
        device_id = self.register().json()["id"]
        declared = self.send(
            "officer1a",
            "/device-checkouts",
            {"device_id": device_id, "beat_id": self.beat("K1-1").id},
        )
        self.assertEqual(declared.status_code, 201, declared.content)
        body = declared.json()
        self.assertEqual(body["entry"]["status"], "DECLARED")
        self.assertEqual(body["entry"]["declared_to_id"], self.officer("kacho").id)
        checkout_id = body["id"]
        # The same device cannot be taken again while it is out.
        again = self.send(
            "officer1b",
            "/device-checkouts",
            {"device_id": device_id, "beat_id": self.beat("K1-1").id},
        )
        self.assertEqual(again.status_code, 422)
        self.assertIn("持出中", again.json()["errors"]["device_id"][0])
        # The borrower may not confirm himself (not a single-officer 駐在所).
        self_confirm = self.send("officer1a", f"/device-checkouts/{checkout_id}/confirm-out")
        self.assertEqual(self_confirm.status_code, 403)
        self.assertIn("持出警察官以外の者", self_confirm.json()["detail"])
        out = self.send("officer1b", f"/device-checkouts/{checkout_id}/confirm-out")
        self.assertEqual(out.status_code, 200)
        self.assertEqual(out.json()["entry"]["out_confirmed_by_id"], self.officer("officer1b").id)
        self.assertTrue(out.json()["syncable"])
        # The 持出確認簿 page: the row names the device and the beat.
        page = self.client_for("kobancho1").get(f"/registers/posts/{self.post('K1').id}/checkouts/")
        self.assertContains(page, "端末 TAB-01")
        self.assertContains(page, "駅前一区")
        # And the printed register (第6号様式).
        printed = self.api("kobancho1").get(f"/api/v1/posts/{self.post('K1').id}/checkouts.pdf")
        self.assertEqual(printed.status_code, 200)
        text = "".join(p.extract_text() for p in PdfReader(BytesIO(printed.content)).pages)
        self.assertIn("TAB-01", text)
        self.assertIn("受持区 駅前", text)  # the column wraps the beat's name

    def test_single_officer_chuzaisho_confirms_himself(self) -> None:
        checkout_id = self.out(beat="C1-1", borrower="chuzai1", confirmer="chuzai1")
        entry = DeviceCheckout.objects.get(id=checkout_id).entry
        self.assertTrue(entry.self_confirmed)

    def test_an_unreturned_device_raises_the_binders_alert(self) -> None:
        checkout_id = self.out()
        entry = DeviceCheckout.objects.get(id=checkout_id).entry
        with time_machine.travel(entry.due_at + dt.timedelta(minutes=1), tick=False):
            alerted = do_alert_overdue_checkouts()
            self.assertEqual([c.id for c in alerted], [entry.id])
            page = self.client_for("kobancho1").get("/registers/alerts/")
            self.assertContains(page, "端末 TAB-01")

    # --- the lease -----------------------------------------------------------------------

    def test_lease_wraps_the_same_data_key_for_each_shift(self) -> None:
        checkout_id = self.out()
        officer = self.api("officer1a")
        first = self.send(officer, f"/device-checkouts/{checkout_id}/lease")
        self.assertEqual(first.status_code, 201, first.content)
        lease = first.json()
        issued = dt.datetime.fromisoformat(lease["issued_at"])
        expires = dt.datetime.fromisoformat(lease["expires_at"])
        self.assertLessEqual(expires - issued, dt.timedelta(hours=12))
        data_key = keys.unwrap_with_lease(
            keys.from_b64url(lease["lease_key"]),
            keys.from_b64url(lease["iv"]),
            keys.from_b64url(lease["wrapped_data_key"]),
            lease["aad"],
        )
        self.assertEqual(len(data_key), 32)
        # Not for the confirmer, nor anyone else: the borrower's key only.
        self.assertEqual(
            self.send("officer1b", f"/device-checkouts/{checkout_id}/lease").status_code, 403
        )
        # The shift ends: the token (12 h) and the lease end together; a new sign-in the next
        # morning gets a new lease key and the same data key.
        with time_machine.travel(expires + dt.timedelta(minutes=1), tick=False):
            self.assertEqual(
                self.send(officer, f"/device-checkouts/{checkout_id}/lease").status_code, 401
            )
            second = self.send("officer1a", f"/device-checkouts/{checkout_id}/lease").json()
        self.assertNotEqual(second["lease_key"], lease["lease_key"])
        again = keys.unwrap_with_lease(
            keys.from_b64url(second["lease_key"]),
            keys.from_b64url(second["iv"]),
            keys.from_b64url(second["wrapped_data_key"]),
            second["aad"],
        )
        self.assertEqual(again, data_key)
        # The old lease key opens nothing of the new answer.
        with self.assertRaises(InvalidTag):
            keys.unwrap_with_lease(
                keys.from_b64url(lease["lease_key"]),
                keys.from_b64url(second["iv"]),
                keys.from_b64url(second["wrapped_data_key"]),
                second["aad"],
            )
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.DEVICE_LEASE_ISSUED).count(), 2
        )

    def test_lease_ends_with_the_credential(self) -> None:
        checkout_id = self.out()
        token, api_token = do_issue_api_token(self.officer("officer1a"))
        api_token.expires_at = timezone.now() + dt.timedelta(hours=2)
        api_token.save(update_fields=["expires_at"])
        client = Client(headers={"Authorization": f"Bearer {token}"})
        lease = self.send(client, f"/device-checkouts/{checkout_id}/lease").json()
        self.assertEqual(dt.datetime.fromisoformat(lease["expires_at"]), api_token.expires_at)

    def test_a_browser_sessions_lease_ends_with_the_shift_not_the_idle_timeout(self) -> None:
        checkout_id = self.out()
        client = self.client_for("officer1a")
        session = client.session
        session[LOGIN_AT] = time.time() - 10 * 3600  # signed in ten hours ago
        session.save()
        lease = self.send(client, f"/device-checkouts/{checkout_id}/lease")
        self.assertEqual(lease.status_code, 201, lease.content)
        self.assertEqual(
            dt.datetime.fromisoformat(lease.json()["expires_at"]),
            timezone.now() + dt.timedelta(hours=2),
        )

    def test_no_lease_before_the_second_officer_confirms(self) -> None:
        device_id = self.register().json()["id"]
        checkout_id = self.send(
            "officer1a",
            "/device-checkouts",
            {"device_id": device_id, "beat_id": self.beat("K1-1").id},
        ).json()["id"]
        answer = self.send("officer1a", f"/device-checkouts/{checkout_id}/lease")
        self.assertEqual(answer.status_code, 403)
        self.assertEqual(self.pull(checkout_id).status_code, 403)

    # --- pull ------------------------------------------------------------------------------

    def test_pull_sends_the_beat_and_then_what_changed(self) -> None:
        # An hour after the fixtures were made (their changes are older than the overlap).
        with time_machine.travel(MORNING + dt.timedelta(hours=1), tick=False):
            self.pull_then_changes()

    def pull_then_changes(self) -> None:
        checkout_id = self.out()
        first = self.pull(checkout_id)
        self.assertEqual(first.status_code, 200, first.content)
        body = first.json()
        self.assertTrue(body["full"])
        self.assertEqual(sorted(body["household_ids"]), sorted([self.aoki.id, self.no_card.id]))
        by_id = {h["id"]: h for h in body["households"]}
        self.assertEqual(by_id[self.aoki.id]["card"]["residents"][0]["name"], "青木 一郎")
        self.assertIsNone(by_id[self.no_card.id]["card"])
        self.assertEqual(by_id[self.aoki.id]["allowed_methods"], ["VISIT"])
        # The map's due status, as the beat map has it (households.legend).
        self.assertEqual(
            by_id[self.aoki.id]["due"],
            due_status(self.aoki.status, self.aoki.next_due, timezone.localdate()),
        )
        self.assertIn("post", body["beat"])
        self.assertEqual(body["rules"]["refusal_needs_explanation"], ["REFUSED"])
        self.assertIn("night_start", body["rules"])
        # One event naming the households sent, in each one's 閲覧記録.
        event = AuditEvent.objects.filter(
            event_type=EventType.LIST_HOUSEHOLDS, purpose="端末への持出し（同期）"
        ).get()
        self.assertEqual(
            set(
                AuditEventHousehold.objects.filter(event=event).values_list(
                    "household_id", flat=True
                )
            ),
            {self.aoki.id, self.no_card.id},
        )
        # Nothing changed: nothing sent again.
        quiet = self.pull(checkout_id, body["cursor"]).json()
        self.assertFalse(quiet["full"])
        self.assertEqual(quiet["households"], [])
        self.assertEqual(len(quiet["household_ids"]), 2)
        # A visit recorded at the post: that household comes down again.
        recorded = self.send(
            "officer1b",
            "/visits",
            {
                "household_id": self.no_card.id,
                "started_at": timezone.localtime().replace(hour=9).isoformat(),
                "outcome": "ABSENT",
            },
        )
        self.assertEqual(recorded.status_code, 201, recorded.content)
        changed = self.pull(checkout_id, quiet["cursor"]).json()
        self.assertEqual([h["id"] for h in changed["households"]], [self.no_card.id])
        # A cursor made up, or another checkout's: 422 naming it.
        bad = self.pull(checkout_id, "nonsense")
        self.assertEqual(bad.status_code, 422)
        self.assertIn("cursor", bad.json()["errors"])

    def test_pull_costs_the_same_queries_for_more_households(self) -> None:
        checkout_id = self.out()
        beat = self.beat("K1-1")
        building = household_actions.do_create_building(
            beat, acting_officer=None, name="駅前ハイツ", town="駅前町", chome="1", banchi="9"
        )

        def add(rooms: tuple[str, ...]) -> None:
            for room in rooms:
                household = household_actions.do_create_household(
                    beat,
                    acting_officer=None,
                    kind="RESIDENCE",
                    town="駅前町",
                    building=building,
                    room=room,
                )
                household_actions.do_save_card(
                    household,
                    {"residents": [{"name": f"住人 {room}", "kana": "じゅうにん"}]},
                    acting_officer=self.officer("officer1a"),
                    expected_version=None,
                )

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.pull(checkout_id).status_code, 200)
            return len(captured)

        add(("101",))
        # Rooms carry their building (the device's map gathers them under one marker).
        rooms = [h for h in self.pull(checkout_id).json()["households"] if h["building_id"]]
        self.assertEqual(
            [(h["building_id"], h["building_name"], h["room"]) for h in rooms],
            [(building.id, "駅前ハイツ", "101")],
        )
        before = queries()
        add(("102", "201", "202", "301"))
        self.assertEqual(queries(), before)

    def test_pull_sends_each_card_as_the_card_api_reads_it(self) -> None:
        checkout_id = self.out()
        sent = {h["id"]: h["card"] for h in self.pull(checkout_id).json()["households"]}
        read = self.api("officer1a").get(f"/api/v1/households/{self.aoki.id}").json()["card"]
        self.assertEqual(sent[self.aoki.id], read)

    def test_pull_is_the_borrowers_only(self) -> None:
        checkout_id = self.out()
        self.assertEqual(self.pull(checkout_id, who="officer1b").status_code, 403)
        self.assertEqual(self.pull(checkout_id, who="officer2a").status_code, 404)

    # --- push --------------------------------------------------------------------------------

    def push(
        self,
        checkout_id: int,
        changes: list[dict[str, Any]],
        read_log: list[dict[str, Any]] | None = None,
    ) -> Any:
        return self.send(
            "officer1a",
            "/sync/push",
            {"checkout_id": checkout_id, "changes": changes, "read_log": read_log or []},
        )

    def daytime(self) -> str:
        return timezone.localtime().replace(hour=9).isoformat()

    def test_the_same_change_twice_makes_one_visit(self) -> None:
        checkout_id = self.out()
        change = {
            "client_id": "v-1",
            "kind": "visit",
            "household_id": self.aoki.id,
            "visit": {"started_at": self.daytime(), "outcome": "MET", "guidance_topics": [1]},
        }
        first = self.push(checkout_id, [change])
        self.assertEqual(first.status_code, 200, first.content)
        result = first.json()["results"][0]
        self.assertEqual((result["status"], result["replayed"]), ("applied", False))
        second = self.push(checkout_id, [change]).json()["results"][0]
        self.assertEqual((second["status"], second["replayed"]), ("applied", True))
        self.assertEqual(second["visit_id"], result["visit_id"])
        self.assertEqual(Visit.objects.filter(household=self.aoki).count(), 1)
        self.assertEqual(SyncChange.objects.filter(client_id="v-1").count(), 1)

    def test_rules_are_checked_again_at_push(self) -> None:
        checkout_id = self.out()
        night = timezone.localtime().replace(hour=22) - dt.timedelta(days=1)
        results = self.push(
            checkout_id,
            [
                {
                    "client_id": "phone",
                    "kind": "visit",
                    "household_id": self.aoki.id,
                    "visit": {"started_at": self.daytime(), "outcome": "MET", "method": "PHONE"},
                },
                {
                    "client_id": "refused",
                    "kind": "visit",
                    "household_id": self.aoki.id,
                    "visit": {"started_at": self.daytime(), "outcome": "REFUSED"},
                },
                {
                    "client_id": "night",
                    "kind": "visit",
                    "household_id": self.aoki.id,
                    "visit": {"started_at": night.isoformat(), "outcome": "MET"},
                },
                {
                    "client_id": "other-post",
                    "kind": "visit",
                    "household_id": self.honmachi.id,
                    "visit": {"started_at": self.daytime(), "outcome": "MET"},
                },
            ],
        ).json()["results"]
        self.assertEqual([r["status"] for r in results], ["refused"] * 4)
        self.assertIn("method", results[0]["errors"])
        self.assertIn("refusal_explanation", results[1]["errors"])
        self.assertIn("夜間", results[2]["detail"])
        self.assertIn("household_id", results[3]["errors"])
        self.assertEqual(Visit.objects.count(), 0)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.ACCESS_DENIED,
                object_type="households.household",
                object_id=str(self.honmachi.id),
            ).exists()
        )

    def test_changes_apply_in_the_order_sent(self) -> None:
        checkout_id = self.out()
        version = self.aoki.cards.get(status=CardStatus.ACTIVE).version
        answer = self.push(
            checkout_id,
            [
                self.card_change("c-1", version, remarks="一回目"),
                self.card_change("c-2", version + 1, remarks="二回目"),
            ],
        )
        results = answer.json()["results"]
        self.assertEqual([r["status"] for r in results], ["applied", "applied"], results)
        self.assertEqual([r["card_version"] for r in results], [version + 1, version + 2])
        card = self.aoki.cards.get(status=CardStatus.ACTIVE)
        self.assertEqual(card.remarks, "二回目")

    def test_a_conflicting_correction_keeps_both_versions(self) -> None:
        checkout_id = self.out()
        card = self.aoki.cards.get(status=CardStatus.ACTIVE)
        read_version = card.version
        # At the post, someone corrects the card first.
        at_post = self.api("officer1b").put(
            f"/api/v1/households/{self.aoki.id}/card",
            json.dumps({**cards.snapshot(card), "version": read_version, "remarks": "交番で補正"}),
            content_type="application/json",
        )
        self.assertEqual(at_post.status_code, 200, at_post.content)
        change = self.card_change("c-1", read_version, remarks="端末で補正")
        change["card"]["remarks"] = "端末で補正"
        result = self.push(checkout_id, [change]).json()["results"][0]
        self.assertEqual(result["status"], "conflict", result)
        self.assertEqual(result["current_version"], read_version + 1)
        conflict = CardConflict.objects.get(id=result["conflict_id"])
        self.assertEqual(conflict.submitted["remarks"], "端末で補正")
        self.assertEqual(self.aoki.cards.get(status=CardStatus.ACTIVE).remarks, "交番で補正")
        # The conflict page shows both, side by side.
        client = self.client_for("officer1a")
        page = client.get(result["conflict_url"])
        self.assertContains(page, "交番で補正")
        self.assertContains(page, "端末で補正")
        # The officer takes the device's: a new revision; the post's stays in the history.
        done = client.post(result["conflict_url"], {"choice": "device"})
        self.assertEqual(done.status_code, 302)
        card = self.aoki.cards.get(status=CardStatus.ACTIVE)
        self.assertEqual((card.remarks, card.version), ("端末で補正", read_version + 2))
        self.assertEqual(
            CardRevision.objects.filter(card=card, version__gt=read_version).count(), 2
        )
        # Sent again, the change answers the same conflict; nothing more is kept.
        replay = self.push(checkout_id, [change]).json()["results"][0]
        self.assertEqual((replay["status"], replay["replayed"]), ("conflict", True))
        self.assertEqual(CardConflict.objects.count(), 1)

    # --- the offline read log ------------------------------------------------------------------

    def chain(
        self, checkout_id: int, household_ids: list[int], start: int = 1, prev: str | None = None
    ) -> list[dict[str, Any]]:
        prev = prev or readlog.genesis(checkout_id)
        entries = []
        for i, household_id in enumerate(household_ids, start=start):
            read_at = (timezone.localtime() - dt.timedelta(minutes=30 - i)).isoformat()
            digest = readlog.entry_hash(
                prev, seq=i, household_id=household_id, read_at=read_at, purpose="PATROL"
            )
            entries.append(
                {
                    "seq": i,
                    "household_id": household_id,
                    "read_at": read_at,
                    "purpose": "PATROL",
                    "prev": prev,
                    "hash": digest,
                }
            )
            prev = digest
        return entries

    def test_read_log_is_merged_into_each_households_access_log(self) -> None:
        checkout_id = self.out()
        entries = self.chain(checkout_id, [self.aoki.id, self.no_card.id])
        merged = self.push(checkout_id, [], entries).json()["read_log"]
        self.assertEqual((merged["accepted"], merged["flagged"]), (2, []))
        self.assertEqual(merged["head_hash"], entries[-1]["hash"])
        log = self.api("kacho").get(f"/api/v1/households/{self.aoki.id}/access-log").json()
        self.assertIn("端末での閲覧（オフライン）", [e["event_label"] for e in log])
        # Sent again (the answer was lost): merged once.
        again = self.push(checkout_id, [], entries).json()["read_log"]
        self.assertEqual((again["accepted"], again["duplicates"], again["flagged"]), (0, 2, []))
        self.assertEqual(AuditEvent.objects.filter(event_type=EventType.READ_OFFLINE).count(), 2)
        self.assertFalse(MisuseFlag.objects.exists())

    def test_a_read_time_out_of_any_calendar_is_refused_naming_it(self) -> None:
        checkout_id = self.out()
        [entry] = self.chain(checkout_id, [self.aoki.id])
        for read_at in ("0001-01-01T00:00:00+09:00", "3000-01-01T00:00:00+09:00"):
            with self.subTest(read_at=read_at):
                answer = self.push(checkout_id, [], [dict(entry, read_at=read_at)])
                self.assertEqual(answer.status_code, 422, answer.content)
                errors = answer.json()["errors"]
                self.assertTrue(any("1868年から2200年" in m for m in errors["read_log.0.read_at"]))
        self.assertFalse(AuditEvent.objects.filter(event_type=EventType.READ_OFFLINE).exists())

    def test_a_gap_or_a_changed_entry_is_flagged(self) -> None:
        checkout_id = self.out()
        entries = self.chain(checkout_id, [self.aoki.id, self.no_card.id, self.aoki.id])
        self.push(checkout_id, [], entries[:1])
        # Entry 2 removed on the device: 3 follows 1.
        gap = self.push(checkout_id, [], entries[2:]).json()["read_log"]
        self.assertTrue(gap["flagged"])
        self.assertIn("欠けています", gap["flagged"][0])
        # Entry 1 sent again with another household: changed after it was merged.
        changed = dict(entries[0], household_id=self.no_card.id)
        answer = self.push(checkout_id, [], [changed]).json()["read_log"]
        self.assertIn("変わっています", answer["flagged"][0])
        flags = MisuseFlag.objects.filter(kind=MisuseKind.READ_LOG)
        self.assertEqual(flags.count(), 2)
        self.assertEqual(flags.first().officer, self.officer("officer1a"))  # type: ignore[union-attr]
        self.assertTrue(
            AuditEvent.objects.filter(event_type=EventType.DEVICE_READ_LOG_BROKEN).exists()
        )
        # The reads themselves are on the record all the same.
        self.assertEqual(AuditEvent.objects.filter(event_type=EventType.READ_OFFLINE).count(), 2)

    # --- 410 ---------------------------------------------------------------------------------------

    def test_gone_after_return_and_wiped_after_revocation(self) -> None:
        checkout_id = self.out()
        self.assertEqual(
            self.send("officer1a", f"/device-checkouts/{checkout_id}/return").status_code, 200
        )
        gone = self.pull(checkout_id)
        self.assertEqual(gone.status_code, 410)
        self.assertTrue(gone.json()["wipe"])
        self.assertNotIn("Clear-Site-Data", gone)
        self.assertEqual(self.push(checkout_id, []).status_code, 410)
        self.assertEqual(
            self.send("officer1a", f"/device-checkouts/{checkout_id}/lease").status_code, 410
        )
        back = self.send("officer1b", f"/device-checkouts/{checkout_id}/confirm-return")
        self.assertEqual(back.json()["entry"]["status"], "CLOSED")
        # The device goes out again, and is then reported lost.
        device_id = DeviceCheckout.objects.get(id=checkout_id).device_id
        again = self.send(
            "officer1a",
            "/device-checkouts",
            {"device_id": device_id, "beat_id": self.beat("K1-1").id},
        ).json()["id"]
        self.send("officer1b", f"/device-checkouts/{again}/confirm-out")
        self.assertEqual(self.pull(again).status_code, 200)
        self.send("kobancho1", f"/devices/{device_id}/revoke", {"reason": "紛失"})
        wiped = self.pull(again)
        self.assertEqual(wiped.status_code, 410)
        self.assertEqual(wiped["Clear-Site-Data"], '"storage"')
        self.assertTrue(wiped.json()["wipe"])
        pushed = self.push(again, [])
        self.assertEqual((pushed.status_code, pushed["Clear-Site-Data"]), (410, '"storage"'))
        # Revocation is not a return: the entry ends as revoked (test_revoke.py), unconfirmed.
        entry = BinderCheckout.objects.get(device_checkout__id=again)
        self.assertIsNone(entry.return_confirmed_at)
        self.assertEqual(entry.status, "REVOKED")

    def test_push_action_refuses_a_returned_checkout_too(self) -> None:
        checkout_id = self.out()
        self.send("officer1a", f"/device-checkouts/{checkout_id}/return")
        checkout = DeviceCheckout.objects.get(id=checkout_id)
        with self.assertRaises(CheckoutGone):
            do_push(checkout, acting_officer=self.officer("officer1a"), changes=[])
