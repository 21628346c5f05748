"""Folding Japanese text for search: hiragana/katakana and half/full width fold together.

Uses jaconv (a maintained pure-Python converter) rather than hand-written tables.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

_SPACES = re.compile(r"[\s\u3000・･]+")
_NOT_DIGIT = re.compile(r"\D")
# At least one kana; spaces (NFKC makes the ideographic space a plain one) and middle dots
# between the words.
_READING = re.compile(r"[\s・]*[\u3041-\u309fー][\u3041-\u309fー\s・]*")


def fold(text: str) -> str:
    """A search key: NFKC (half-width katakana and full-width ASCII become standard), katakana
    to hiragana, lower case, no spaces or middle dots."""
    text = unicodedata.normalize("NFKC", text or "")
    text = jaconv.kata2hira(text)
    return _SPACES.sub("", text).lower()


def digits(text: str) -> str:
    """Phone numbers in any width and with any separators: just the digits."""
    return _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text or ""))


def reading(text: str) -> str | None:
    """A reading as entered (either kana, either width) in full-width hiragana with its spaces
    kept, or None when it holds anything but kana, long vowel marks, spaces and middle dots."""
    hiragana = jaconv.kata2hira(unicodedata.normalize("NFKC", text or "")).strip()
    return hiragana if _READING.fullmatch(hiragana) else None
