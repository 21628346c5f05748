"""Helpers every page with a form shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms import Form


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
