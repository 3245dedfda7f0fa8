"""Pages: the practice console and her record (trainees, moderators, supervisors), and the
supervisors' training pages (pass mark, records, sign-off, refreshers, scenarios)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from moderation.actions import ModerationError
from moderation.practice import actions, selectors
from moderation.practice.access import practitioner_required
from moderation.practice.forms import PassMarkForm, RefresherForm, ScenarioForm, SignOffForm
from moderation.practice.models import Scenario, TraineeRecord
from moderation.supervision.access import supervisor_required


@require_GET
@practitioner_required
def console(request: HttpRequest) -> HttpResponse:
    return render(
        request, "practice/console.html", {"refresher": selectors.open_refresher(request.user)}
    )


@require_GET
@practitioner_required
def my_record(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "practice/my_record.html",
        {
            "progress": selectors.progress(request.user),
            "pass_mark": selectors.policy(),
            "record": TraineeRecord.objects.filter(user=request.user).first(),
            "refresher": selectors.open_refresher(request.user),
        },
    )


# --- Supervisors ------------------------------------------------------------------------------------


@supervisor_required
@require_http_methods(["GET", "POST"])
def training(request: HttpRequest) -> HttpResponse:
    """The training view: trainees and their progress, moderators' agreement and records,
    refreshers due, and the pass mark."""
    policy = selectors.policy()
    if request.method == "POST":
        form = PassMarkForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                actions.do_set_pass_mark(acting_user=request.user, reason=reason, **data)
            except ModerationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Pass mark saved.")
            return redirect("practice_training")
    else:
        form = PassMarkForm(initial={f: getattr(policy, f) for f in actions.POLICY_FIELDS})
    return render(
        request,
        "practice/training.html",
        {**selectors.training_overview(), "form": form, "section": "training"},
    )


@supervisor_required
@require_GET
def person(request: HttpRequest, user_id: int) -> HttpResponse:
    who = get_object_or_404(User, pk=user_id)
    return render(
        request,
        "practice/person.html",
        {
            **selectors.person_record(who),
            "sign_off_form": SignOffForm(),
            "refresher_form": RefresherForm(),
            "section": "training",
        },
    )


@supervisor_required
@require_POST
def sign_off(request: HttpRequest, user_id: int) -> HttpResponse:
    who = get_object_or_404(User, pk=user_id)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The note is too long.")
    else:
        try:
            actions.do_sign_off_trainee(
                who, acting_user=request.user, note=form.cleaned_data["note"]
            )
        except ModerationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{who.display_name} is signed off and is now a moderator.")
    return redirect("practice_person", user_id=who.pk)


@supervisor_required
@require_POST
def refresher(request: HttpRequest, user_id: int) -> HttpResponse:
    who = get_object_or_404(User, pk=user_id)
    form = RefresherForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            actions.do_require_refresher(
                who,
                scenario_ids=[s.pk for s in form.cleaned_data["scenarios"]],
                reason=form.cleaned_data["reason"],
                due_by=form.cleaned_data["due_by"],
                acting_user=request.user,
            )
        except ModerationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Refresher set for {who.display_name}.")
    return redirect("practice_person", user_id=who.pk)


@supervisor_required
@require_GET
def scenario_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "practice/scenarios.html",
        {"scenarios": Scenario.objects.all(), "section": "training"},
    )


@supervisor_required
@require_http_methods(["GET", "POST"])
def scenario_edit(request: HttpRequest, scenario_id: int | None = None) -> HttpResponse:
    scenario = get_object_or_404(Scenario, pk=scenario_id) if scenario_id else None
    if request.method == "POST":
        form = ScenarioForm(request.POST)
        if form.is_valid():
            try:
                saved = actions.do_save_scenario(
                    scenario_id=scenario.pk if scenario else None,
                    fields=form.scenario_fields(),
                    acting_user=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ModerationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Scenario “{saved.title}” saved.")
                return redirect("practice_scenarios")
    else:
        form = ScenarioForm(
            initial=ScenarioForm.initial_for(scenario) if scenario else {"is_active": True}
        )
    return render(
        request,
        "practice/scenario_form.html",
        {"form": form, "scenario": scenario, "section": "training"},
    )
