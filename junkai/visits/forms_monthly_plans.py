"""Forms of the planning pages. They carry the fields and give Japanese errors naming each
field; the rules themselves live in junkai.visits.actions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from junkai.households.models import Household
from junkai.lib.forms import JapaneseDateField
from junkai.visits.models import ConcernStatus


def _whole_number(
    label: str, low: int, high: int, unit: str, *, shown: str = ""
) -> forms.IntegerField:
    """An integer in [low, high]; `shown` is the label on the page when the message's is longer."""
    message = f"{label}は{low}〜{high}{unit}の整数で入力してください"
    return forms.IntegerField(
        label=shown or label,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": f"{label}を入力してください",
            "invalid": message,
            "min_value": message,
            "max_value": message,
        },
    )


def _time(label: str) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": f"{label}を入力してください",
            "invalid": f"{label}は 19:00 の形式で入力してください",
        },
    )


class PolicyForm(forms.Form):
    """別表 intervals and the rest of the schedule policy (本部地域課 only)."""

    unknown_months = _whole_number(
        "未把握世帯の実施頻度", 1, 60, "か月", shown="未把握世帯（か月）"
    )
    elderly_months = _whole_number(
        "高齢者世帯の実施頻度", 1, 60, "か月", shown="高齢者世帯（か月）"
    )
    home_months = _whole_number("家庭の実施頻度", 1, 60, "か月", shown="家庭（か月）")
    business_months = _whole_number("事業所等の実施頻度", 1, 60, "か月", shown="事業所等（か月）")
    leader_months = _whole_number(
        "自治委員・区長・班長・組長の実施頻度",
        1,
        60,
        "か月",
        shown="自治委員・区長・班長・組長（か月）",
    )
    absent_retry_days = _whole_number("不在時の再訪", 1, 180, "日", shown="不在時の再訪（日後）")
    night_start = _time("夜間の開始")
    night_end = _time("夜間の終了")
    horizon_days = _whole_number("作業リストの期間", 1, 365, "日", shown="作業リストの期間（日）")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("night_start"), data.get("night_end")
        if start is not None and start == end:
            # An empty window would silently allow every visit at night.
            self.add_error("night_end", "夜間の終了は開始と異なる時刻にしてください")
        return data


class PlanForm(forms.Form):
    """The officer's plan for one month (計画的に実施)."""

    areas = forms.CharField(
        label="重点地区",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "例: 駅前町1丁目・2丁目（新築アパート）"}),
        error_messages={"max_length": "重点地区は200文字以内で入力してください"},
    )
    target_visits = _whole_number("予定件数", 0, 2000, "件")
    households = forms.TypedMultipleChoiceField(
        label="計画に入れる世帯",
        coerce=int,
        required=False,
        error_messages={
            "invalid_choice": "計画に入れられない世帯が含まれています（受持区で期限の来る世帯から選んでください）"
        },
    )

    def __init__(self, *args: Any, households: Iterable[Household], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["households"].choices = [(h.id, h.address) for h in households]  # type: ignore[attr-defined]


class DedicatedDayForm(forms.Form):
    """The day only: which days may be set is do_set_dedicated_day's rule."""

    day = JapaneseDateField(
        label="専従日",
        error_messages={"required": "専従日を入力してください"},
    )


class HandoverNoteForm(forms.Form):
    text = forms.CharField(
        label="引継事項",
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "例: ○○アパートは管理人経由で訪問すると面接しやすい"}
        ),
        error_messages={
            "required": "引継事項を入力してください",
            "max_length": "引継事項は2000文字以内で入力してください",
        },
    )


class ConcernForm(forms.Form):
    status = forms.ChoiceField(
        label="対応状況",
        choices=ConcernStatus.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "対応状況を選んでください",
            "invalid_choice": "対応状況の値が正しくありません",
        },
    )
    resolution = forms.CharField(
        label="対応結果",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "対応結果は2000文字以内で入力してください"},
    )
