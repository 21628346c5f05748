"""API sign-in: bearer tokens, the same 401 for unknown and wrong, lockout, /me, revocation."""

from __future__ import annotations

import datetime as dt
import json

import time_machine
from django.test import Client, TestCase
from django.utils import timezone

from junkai.accounts.actions import do_issue_api_token
from junkai.api.api import api
from junkai.api.boundary import OUT_OF_RANGE
from junkai.audit.models import AuditEvent, EventType
from junkai.demo.organisation import DEMO_PASSWORD
from junkai.org.models import Role, today
from junkai.testing import PersonaTestCase


class TokenTests(PersonaTestCase):
    def token(self, username: str, password: str = DEMO_PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
        return self.client.post(
            "/api/v1/auth/token",
            json.dumps({"username": username, "password": password, **extra}),
            content_type="application/json",
        )

    def bearer(self, token: str) -> Client:
        return Client(headers={"Authorization": f"Bearer {token}"})

    def test_token_then_me(self) -> None:
        response = self.token("officer1a")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertIn("expires_at", body)
        me = self.bearer(body["token"]).get("/api/v1/me").json()
        self.assertEqual(me["username"], "officer1a")
        self.assertEqual(me["full_name"], "佐野 翔太")
        [assignment] = me["assignments"]
        self.assertEqual(assignment["role"], Role.BEAT_OFFICER)
        self.assertEqual(assignment["unit"]["kind"], "post")
        self.assertEqual(assignment["unit"]["name"], "駅前交番")
        self.assertEqual(assignment["post_id"], self.post("K1").id)
        self.assertEqual(assignment["station_id"], self.station.id)
        self.assertEqual(assignment["beat_ids"], [self.beat("K1-1").id])

    def test_koban_head_has_two_assignments(self) -> None:
        token = self.token("kobancho1").json()["token"]
        roles = {a["role"] for a in self.bearer(token).get("/api/v1/me").json()["assignments"]}
        self.assertEqual(roles, {Role.INSPECTOR, Role.CUSTODIAN})

    def test_unknown_user_and_wrong_password_are_the_same_401(self) -> None:
        unknown = self.token("nobody", "x")
        wrong = self.token("officer1a", "x")
        self.assertEqual((unknown.status_code, wrong.status_code), (401, 401))
        self.assertEqual(unknown.json(), wrong.json())

    def test_lockout_applies_to_the_api(self) -> None:
        for _ in range(5):
            self.token("officer1b", "wrong")
        locked = self.token("officer1b")
        self.assertEqual(locked.status_code, 429)
        self.assertIn("ロック", locked.json()["detail"])

    def test_no_token_no_access(self) -> None:
        self.assertEqual(Client().get("/api/v1/me").status_code, 401)
        self.assertEqual(self.bearer("made-up").get("/api/v1/me").status_code, 401)

    def test_token_expires(self) -> None:
        with time_machine.travel(timezone.now(), tick=False) as clock:
            token = self.token("officer1a").json()["token"]
            clock.shift(dt.timedelta(hours=11, minutes=59))
            self.assertEqual(self.bearer(token).get("/api/v1/me").status_code, 200)
            clock.shift(dt.timedelta(minutes=2))
            self.assertEqual(self.bearer(token).get("/api/v1/me").status_code, 401)

    def test_token_can_be_revoked(self) -> None:
        token = self.token("officer1a").json()["token"]
        client = self.bearer(token)
        self.assertEqual(client.delete("/api/v1/auth/token").status_code, 204)
        self.assertEqual(client.get("/api/v1/me").status_code, 401)
        self.assertTrue(AuditEvent.objects.filter(event_type=EventType.API_TOKEN_REVOKED).exists())

    def test_transfer_revokes_tokens(self) -> None:
        token = self.token("officer2a").json()["token"]
        self.client_for("kacho").post(
            f"/org/stations/{self.station.id}/assignments/new/",
            {
                "officer": self.officer("officer2a").staff_number,
                "role": Role.BEAT_OFFICER,
                "post": self.post("K3").id,
                "valid_from": today().isoformat(),
                "end_current": "on",
            },
        )
        self.assertEqual(self.bearer(token).get("/api/v1/me").status_code, 401)

    def test_token_is_never_stored(self) -> None:
        token = self.token("officer1a").json()["token"]
        from junkai.accounts.models import ApiToken

        self.assertFalse(ApiToken.objects.filter(key_hash=token).exists())
        self.assertNotIn(token, str(list(AuditEvent.objects.values_list("details", flat=True))))

    def test_openapi_is_published_to_officers(self) -> None:
        schema = self.client_for("officer1a").get("/api/v1/openapi.json").json()
        self.assertIn("/api/v1/auth/token", schema["paths"])
        self.assertIn("/api/v1/me", schema["paths"])

    def test_session_api_needs_csrf(self) -> None:
        client = self.client_for("officer1a", enforce_csrf_checks=True)
        self.assertEqual(client.get("/api/v1/me").status_code, 200)
        response = client.put(
            f"/api/v1/households/{self.aoki.id}/card",
            json.dumps({"version": 1, "residents": [{"name": "乗っ取り"}]}),
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.aoki.cards.get().residents.filter(name="乗っ取り").exists())

    def test_password_change_ends_tokens(self) -> None:
        token = self.token("officer1a").json()["token"]
        officer = self.officer("officer1a")
        officer.set_password("a-new-long-password")
        officer.save(update_fields=["password"])
        self.assertEqual(self.bearer(token).get("/api/v1/me").status_code, 401)


class OneErrorShapeTests(TestCase):
    """Every refused request answers {detail, errors: {field: [messages]}} in Japanese: an
    action's refusal, a body that does not match its schema, a query parameter out of range."""

    def test_schema_errors_name_the_field_in_japanese(self) -> None:
        client = Client()
        response = client.post("/api/v1/auth/token", "{}", content_type="application/json")
        self.assertEqual(response.status_code, 422)
        body = response.json()
        self.assertEqual(body["detail"], "入力内容に誤りがあります")
        self.assertEqual(
            body["errors"],
            {
                "username": ["必須の項目です。入力してください"],
                "password": ["必須の項目です。入力してください"],
            },
        )
        bad_json = client.post("/api/v1/auth/token", "{", content_type="application/json")
        self.assertEqual(bad_json.status_code, 400)
        self.assertEqual(
            bad_json.json(),
            {
                "detail": "リクエストの本文をJSONとして読めません",
                "errors": {"__all__": ["リクエストの本文をJSONとして読めません"]},
            },
        )

    def test_every_operation_documents_every_refusal(self) -> None:
        paths = api.get_openapi_schema()["paths"]
        missing = [
            f"{method.upper()} {path} {code}"
            for path, operations in paths.items()
            for method, operation in operations.items()
            for code in (400, 401, 403, 413, 422, *((404,) if "{" in path else ()))
            if code not in operation["responses"] and str(code) not in operation["responses"]
        ]
        self.assertEqual(missing, [])

    def test_the_documented_shape_is_a_list_per_field(self) -> None:
        schema = api.get_openapi_schema()["components"]["schemas"]["ErrorsOut"]
        errors = schema["properties"]["errors"]
        self.assertEqual(errors["additionalProperties"]["type"], "array")


class InputBoundaryTests(PersonaTestCase):
    """Bad characters and out-of-range integers are refused at the API's boundary with 422
    naming the field, never a 500, and nothing is written."""

    def api(self) -> Client:
        token, _ = do_issue_api_token(self.officer("officer1a"))
        return Client(headers={"Authorization": f"Bearer {token}"})

    def test_an_id_beyond_the_database_range_is_refused(self) -> None:
        response = self.api().post(
            "/api/v1/checkouts",
            '{"binder_ids": [9223372036854775808], "purpose": "巡回連絡"}',
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"], {"binder_ids.0": [OUT_OF_RANGE]})
        page = self.api().get("/api/v1/worklist?beat=99999999999999999999")
        self.assertEqual(page.status_code, 422)
        self.assertIn("beat", page.json()["errors"])

    def test_a_lone_surrogate_or_a_bidi_override_is_refused(self) -> None:
        search = self.api().post(
            "/api/v1/households/search", '{"query": "\\ud800"}', content_type="application/json"
        )
        self.assertEqual(search.status_code, 422)
        self.assertIn("サロゲート", search.json()["errors"]["query"][0])
        before = AuditEvent.objects.filter(event_type=EventType.CARD_CORRECTED).count()
        card = self.api().put(
            f"/api/v1/households/{self.aoki.id}/card",
            json.dumps({"version": 1, "residents": [{"name": "\u202e青木", "kana": "あおき"}]}),
            content_type="application/json",
        )
        self.assertEqual(card.status_code, 422)
        self.assertIn("residents.0.name", card.json()["errors"])
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.CARD_CORRECTED).count(), before
        )


class ApiDocsTests(PersonaTestCase):
    def test_docs_and_schema_are_for_signed_in_officers_and_load_nothing_from_a_cdn(self) -> None:
        for url in ("/api/v1/docs", "/api/v1/openapi.json"):
            self.assertEqual(Client().get(url).status_code, 302, url)
        client = self.client_for("officer1a")
        self.assertEqual(client.get("/api/v1/openapi.json").status_code, 200)
        page = client.get("/api/v1/docs").content.decode()
        self.assertIn("/static/ninja/swagger-ui-bundle.js", page)
        self.assertNotIn("cdn", page.lower())


class SizeLimitTests(PersonaTestCase):
    def api(self) -> Client:
        token, _ = do_issue_api_token(self.officer("officer1a"))
        return Client(headers={"Authorization": f"Bearer {token}"})

    def test_a_card_of_too_many_residents_is_refused(self) -> None:
        residents = [{"name": f"青木 {i}", "kana": "あおき"} for i in range(101)]
        response = self.api().put(
            f"/api/v1/households/{self.aoki.id}/card",
            json.dumps({"version": 1, "residents": residents}),
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(
            response.json()["errors"]["residents"], ["世帯員は100件以内で入力してください"]
        )

    def test_a_list_too_long_and_a_body_too_big(self) -> None:
        many = self.api().post(
            "/api/v1/checkouts",
            json.dumps({"binder_ids": list(range(1, 1002)), "purpose": "巡回連絡"}),
            content_type="application/json",
        )
        self.assertEqual(many.status_code, 422)
        self.assertIn("件数が多すぎます", many.json()["errors"]["binder_ids"][0])
        big = self.api().post(
            "/api/v1/households/search",
            json.dumps({"query": "あ" * 1_000_000}),
            content_type="application/json",
        )
        self.assertEqual(big.status_code, 413)
        self.assertIn("大きすぎます", big.json()["detail"])


class FarDateTests(PersonaTestCase):
    def test_far_dates_in_a_filter_are_422_not_500(self) -> None:
        token, _ = do_issue_api_token(self.officer("kacho"))
        client = Client(headers={"Authorization": f"Bearer {token}"})
        for url in (
            "/api/v1/data-uses?until=9999-12-31",
            "/api/v1/data-uses?since=0001-01-01",
            f"/api/v1/checkouts?post_id={self.post('K1').id}&month=9999-12",
        ):
            with self.subTest(url=url):
                response = client.get(url)
                self.assertEqual(response.status_code, 422, response.content)
                (messages,) = response.json()["errors"].values()
                self.assertIn("1868年から2200年", messages[0])

    def test_a_free_text_filter_that_looks_like_a_date_is_text(self) -> None:
        # 組・班 or 町名 such as 2300-1 (a 番地 in the thousands): only date fields are dates.
        token, _ = do_issue_api_token(self.officer("officer1a"))
        client = Client(headers={"Authorization": f"Bearer {token}"})
        for url in ("/api/v1/worklist?block_group=2300-1", "/api/v1/worklist?town=0001-01-01"):
            with self.subTest(url=url):
                response = client.get(url)
                self.assertEqual(response.status_code, 200, response.content)
