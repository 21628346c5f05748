"""Beat map pages (受持区地図): the map, setting a beat's outline, importing many outlines.

Every page reads the beat through junkai.access (scope, 404 alike for absent and out of scope)
and the map read is recorded (READ_BEAT_MAP). Writes go through org.actions /
planning.actions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.roles import can_write_post, may_edit_beat_outline
from junkai.access.units import access_beat_for_outline, access_beat_map, access_outline_beats
from junkai.households.legend import CATEGORY_COLOURS, Due
from junkai.households.models import Category
from junkai.lib.forms import apply_errors
from junkai.lib.returns import record_url
from junkai.org import actions as org_actions
from junkai.org.models import Beat
from junkai.planning import actions, maps
from junkai.planning.forms import GeoJSONForm, PostLocationForm


def _config(beat: Beat, **extra: Any) -> dict[str, Any]:
    """What beat_map.js needs besides the data: tiles, colours, labels, links."""
    return {
        "tiles": maps.tiles(),
        "colours": {str(k): v for k, v in CATEGORY_COLOURS.items()},
        "household_url": reverse("household", args=[0]).replace("/0/", "/{id}/"),
        **extra,
    }


@declare_access("scoped")
@signed_in_view
def beat_map(request: AuthenticatedHttpRequest, beat_id: int) -> HttpResponse:
    """受持区地図: households by category and due status, buildings, the outline, the post."""
    officer = request.user
    beat = access_beat_map(officer, beat_id)
    data = maps.beat_map(beat)
    meta = data["junkai"]
    return render(
        request,
        "planning/beat_map.html",
        {
            "beat": beat,
            "map_data": data,
            "map_config": _config(
                beat,
                # 記録 in the popups for those who record visits at this post.
                visit_url=record_url(
                    reverse("visit_new", args=[0]).replace("/0/", "/{id}/"), back=request.path
                )
                if can_write_post(officer, beat.post_id)
                else "",
            ),
            "meta": meta,
            "categories": [(c.value, c.label, CATEGORY_COLOURS[c]) for c in Category],
            "due_choices": list(Due.LABELS.items()),
            "can_edit": may_edit_beat_outline(officer, beat),
        },
    )


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def beat_outline(request: AuthenticatedHttpRequest, beat_id: int) -> HttpResponse:
    """受持区の区域の設定 (管理責任者): draw on the map, paste GeoJSON or choose a file; and
    where the post stands."""
    officer = request.user
    beat = access_beat_for_outline(officer, beat_id)
    form = GeoJSONForm()
    post_form = PostLocationForm(
        initial={"latitude": beat.post.latitude or "", "longitude": beat.post.longitude or ""}
    )
    status = 200
    if request.method == "POST":
        which = request.POST.get("form", "outline")
        try:
            if which == "clear":
                org_actions.do_save_beat_outline(beat, None, acting_officer=officer)
                messages.success(request, f"{beat.name}の区域を削除しました。")
                return redirect("beat_outline", beat_id=beat.id)
            if which == "post_location":
                post_form = PostLocationForm(request.POST)
                if post_form.is_valid():
                    org_actions.do_set_post_location(
                        beat.post,
                        acting_officer=officer,
                        latitude=post_form.cleaned_data["latitude"],
                        longitude=post_form.cleaned_data["longitude"],
                    )
                    messages.success(request, f"{beat.post.name}の位置を保存しました。")
                    return redirect("beat_outline", beat_id=beat.id)
            else:
                form = GeoJSONForm(request.POST, request.FILES)
                if form.is_valid():
                    org_actions.do_save_beat_outline(
                        beat, form.cleaned_data["text"], acting_officer=officer
                    )
                    messages.success(request, f"{beat.name}の区域を保存しました。")
                    return redirect("beat_map", beat_id=beat.id)
        except ValidationError as exc:
            target = post_form if which == "post_location" else form
            apply_errors(target, exc, rename={"outline": "geojson"})
        status = 422
    data = maps.beat_map(beat)
    return render(
        request,
        "planning/beat_outline.html",
        {
            "beat": beat,
            "form": form,
            "post_form": post_form,
            "map_data": data,
            "map_config": _config(beat, editing=True),
            "meta": data["junkai"],
        },
        status=status,
    )


@declare_access("post_manager")
@signed_in_view
@require_http_methods(["GET", "POST"])
def outline_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    """区域の一括取込: a FeatureCollection, one Feature per beat (by code or name); all or
    nothing, with a message per feature."""
    officer = request.user
    beats = access_outline_beats(officer)
    form = GeoJSONForm()
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        form = GeoJSONForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = actions.do_import_beat_outlines(
                    form.cleaned_data["text"], acting_officer=officer
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                names = "、".join(b.name for b in result.beats)
                messages.success(
                    request, f"{len(result.beats)}件の受持区の区域を取り込みました（{names}）。"
                )
                return redirect("outline_import")
        status = 422
    return render(
        request,
        "planning/outline_import.html",
        {
            "form": form,
            "errors": errors,
            "beats": beats,
            "code_keys": actions.CODE_KEYS,
            "name_keys": actions.NAME_KEYS,
        },
        status=status,
    )
