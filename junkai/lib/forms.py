"""Helpers every page with a form shares."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms import Form
from django.forms.utils import from_current_timezone
from django.utils import timezone

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


#: A date and a time typed without a picker: the date as JapaneseDateField reads it, then the
#: time (R8.12.4 10:30, 令和8年12月4日 10時30分, 2026/12/4 10:30).
_DATE_AND_TIME = re.compile(r"^(.+?)(?:\s+|T)(\d{1,2})(?::|時)(\d{1,2})分?$")


class WarekiDateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker (it sends 2026-12-04T10:30; the page echoes the value
    in 和暦 beneath it, templates/households/_field.html). Where a browser has no picker the
    field is a text box, and its placeholder shows the form to type."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            {"placeholder": "例: R8.12.4 10:30", "autocomplete": "off", **(attrs or {})},
            format="%Y-%m-%dT%H:%M",
        )


class JapaneseDateTimeField(forms.DateTimeField):
    """A date and time (Asia/Tokyo): from the picker, or typed in 和暦 or 西暦 without one.

    One message whatever the input method, in the terms officers use: 「実施日時は日付と時刻を
    選ぶか、R8.12.4 10:30 の形で入力してください」 (the example is today's date). The field's
    label (up to a bracket) names it."""

    widget = WarekiDateTimeInput
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # 「発生日時（判明した日時）」 is named 発生日時 in its messages.
        label = str(self.label or "日時").split("（", 1)[0]
        self.error_messages["required"] = f"{label}を入力してください"
        self._label = label

    def invalid_message(self) -> str:
        now = timezone.localtime()
        example = f"{format_wareki_short(now.date())} {now:%H:%M}"
        return f"{self._label}は日付と時刻を選ぶか、{example} の形で入力してください"

    def to_python(self, value: Any) -> dt.datetime | None:
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).strip()
        try:
            return super().to_python(value)
        except ValidationError as error:
            if error.code != "invalid":
                raise
        # Typed without a picker: R8.12.4 10:30, 令和8年12月4日 10時30分, 2026/12/4 10:30.
        match = _DATE_AND_TIME.match(str(value))
        try:
            if match is None:
                raise DateFormatError(str(value))
            day = parse_date(match.group(1))
            at = dt.time(int(match.group(2)), int(match.group(3)))
        except (DateFormatError, ValueError) as error:
            raise ValidationError(self.invalid_message(), code="invalid") from error
        return from_current_timezone(dt.datetime.combine(day, at))
