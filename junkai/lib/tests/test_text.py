from __future__ import annotations

from django.test import SimpleTestCase

from junkai.lib.text import text_problem


class TextProblemTests(SimpleTestCase):
    def test_ordinary_japanese_text_with_line_breaks_passes(self) -> None:
        for value in ("青木 一郎", "あおき　いちろう", "ｱｵｷ", "備考\n二行目\tタブ", "𠮷野家", ""):
            self.assertIsNone(text_problem(value), value)

    def test_each_kind_is_named(self) -> None:
        cases = {
            "青木\x00": "制御文字",
            "青木\x1b[31m": "制御文字",
            "\u202e木青": "文字の向きを変える制御文字",
            "\u2066青木": "文字の向きを変える制御文字",
            "\ufeff青木": "BOM",
            "青木\uffff": "非文字",
            "青木\U0010ffff": "非文字",
            "青木\ud800": "サロゲート",
        }
        for value, kind in cases.items():
            with self.subTest(value=repr(value)):
                problem = text_problem(value)
                assert problem is not None
                self.assertIn(kind, problem)
                self.assertIn("使用できない文字", problem)
