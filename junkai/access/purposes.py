"""Why a household outside the officer's own beats is read (DESIGN.md "A read states why").

A short list, asked once on the page before the card opens (remembered for the beat for the
shift) and required as `purpose` on the API. Its label is the audit event's purpose; the note
that その他 needs is free text, kept apart from the append-only event (AuditNote, its digest in
the event). What the page asked is remembered in the session by beat for a shift, and every
read of a card in that session (the page, its print, the API from the browser) uses it."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest

from junkai.audit.models import AuditNote
from junkai.lib.text import text_problem

NOTE_MAX = 200


class ReadPurpose(models.TextChoices):
    PATROL = "PATROL", "巡回連絡"
    INCIDENT = "INCIDENT", "事件・事故"
    CONSULTATION = "CONSULTATION", "相談"
    WELFARE = "WELFARE", "安否確認"
    SUPERVISION = "SUPERVISION", "監督・点検"
    INQUIRY = "INQUIRY", "照会対応"
    OTHER = "OTHER", "その他"


@dataclass(frozen=True)
class StatedPurpose:
    purpose: ReadPurpose
    note_id: int | None = None
    note_sha256: str = ""
    #: Set when no one was asked: the task waiting on him for this household (its label).
    task: str = ""

    @property
    def label(self) -> str:
        return str(self.purpose.label)

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stated": self.purpose.value}
        if self.note_id is not None:
            out["note"] = {"id": self.note_id, "sha256": self.note_sha256}
        if self.task:
            out["task"] = self.task
        return out


# --- a task at hand explains a read without asking (DESIGN.md "Stated purpose") -------------

#: (officer, household id) → the purpose and label of a task waiting on him for that household
#: (a night-visit approval, a refusal report, a 利用確認簿 entry, a loss report's follow-up…),
#: or None. The apps that own the tasks sit above this layer, so they register the check
#: (dashboards, from its inbox of pending work) instead of being imported here.
TaskAtHand = Callable[[Any, int], tuple[ReadPurpose, str] | None]
_TASK_CHECKS: list[TaskAtHand] = []


def register_task_at_hand(check: TaskAtHand) -> None:
    if check not in _TASK_CHECKS:
        _TASK_CHECKS.append(check)


def task_at_hand(officer: Any, household_id: int) -> StatedPurpose | None:
    """The purpose a waiting task states for him, so the page opens the card without asking;
    checked on the server from the task's own table, never from a link's parameter."""
    for check in _TASK_CHECKS:
        found = check(officer, household_id)
        if found is not None:
            return StatedPurpose(found[0], task=found[1])
    return None


def state_purpose(value: str, note: str = "") -> StatedPurpose:
    """Check a stated purpose (ValidationError naming the field, in Japanese); a note for その他
    is stored apart (AuditNote) and only its id and digest travel on."""
    if value not in ReadPurpose.values:
        raise ValidationError({"purpose": "閲覧の目的を一覧から選んでください"})
    purpose = ReadPurpose(value)
    note = note.strip()
    if purpose != ReadPurpose.OTHER:
        return StatedPurpose(purpose)
    if not note:
        raise ValidationError({"purpose_note": "「その他」を選んだときは目的を記入してください"})
    if len(note) > NOTE_MAX:
        raise ValidationError({"purpose_note": f"目的は{NOTE_MAX}文字以内で記入してください"})
    if (problem := text_problem(note)) is not None:
        raise ValidationError({"purpose_note": f"目的に{problem}"})
    digest = hashlib.sha256(note.encode()).hexdigest()
    stored = AuditNote.objects.create(text=note, sha256=digest)
    return StatedPurpose(purpose, stored.id, digest)


#: Remembered per beat for a shift (the session's absolute limit is 12 hours too).
PURPOSES_KEY = "junkai_read_purposes"
PURPOSE_HOURS = 12


def remembered_purposes(request: HttpRequest) -> dict[int, StatedPurpose]:
    """The purposes stated this shift in this session, by beat (expired ones left out)."""
    now = time.time()
    return {
        int(beat_id): StatedPurpose(ReadPurpose(kept[0]), kept[1], kept[2])
        for beat_id, kept in request.session.get(PURPOSES_KEY, {}).items()
        if kept[3] >= now
    }


def remember_purpose(request: HttpRequest, beat_id: int, stated: StatedPurpose) -> None:
    kept = dict(request.session.get(PURPOSES_KEY, {}))
    kept[str(beat_id)] = [
        stated.purpose.value,
        stated.note_id,
        stated.note_sha256,
        time.time() + PURPOSE_HOURS * 3600,
    ]
    request.session[PURPOSES_KEY] = kept
