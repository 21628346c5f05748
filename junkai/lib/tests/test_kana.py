"""Readings and search keys: either kana, either width, fold to one form."""

from __future__ import annotations

from django.test import SimpleTestCase

from junkai.lib.kana import digits, fold, reading


class ReadingTest(SimpleTestCase):
    def test_any_kana_in_any_width_becomes_hiragana_with_its_spaces(self) -> None:
        for entered, expected in (
            ("やまだ たろう", "やまだ たろう"),
            ("ヤマダ タロウ", "やまだ たろう"),
            ("ﾔﾏﾀﾞ ﾀﾛｳ", "やまだ たろう"),  # half-width, voiced mark apart
            ("ヤマダ\u3000タロウ", "やまだ たろう"),  # ideographic space
            ("  すずき  ", "すずき"),
            ("ルーシー・モード", "るーしー・もーど"),
        ):
            with self.subTest(entered=entered):
                self.assertEqual(reading(entered), expected)

    def test_anything_but_kana_is_not_a_reading(self) -> None:
        for entered in ("山田 太郎", "yamada", "やまだ1", "", "   ", "・", "・ ・"):
            with self.subTest(entered=entered):
                self.assertIsNone(reading(entered))

    def test_fold_and_digits_match_across_forms(self) -> None:
        self.assertEqual(fold("ﾔﾏﾀﾞ ﾀﾛｳ"), fold("やまだたろう"))
        self.assertEqual(fold("ＡＢＣ　ストア"), "abcすとあ")
        self.assertEqual(digits("０９０－１２３４－５６７８"), "09012345678")
