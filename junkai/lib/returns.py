"""Where a 記録 button returns to: the list (path and filters) it was pressed in, and the
household after it there (次の世帯).

A record button carries `from` (the list's own path and query: a page of this site, never a
host) and `then` (the id of the next household in that list). After the visit is recorded the
officer goes back to the same filtered list, scrolled to the next household, marked 次の世帯.
Only ids and the list's filters travel: no name or address.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest

#: The query parameter naming the household to show as 次の世帯 when back in the list.
NEXT_PARAM = "next_household"


def local_path(value: str | None) -> str:
    """`value` if it is a path on this site ("/worklist/?town=…"), else "" (no scheme, no
    host, no "//" or backslash trick, no control characters)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return ""
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return ""
    return value


def household_id(value: str | None) -> int | None:
    """An id as sent by a page (ASCII digits that fit a database integer), else None."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def record_url(visit_url: str, *, back: str, then: int | None = None) -> str:
    """The record button's link: the visit form, knowing the list it came from."""
    query = {"from": back}
    if then is not None:
        query["then"] = str(then)
    return f"{visit_url}?{urlencode(query)}"


def back_to_list(back: str, *, then: int | None) -> str:
    """The list again, with 次の世帯 marked and scrolled to (or the list's top without one)."""
    parts = urlsplit(back)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != NEXT_PARAM]
    fragment = ""
    if then is not None:
        query.append((NEXT_PARAM, str(then)))
        fragment = f"h-{then}"
    return urlunsplit(("", "", parts.path, urlencode(query), fragment))


def list_path(request: HttpRequest) -> str:
    """The list page's own path and filters, without a 次の世帯 mark: what its record buttons
    return to."""
    query = [(k, v) for k, v in request.GET.items() if k != NEXT_PARAM]
    return f"{request.path}?{urlencode(query)}" if query else request.path
