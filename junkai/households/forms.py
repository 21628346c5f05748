"""Forms of the household pages. Card content is checked by cards.clean (one set of rules for
pages, API and import); these forms only carry the fields and show its Japanese errors."""

from __future__ import annotations

from typing import Any

from django import forms

from junkai.households.cards import CardInvalid
from junkai.households.models import (
    CardSource,
    HouseholdKind,
    LeaderRole,
    RevisionBasis,
    Sex,
)


def _text(label: str, *, required: bool = False, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=required, widget=forms.TextInput(attrs=attrs))


class CardForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    source = forms.ChoiceField(
        label="記入者", choices=CardSource.choices, initial=CardSource.OFFICER
    )
    accepted_on = _text("受理日", placeholder="例: R7.4.1（令和7年4月1日）")
    binder_number = _text("簿冊番号")
    index_number = _text("索引番号", inputmode="numeric")
    preferred_days = _text("訪問希望の曜日", placeholder="例: 土日")
    preferred_times = _text("訪問希望の時間帯", placeholder="例: 18時以降")
    needs_support = forms.BooleanField(label="要援護（災害時に支援が必要）", required=False)
    support_consent = forms.BooleanField(label="要援護の登録に本人が同意", required=False)
    requests = forms.CharField(
        label="警察への要望", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    remarks = forms.CharField(
        label="備考", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    basis = forms.ChoiceField(
        label="補正の根拠",
        choices=[c for c in RevisionBasis.choices if c[0] != RevisionBasis.NEW],
        initial=RevisionBasis.VISIT,
        required=False,  # not asked for a new card
    )
    note = _text("補正メモ")


class ResidentForm(forms.Form):
    name = _text("氏名", autocomplete="off")
    kana = _text("ふりがな", autocomplete="off", lang="ja")
    relation = _text("続柄", placeholder="世帯主・妻・長男…")
    birth_date = _text("生年月日", placeholder="例: S45.3.1（昭和45年3月1日）")
    sex = forms.ChoiceField(
        label="性別", choices=[("", "―"), (Sex.MALE, "男"), (Sex.FEMALE, "女")], required=False
    )
    workplace = _text("勤務先・学校")
    phone = _text("電話", inputmode="tel")


class ContactForm(forms.Form):
    name = _text("氏名")
    relation = _text("続柄")
    phone = _text("連絡先", inputmode="tel")


class VehicleForm(forms.Form):
    description = _text("車種・色")
    plate = _text("登録番号")


# One blank row each: the page's 追加 button adds more (without script, save and add again).
ResidentFormSet = forms.formset_factory(ResidentForm, extra=1)
ContactFormSet = forms.formset_factory(ContactForm, extra=1)
VehicleFormSet = forms.formset_factory(VehicleForm, extra=1)


def apply_card_errors(
    error: CardInvalid,
    form: CardForm,
    formsets: dict[str, forms.BaseFormSet[Any]],
) -> None:
    """Put cards.clean's errors ("residents.1.birth_date") on the field they name."""
    for path, message in error.errors.items():
        parts = path.split(".")
        if parts[0] in formsets and len(parts) == 3:
            formset = formsets[parts[0]]
            index = int(parts[1])
            if index < len(formset.forms):
                formset.forms[index].add_error(parts[2], message)
                continue
        field = parts[0] if parts[0] in form.fields else None
        form.add_error(field, message)


class HouseholdForm(forms.Form):
    kind = forms.ChoiceField(label="種別", choices=HouseholdKind.choices)
    name = _text("世帯主・事業所名")
    town = _text("町名", required=True)
    chome = _text("丁目", inputmode="numeric")
    banchi = _text("番地")
    go = _text("号")
    room = _text("部屋番号")
    block_group = _text("組・班")
    map_number = forms.IntegerField(
        label="整理番号",
        required=False,
        min_value=1,
        error_messages={
            "invalid": "整理番号は整数で入力してください",
            "min_value": "整理番号は1以上です",
        },
    )
    latitude = forms.DecimalField(
        label="緯度",
        required=False,
        max_digits=9,
        decimal_places=6,
        error_messages={"invalid": "緯度は数値で入力してください"},
    )
    longitude = forms.DecimalField(
        label="経度",
        required=False,
        max_digits=9,
        decimal_places=6,
        error_messages={"invalid": "経度は数値で入力してください"},
    )
    elderly_flag = forms.BooleanField(label="高齢者世帯（広報・防犯指導が必要）", required=False)
    leader_role = forms.ChoiceField(label="地域の役職", choices=LeaderRole.choices, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["town"].error_messages["required"] = "町名を入力してください"


class DisposalForm(forms.Form):
    reason = _text("廃棄の理由", required=True)
    witness_username = _text("立会者のログインID", required=True, autocomplete="off")
    witness_password = forms.CharField(
        label="立会者のパスワード", widget=forms.PasswordInput, strip=False
    )
    witness_otp = _text(
        "立会者の確認コード（二要素認証を使う職員）",
        inputmode="numeric",
        autocomplete="one-time-code",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["required"] = "廃棄の理由を入力してください"
        self.fields["witness_username"].error_messages["required"] = (
            "立会者のログインIDを入力してください"
        )
        self.fields["witness_password"].error_messages["required"] = (
            "立会者のパスワードを入力してください"
        )


class SearchForm(forms.Form):
    query = forms.CharField(
        label="氏名（漢字・かな）、住所、電話番号",
        max_length=60,
        error_messages={"required": "検索する語を入力してください"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )


class ExportForm(forms.Form):
    purpose = forms.CharField(
        label="出力の目的",
        max_length=200,
        error_messages={"required": "出力の目的を入力してください"},
        widget=forms.TextInput(attrs={"placeholder": "例: 防犯指導の訪問計画作成のため"}),
    )
