"""cards.clean: the one check of card content behind the page, the API and the import."""

from __future__ import annotations

import datetime as dt

from django.test import SimpleTestCase

from junkai.households.cards import CardInvalid, clean

TODAY = dt.date(2026, 11, 27)


def card(**resident: str) -> dict[str, object]:
    return {"residents": [{"name": "山田 太郎", **resident}]}


class PhoneTest(SimpleTestCase):
    def test_numbers_in_any_form_keep_the_residents_grouping_in_half_width(self) -> None:
        for entered, kept in (
            ("090-1234-5678", "090-1234-5678"),
            ("09012345678", "09012345678"),
            ("097-582-1234", "097-582-1234"),
            ("０９０－１２３４－５６７８", "090-1234-5678"),
            ("(090) 1234 5678", "090-1234-5678"),
            ("090--1234--5678", "090-1234-5678"),
            (" 0975821234 ", "0975821234"),
        ):
            with self.subTest(entered=entered):
                data = clean(card(phone=entered), today=TODAY)
                self.assertEqual(data["residents"][0]["phone"], kept)

    def test_not_a_phone_number_is_named(self) -> None:
        for entered in ("090-123-456", "0901234567890", "190-1234-5678", "電話なし"):
            with self.subTest(entered=entered), self.assertRaises(CardInvalid) as e:
                clean(card(phone=entered), today=TODAY)
            self.assertEqual(
                e.exception.errors,
                {
                    "residents.0.phone": f"世帯員1の電話「{entered}」は電話番号として正しくありません"
                    "（0から始まる10〜11桁）"
                },
            )


class ResidentTest(SimpleTestCase):
    def test_every_problem_of_a_resident_is_named_by_path(self) -> None:
        with self.assertRaises(CardInvalid) as e:
            clean(
                {
                    "residents": [
                        {"name": "山田 太郎", "kana": "やまだ たろう"},
                        {
                            "name": "",
                            "kana": "Yamada",
                            "birth_date": "令和10年1月1日",
                            "sex": "X",
                            "workplace": "会" * 101,
                        },
                    ],
                    "contacts": [{"name": "山田 花子"}],
                },
                today=TODAY,
            )
        self.assertEqual(
            e.exception.errors,
            {
                "residents.1.workplace": "世帯員2の勤務先・学校は100文字以内で入力してください",
                "residents.1.name": "世帯員2の氏名を入力してください",
                "residents.1.kana": "世帯員2のふりがなは、ひらがな又はカタカナで入力してください",
                "residents.1.birth_date": "世帯員2の生年月日が未来の日付です",
                "residents.1.sex": "世帯員2の性別の値が正しくありません",
                "contacts.0.phone": "緊急連絡先1の連絡先を入力してください",
            },
        )

    def test_a_residents_problems_come_in_the_order_of_his_fields(self) -> None:
        """As the form and the import file have them (an import lists a line's problems in
        this order): the length checks do not put 続柄 and 勤務先 before 氏名 or 生年月日."""
        with self.assertRaises(CardInvalid) as e:
            clean(
                {
                    "residents": [
                        {
                            "name": "",
                            "kana": "あ" * 81,
                            "relation": "続" * 21,
                            "birth_date": "昭和",
                            "sex": "X",
                            "workplace": "会" * 101,
                            "phone": "123",
                        },
                        {
                            "name": "山田 太郎",
                            "relation": "続" * 21,
                            "birth_date": "令和10年1月1日",
                        },
                    ]
                },
                today=TODAY,
            )
        self.assertEqual(
            list(e.exception.errors),
            [
                "residents.0.name",
                "residents.0.kana",
                "residents.0.relation",
                "residents.0.birth_date",
                "residents.0.sex",
                "residents.0.workplace",
                "residents.0.phone",
                "residents.1.relation",
                "residents.1.birth_date",
            ],
        )

    def test_readings_become_hiragana(self) -> None:
        data = clean(card(kana="ﾔﾏﾀﾞ ﾀﾛｳ", birth_date="昭和50年4月1日"), today=TODAY)
        self.assertEqual(data["residents"][0]["kana"], "やまだ たろう")
        self.assertEqual(data["residents"][0]["birth_date"], "1975-04-01")


class IndexNumberTest(SimpleTestCase):
    def test_an_index_number_the_column_cannot_hold_is_named(self) -> None:
        """Not a database error (500 on PostgreSQL, a failed import): a message on the field."""
        self.assertEqual(
            clean({**card(), "index_number": "2147483647"}, today=TODAY)["index_number"],
            2147483647,
        )
        for entered in ("2147483648", "99999999999", 10**20):
            with self.subTest(entered=entered), self.assertRaises(CardInvalid) as e:
                clean({**card(), "index_number": entered}, today=TODAY)
            self.assertEqual(
                e.exception.errors, {"index_number": "索引番号は2147483647以下で入力してください"}
            )
