"""The OpenAPI document states the input boundary (junkai.api.boundary): every string a request
carries has the characters junkai.lib.text refuses excluded (or a stricter pattern, or a list of
values) and a longest length, every integer a range the database holds, every list a longest
length, every date a year within 1868–2200, and no body takes a key it does not name. The
fuzzer's positive-data check relies on it; this names the field that lacks it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.test import SimpleTestCase

from junkai.api.api import api
from junkai.api.boundary import DATE_PATTERN, INT_MAX, INT_MIN
from junkai.lib.text import FORBIDDEN_RANGES, TEXT_PATTERN, text_problem


def _bounded(pattern: str) -> bool:
    """Whether a pattern allows only strings of some longest length (no open repetition)."""
    return bool(pattern) and not re.search(r"[*+]|\{\d+,\}", pattern)


class DocumentStatesTheBoundaryTests(SimpleTestCase):
    def setUp(self) -> None:
        self.document = api.get_openapi_schema()

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            return dict(self.document["components"]["schemas"][node["$ref"].split("/")[-1]])
        return node

    def inputs(self) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(where, schema, the object holding it) of every value a request may carry."""
        seen: set[str] = set()

        def walk(node: dict[str, Any], where: str, parent: dict[str, Any]) -> Iterator[Any]:
            if "$ref" in node:
                name = node["$ref"].split("/")[-1]
                if name in seen:
                    return
                seen.add(name)
                node = self.resolve(node)
                where = name
            branches = node.get("anyOf", [])
            for branch in branches:
                yield from walk(branch, where, node)
            if branches:
                return
            yield where, node, parent
            for key, child in node.get("properties", {}).items():
                yield from walk(child, f"{where}.{key}", node)
            if isinstance(node.get("items"), dict):
                yield from walk(node["items"], f"{where}[]", node)

        for path, operations in self.document["paths"].items():
            for method, operation in operations.items():
                label = f"{method.upper()} {path}"
                for parameter in operation.get("parameters", []):
                    yield from walk(parameter["schema"], f"{label} ?{parameter['name']}", {})
                # (A file upload is multipart: its parts are the upload's, not JSON.)
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    seen.clear()
                    yield from walk(content["application/json"]["schema"], f"{label} body", {})

    def test_every_input_is_bounded_in_the_document(self) -> None:
        missing = []
        for where, node, parent in self.inputs():
            kind = node.get("type")
            said = {**parent, **node}  # a limit beside anyOf (an optional field) applies too
            if kind == "string" and node.get("format") != "binary":
                if not {"enum", "const", "pattern"} & set(said):
                    missing.append(f"{where}: no pattern")
                bounded = _bounded(node.get("pattern", ""))
                if not ("maxLength" in said or "enum" in said or "format" in node or bounded):
                    missing.append(f"{where}: no maxLength")
                if node.get("format") in ("date", "date-time"):
                    self.assertEqual(node.get("pattern"), DATE_PATTERN, where)
            elif kind == "integer":
                if not (INT_MIN <= said.get("minimum", INT_MIN - 1) <= INT_MAX):
                    missing.append(f"{where}: no minimum")
                if not (INT_MIN <= said.get("maximum", INT_MAX + 1) <= INT_MAX):
                    missing.append(f"{where}: no maximum")
            elif kind == "array" and "maxItems" not in said:
                missing.append(f"{where}: no maxItems")
            elif kind == "object" and node.get("additionalProperties", True) is not False:
                missing.append(f"{where}: takes keys it does not name")
        self.assertEqual([], sorted(set(missing)), "\n" + "\n".join(sorted(set(missing))))

    def test_the_text_pattern_refuses_what_the_boundary_refuses(self) -> None:
        pattern = re.compile(TEXT_PATTERN.removesuffix("$") + r"\Z")
        for lo, hi in FORBIDDEN_RANGES:
            for code in (lo - 1, lo, hi, hi + 1):
                if not 0 <= code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    continue  # no JSON document in UTF-8 carries a lone surrogate
                text = f"a{chr(code)}あ"
                self.assertEqual(
                    pattern.match(text) is not None, text_problem(text) is None, f"U+{code:04X}"
                )
