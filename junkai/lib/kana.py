"""Folding Japanese text for search: hiragana/katakana and half/full width fold together.

Uses jaconv (a maintained pure-Python converter) rather than hand-written tables.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

_SPACES = re.compile(r"[\s\u3000・･]+")
_NOT_DIGIT = re.compile(r"\D")


def fold(text: str) -> str:
    """A search key: NFKC (half-width katakana and full-width ASCII become standard), katakana
    to hiragana, lower case, no spaces or middle dots."""
    text = unicodedata.normalize("NFKC", text or "")
    text = jaconv.kata2hira(text)
    return _SPACES.sub("", text).lower()


def digits(text: str) -> str:
    """Phone numbers in any width and with any separators: just the digits."""
    return _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text or ""))


def is_kana(text: str) -> bool:
    """Only hiragana/katakana (after folding), long vowel marks and spaces."""
    folded = fold(text)
    return bool(folded) and all("\u3041" <= c <= "\u309f" or c == "ー" for c in folded)


def to_hiragana(text: str) -> str:
    """A reading as entered (either kana, either width) in full-width hiragana, spaces kept."""
    text = unicodedata.normalize("NFKC", text or "")
    return jaconv.kata2hira(text).replace("\u3000", " ").strip()
