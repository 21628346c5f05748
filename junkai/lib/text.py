"""Characters no field of Junkai accepts: the one text boundary for the API, the forms' card
checks and the imports.

Control characters (other than tab and line breaks), bidi overrides and isolates (they make a
name display other than it is stored), the BOM, Unicode non-characters and unpaired surrogates
(which no database encoding stores: a lone "\\ud800" in JSON was an HTTP 500) are refused with a
Japanese message naming what was found.
"""

from __future__ import annotations

import re

_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # control characters (tab, LF, CR allowed)
    "\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides and isolates
    "\ufeff"  # BOM / zero width no-break space
    "\ufdd0-\ufdef\ufffe\uffff"  # non-characters of the BMP
    "\ud800-\udfff"  # unpaired surrogates
    "\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff"
    "]"
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
