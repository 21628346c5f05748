"""Organisation pages for the station chief and the 地域課長 (管理責任者)."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.roles import (
    administered_stations,
    credentials_reset_refusal,
    is_station_chief,
    managed_posts,
    officers_of_station,
)
from junkai.access.units import (
    access_assignment_admin,
    access_managed_post,
    access_officer_record,
    access_post_admin,
    access_station_admin,
)
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.forms import apply_errors
from junkai.org import actions
from junkai.org.forms import AssignmentForm, DesignationForm, EndAssignmentForm, KeyDeputyForm
from junkai.org.models import Assignment, KeyDeputy, Officer, Post, Role, today


@declare_access("station_admin")
@signed_in_view
def org_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    station = administered_stations(request.user).first()
    if station is None:
        raise Http404("見つかりません")
    return redirect("org_station", station_id=station.id)


@declare_access("station_admin")
@signed_in_view
def org_station(request: AuthenticatedHttpRequest, station_id: int) -> HttpResponse:
    station = access_station_admin(request.user, station_id)
    current = (
        Assignment.objects.current()
        .filter(Q(station=station) | Q(post__station=station))
        .select_related("officer", "post")
        .prefetch_related("beats")
        .order_by("post__code", "role", "officer__username")
    )
    by_post: dict[int | None, list[Assignment]] = defaultdict(list)
    for a in current:
        by_post[a.post_id].append(a)
    posts = list(
        Post.objects.filter(station=station).prefetch_related(
            "beats",
            Prefetch(
                "key_deputies",
                queryset=KeyDeputy.objects.filter(
                    Q(valid_to__isnull=True) | Q(valid_to__gte=today()), valid_from__lte=today()
                ).select_related("officer"),
                to_attr="current_key_deputies",
            ),
        )
    )
    rows = [
        {
            "post": post,
            "assignments": by_post.get(post.id, []),
            "custodians": [a for a in by_post.get(post.id, []) if a.role == Role.CUSTODIAN],
        }
        for post in posts
    ]
    return render(
        request,
        "org/station.html",
        {
            "station": station,
            "station_assignments": by_post.get(None, []),
            "rows": rows,
            "is_chief": is_station_chief(request.user, station),
            "managed_post_ids": set(managed_posts(request.user).values_list("id", flat=True)),
        },
    )


@declare_access("station_admin")
@signed_in_view
@require_http_methods(["GET", "POST"])
def assignment_new(request: AuthenticatedHttpRequest, station_id: int) -> HttpResponse:
    station = access_station_admin(request.user, station_id)
    form = AssignmentForm(request.POST or None, station=station)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment = actions.do_assign(
                data["officer"],
                acting_officer=request.user,
                role=data["role"],
                station=station,
                post=data["post"],
                beats=data["beats"],
                valid_from=data["valid_from"],
                end_current=data["end_current"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDeniedError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"{assignment.officer}を{assignment.unit_label}に配置しました。"
            )
            return redirect("org_station", station_id=station.id)
    return render(request, "org/assignment_form.html", {"station": station, "form": form})


@declare_access("station_admin")
@signed_in_view
@require_http_methods(["GET", "POST"])
def assignment_end(request: AuthenticatedHttpRequest, assignment_id: int) -> HttpResponse:
    assignment = access_assignment_admin(request.user, assignment_id)
    form = EndAssignmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_end_assignment(
                assignment, acting_officer=request.user, valid_to=form.cleaned_data["valid_to"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDeniedError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "配置を終了しました。")
            return redirect("org_station", station_id=assignment.station_id)
    return render(request, "org/assignment_end.html", {"assignment": assignment, "form": form})


def _designation(
    request: AuthenticatedHttpRequest, post_id: int, *, key_deputy: bool
) -> HttpResponse:
    if key_deputy:
        post = access_managed_post(request.user, post_id)
    else:
        post = access_post_admin(request.user, post_id)
    officers = officers_of_station(post.station).order_by("staff_number")
    form_class = KeyDeputyForm if key_deputy else DesignationForm
    form = form_class(request.POST or None, officers=officers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if key_deputy:
                actions.do_designate_key_deputy(
                    post,
                    data["officer"],
                    acting_officer=request.user,
                    valid_from=data["valid_from"],
                    valid_to=data.get("valid_to"),
                )
                messages.success(request, f"{post}の保管庫の鍵の代理保管者を指定しました。")
            else:
                actions.do_designate_custodian(
                    post,
                    data["officer"],
                    acting_officer=request.user,
                    valid_from=data["valid_from"],
                )
                messages.success(request, f"{post}の取扱責任者を指定しました。")
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDeniedError as error:
            form.add_error(None, str(error))
        else:
            if administered_stations(request.user).filter(id=post.station_id).exists():
                return redirect("org_station", station_id=post.station_id)
            return redirect("home")
    return render(
        request,
        "org/designation_form.html",
        {"post": post, "form": form, "key_deputy": key_deputy},
    )


@declare_access("station_admin")
@signed_in_view
@require_http_methods(["GET", "POST"])
def custodian_designate(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    return _designation(request, post_id, key_deputy=False)


@declare_access("post_manager")
@signed_in_view
@require_http_methods(["GET", "POST"])
def key_deputy_designate(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    return _designation(request, post_id, key_deputy=True)


@declare_access("station_admin")
@signed_in_view
def officer_detail(request: AuthenticatedHttpRequest, officer_id: int) -> HttpResponse:
    officer: Officer = access_officer_record(request.user, officer_id)
    history = (
        Assignment.objects.filter(officer=officer)
        .select_related("station", "post")
        .prefetch_related("beats")
        .order_by("-valid_from")
    )
    return render(
        request,
        "org/officer.html",
        {
            "officer": officer,
            "history": history,
            "reset_refusal": credentials_reset_refusal(request.user, officer),
        },
    )


@declare_access("station_admin")
@signed_in_view
@require_POST
def officer_end_sessions(request: AuthenticatedHttpRequest, officer_id: int) -> HttpResponse:
    officer = access_officer_record(request.user, officer_id)
    actions.do_end_sessions(officer, acting_officer=request.user, reason="ended by manager")
    messages.success(request, f"{officer}のすべてのセッションとAPIトークンを無効にしました。")
    return redirect("org_officer", officer_id=officer.id)
