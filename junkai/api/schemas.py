from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema
from ninja.renderers import JSONRenderer

from junkai.api.boundary import In, Text

_renderer = JSONRenderer()


def render_json(request: HttpRequest, data: Any, status: int = 200) -> HttpResponse:
    """An answer rendered as ninja renders a schema's, for an operation that builds its rows
    to the schema itself (ninja passes an HttpResponse through without validating it)."""
    return HttpResponse(
        _renderer.render(request, data, response_status=status),
        status=status,
        content_type=f"{_renderer.media_type}; charset={_renderer.charset}",
    )


class Message(Schema):
    detail: str


class OfficerRef(Schema):
    """回答に名前の出る警察官（記録者・承認者・持出者など）"""

    id: int
    username: str
    full_name: str


# A refused request (422), as junkai.api.errors builds it: each field's messages, in Japanese
# ("__all__" for those of no one field). (A comment, not a docstring: a docstring would become
# the schema's description in the OpenAPI document.)
class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]]


class TokenIn(In):
    username: Text = Field(max_length=150)
    password: Text = Field(max_length=4096)
    otp: Text | None = Field(None, max_length=8)


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime


class UnitOut(Schema):
    kind: str
    id: int | None
    name: str


class AssignmentOut(Schema):
    role: str
    role_label: str
    unit: UnitOut
    post_id: int | None
    station_id: int | None
    beat_ids: list[int]
    valid_from: dt.date
    valid_to: dt.date | None


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    full_name_kana: str
    rank: str
    rank_label: str
    staff_number: str | None
    police_phone: str
    mfa_enrolled: bool
    assignments: list[AssignmentOut]
