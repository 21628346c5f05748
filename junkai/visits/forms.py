"""Forms for recording a visit and for night-visit requests. The rules live in actions.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from junkai.households.models import Outcome
from junkai.lib.forms import JapaneseDateTimeField
from junkai.visits.models import ConcernKind, GuidanceTopic, Method


def _now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class VisitForm(forms.Form):
    outcome = forms.ChoiceField(
        label="結果", choices=Outcome.choices, initial=Outcome.MET, widget=forms.RadioSelect
    )
    method = forms.ChoiceField(
        label="方法", choices=Method.choices, initial=Method.VISIT, widget=forms.RadioSelect
    )
    guidance_topics = forms.TypedMultipleChoiceField(
        label="指導連絡・情報提供事項（第4-4）",
        choices=GuidanceTopic.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    started_at = JapaneseDateTimeField(
        label="実施日時",
        initial=_now_local,
    )
    refusal_explanation = forms.CharField(
        label="拒否された場合: 趣旨をどのように説明したか",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    concern_kind = forms.ChoiceField(
        label="困りごと・意見・要望", choices=[("", "なし"), *ConcernKind.choices], required=False
    )
    concern_text = forms.CharField(
        label="その内容", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    observation = forms.CharField(
        label="見聞きした情報（地域課長へ直ちに報告されます）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(label="メモ", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def concerns(self) -> list[dict[str, Any]]:
        kind = self.cleaned_data.get("concern_kind")
        text = self.cleaned_data.get("concern_text", "")
        if not kind and not text.strip():
            return []
        return [{"kind": kind, "text": text}]


class NightRequestForm(forms.Form):
    planned_start = JapaneseDateTimeField(
        label="開始予定",
    )
    planned_end = JapaneseDateTimeField(
        label="終了予定",
    )
    reason = forms.CharField(
        label="夜間に実施する理由（住民等の都合）",
        max_length=200,
        error_messages={"required": "理由を入力してください"},
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label="不承認の理由", max_length=200, required=False)
