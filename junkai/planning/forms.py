"""Forms of the beat map pages: an outline as GeoJSON (drawn, pasted or a file)."""

from __future__ import annotations

from typing import Any

from django import forms

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class GeoJSONForm(forms.Form):
    """GeoJSON from the drawing (JS fills the text), pasted text, or a .geojson/.json file."""

    geojson = forms.CharField(
        label="GeoJSON",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )
    file = forms.FileField(label="GeoJSONファイル", required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                self.add_error("file", "ファイルが大きすぎます（5MBまで）")
                return cleaned
            cleaned["text"] = upload.read()
        elif (cleaned.get("geojson") or "").strip():
            cleaned["text"] = cleaned["geojson"]
        else:
            self.add_error(
                "geojson",
                "区域を地図上で描くか、GeoJSONを貼り付けるか、ファイルを選んでください",
            )
        return cleaned


class PostLocationForm(forms.Form):
    latitude = forms.CharField(label="緯度", required=False, max_length=20)
    longitude = forms.CharField(label="経度", required=False, max_length=20)
