"""Forms of the organisation pages. Errors are Japanese and name the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from junkai.lib.forms import JapaneseDateField
from junkai.org.models import Beat, Officer, Post, Role, Station, today

DATE_ERRORS = {
    "required": "日付を入力してください",
}

STATION_ROLES = [
    (Role.MANAGER.value, "管理責任者（地域課長・幹部交番所長）"),
    (Role.INSPECTOR.value, "地域課長代理・交番所長"),
    (Role.BEAT_OFFICER.value, "受持警察官等"),
]


class OfficerByNumberField(forms.CharField):
    """An officer named by 職員番号 (a transfer may come from any station)."""

    def clean(self, value: Any) -> Officer:
        number = super().clean(value)
        officer = Officer.objects.filter(staff_number=number, is_active=True).first()
        if officer is None:
            raise forms.ValidationError(f"職員番号「{number}」の職員は見つかりません")
        return officer


class AssignmentForm(forms.Form):
    officer = OfficerByNumberField(
        label="職員番号", max_length=16, error_messages={"required": "職員番号を入力してください"}
    )
    role = forms.ChoiceField(
        label="役割", choices=STATION_ROLES, error_messages={"required": "役割を選んでください"}
    )
    post = forms.ModelChoiceField(
        label="交番等",
        queryset=Post.objects.none(),
        required=False,
        empty_label="（警察署・地域課）",
        error_messages={"invalid_choice": "交番等の選択が正しくありません"},
    )
    beats = forms.ModelMultipleChoiceField(
        label="受持区",
        queryset=Beat.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "受持区の選択が正しくありません"},
    )
    valid_from = JapaneseDateField(
        label="発令日（開始日）",
        initial=today,
        error_messages=DATE_ERRORS,
    )
    end_current = forms.BooleanField(
        label="現在の配置を終了する（異動）", required=False, initial=True
    )

    def __init__(self, *args: Any, station: Station, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        posts = Post.objects.filter(station=station)
        self.fields["post"].queryset = posts  # type: ignore[attr-defined]
        self.fields["beats"].queryset = Beat.objects.filter(post__in=posts).select_related(  # type: ignore[attr-defined]
            "post"
        )


class DesignationForm(forms.Form):
    officer = forms.ModelChoiceField(
        label="職員",
        queryset=Officer.objects.none(),
        error_messages={
            "required": "職員を選んでください",
            "invalid_choice": "職員の選択が正しくありません",
        },
    )
    valid_from = JapaneseDateField(
        label="開始日",
        initial=today,
        error_messages=DATE_ERRORS,
    )

    def __init__(self, *args: Any, officers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers  # type: ignore[attr-defined]


class KeyDeputyForm(DesignationForm):
    valid_to = JapaneseDateField(
        label="終了日（不在の最終日）",
        required=False,
        error_messages=DATE_ERRORS,
    )


class EndAssignmentForm(forms.Form):
    valid_to = JapaneseDateField(
        label="終了日",
        initial=lambda: today() - dt.timedelta(days=1),
        error_messages=DATE_ERRORS,
    )
