"""Helpers every page with a form shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms import Form

from junkai.lib.dates import DateFormatError, parse_date
from junkai.lib.wareki import format_wareki_short


def apply_errors(
    form: Form,
    error: ValidationError,
    *,
    rename: Mapping[str, str] | None = None,
    aside: dict[str, list[str]] | None = None,
) -> None:
    """Put an action's ValidationError on the form, field by field.

    `rename` maps the action's name of a value to the form's field where it differs
    (`concerns.0.text` → `concern_text`).

    A message for a name the form has no field for (the action checks more than the form
    asks) goes to the form's non-field errors; or, given `aside`, into it under its name, for
    a page that shows it beside its own inputs (a household picker, the released items).
    """
    if hasattr(error, "error_dict"):
        by_name = error.message_dict
    else:
        by_name = {NON_FIELD_ERRORS: error.messages}
    for key, messages in by_name.items():
        name = rename.get(key, key) if rename else key
        if name in form.fields:
            form.add_error(name, messages)
        elif aside is not None:
            aside.setdefault(name, []).extend(messages)
        else:
            form.add_error(None, messages)


def error_summary(forms: Iterable[Form]) -> list[tuple[str, str]]:
    """(the id of the wrong field, or "" for a form-wide message; the message naming it) for
    every error of the given forms, in page order: the summary at the top of a form
    (templates/_error_summary.html) links each one to its field."""
    out: list[tuple[str, str]] = []
    for form in forms:
        for name, messages in form.errors.items():
            field = form.fields.get(name)
            anchor = form[name].auto_id if field is not None else ""
            label = str(field.label or "") if field is not None else ""
            for message in messages:
                text = str(message)
                if label and not _names(text, label):
                    text = f"{label}: {text}"
                out.append((anchor or "", text))
    return out


def _names(message: str, label: str) -> bool:
    """Whether a message already names its field: it shares two characters in a row with the
    label (「日時を入力してください」 for 実施日時; Django's 「このフィールドは必須です。」 does not)."""
    return any(label[i : i + 2] in message for i in range(len(label) - 1))


class WarekiDateInput(forms.TextInput):
    """A date shown in 和暦 as officers type it (R8.4.1) rather than a 西暦 date picker."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"placeholder": "例: R8.4.1", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.date):
            return format_wareki_short(value)
        return super().format_value(value)


class JapaneseDateField(forms.CharField):
    """A date as officers type it (R7.4.1, 令和7年4月1日, 2025-04-01), shown in 和暦; the one
    date field of every page (filters, assignments, inspections, 専従日)."""

    widget = WarekiDateInput

    def clean(self, value: Any) -> dt.date | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            return parse_date(text)
        except DateFormatError as error:
            raise forms.ValidationError(f"{self.label}: {error}", code="invalid") from error
