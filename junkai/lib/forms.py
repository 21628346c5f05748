"""Helpers every page with a form shares."""

from __future__ import annotations

from collections.abc import Mapping

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
