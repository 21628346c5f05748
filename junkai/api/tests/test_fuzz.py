"""The API fuzzer (schemathesis): every operation, as a beat officer and as the 地域課長, with
examples generated from the OpenAPI document, checked for no server error, every status code
documented, each answer matching its documented schema and content type, and every request the
document calls valid accepted (`positive_data_acceptance`): the document states the boundary
(junkai.api.boundary: characters, lengths, ranges, list sizes, dates, unknown keys), so a 4xx
for a request it allows is a boundary the document does not tell.

A rule no schema can state — the 要領's and the data's, checked by an action and refused as a
django ValidationError (a binder already out, an empty list of binders, a future date) — is not
a refusal of the request's form: such answers are still checked for everything else.

Bounded (a few examples per operation and persona) to fit the suite; on PostgreSQL only, once
(DESIGN.md: the fuzzer runs on PostgreSQL). DELETE /auth/token is left out: it revokes the
very token the fuzzer signs with (its own tests are in test_auth_api.py).
"""

from __future__ import annotations

import unittest
from typing import Any

import schemathesis
from django.core.exceptions import ValidationError
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.http import HttpRequest, HttpResponse
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from junkai.accounts.actions import do_issue_api_token
from junkai.api.api import api
from junkai.testing import PersonaTestCase
from junkai.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    positive_data_acceptance,
]
EXAMPLES = 6


@unittest.skipUnless(connection.vendor == "postgresql", "the fuzzer runs once, on PostgreSQL")
class ApiFuzzTests(PersonaTestCase):
    def fuzz(self, username: str) -> tuple[int, list[str]]:
        schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
        schema.app = application
        token, _ = do_issue_api_token(self.officer(username))
        headers = {"Authorization": f"Bearer {token}"}
        failures: list[str] = []
        cases = 0
        # Answers refused by an action's rule (the API's ValidationError handler), not the form.
        by_rule: list[HttpRequest] = []
        handle_rule = api._exception_handlers[ValidationError]

        def rule_refused(request: HttpRequest, exc: Any) -> HttpResponse:
            by_rule.append(request)
            return handle_rule(request, exc)

        api._exception_handlers[ValidationError] = rule_refused
        self.addCleanup(api._exception_handlers.__setitem__, ValidationError, handle_rule)
        for result in schema.get_all_operations():
            # An invalid document fails here (Err has no ok()).
            operation = result.ok()  # type: ignore[union-attr]
            if operation.method.upper() == "DELETE" and operation.path.endswith("/auth/token"):
                continue

            @hypothesis_settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def run(case: Any) -> None:
                nonlocal cases
                cases += 1
                by_rule.clear()
                response = case.call(headers=headers)
                checks = [c for c in CHECKS if not (by_rule and c is positive_data_acceptance)]
                try:
                    case.validate_response(response, checks=checks)
                except BaseException as error:  # schemathesis raises a group of failures
                    label = f"{case.method.upper()} {case.path}"
                    for failure in getattr(error, "exceptions", [error]):
                        failures.append(
                            f"{label}: {str(failure).splitlines()[0]}: {response.status_code}"
                            f" {response.text[:200]}"
                        )

            run()
        return cases, failures

    def setUp(self) -> None:
        # The WSGI handler closes the database connection after each request, which would end
        # the test's transaction; Django's own test client keeps it open the same way.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        self.addCleanup(request_started.connect, close_old_connections)
        self.addCleanup(request_finished.connect, close_old_connections)

    def assert_no_failures_as(self, username: str) -> None:
        cases, failures = self.fuzz(username)
        self.assertGreater(cases, 200)
        self.assertEqual([], sorted(set(failures)), "\n" + "\n".join(sorted(set(failures))))


# One persona per class: the parallel runner hands out whole classes, so the two halves of the
# suite's longest test run side by side instead of one after the other.
class BeatOfficerFuzzTests(ApiFuzzTests):
    def test_every_operation_as_a_beat_officer(self) -> None:
        self.assert_no_failures_as("officer1a")


class SectionChiefFuzzTests(ApiFuzzTests):
    def test_every_operation_as_the_chief_of_the_section(self) -> None:
        self.assert_no_failures_as("kacho")
