"""`junkai import-households`: the template imports, errors change nothing, xlsx, rights."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock, skipUnless

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from junkai.audit.models import AuditEvent, EventType
from junkai.households import actions, bulk
from junkai.households.bulk import HouseholdRow, do_bulk_load
from junkai.households.importing import COLUMNS
from junkai.households.models import (
    Building,
    CardRevision,
    Category,
    ContactCard,
    EmergencyContact,
    Household,
    Resident,
    RevisionBasis,
)
from junkai.lib.kana import digits, fold
from junkai.lib.tables import BulkLoadError
from junkai.testing import PersonaTestCase

TEMPLATE = Path(settings.BASE_DIR) / "docs" / "import-template.csv"


def household_line(key: str, **values: str) -> dict[str, str]:
    return {
        "世帯キー": key,
        "受持区コード": "K1-1",
        "種別": "居住",
        "町名": "駅前本町",
        "丁目": "3",
        "番地": "4",
        "号": key[-1],
        "カード受理日": "2024-04-01",
        "受理者ID": "officer1a",
        **values,
    }


def write_csv(directory: Path, lines: list[dict[str, str]], *, bom: bool = True) -> Path:
    path = directory / "households.csv"
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(lines)
    return path


class ImportTest(PersonaTestCase):
    @classmethod
    def build_sample_households(cls) -> None:
        """Not the personas' sample households: the template's 索引番号 start at 1."""

    def setUp(self) -> None:
        self.directory = Path(tempfile.mkdtemp())
        self.households = Household.objects.filter(station=self.station)

    def run_import(self, path: Path, *extra: str) -> tuple[str, str]:
        out, err = StringIO(), StringIO()
        call_command("import_households", str(path), *extra, stdout=out, stderr=err, verbosity=0)
        return out.getvalue(), err.getvalue()

    def counts(self) -> tuple[int, ...]:
        models = (Household, ContactCard, Resident, EmergencyContact, Building)
        imports = AuditEvent.objects.filter(event_type=EventType.HOUSEHOLDS_IMPORTED)
        return (*(model.objects.count() for model in models), imports.count())

    def test_template_imports_every_row_with_one_audit_event(self) -> None:
        out, _ = self.run_import(TEMPLATE, "--post", "K1")
        self.assertIn("世帯 5", out)
        self.assertEqual(self.households.count(), 5)
        self.assertEqual(ContactCard.objects.filter(post=self.post("K1")).count(), 4)
        self.assertEqual(Resident.objects.filter(post=self.post("K1")).count(), 6)
        self.assertEqual(EmergencyContact.objects.filter(card__post=self.post("K1")).count(), 3)
        self.assertEqual(Building.objects.get().name, "コーポさくら")

        family = Household.objects.get(name="佐藤 一郎")
        self.assertEqual(family.category, Category.HOME)
        self.assertEqual(family.leader_role, "HANCHO")
        self.assertEqual(family.beat, self.beat("K1-1"))
        self.assertEqual(family.address_key, fold("駅前本町123"))
        card = family.cards.get()
        self.assertEqual(card.accepted_by, self.officer("officer1a"))
        self.assertEqual(card.index_number, 1)
        residents = list(card.residents.order_by("position"))
        self.assertEqual([r.relation for r in residents], ["世帯主", "妻", "長男"])
        self.assertEqual(residents[0].birth_date, dt.date(1970, 6, 1))  # S45.6.1
        self.assertEqual(residents[2].birth_date, dt.date(2010, 8, 20))  # 平成22年8月20日
        self.assertEqual(residents[2].kana, "さとう ひろと")  # typed in katakana
        self.assertEqual(residents[2].kana_key, "さとうひろと")
        self.assertEqual(residents[0].phone_key, digits("090-0123-4567"))
        revision = CardRevision.objects.get(card=card)
        self.assertEqual((revision.version, revision.basis), (1, RevisionBasis.NEW))
        self.assertIn("residents.2.name", [c["field"] for c in revision.changes])
        # The first revision lists each filled field, old → new, in words, and nothing empty.
        self.assertIn(
            {
                "field": "residents.0.birth_date",
                "label": "世帯員1の生年月日",
                "old": None,
                "new": "1970-06-01",
            },
            revision.changes,
        )
        self.assertIn(
            {"field": "residents.0.sex", "label": "世帯員1の性別", "old": None, "new": "男"},
            revision.changes,
        )
        self.assertTrue(all(c["old"] is None and c["new"] for c in revision.changes))

        self.assertEqual(Household.objects.get(name="鈴木 キヨ").category, Category.ELDERLY)
        self.assertEqual(Household.objects.get(name="田中商店").category, Category.BUSINESS)
        room = Household.objects.get(name="山田")
        self.assertEqual(room.category, Category.UNKNOWN)
        assert room.building is not None
        self.assertEqual((room.building.name, room.room), ("コーポさくら", "202"))
        self.assertEqual(room.next_due, timezone.localdate())  # never visited: due at once
        self.assertFalse(room.cards.exists())

        event = AuditEvent.objects.get(event_type=EventType.HOUSEHOLDS_IMPORTED)
        self.assertEqual(event.details["households"], 5)
        self.assertEqual(event.details["cards"], 4)
        self.assertEqual(event.details["source"], "import:import-template.csv")
        for personal in ("佐藤", "090", "駅前本町", "S45"):
            self.assertNotIn(personal, str(event.details))

    def test_check_only_writes_nothing(self) -> None:
        before = self.counts()
        out, _ = self.run_import(TEMPLATE, "--post", "K1", "--check")
        self.assertIn("世帯 5", out)
        self.assertIn("書き込んでいません", out)
        self.assertEqual(self.counts(), before)

    def test_bulk_rows_agree_with_the_actions(self) -> None:
        """Category, 65th birthdays, address keys and search keys as the actions write them."""
        self.run_import(TEMPLATE, "--post", "K1")
        for household in self.households.select_related("building"):
            before = (household.category, household.priority, household.all_elderly_from)
            changed = actions.refresh_category(household)
            household.refresh_from_db()
            self.assertFalse(changed)
            self.assertEqual(
                before, (household.category, household.priority, household.all_elderly_from)
            )
            self.assertEqual(household.address_key, actions._address_key(household))
        for resident in Resident.objects.filter(post=self.post("K1")):
            self.assertEqual(resident.name_key, fold(resident.name))
            self.assertEqual(resident.kana_key, fold(resident.kana))
            self.assertEqual(resident.post_id, resident.card.post_id)

    def test_errors_in_rows_3_and_5_change_nothing_and_are_listed(self) -> None:
        path = write_csv(
            self.directory,
            [
                household_line("A1", 氏名="青木 一", ふりがな="あおき はじめ"),
                household_line("A2", 氏名="青木 二", ふりがな="あおき じろう", 生年月日="S99.13.1"),
                household_line("A3", 氏名="青木 三", ふりがな="あおき さぶろう"),
                household_line("A4", 氏名="青木 四", ふりがな="あおき しろう", 電話="12-34"),
            ],
        )
        before = self.counts()
        err = StringIO()
        with self.assertRaises(CommandError):
            call_command("import_households", str(path), "--post", "K1", stderr=err, verbosity=0)
        self.assertEqual(self.counts(), before)
        lines = err.getvalue().splitlines()
        self.assertIn("  3行目 生年月日: 「S99.13.1」は存在しない日付です", lines)
        five = [line for line in lines if line.startswith("  5行目 電話: ")]
        self.assertEqual(len(five), 1, lines)
        self.assertIn("電話番号として正しくありません", five[0])
        self.assertEqual(len([line for line in lines if "行目" in line]), 2, lines)

    def test_household_lines_and_columns(self) -> None:
        """Lines of one household share a key; a conflicting address is named by line."""
        path = write_csv(
            self.directory,
            [
                household_line("B1", 氏名="石井 一", ふりがな="いしい はじめ"),
                {"世帯キー": "B1", "氏名": "石井 花", "ふりがな": "いしい はな", "町名": "港町"},
                household_line("B2", 種別="倉庫", 氏名="石井 二"),
                household_line("B3", 受持区コード="K2-1", 氏名="石井 三"),
                household_line("B4", 索引番号="7", 氏名="石井 四"),
                household_line("B5", 索引番号="7", 氏名="石井 五"),
            ],
            bom=False,
        )
        err = StringIO()
        with self.assertRaises(CommandError):
            call_command("import_households", str(path), "--post", "K1", stderr=err, verbosity=0)
        text = err.getvalue()
        self.assertIn("3行目 町名: 同じ世帯キーの2行目と値が異なります", text)
        self.assertIn("4行目 種別: ", text)
        self.assertIn("5行目 受持区コード: 受持区「K2-1」は駅前交番の受持区にありません", text)
        self.assertIn("7行目 索引番号: 索引番号 7 はこの交番等で既に使われています", text)
        self.assertFalse(self.households.exists())

    def test_rows_are_numbered_as_excel_numbers_them(self) -> None:
        """A remark over two lines is one row: the next row's error names the row, not the
        physical line."""
        path = write_csv(
            self.directory,
            [
                household_line("C1", 氏名="岡 一", 備考="犬がいます\n午前中は不在"),
                household_line("C2", 氏名="岡 二", 性別="不明"),
            ],
        )
        err = StringIO()
        with self.assertRaises(CommandError):
            call_command("import_households", str(path), "--post", "K1", stderr=err, verbosity=0)
        self.assertIn("  3行目 性別: 性別の値が正しくありません", err.getvalue().splitlines())

    def test_unknown_column_and_missing_required_column(self) -> None:
        path = self.directory / "bad.csv"
        path.write_text(
            "世帯キー,受持区コード,町名,よみがな\nX,K1-1,駅前本町,あ\n", encoding="utf-8"
        )
        err = StringIO()
        with self.assertRaises(CommandError):
            call_command("import_households", str(path), "--post", "K1", stderr=err, verbosity=0)
        self.assertIn("1行目 よみがな: この列名は取込形式にありません", err.getvalue())
        self.assertIn("1行目 種別: この列がありません", err.getvalue())

    def test_shift_jis_is_refused_with_a_clear_message(self) -> None:
        path = self.directory / "sjis.csv"
        path.write_bytes("世帯キー,受持区コード,種別,町名\n".encode("cp932"))
        with self.assertRaisesMessage(CommandError, "UTF-8"):
            self.run_import(path, "--post", "K1")

    def test_xlsx(self) -> None:
        import openpyxl

        workbook = openpyxl.Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.append(list(COLUMNS))
        values: dict[str, Any] = household_line(
            "X1", 氏名="千葉 一", ふりがな="ちば はじめ", 性別="男", 電話="090-0111-2222"
        )
        values["生年月日"] = dt.datetime(1955, 4, 1)  # a date cell
        values["カード受理日"] = dt.datetime(2024, 5, 1)
        values["丁目"] = 3  # a number cell
        values["整理番号"] = 12
        sheet.append([values.get(c) for c in COLUMNS])
        sheet.append([{"世帯キー": "X1", "氏名": "千葉 二", "続柄": "妻"}.get(c) for c in COLUMNS])
        path = self.directory / "households.xlsx"
        workbook.save(path)

        self.run_import(path, "--post", "K1", "--officer", "officer1a")
        household = self.households.get()
        self.assertEqual((household.chome, household.map_number), ("3", 12))
        card = household.cards.get()
        self.assertEqual(card.accepted_on, dt.date(2024, 5, 1))
        first, second = card.residents.order_by("position")
        self.assertEqual((first.birth_date, first.sex), (dt.date(1955, 4, 1), "M"))
        self.assertEqual(second.name, "千葉 二")

    def test_post_rights(self) -> None:
        """The officer of another post is refused and nothing is written; the right one may."""
        before = self.counts()
        with self.assertRaisesMessage(CommandError, "権限がありません"):
            self.run_import(TEMPLATE, "--post", "K1", "--officer", "officer2a")
        with self.assertRaisesMessage(CommandError, "権限がありません"):
            self.run_import(TEMPLATE, "--post", "K1", "--officer", "chief")  # reads, not writes
        self.assertEqual(self.counts(), before)
        self.run_import(TEMPLATE, "--post", "K1", "--officer", "kobancho1")
        event = AuditEvent.objects.get(event_type=EventType.HOUSEHOLDS_IMPORTED)
        self.assertEqual(event.actor_id, self.officer("kobancho1").id)

    def test_unknown_post_and_officer(self) -> None:
        with self.assertRaisesMessage(CommandError, "交番等「Z9」が見つかりません"):
            self.run_import(TEMPLATE, "--post", "Z9")
        with self.assertRaisesMessage(CommandError, "職員「nobody」が見つかりません"):
            self.run_import(TEMPLATE, "--post", "K1", "--officer", "nobody")

    def test_error_after_batches_were_written_rolls_everything_back(self) -> None:
        """Rows are written batch by batch while later ones are checked: an error in the
        last batch still leaves the database as it was."""
        from unittest import mock

        from junkai.households import bulk

        rows = [
            HouseholdRow(
                line=n,
                beat="K1-1",
                fields={"kind": "居住", "town": "駅前本町", "banchi": str(n)},
                card={"residents": [{"name": f"石田 {n}", "birth_date": "1980-01-01"}]},
            )
            for n in range(2, 9)
        ]
        assert rows[-1].card is not None
        rows[-1].card["residents"][0]["birth_date"] = "1980-02-30"
        before = self.counts()
        with mock.patch.object(bulk, "BATCH_SIZE", 2), self.assertRaises(BulkLoadError) as e:
            do_bulk_load(
                rows,
                acting_officer=self.officer("officer1a"),
                post=self.post("K1"),
                source="test",
            )
        self.assertEqual(
            [str(x) for x in e.exception.errors],
            ["8行目 生年月日: 「1980-02-30」は存在しない日付です"],
        )
        self.assertEqual(self.counts(), before)
        # And the same rows without the error go in whole.
        rows[-1].card["residents"][0]["birth_date"] = "1980-02-28"
        with mock.patch.object(bulk, "BATCH_SIZE", 2):
            result = do_bulk_load(
                rows, acting_officer=self.officer("officer1a"), post=self.post("K1"), source="t"
            )
        self.assertEqual((result.households, result.residents), (7, 7))
        self.assertEqual(self.households.count(), 7)

    def test_a_correction_needs_a_known_basis(self) -> None:
        """As do_save_card: the basis of a correction is one of RevisionBasis, and NEW (the
        card's making) is read as a visit."""
        from junkai.households.bulk import Correction

        def row(basis: str) -> HouseholdRow:
            card = {"residents": [{"name": "石田 一郎", "birth_date": "1980-01-01"}]}
            later = {"residents": [{"name": "石田 一郎", "birth_date": "1980-01-02"}]}
            return HouseholdRow(
                line=2,
                beat="K1-1",
                fields={"kind": "居住", "town": "駅前本町"},
                card=card,
                corrections=[Correction(at=timezone.now(), data=later, basis=basis)],
            )

        before = self.counts()
        with self.assertRaises(BulkLoadError) as e:
            do_bulk_load(
                [row("RUMOUR")],
                acting_officer=self.officer("officer1a"),
                post=self.post("K1"),
                source="test",
            )
        self.assertEqual(
            [str(x) for x in e.exception.errors],
            ["2行目: 補正1: 補正の根拠の値が正しくありません"],
        )
        self.assertEqual(self.counts(), before)
        do_bulk_load(
            [row("NEW")], acting_officer=self.officer("officer1a"), post=self.post("K1"), source="t"
        )
        revisions = CardRevision.objects.filter(card__residents__name="石田 一郎")
        self.assertEqual(
            list(revisions.order_by("version").values_list("basis", flat=True)),
            [RevisionBasis.NEW, RevisionBasis.VISIT],
        )

    def test_loader_refuses_another_posts_beat_for_an_officer(self) -> None:
        row = HouseholdRow(
            line=2, beat=self.beat("K2-1").id, fields={"kind": "居住", "town": "本町"}
        )
        from junkai.lib.errors import PermissionDeniedError

        with self.assertRaises(PermissionDeniedError):
            do_bulk_load([row], acting_officer=self.officer("officer1a"), source="test")
        self.assertFalse(self.households.exists())


def _rows(count: int) -> list[HouseholdRow]:
    return [
        HouseholdRow(
            line=n,
            beat="K1-1",
            fields={"kind": "居住", "town": "駅前本町", "banchi": str(n)},
            building="コーポ駅前" if n % 2 else None,
            card={
                "residents": [{"name": f"石田 {n}", "birth_date": "1980-01-01"}],
                "contacts": [{"name": "石田 花子", "phone": "090-1234-5678"}],
            },
        )
        for n in range(2, 2 + count)
    ]


@skipUnless(connection.vendor == "postgresql", "keys are checked set-wise on PostgreSQL only")
class SetWiseKeysTest(PersonaTestCase):
    """A big load drops the household tables' keys and adds them back, which checks
    every row at once: the keys are there afterwards, a broken key still fails the load, and
    a load that cannot have the tables checks row by row."""

    def keys(self) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE contype = 'f'"
                " AND conrelid::regclass::text LIKE 'households_%%' ORDER BY 1"
            )
            return [r[0] for r in cursor.fetchall()]

    def load(self, rows: list[HouseholdRow]) -> tuple[Any, list[str]]:
        self.phases: set[str] = set()
        with (
            mock.patch.object(bulk, "SET_WISE_KEYS_AFTER", 2),
            mock.patch.object(bulk, "BATCH_SIZE", 3),
            CaptureQueriesContext(connection) as queries,
        ):
            result = do_bulk_load(
                rows,
                acting_officer=self.officer("officer1a"),
                post=self.post("K1"),
                source="t",
                progress=lambda phase, done, total: self.phases.add(phase),
            )
        return result, [q["sql"] for q in queries.captured_queries]

    def test_big_load_drops_the_keys_and_adds_them_back(self) -> None:
        before = self.keys()
        residents = Resident.objects.count()
        with connection.cursor() as cursor:  # the load's shorter wait is its own
            cursor.execute("SET lock_timeout = '7s'")
        self.assertIn(
            "households_resident FOREIGN KEY (card_id) REFERENCES households_contactcard(id)"
            " DEFERRABLE INITIALLY DEFERRED",
            before,
        )
        result, sql = self.load(_rows(7))
        self.assertEqual((result.households, result.residents, result.buildings), (7, 7, 1))
        dropped = [q for q in sql if "DROP CONSTRAINT" in q]
        added = [q for q in sql if "ADD CONSTRAINT" in q]
        # Every key of the household tables (to each other and to officers, posts, beats).
        self.assertEqual(len(dropped), len(before))
        self.assertEqual(len(added), len(before))
        self.assertTrue([q for q in added if "REFERENCES org_officer(id)" in q])
        # The progress bar says that other pages wait.
        self.assertEqual(self.phases, {"検証", "書き込み（終わるまで他の画面は待機）"})
        self.assertEqual(self.keys(), before)
        self.assertEqual(Resident.objects.count(), residents + 7)
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            self.assertEqual(cursor.fetchone()[0], "7s")
            cursor.execute("RESET lock_timeout")

    def test_a_broken_key_fails_the_load_either_way(self) -> None:
        before = self.keys()
        households = Household.objects.count()
        insert = bulk.TableWriter.insert

        def misdirected(writer: Any, model: Any, names: Any, rows: Any) -> None:
            if model is Resident:  # a resident on a card that does not exist
                rows = [(card_id + 10**9, *rest) for card_id, *rest in rows]
            insert(writer, model, names, rows)

        for threshold, dropped in ((2, True), (10**9, False)):  # set-wise, then row by row
            with (
                self.subTest(threshold=threshold),
                mock.patch.object(bulk.TableWriter, "insert", misdirected),
                mock.patch.object(bulk, "SET_WISE_KEYS_AFTER", threshold),
                CaptureQueriesContext(connection) as queries,
                self.assertRaises(IntegrityError),
                transaction.atomic(),
            ):
                do_bulk_load(
                    _rows(4),
                    acting_officer=self.officer("officer1a"),
                    post=self.post("K1"),
                    source="t",
                )
            sql = [q["sql"] for q in queries.captured_queries]
            self.assertEqual(any("DROP CONSTRAINT" in q for q in sql), dropped)
            self.assertEqual(Household.objects.count(), households)
            self.assertEqual(self.keys(), before)

    def test_a_check_of_a_big_file_holds_no_page_back(self) -> None:
        """--check writes nothing: it checks the keys row by row, whatever the file's size."""
        path = write_csv(
            Path(tempfile.mkdtemp()),
            [household_line(f"H{n}", 氏名=f"石田 {n}") for n in range(1, 4)],
        )
        for extra, drops in ((("--check",), False), ((), True)):
            with (
                self.subTest(extra=extra),
                mock.patch.object(bulk, "SET_WISE_KEYS_AFTER", 2),
                CaptureQueriesContext(connection) as queries,
            ):
                call_command(
                    "import_households", str(path), "--post", "K1", *extra, stdout=StringIO()
                )
                dropped = [q for q in queries.captured_queries if "DROP CONSTRAINT" in q["sql"]]
                self.assertEqual(bool(dropped), drops)

    def test_tables_in_use_mean_row_by_row(self) -> None:
        import psycopg

        before = self.keys()
        other = psycopg.connect(**connection.get_connection_params())
        self.addCleanup(other.close)
        # Another session reading residents (a long report, say) holds its lock.
        other.execute("BEGIN")
        other.execute("LOCK TABLE households_resident IN ACCESS SHARE MODE")
        with mock.patch.object(bulk, "SET_WISE_LOCK_WAIT", "100ms"):
            result, sql = self.load(_rows(5))
        other.rollback()
        self.assertEqual(result.households, 5)
        self.assertFalse([q for q in sql if "ADD CONSTRAINT" in q])
        self.assertEqual(self.phases, {"検証", "書き込み"})
        self.assertEqual(self.keys(), before)

    def test_revisions_compress_with_lz4(self) -> None:
        """Migration 0009: the revisions' changes compress with lz4 (pglz was a third of the
        time of writing them in a big load)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                " WHERE name = 'default_toast_compression'"
            )
            if not cursor.fetchone()[0]:
                self.skipTest("this PostgreSQL has no lz4")
            cursor.execute(
                "SELECT attcompression FROM pg_attribute"
                " WHERE attrelid = 'households_cardrevision'::regclass AND attname = 'changes'"
            )
            self.assertEqual(cursor.fetchone()[0], "l")
