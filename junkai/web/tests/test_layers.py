"""The house's structure, checked: no function imports one of Junkai's own modules to dodge a
cycle (`lint-imports` in ./test.sh checks the layers themselves)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parents[2]


def inner_junkai_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of each `junkai` import inside a function body."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("junkai"):
                found.append((inner.lineno, inner.module or ""))
            elif isinstance(inner, ast.Import):
                found += [
                    (inner.lineno, a.name) for a in inner.names if a.name.startswith("junkai")
                ]
    return found


class NoImportInsideFunctions(SimpleTestCase):
    def test_the_check_sees_an_inner_import(self) -> None:
        source = "def f():\n    from junkai.households import actions\n    return actions\n"
        self.assertEqual(inner_junkai_imports(source), [(2, "junkai.households")])

    def test_no_module_imports_junkai_inside_a_function(self) -> None:
        offenders = []
        for path in sorted(ROOT.rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            # apps.py: Django's own way to connect signals once the apps are loaded.
            if "migrations" in parts or "tests" in parts or parts[-1] == "apps.py":
                continue
            offenders += [
                f"{path.relative_to(ROOT.parent)}:{line} {module}"
                for line, module in inner_junkai_imports(path.read_text())
            ]
        self.assertEqual(offenders, [], "imports inside functions (move them to the top)")


class ReadsAreRecordedThroughAccess(SimpleTestCase):
    def test_no_view_or_api_module_appends_to_the_audit_log_itself(self) -> None:
        # Pages and API operations record what they show through junkai.access (a funnel or
        # records.record_read), and changes through the actions: never record() directly.
        offenders = []
        for path in sorted(ROOT.rglob("*.py")):
            rel = path.relative_to(ROOT)
            is_page = rel.name.startswith("views") or rel.parts[0] == "api"
            if "tests" in rel.parts or not is_page:
                continue
            tree = ast.parse(path.read_text())
            offenders += [
                str(rel)
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module == "junkai.audit.chain"
            ]
        self.assertEqual(offenders, [])
