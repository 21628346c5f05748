"""`junkai import-org` and `junkai import-officers`: a prefecture's organisation and officers
from its own lists — the templates load, every problem is named by row and column and nothing
is written, each creation has its audit event, and an issued password works once, to be
changed at the first sign-in."""

from __future__ import annotations

import csv
import os
import stat
import tempfile
import time
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, TestCase

from junkai.accounts.middleware import LOGIN_AT
from junkai.audit.models import AuditEvent, EventType
from junkai.org.models import Assignment, Beat, Officer, Post, Role, Station

DOCS = Path(settings.BASE_DIR) / "docs"
ORG = DOCS / "import-org-template.csv"
OFFICERS = DOCS / "import-officers-template.csv"


class OrgImportTests(TestCase):
    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp())

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def run_import(self, command: str, *args: str) -> tuple[int, str, str]:
        out, err = StringIO(), StringIO()
        try:
            call_command(command, *args, stdout=out, stderr=err)
        except CommandError as error:  # exit code 1 from the command line
            return 1, out.getvalue(), f"{err.getvalue()}{error}"
        return 0, out.getvalue(), err.getvalue()

    def test_the_organisation_template_loads_once_with_its_audit_events(self) -> None:
        code, out, _ = self.run_import("import_org", str(ORG))
        self.assertEqual(code, 0)
        self.assertIn("警察署 1、交番等 4、受持区 4 を登録しました", out)
        post = Post.objects.get(code="C1")
        self.assertEqual(
            (post.name, post.kind, post.single_officer), ("山里駐在所", "CHUZAISHO", True)
        )
        self.assertEqual(Post.objects.get(code="KB").kind, "KANBU_KOBAN")
        self.assertEqual(Post.objects.get(code="P1").kind, "PATROL")
        self.assertEqual(
            sorted(Beat.objects.filter(post__code="K1").values_list("code", flat=True)),
            ["K1-1", "K1-2"],
        )
        for kind, count in (
            (EventType.STATION_CREATED, 1),
            (EventType.POST_CREATED, 4),
            (EventType.BEAT_CREATED, 4),
        ):
            self.assertEqual(AuditEvent.objects.filter(event_type=kind).count(), count)
        # Run again (rows added later): what exists is taken as it is.
        code, out, _ = self.run_import("import_org", str(ORG))
        self.assertIn("警察署 0、交番等 0、受持区 0 を登録しました", out)
        self.assertEqual(Beat.objects.count(), 4)

    def test_problems_are_named_by_row_and_column_and_nothing_is_written(self) -> None:
        self.run_import("import_org", str(ORG))
        before = (Station.objects.count(), Post.objects.count(), Beat.objects.count())
        path = self.write(
            "bad.csv",
            "警察署コード,警察署名,交番等コード,交番等名,種別,一人勤務,受持区コード,受持区名\n"
            "A01,○○中央警察署,K9,新町交番,交番,,K9-1,新町\n"  # fine alone
            "A01,別の名前警察署,,,,,,\n"  # the code is registered under another name
            "B02,北警察署,K1,北口交番,派出所,,,\n"  # no such kind
            "B02,北警察署,K2,北交番,交番,○,,\n"  # single officer only at a 駐在所
            "B02,北警察署,K3,東交番,交番,,K3-1,\n"  # beat without a name
            "B03,南警察署\u202e,,,,,,\n",  # a bidi control character
        )
        code, _, err = self.run_import("import_org", str(path))
        self.assertEqual(code, 1)
        self.assertIn("3行目 警察署名: このコードは既に「○○中央警察署」として登録されています", err)
        self.assertIn("4行目 種別: 交番・幹部交番・駐在所・地域警ら隊のいずれか", err)
        self.assertIn("5行目 一人勤務: 一人勤務は駐在所にのみ設定できます", err)
        self.assertIn("6行目 受持区名: 入力してください", err)
        self.assertIn("7行目 警察署名:", err)
        self.assertIn("5件の誤り。ファイルを直して再度実行してください", err)
        self.assertEqual(
            (Station.objects.count(), Post.objects.count(), Beat.objects.count()), before
        )

    def test_officers_get_their_assignments_and_an_issued_password_changed_at_first_sign_in(
        self,
    ) -> None:
        self.run_import("import_org", str(ORG))
        passwords = self.dir / "initial.csv"
        code, out, _ = self.run_import(
            "import_officers", str(OFFICERS), "--passwords", str(passwords)
        )
        self.assertEqual(code, 0, out)
        self.assertIn("職員 8 名と配置 8 件を登録しました", out)
        self.assertEqual(stat.S_IMODE(os.stat(passwords).st_mode), 0o600)
        with passwords.open(encoding="utf-8-sig") as file:
            issued = {row[1]: row[3] for row in list(csv.reader(file))[1:]}
        self.assertEqual(len(issued), 8)
        self.assertNotIn(issued["a01-k1a"], out)  # never on the terminal or in a log

        k1a = Officer.objects.get(username="a01-k1a")
        self.assertTrue(k1a.password_change_required)
        assignment = Assignment.objects.get(officer=k1a)
        self.assertEqual(assignment.role, Role.BEAT_OFFICER)
        self.assertEqual([b.code for b in assignment.beats.all()], ["K1-1"])
        self.assertEqual(str(assignment.valid_from), "2026-04-01")
        self.assertEqual(Assignment.objects.get(officer__username="a01-kanbu").role, Role.MANAGER)
        self.assertEqual(
            Assignment.objects.get(officer__username="a01-chief").role, "STATION_CHIEF"
        )
        hq = Assignment.objects.get(officer__username="hq-chiiki1")
        self.assertEqual((hq.role, hq.station_id, hq.unit_name), (Role.HQ, None, "本部地域課"))
        self.assertEqual(AuditEvent.objects.filter(event_type=EventType.OFFICER_CREATED).count(), 8)
        self.assertEqual(
            AuditEvent.objects.filter(event_type=EventType.ASSIGNMENT_CREATED).count(), 8
        )

        # The issued password signs him in, and the first page is the password change.
        client = Client()
        response = client.post(
            "/login/", {"username": "a01-k1a", "password": issued["a01-k1a"]}, follow=True
        )
        self.assertContains(response, "パスワードの変更")

        # The same file again: each officer exists already; nothing more, no second file.
        again = self.dir / "again.csv"
        code, _, err = self.run_import("import_officers", str(OFFICERS), "--passwords", str(again))
        self.assertEqual(code, 1)
        self.assertIn("2行目 職員番号: この職員番号の職員は既に登録されています", err)
        self.assertIn("2行目 ログインID: このログインIDは既に使われています", err)
        self.assertFalse(again.exists())
        # An existing passwords file is never overwritten.
        with self.assertRaisesMessage(CommandError, "既にあります"):
            call_command("import_officers", str(OFFICERS), "--passwords", str(passwords))

    def test_officer_rows_are_checked_and_nothing_is_written(self) -> None:
        self.run_import("import_org", str(ORG))
        path = self.write(
            "officers.csv",
            "職員番号,ログインID,氏名,階級,役割,警察署コード,交番等コード,受持区コード,発令日\n"
            "X1,x-one,甲 一,巡査,受持警察官,A01,K1,K1-1,R8.4.1\n"  # fine alone
            "X2,x-one,乙 二,巡査,受持警察官,A01,K1,K1-2,R8.4.1\n"  # same login as line 2
            "X3,x three,丙 三,巡査,受持警察官,A01,K1,,R8.4.1\n"  # a space in the login
            "X4,x-four,丁 四,巡査,受持警察官,Z99,K1,,R8.4.1\n"  # no such station
            "X5,x-five,戊 五,巡査,受持警察官,A01,K1,K1-9,R8.4.1\n"  # no such beat
            "X6,x-six,己 六,警部殿,班長,A01,,,R8.13.40\n"  # rank, role and date
            "X7,x-seven,庚 七,巡査,受持警察官,A01,KB,KB-1,\n",  # beat of a post: fine
        )
        code, _, err = self.run_import("import_officers", str(path), "--check")
        self.assertEqual(code, 1)
        self.assertIn("3行目 ログインID: 2行目と同じログインIDです", err)
        self.assertIn("4行目 ログインID: 半角英数字と", err)
        self.assertIn("5行目 警察署コード: この警察署コードは登録されていません", err)
        self.assertIn("6行目 受持区コード: 駅前交番に受持区「K1-9」はありません", err)
        self.assertIn("7行目 階級: 階級は", err)
        self.assertIn("7行目 役割: 役割は", err)
        self.assertIn("7行目 発令日:", err)
        self.assertNotIn("8行目", err)
        self.assertEqual(Officer.objects.count(), 0)

    def test_check_writes_nothing_and_needs_no_passwords_file(self) -> None:
        self.run_import("import_org", str(ORG), "--check")
        self.assertEqual(Station.objects.count(), 0)
        self.run_import("import_org", str(ORG))
        code, out, _ = self.run_import("import_officers", str(OFFICERS), "--check")
        self.assertEqual(code, 0)
        self.assertIn("職員 8 名を登録できます", out)
        self.assertEqual(Officer.objects.count(), 0)
        with self.assertRaisesMessage(CommandError, "--passwords"):
            call_command("import_officers", str(OFFICERS))

    def test_an_unreadable_file_says_why(self) -> None:
        path = self.dir / "sjis.csv"
        path.write_bytes("警察署コード,警察署名\n".encode("shift_jis"))
        with self.assertRaisesMessage(CommandError, "UTF-8ではありません"):
            call_command("import_org", str(path))
        with self.assertRaisesMessage(CommandError, "CSV（.csv）かExcel（.xlsx）"):
            call_command("import_org", str(self.write("org.pdf", "x")))


class AdminIsReadOnlyTests(TestCase):
    """The Django admin shows the organisation but changes none of it: a change is an action
    with its audit event (the pages and the imports)."""

    def test_a_superuser_reads_but_cannot_add_change_or_delete(self) -> None:
        call_command("import_org", str(ORG), stdout=StringIO())
        admin_user = Officer.objects.create_superuser("root-admin", password="x" * 16)
        client = Client()
        client.force_login(admin_user)
        session = client.session
        session[LOGIN_AT] = time.time()  # as the sign-in view stamps it
        session.save()
        station = Station.objects.get()
        listing = client.get("/admin/org/station/")
        self.assertContains(listing, "A01")
        self.assertEqual(client.get("/admin/org/station/add/").status_code, 403)
        self.assertEqual(client.get("/admin/org/officer/add/").status_code, 403)
        client.post(f"/admin/org/station/{station.id}/change/", {"code": "A01", "name": "改名"})
        client.post(f"/admin/org/station/{station.id}/delete/", {"post": "yes"})
        station.refresh_from_db()
        self.assertEqual(station.name, "○○中央警察署")
