"""Household pages: beat lists, the household and its card, card entry and correction,
search, disposal and export. Every read of personal data goes through junkai.access."""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.purposes import (
    NOTE_MAX,
    ReadPurpose,
    remember_purpose,
    remembered_purposes,
    state_purpose,
)
from junkai.access.roles import (
    beats_visible_to,
    can_write_post,
    may_account_disclosures,
    own_beats,
    posts_writable_by,
)
from junkai.access.units import access_beat
from junkai.accounts.actions import second_factor_required, verify_second_factor
from junkai.households import actions, cards
from junkai.households.access import (
    PurposeRequired,
    access_household,
    access_household_for_write,
    access_household_to_read,
    active_card,
    read_access_log,
    record_list_read,
)
from junkai.households.export import export_beat_cards
from junkai.households.forms import (
    CardForm,
    ContactFormSet,
    DisposalForm,
    ExportForm,
    HouseholdForm,
    ResidentFormSet,
    SearchForm,
    VehicleFormSet,
    apply_card_errors,
)
from junkai.households.models import (
    CardStatus,
    ContactCard,
    Household,
    HouseholdStatus,
    RevisionBasis,
)
from junkai.households.rows import ListRow, RowGroup, beat_list_households, rows_html
from junkai.households.search import search_households
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.forms import apply_errors, error_summary
from junkai.lib.returns import NEXT_PARAM, list_path, local_path, record_url
from junkai.lib.returns import household_id as household_id_param
from junkai.lib.wareki import format_wareki_short
from junkai.org.models import Officer, today

#: Visits shown in the household page's 直近の巡回.
RECENT_VISITS = 5
#: A beat list longer than this opens with its 町名・組 groups folded.
FOLD_OVER = 60


@declare_access("scoped")
@signed_in_view
def beat_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The beats in the officer's scope, his own first."""
    officer = request.user
    own = set(own_beats(officer).values_list("id", flat=True))
    beats = sorted(
        beats_visible_to(officer).select_related("post"),
        key=lambda b: (b.id not in own, b.post.code, b.code),
    )
    return render(request, "households/beat_index.html", {"beats": beats, "own": own})


@declare_access("scoped")
@signed_in_view
def beat_households(request: AuthenticatedHttpRequest, beat_id: int) -> HttpResponse:
    """Beat → town → 組・班 → households, with category and card status at a glance."""
    officer = request.user
    beat = access_beat(officer, beat_id)
    town = request.GET.get("town", "")
    block_group = request.GET.get("block_group", "")
    households = beat_list_households(beat, town=town, block_group=block_group)
    all_towns = list(
        Household.objects.filter(beat=beat)
        .values_list("town", flat=True)
        .distinct()
        .order_by("town")
    )
    by_group: OrderedDict[tuple[str, str], list[tuple[ListRow, str]]] = OrderedDict()
    # ~800 rows: links and rows are built in Python once (households/rows.py), not by
    # template tags per row.
    base = reverse("household", args=[0]).removesuffix("0/")
    for household in households:
        by_group.setdefault((household.town, household.block_group), []).append(
            (household, f"{base}{household.id}/")
        )
    can_write = can_write_post(officer, beat.post_id)
    marked = household_id_param(request.GET.get(NEXT_PARAM))
    records: dict[int, str] = {}
    if can_write:
        # 記録 on each household in residence; 次の世帯 is the next of those in the list.
        back = list_path(request)
        visit_base = reverse("visit_new", args=[0])
        active = [h.id for h in households if h.status == HouseholdStatus.ACTIVE]
        for index, hid in enumerate(active):
            after = active[index + 1] if index + 1 < len(active) else None
            records[hid] = record_url(
                visit_base.replace("/0/", f"/{hid}/", 1), back=back, then=after
            )
    # A long list opens folded by 町名・組 (its counts in the headings); the group holding
    # 次の世帯 opens, and so does a short list.
    fold = len(households) > FOLD_OVER
    groups = [
        RowGroup(
            town=key[0],
            block_group=key[1],
            count=len(rows),
            rows=rows_html(rows, records, marked),
            number=number,
            open=not fold or any(row.id == marked for row, _ in rows),
        )
        for number, (key, rows) in enumerate(by_group.items(), start=1)
    ]
    count = sum(g.count for g in groups)
    record_list_read(officer, beat=beat, count=count)
    return render(
        request,
        "households/beat_households.html",
        {
            "beat": beat,
            "groups": groups,
            "count": count,
            "towns": all_towns,
            "town": town,
            "block_group": block_group,
            "can_write": can_write,
            "folded": fold,
        },
    )


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def household_detail(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    officer = request.user
    if request.method == "POST":
        return _state_purpose(request, household_id)
    try:
        household = access_household_to_read(
            officer,
            household_id,
            stated=remembered_purposes(request),
            purpose="世帯ページの閲覧",
            with_card=True,
        )
    except PurposeRequired as required:
        # Arriving from a record button (a visit, a route, a plan): 巡回連絡 is preselected.
        arriving = {"purpose": ReadPurpose.PATROL} if request.GET.get("via") == "visit" else None
        return ask_purpose(request, required.household, PurposeForm(initial=arriving))
    card = active_card(household)
    if card is not None:
        cards.prefetch_lists([card])  # residents, contacts and vehicles in one query
    old_cards = household.cards.filter(status=CardStatus.DISPOSED).select_related(
        "disposed_by", "disposal_witness"
    )
    revisions = card.revisions.select_related("revised_by").order_by("-version") if card else []
    access_log = read_access_log(officer, household, purpose="世帯ページの閲覧記録", limit=100)
    can_write = can_write_post(officer, household.post_id)
    return render(
        request,
        "households/household.html",
        {
            "household": household,
            # 直近の巡回: the last visits (the household's own record of them) and the next due.
            "recent_visits": household.visits.select_related("officer").order_by("-started_at")[
                :RECENT_VISITS
            ],
            "record_url": record_url(reverse("visit_new", args=[household.id]), back=request.path)
            if can_write and household.status == HouseholdStatus.ACTIVE
            else "",
            "card": card,
            "old_cards": old_cards,
            "revisions": revisions,
            "access_log": access_log,
            "can_write": can_write,
            "can_account": may_account_disclosures(officer, household),
            "today": today(),
        },
    )


def _wareki_input(iso: str | None) -> str:
    """A stored date as the form shows it: 和暦 as officers type it (S45.3.1)."""
    return format_wareki_short(dt.date.fromisoformat(iso)) if iso else ""


def _card_initial(card: ContactCard | None) -> tuple[dict[str, Any], cards.CardData]:
    data = cards.snapshot(card) if card else {"residents": [], "contacts": [], "vehicles": []}
    data["accepted_on"] = _wareki_input(data.get("accepted_on"))
    data["residents"] = [
        {**r, "birth_date": _wareki_input(r.get("birth_date"))} for r in data["residents"]
    ]
    initial = {f: data.get(f) for f in cards.CARD_FIELDS}
    initial["version"] = card.version if card else None
    return initial, data


def _submitted(form: CardForm, formsets: dict[str, Any]) -> cards.CardData:
    raw = form.data
    data: cards.CardData = {f: raw.get(f, "") for f in cards.CARD_FIELDS}
    data["needs_support"] = raw.get("needs_support") in ("on", "true", "1")
    data["support_consent"] = raw.get("support_consent") in ("on", "true", "1")
    for key, formset in formsets.items():
        rows = []
        for sub in formset.forms:
            rows.append({name: sub.data.get(sub.add_prefix(name), "") for name in sub.fields})
        data[key] = rows
    return data


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def card_edit(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    """Card entry (新規作成) and correction (補正), fit for a tablet in the field."""
    officer = request.user
    household = access_household_for_write(officer, household_id)
    card = household.cards.filter(status=CardStatus.ACTIVE).first()
    initial, data = _card_initial(card)
    formsets: dict[str, BaseFormSet[Any]]
    if request.method == "POST":
        form = CardForm(request.POST)
        formsets = {
            "residents": ResidentFormSet(request.POST, prefix="residents"),
            "contacts": ContactFormSet(request.POST, prefix="contacts"),
            "vehicles": VehicleFormSet(request.POST, prefix="vehicles"),
        }
        if all(fs.is_valid() for fs in formsets.values()) and form.is_valid():
            submitted = _submitted(form, formsets)
            version = form.cleaned_data.get("version")
            try:
                saved = actions.do_save_card(
                    household,
                    submitted,
                    acting_officer=officer,
                    expected_version=version,
                    basis=form.cleaned_data["basis"] or RevisionBasis.VISIT,
                    note=form.cleaned_data["note"],
                )
            except actions.StaleCardError as conflict:
                return _conflict(request, household, conflict, form.cleaned_data)
            except cards.CardInvalid as invalid:
                apply_card_errors(invalid, form, formsets)
            except PermissionDeniedError as denied:
                form.add_error(None, str(denied))
            else:
                verb = "作成" if saved.version == 1 else f"補正（第{saved.version}版）"
                messages.success(request, f"巡回連絡カードを{verb}しました。")
                return redirect("household", household_id=household.id)
    else:
        form = CardForm(initial=initial)
        formsets = {
            "residents": ResidentFormSet(initial=data["residents"], prefix="residents"),
            "contacts": ContactFormSet(initial=data["contacts"], prefix="contacts"),
            "vehicles": VehicleFormSet(initial=data["vehicles"], prefix="vehicles"),
        }
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "households/card_form.html",
        {
            "household": household,
            "card": card,
            "form": form,
            "formsets": formsets,
            "error_summary": error_summary(
                [form, *(f for fs in formsets.values() for f in fs.forms)]
            ),
        },
        status=status,
    )


def _conflict(
    request: AuthenticatedHttpRequest,
    household: Household,
    conflict: actions.StaleCardError,
    cleaned: dict[str, Any],
) -> HttpResponse:
    """「他の職員が先に更新しました」: both versions side by side; nothing was saved."""
    # The page shows the latest card: a read of its own.
    access_household(request.user, household.id, purpose="補正の競合確認")
    current = cards.snapshot(conflict.card)
    differences = cards.diff(current, conflict.submitted)
    latest = conflict.card.revisions.select_related("revised_by").order_by("-version").first()
    return render(
        request,
        "households/card_conflict.html",
        {
            "household": household,
            "current": current,
            "submitted": conflict.submitted,
            "current_version": conflict.card.version,
            "expected_version": conflict.expected_version,
            "latest": latest,
            "differences": differences,
            "resubmit": json.dumps(conflict.submitted, ensure_ascii=False),
            "basis": cleaned.get("basis", ""),
            "note": cleaned.get("note", ""),
        },
        status=409,
    )


@declare_access("scoped")
@signed_in_view
@require_POST
def card_overwrite(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    """After seeing both versions, the officer may deliberately save his own over the latest."""
    officer = request.user
    household = access_household_for_write(officer, household_id)
    try:
        submitted = json.loads(request.POST.get("submitted", ""))
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "送信内容が正しくありません。もう一度入力してください。")
        return redirect("card_edit", household_id=household.id)
    try:
        saved = actions.do_save_card(
            household,
            submitted,
            acting_officer=officer,
            expected_version=version,
            basis=request.POST.get("basis") or "VISIT",
            note=request.POST.get("note", ""),
        )
    except actions.StaleCardError as conflict:
        return _conflict(request, household, conflict, request.POST.dict())
    except cards.CardInvalid as invalid:
        messages.error(request, "、".join(invalid.errors.values()))
        return redirect("card_edit", household_id=household.id)
    messages.success(request, f"巡回連絡カードを補正（第{saved.version}版）しました。")
    return redirect("household", household_id=household.id)


def _household_initial(household: Household) -> dict[str, Any]:
    return {f: getattr(household, f) for f in actions.HOUSEHOLD_FIELDS}


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def household_new(request: AuthenticatedHttpRequest, beat_id: int) -> HttpResponse:
    officer = request.user
    beat = access_beat(officer, beat_id)
    form = HouseholdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            household = actions.do_create_household(
                beat, acting_officer=officer, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDeniedError as denied:
            form.add_error(None, str(denied))
        else:
            messages.success(request, "世帯を登録しました。続けて巡回連絡カードを作成できます。")
            return redirect("household", household_id=household.id)
    return render(request, "households/household_form.html", {"beat": beat, "form": form})


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def household_edit(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    officer = request.user
    household = access_household_for_write(officer, household_id, purpose="世帯情報の変更")
    form = HouseholdForm(request.POST or None, initial=_household_initial(household))
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_household(household, acting_officer=officer, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "世帯情報を変更しました。")
            return redirect("household", household_id=household.id)
    return render(
        request,
        "households/household_form.html",
        {"beat": household.beat, "form": form, "household": household},
    )


@declare_access("scoped")
@signed_in_view
@require_POST
def household_move_out(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    officer = request.user
    household = access_household_for_write(officer, household_id, purpose="転出の記録")
    actions.do_move_out(household, acting_officer=officer, vacant=request.POST.get("vacant") == "1")
    messages.success(request, "転出として記録しました。カードは保管されたままです。")
    return redirect("household", household_id=household.id)


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def card_dispose(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    """廃棄: a second officer witnesses it by signing in on the same screen."""
    officer = request.user
    household = access_household_for_write(officer, household_id, purpose="カードの廃棄")
    card = household.cards.filter(status=CardStatus.ACTIVE).first()
    if card is None:
        messages.error(request, "廃棄できるカードがありません。")
        return redirect("household", household_id=household.id)
    form = DisposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        witness = authenticate(
            request,
            username=form.cleaned_data["witness_username"],
            password=form.cleaned_data["witness_password"],
        )
        if not isinstance(witness, Officer):
            form.add_error(
                "witness_password", "立会者のログインIDまたはパスワードが正しくありません"
            )
        elif second_factor_required(witness) and not verify_second_factor(
            witness, form.cleaned_data["witness_otp"], channel="witness"
        ):
            # A known password alone must not make someone a witness.
            form.add_error("witness_otp", "立会者の確認コードが正しくありません")
        else:
            try:
                actions.do_dispose_card(
                    card,
                    acting_officer=officer,
                    witness=witness,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                apply_errors(form, error, rename={"witness": "witness_username"})
            else:
                messages.success(request, "巡回連絡カードを廃棄として記録しました。")
                return redirect("household", household_id=household.id)
    return render(
        request,
        "households/card_dispose.html",
        {"household": household, "card": card, "form": form},
    )


#: The officer's last search, kept in his session (on the server, ended by sign-out or 30
#: idle minutes) so that 記録 from the results comes back to them: the query is personal data
#: (a name, a phone number), so it never travels in a URL, where the server's and the proxy's
#: logs, the browser's history and the Referer would keep it.
SEARCH_SESSION_KEY = "household_search"
#: GET /search/?results=1: the results of the kept query.
RESULTS_PARAM = "results"


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Search is sent by POST, kept in the session and shown at GET /search/?results=1
    (post/redirect/get): the query never appears in a URL or a server log, the browser's back
    button returns to the results without asking to resend a form, and so does 記録."""
    if request.method == "POST":
        form = SearchForm(request.POST)
        if form.is_valid():
            request.session[SEARCH_SESSION_KEY] = form.cleaned_data["query"]
            return redirect(f"{reverse('search')}?{RESULTS_PARAM}=1")
        return render(request, "households/search.html", {"form": form, "rows": None})
    query = request.session.get(SEARCH_SESSION_KEY) if request.GET.get(RESULTS_PARAM) else None
    if not isinstance(query, str) or not query:
        # A new search (the navigation's 検索): the last query is not kept longer than needed.
        request.session.pop(SEARCH_SESSION_KEY, None)
        return render(request, "households/search.html", {"form": SearchForm(), "rows": None})
    hits = search_households(request.user, query)
    writable = set(posts_writable_by(request.user).values_list("id", flat=True))
    visit_base = reverse("visit_new", args=[0])
    back = f"{reverse('search')}?{RESULTS_PARAM}=1"
    # 記録 beside each household in residence at a post he records for; back to these results
    # with the next of them marked 次の世帯.
    recordable = [
        hit.household.id
        for hit in hits
        if hit.household.post_id in writable and hit.household.status == HouseholdStatus.ACTIVE
    ]
    records = {
        hid: record_url(
            visit_base.replace("/0/", f"/{hid}/", 1),
            back=back,
            then=recordable[index + 1] if index + 1 < len(recordable) else None,
        )
        for index, hid in enumerate(recordable)
    }
    marked = household_id_param(request.GET.get(NEXT_PARAM))
    rows = [(hit, records.get(hit.household.id, ""), hit.household.id == marked) for hit in hits]
    form = SearchForm(initial={"query": query})
    # Back at the results the page goes to 次の世帯, not to the search box (on a phone the
    # keyboard would open over the results).
    form.fields["query"].widget.attrs.pop("autofocus", None)
    return render(request, "households/search.html", {"form": form, "hits": hits, "rows": rows})


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def beat_export(request: AuthenticatedHttpRequest, beat_id: int) -> HttpResponse:
    """Excel export of a beat's cards: a stated purpose, audited per household."""
    officer = request.user
    beat = access_beat(officer, beat_id)
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        content = export_beat_cards(officer, beat, purpose=form.cleaned_data["purpose"])
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="cards-beat{beat.id}-{stamp}.xlsx"'
        return response
    return render(request, "households/export.html", {"beat": beat, "form": form})


# --- the stated purpose of a read outside the officer's own beats (要領 第5-4, DESIGN.md) ---


class PurposeForm(forms.Form):
    purpose = forms.ChoiceField(
        label="閲覧の目的", choices=ReadPurpose.choices, widget=forms.RadioSelect
    )
    purpose_note = forms.CharField(
        label="目的（「その他」のとき）", required=False, max_length=NOTE_MAX
    )


def ask_purpose(
    request: HttpRequest, household: Household, form: PurposeForm, *, continue_to: str = ""
) -> HttpResponse:
    """Nothing of the household is shown until the purpose is stated: only its beat.

    `continue_to`: the page to open once it is stated (the visit form, from a record button)
    instead of the household page."""
    return render(
        request,
        "households/purpose.html",
        {
            "form": form,
            "household_id": household.id,
            "beat": household.beat,
            "continue_to": continue_to,
        },
        status=422 if form.errors else 200,
    )


def _continue_to(request: HttpRequest, household: Household) -> str:
    """Where the purpose form goes on: the household's visit form (a record button), else ""."""
    target = local_path(request.POST.get("continue"))
    visit_form = reverse("visit_new", args=[household.id])
    return target if target.split("?", 1)[0] == visit_form else ""


def _state_purpose(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    household = access_household(request.user, household_id, record_read=False)
    form = PurposeForm(request.POST)
    continue_to = _continue_to(request, household)
    if not form.is_valid():
        return ask_purpose(request, household, form, continue_to=continue_to)
    try:
        stated = state_purpose(form.cleaned_data["purpose"], form.cleaned_data["purpose_note"])
    except ValidationError as error:
        apply_errors(form, error)
        return ask_purpose(request, household, form, continue_to=continue_to)
    remember_purpose(request, household.beat_id, stated)
    if continue_to:
        return redirect(continue_to)
    return redirect("household", household_id=household.id)
