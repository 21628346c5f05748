"""The stated purpose of an API read of a card outside the officer's own beats (DESIGN.md "A
read states why"): `purpose` as an enum query parameter, the その他 note in a header (never in a
URL). Without `purpose`, a browser session uses what the pages asked this shift for the beat
(the household page's print button calls the API); a token has no such memory."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Schema

from junkai.access.purposes import (
    ReadPurpose,
    StatedPurpose,
    remembered_purposes,
    state_purpose,
)

NOTE_HEADER = "X-Junkai-Purpose-Note"


class ReadParams(Schema):
    purpose: ReadPurpose | None = Field(
        None,
        description=(
            "閲覧の目的（受持区外の世帯では必須）。OTHER（その他）の記述は URL ではなく "
            f"{NOTE_HEADER} ヘッダーで送ります"
        ),
    )


def stated_purpose(
    request: HttpRequest, params: ReadParams
) -> StatedPurpose | Mapping[int, StatedPurpose]:
    if params.purpose is not None:
        return state_purpose(params.purpose.value, request.headers.get(NOTE_HEADER, ""))
    return remembered_purposes(request)


def purpose_missing() -> ValidationError:
    """The 422 of a card read outside one's own beats with no purpose."""
    return ValidationError({"purpose": "受持区外の世帯の閲覧には目的（purpose）を指定してください"})
