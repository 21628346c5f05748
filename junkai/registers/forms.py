"""Forms of the register pages. The rules live in actions.py; these only shape the input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.forms.boundfield import BoundWidget

from junkai.lib.forms import JapaneseDateField, JapaneseDateTimeField
from junkai.org.models import Officer, today
from junkai.registers.models import (
    CHECKLIST,
    Binder,
    Cabinet,
    InformMethod,
    InspectionFollowUp,
    LossKind,
    number_key,
)


class OfficerChoiceField(forms.ModelChoiceField[Officer]):
    def label_from_instance(self, obj: Officer) -> str:
        return str(obj)


class BinderChoiceField(forms.ModelMultipleChoiceField[Binder]):
    def label_from_instance(self, obj: Binder) -> str:
        return f"簿冊 {obj.number}" + (f"（{obj.title}）" if obj.title else "")


class CheckoutForm(forms.Form):
    """持出しの申告: the binder numbers and the purpose, as on the 第6号様式."""

    binder_ids = BinderChoiceField(
        label="簿冊番号",
        queryset=Binder.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "持ち出す簿冊を選んでください",
            "invalid_choice": "選んだ簿冊はこの交番等のものではありません",
        },
    )
    purpose = forms.CharField(
        label="目的",
        max_length=200,
        initial="巡回連絡",
        error_messages={
            "required": "持出しの目的を入力してください",
            "max_length": "目的は200文字以内で入力してください",
        },
    )

    def __init__(self, *args: Any, binders: QuerySet[Binder], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["binder_ids"]
        assert isinstance(field, BinderChoiceField)
        field.queryset = binders

    def binder_picks(self) -> list[tuple[BoundWidget, Binder]]:
        """The binder checkboxes with their binders, in 簿冊番号 order (9 before 10): the
        labels carry the 表題, so sorting by label would not keep it."""
        picks = []
        for widget in self["binder_ids"]:
            binder = widget.data["value"].instance
            assert isinstance(binder, Binder)
            picks.append((widget, binder))
        picks.sort(key=lambda pick: number_key(pick[1].number))
        return picks


class BinderForm(forms.Form):
    number = forms.CharField(
        label="簿冊番号",
        max_length=20,
        error_messages={"required": "簿冊番号を入力してください"},
        help_text="巡回連絡カードの「簿冊番号」と同じ番号",
    )
    title = forms.CharField(label="表題", max_length=100, required=False)
    cabinet = forms.ModelChoiceField(
        label="保管庫",
        queryset=Cabinet.objects.none(),
        empty_label=None,
        error_messages={"required": "保管庫を選んでください"},
    )

    def __init__(self, *args: Any, cabinets: QuerySet[Cabinet], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["cabinet"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = cabinets


class CabinetForm(forms.Form):
    name = forms.CharField(
        label="名称", max_length=64, error_messages={"required": "保管庫の名称を入力してください"}
    )
    location = forms.CharField(label="設置場所", max_length=100, required=False)


class KeyHandoverForm(forms.Form):
    """保管庫の鍵の引継ぎ."""

    cabinet = forms.ModelChoiceField(
        label="保管庫",
        queryset=Cabinet.objects.none(),
        empty_label=None,
        error_messages={"required": "保管庫を選んでください"},
    )
    to_officer = OfficerChoiceField(
        label="受け取る者",
        queryset=Officer.objects.none(),
        error_messages={
            "required": "鍵を受け取る者を選んでください",
            "invalid_choice": (
                "鍵を保管できるのは取扱責任者、または管理責任者が指定した代理保管者です（第5-3(4)）"
            ),
        },
    )
    reason = forms.CharField(
        label="理由",
        max_length=200,
        error_messages={"required": "引継ぎの理由を入力してください"},
        widget=forms.TextInput(attrs={"placeholder": "例: 所長の休暇（○日まで）、帰所"}),
    )

    def __init__(
        self,
        *args: Any,
        cabinets: QuerySet[Cabinet],
        officers: QuerySet[Officer],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cabinet = self.fields["cabinet"]
        assert isinstance(cabinet, forms.ModelChoiceField)
        cabinet.queryset = cabinets
        to_officer = self.fields["to_officer"]
        assert isinstance(to_officer, OfficerChoiceField)
        to_officer.queryset = officers


class InspectionForm(forms.Form):
    inspected_on = JapaneseDateField(
        label="点検日",
        initial=today,
        error_messages={
            "required": "点検日を入力してください",
        },
    )
    findings = forms.CharField(
        label="指摘事項", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    guidance = forms.CharField(
        label="指導事項", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    follow_ups = forms.CharField(
        label="措置すべき事項（1行に1件）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="ここに書いた事項は、交番等が措置を報告するまで「措置中」として残ります",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in CHECKLIST.items():
            self.fields[name] = forms.BooleanField(label=label, required=False)

    def checklist(self) -> dict[str, bool]:
        return {name: bool(self.cleaned_data.get(name)) for name in CHECKLIST}

    def checklist_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CHECKLIST]

    def follow_up_lines(self) -> list[str]:
        text: str = self.cleaned_data.get("follow_ups", "")
        return [line.strip() for line in text.splitlines() if line.strip()]


class FollowUpForm(forms.Form):
    item = forms.ModelChoiceField(
        queryset=InspectionFollowUp.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "措置事項が見つかりません"},
    )
    action_taken = forms.CharField(
        label="措置の内容",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "措置の内容を入力してください"},
    )

    def __init__(self, *args: Any, items: QuerySet[InspectionFollowUp], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["item"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = items


class LossReportForm(forms.Form):
    """亡失・盗難の報告: when, where, how, and what was done."""

    kind = forms.ChoiceField(
        label="区分",
        choices=LossKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "亡失（紛失）か盗難かを選んでください",
            "invalid_choice": "区分は亡失（紛失）か盗難を選んでください",
        },
    )
    occurred_at = JapaneseDateTimeField(
        label="発生日時（判明した日時）",
    )
    place = forms.CharField(
        label="発生場所",
        max_length=200,
        error_messages={
            "required": "発生場所を入力してください",
            "max_length": "発生場所は200文字以内で入力してください",
        },
    )
    circumstances = forms.CharField(
        label="状況（どのように亡失・盗難に遭ったか）",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={
            "required": "状況を入力してください",
            "max_length": "状況は2000文字以内で入力してください",
        },
    )
    measures = forms.CharField(
        label="措置（遺失届・被害届の届出先、捜索の状況）",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={
            "required": "措置（届出・捜索）を入力してください",
            "max_length": "措置は2000文字以内で入力してください",
        },
    )


class InformedForm(forms.Form):
    method = forms.ChoiceField(
        label="連絡の方法",
        choices=InformMethod.choices,
        error_messages={
            "required": "連絡の方法を選んでください",
            "invalid_choice": "連絡の方法は面接・電話・文書・その他から選んでください",
        },
    )
    note = forms.CharField(
        label="連絡の内容・相手方",
        required=False,
        max_length=200,
        error_messages={"max_length": "連絡の内容は200文字以内で入力してください"},
    )


class RecreatedForm(forms.Form):
    note = forms.CharField(
        label="備考",
        required=False,
        max_length=200,
        error_messages={"max_length": "備考は200文字以内で入力してください"},
    )


class FoundForm(forms.Form):
    place = forms.CharField(
        label="発見場所",
        max_length=200,
        error_messages={
            "required": "発見場所を入力してください",
            "max_length": "発見場所は200文字以内で入力してください",
        },
    )
    note = forms.CharField(
        label="発見時の状況",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"max_length": "発見時の状況は2000文字以内で入力してください"},
    )
