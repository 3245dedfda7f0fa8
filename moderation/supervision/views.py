"""Supervisor pages. Thin: check the role (supervisor_required, on every request), parse a form,
call a selector or an action, render. Writes happen in moderation.actions / accounts.actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.actions import AccountError, do_erase_account
from accounts.models import User
from chat.models import Room
from moderation.actions import (
    ModerationError,
    do_change_user_role,
    do_mark_helpline_verified,
    do_record_export,
    do_record_second_review,
    do_save_helpline,
    do_save_room,
    do_set_room_thresholds,
)
from moderation.models import Helpline
from moderation.supervision import exports, selectors
from moderation.supervision.access import supervisor_required
from moderation.supervision.forms import (
    AuditFilterForm,
    EraseOnRequestForm,
    HelplineForm,
    MessageFilterForm,
    PeriodForm,
    RoleForm,
    RoomForm,
    SafetyModelForm,
    SecondReviewForm,
    ThresholdForm,
)

PAGE_SIZE = 50
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _refused(form: Any) -> bool:
    return form.is_bound and not form.is_valid()


def _errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@supervisor_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request, "supervisor/home.html", {"overview": selectors.overview(), "section": "home"}
    )


@supervisor_required
@require_GET
def analytics_page(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    period = form.period()
    report = selectors.analytics_report(period)
    quick = [
        (label, selectors.DateRange.last_days(days))
        for label, days in (("7 days", 7), ("30 days", 30), ("90 days", 90), ("year", 365))
    ]
    return render(
        request,
        "supervisor/analytics.html",
        {"form": form, "report": report, "quick": quick, "section": "analytics"},
    )


# --- audit log ---------------------------------------------------------------------------------


@supervisor_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, actions=selectors.audit_actions())
    if _refused(form):
        # A mistyped name must not quietly widen the search to everyone.
        return render(
            request,
            "supervisor/audit.html",
            {"form": form, "page": None, "section": "audit"},
            status=400,
        )
    entries = _page(request, selectors.audit_entries(**form.filters()))
    return render(
        request, "supervisor/audit.html", {"form": form, "page": entries, "section": "audit"}
    )


def _export_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as the audit row records them: ids and values, and never the text searched
    for (it may be a member's words)."""
    out: dict[str, Any] = {}
    for key, value in filters.items():
        if value in (None, "", False):
            continue
        if key == "text":
            out["text_search"] = True
        elif key == "period":
            out["from"], out["to"] = value.first.isoformat(), value.last.isoformat()
        elif hasattr(value, "pk"):
            out[key] = value.slug if isinstance(value, Room) else value.pk
        else:
            out[key] = value
    return out


@supervisor_required
@require_GET
def audit_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    form = AuditFilterForm(request.GET or None, actions=selectors.audit_actions())
    if _refused(form):
        return HttpResponseBadRequest(
            "Fix the filters first: " + _errors(form), content_type="text/plain"
        )
    filters = form.filters()
    # Audited before the first byte leaves: an export that fails half-way was still attempted.
    do_record_export(
        kind="audit",
        fmt=fmt,
        filters=_export_filters(filters),
        acting_user=request.user,
        target_user=filters["target"],
        room=filters["room"],
    )
    rows = exports.records(selectors.audit_entries(**filters), exports.audit_record)
    chunks = (
        exports.csv_chunks(exports.AUDIT_FIELDS, rows)
        if fmt == "csv"
        else exports.json_chunks(rows)
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return exports.streaming_response(
        request, chunks, content_type=FORMATS[fmt], filename=f"kindred-audit-{stamp}.{fmt}"
    )


# --- message logs ------------------------------------------------------------------------------


@supervisor_required
@require_GET
def message_logs(request: HttpRequest) -> HttpResponse:
    form = MessageFilterForm(request.GET or None)
    if _refused(form):
        return render(
            request,
            "supervisor/messages.html",
            {"form": form, "page": None, "section": "messages"},
            status=400,
        )
    page = _page(request, selectors.with_revisions(selectors.message_log(**form.filters())))
    return render(
        request, "supervisor/messages.html", {"form": form, "page": page, "section": "messages"}
    )


@supervisor_required
@require_GET
def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    history = selectors.message_history(message_id)
    if history is None:
        raise Http404
    return render(request, "supervisor/message_detail.html", {**history, "section": "messages"})


@supervisor_required
@require_GET
def message_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    form = MessageFilterForm(request.GET or None)
    if _refused(form):
        return HttpResponseBadRequest(
            "Fix the filters first: " + _errors(form), content_type="text/plain"
        )
    filters = form.filters()
    do_record_export(
        kind="messages",
        fmt=fmt,
        filters=_export_filters(filters),
        acting_user=request.user,
        target_user=filters["author"],
        room=filters["room"],
    )
    qs = selectors.with_revisions(selectors.message_log(**filters))
    rows = exports.records(qs, exports.message_record)
    chunks = (
        exports.csv_chunks(exports.MESSAGE_FIELDS, rows)
        if fmt == "csv"
        else exports.json_chunks(rows)
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return exports.streaming_response(
        request, chunks, content_type=FORMATS[fmt], filename=f"kindred-messages-{stamp}.{fmt}"
    )


# --- second reviews ----------------------------------------------------------------------------


@supervisor_required
@require_GET
def reviews(request: HttpRequest) -> HttpResponse:
    sample = selectors.second_review_sample(request.user)
    return render(
        request,
        "supervisor/reviews.html",
        {"sample": sample, "form": SecondReviewForm(), "section": "reviews"},
    )


@supervisor_required
@require_POST
def review_flag(request: HttpRequest, flag_id: int) -> HttpResponse:
    form = SecondReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether you would have decided the same.")
        return redirect("supervisor_reviews")
    try:
        do_record_second_review(
            flag_id=flag_id,
            agrees=form.cleaned_data["agrees"],
            note=form.cleaned_data["note"],
            acting_user=request.user,
        )
    except ModerationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Review saved.")
    return redirect("supervisor_reviews")


# --- rooms and thresholds ----------------------------------------------------------------------


@supervisor_required
@require_GET
def room_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "supervisor/rooms.html",
        {"rooms": selectors.rooms_for_supervisors(), "section": "rooms"},
    )


@supervisor_required
@require_http_methods(["GET", "POST"])
def room_edit(request: HttpRequest, room_id: int | None = None) -> HttpResponse:
    room = get_object_or_404(Room, pk=room_id) if room_id is not None else None
    form = RoomForm(request.POST or None, instance=room)
    thresholds = ThresholdForm(initial=selectors.room_policy_values(room)) if room else None
    if request.method == "POST" and form.is_valid():
        fields = {
            k: form.cleaned_data[k]
            for k in (
                "name",
                "kind",
                "stage",
                "description",
                "house_rules",
                "position",
                "is_archived",
            )
        }
        try:
            saved = do_save_room(
                room_id=room_id,
                fields=fields,
                slug=form.cleaned_data.get("slug", ""),
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ModerationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"{saved.name} is saved.")
            return redirect("supervisor_room", room_id=saved.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "supervisor/room_form.html",
        {"form": form, "room": room, "thresholds": thresholds, "section": "rooms"},
        status=status,
    )


@supervisor_required
@require_POST
def room_thresholds(request: HttpRequest, room_id: int) -> HttpResponse:
    room = get_object_or_404(Room, pk=room_id)
    thresholds = ThresholdForm(request.POST)
    if thresholds.is_valid():
        try:
            do_set_room_thresholds(
                room=room,
                values=thresholds.values(),
                reason=thresholds.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ModerationError as exc:
            thresholds.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Thresholds for {room.name} are saved. Test a change with moderation_assess --room {room.slug}.",
            )
            return redirect("supervisor_room", room_id=room.pk)
    return render(
        request,
        "supervisor/room_form.html",
        {
            "form": RoomForm(instance=room),
            "room": room,
            "thresholds": thresholds,
            "section": "rooms",
        },
        status=400,
    )


# --- helplines ---------------------------------------------------------------------------------


@supervisor_required
@require_GET
def helpline_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "supervisor/helplines.html",
        {
            "rows": selectors.helplines_for_supervisors(),
            "verify_days": selectors.HELPLINE_VERIFY_EVERY.days,
            "section": "helplines",
        },
    )


@supervisor_required
@require_http_methods(["GET", "POST"])
def helpline_edit(request: HttpRequest, helpline_id: int | None = None) -> HttpResponse:
    helpline = get_object_or_404(Helpline, pk=helpline_id) if helpline_id is not None else None
    form = HelplineForm(request.POST or None, instance=helpline)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "reason"}
        try:
            saved = do_save_helpline(
                helpline_id=helpline_id,
                fields=fields,
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ModerationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"{saved.name} is saved.")
            return redirect("supervisor_helplines")
    status = 400 if form.errors else 200
    return render(
        request,
        "supervisor/helpline_form.html",
        {"form": form, "helpline": helpline, "section": "helplines"},
        status=status,
    )


@supervisor_required
@require_POST
def helpline_verified(request: HttpRequest, helpline_id: int) -> HttpResponse:
    try:
        helpline = do_mark_helpline_verified(helpline_id=helpline_id, acting_user=request.user)
    except ModerationError as exc:
        raise Http404 from exc
    messages.success(request, f"{helpline.name}: marked as checked today.")
    return redirect("supervisor_helplines")


# --- people ------------------------------------------------------------------------------------


@supervisor_required
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:150]
    return render(
        request,
        "supervisor/people.html",
        {
            "roster": selectors.roster(),
            "query": query,
            "matches": selectors.people_matching(query),
            "role_form": RoleForm(),
            "erase_form": EraseOnRequestForm(),
            "section": "people",
        },
    )


@supervisor_required
@require_POST
def person_role(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
    else:
        try:
            do_change_user_role(
                person,
                form.cleaned_data["role"],
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ModerationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"{person.display_name} is now a {form.cleaned_data['role']}."
            )
    return redirect("supervisor_people")


@supervisor_required
@require_POST
def person_erase(request: HttpRequest, user_id: int) -> HttpResponse:
    """Erasure on a member's request received some other way (email, letter)."""
    person = get_object_or_404(User, pk=user_id)
    form = EraseOnRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("supervisor_people")
    try:
        do_erase_account(person, reason=form.cleaned_data["reason"], acting_user=request.user)
    except AccountError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The account is erased.")
    return redirect("supervisor_people")


# --- Kindred's safety model -------------------------------------------------------------------


@supervisor_required
@require_http_methods(["GET", "POST"])
def safety_model(request: HttpRequest) -> HttpResponse:
    """The live and shadow safety models, their measured quality and where they disagree on
    recent traffic; start a shadow run, promote or reject (each audited with its reason)."""
    from moderation.actions import (
        SafetyModelError,
        do_promote_safety_model,
        do_reject_safety_model,
        do_start_shadow_model,
    )

    form = SafetyModelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            act = {
                "shadow": do_start_shadow_model,
                "promote": do_promote_safety_model,
                "reject": do_reject_safety_model,
            }[data["action"]]
            try:
                act(version=data["version"], acting_user=request.user, reason=data["reason"])
            except SafetyModelError as exc:
                form.add_error(None, str(exc))
            else:
                done = {
                    "shadow": "is now running in shadow beside the live model",
                    "promote": "is now the live safety model",
                    "reject": "was rejected",
                }[data["action"]]
                messages.success(
                    request, f"{data['version']} {done}. Workers pick this up within seconds."
                )
                return redirect("supervisor_safety_model")
        status = 400
    context = {"overview": selectors.safety_model_overview(), "form": form, "section": "safety"}
    return render(request, "supervisor/safety_model.html", context, status=status)
