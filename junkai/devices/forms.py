"""The keeper's forms for devices: the same limits and messages as devices.actions, which
checks them again (the API reaches the actions without these forms)."""

from __future__ import annotations

from django import forms

from junkai.devices.actions import MAX_LABEL, MAX_REASON


class DeviceForm(forms.Form):
    label = forms.CharField(
        label="端末名",
        max_length=MAX_LABEL,
        help_text="本体に貼った管理番号など（例: TAB-03）",
        error_messages={
            "required": "端末名を入力してください",
            "max_length": f"端末名は{MAX_LABEL}文字以内で入力してください",
        },
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="使用停止の理由",
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="故障・廃棄・更新など。個人の氏名などは書かないでください。",
        error_messages={
            "required": "理由を入力してください",
            "max_length": f"理由は{MAX_REASON}文字以内で入力してください",
        },
    )
