"""Characters no field of Junkai accepts: the one text boundary for the API, the forms' card
checks and the imports.

Control characters (other than tab and line breaks), bidi overrides and isolates (they make a
name display other than it is stored), the BOM, Unicode non-characters and unpaired surrogates
(which no database encoding stores: a lone "\\ud800" in JSON was an HTTP 500) are refused with a
Japanese message naming what was found.

`TEXT_PATTERN` states the same rule in the API's OpenAPI document (every string the API takes
carries it, junkai.api.boundary.Text), built from the same ranges.
"""

from __future__ import annotations

import re

#: (first, last) code points refused.
FORBIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x08),  # control characters (tab, LF, CR allowed)
    (0x0B, 0x0C),
    (0x0E, 0x1F),
    (0x7F, 0x9F),
    (0x202A, 0x202E),  # bidi embeddings, overrides and isolates
    (0x2066, 0x2069),
    (0xFEFF, 0xFEFF),  # BOM / zero width no-break space
    (0xFDD0, 0xFDEF),  # non-characters of the BMP
    (0xFFFE, 0xFFFF),
    (0xD800, 0xDFFF),  # unpaired surrogates
    # the last two code points of every supplementary plane are non-characters too
    *((plane * 0x10000 + 0xFFFE, plane * 0x10000 + 0xFFFF) for plane in range(1, 17)),
)


def _class(ranges: tuple[tuple[int, int], ...], char: object) -> str:
    return "".join(
        f"{char(lo)}-{char(hi)}" if lo != hi else str(char(lo))  # type: ignore[operator]
        for lo, hi in ranges
    )


_FORBIDDEN = re.compile(f"[{_class(FORBIDDEN_RANGES, lambda c: re.escape(chr(c)))}]")

#: The rule as a JSON Schema `pattern` (ECMA-262, read the same by Python's `re` and by Rust's
#: regex): BMP code points as `\\uXXXX`, the supplementary planes' non-characters as themselves
#: (neither engine spells them alike otherwise). Surrogates are left out: a JSON document in
#: UTF-8 cannot carry a lone one, and the engines refuse them in a class.
TEXT_PATTERN = (
    "^[^"
    + _class(
        tuple(r for r in FORBIDDEN_RANGES if r != (0xD800, 0xDFFF)),
        lambda c: f"\\u{c:04x}" if c <= 0xFFFF else chr(c),
    )
    + "]*$"
)


def _kind(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return "制御文字"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return "文字の向きを変える制御文字"
    if code == 0xFEFF:
        return "BOM（U+FEFF）"
    if 0xD800 <= code <= 0xDFFF:
        return "対になっていないサロゲート"
    return "Unicodeの非文字"


def text_problem(value: str) -> str | None:
    """What is wrong with the characters of `value` (a Japanese phrase), or None."""
    found = _FORBIDDEN.search(value)
    if found is None:
        return None
    char = found.group(0)
    return f"使用できない文字（{_kind(char)}、U+{ord(char):04X}）が含まれています"
