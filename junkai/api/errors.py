"""The one shape of a refused write in the API: `{detail, errors: {field: message}}`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

INVALID = "入力内容に誤りがあります"


def invalid_body(exc: ValidationError) -> dict[str, Any]:
    """A django ValidationError (from an action) as the 422 body, one message per field."""
    messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return {"detail": INVALID, "errors": {k: " ".join(v) for k, v in messages.items()}}
