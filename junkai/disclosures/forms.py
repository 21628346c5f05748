"""Forms of the disclosure pages. The rules (and their Japanese messages naming each field) live
in actions.py, one set for pages and API: these forms only carry the fields."""

from __future__ import annotations

from typing import Any

from django import forms

from junkai.disclosures import prefectures
from junkai.disclosures.models import DecisionStatus, ReleaseMethod
from junkai.lib.forms import JapaneseDateField


def _text(label: str, *, max_length: int = 200, **attrs: Any) -> forms.CharField:
    # The length is checked by the action (one message for pages and API); the browser is told.
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.TextInput(attrs={"maxlength": max_length, **attrs}),
    )


def _area(label: str, rows: int = 2, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, widget=forms.Textarea(attrs={"rows": rows, **attrs})
    )


class DataUseForm(forms.Form):
    requester_unit = _text("利用者の所属", max_length=100, placeholder="例: 刑事課強行犯係")
    requester_name = _text("利用者の氏名（階級）", max_length=64, autocomplete="off")
    requester_prefecture = forms.ChoiceField(label="都道府県警察", required=False, choices=[])
    police_phone = _text("警察電話番号", max_length=32, inputmode="tel", placeholder="例: 7-1234")
    purpose = _area("利用目的")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["requester_prefecture"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = prefectures.choices()
        field.initial = prefectures.home_prefecture()


class AgencyRequestForm(forms.Form):
    agency_name = _text("照会した行政機関", max_length=100, placeholder="例: みなと市福祉課")
    recipient_name = _text("提供を受ける者の氏名", max_length=64, autocomplete="off")
    recipient_contact = _text("提供を受ける者の連絡先", max_length=100)
    purpose = _area("利用目的")
    legal_basis = _area("法令上の根拠", placeholder="例: 災害対策基本法第49条の11第2項")


class VerifyForm(forms.Form):
    callback_number = _text("折り返し電話をかけた番号（警察電話）", max_length=32, inputmode="tel")
    note = _area("確認の備考（応答した者・番号が異なる理由など）")


class RefuseForm(forms.Form):
    reason = _area("不承認の理由")


class ReleaseForm(forms.Form):
    method = forms.ChoiceField(
        label="提供の方法",
        choices=ReleaseMethod.choices,
        initial=ReleaseMethod.SHOWN,
        widget=forms.RadioSelect,
    )
    note = _text("提供の備考")


class UploadForm(forms.Form):
    file = forms.FileField(
        label="照会文書のファイル",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}),
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label="提供の可否",
        required=False,
        choices=[
            (DecisionStatus.APPROVED, "提供可"),
            (DecisionStatus.REFUSED, "提供不可"),
        ],
        widget=forms.RadioSelect,
    )
    reason = _area("判断の理由（法令上の根拠の確認結果など）")


class ReviewForm(forms.Form):
    note = _area("確認結果（本人への確認・業務上の理由・指導の内容）", rows=3)


class RegisterFilter(forms.Form):
    since = JapaneseDateField(label="期間（から）", required=False)
    until = JapaneseDateField(label="期間（まで）", required=False)
