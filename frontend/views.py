"""Member pages that are not chat: help and privacy. Both work logged out: a mother who is
struggling must never meet a login form between her and a phone number."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from frontend.selectors import help_page_helplines


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    region = getattr(request.user, "region", "") if request.user.is_authenticated else ""
    return render(request, "frontend/help.html", {"helplines": help_page_helplines(region or "")})


@require_GET
def privacy_page(request: HttpRequest) -> HttpResponse:
    days = int(getattr(settings, "MESSAGE_RETENTION_DAYS", 365))
    period = "one year" if days == 365 else f"{days} days"
    return render(request, "frontend/privacy.html", {"message_retention": period})


# --- Reading settings and the resources directory ---------------------------------------------

from django import forms  # noqa: E402
from django.contrib import messages  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.views.decorators.http import require_http_methods  # noqa: E402

from accounts.actions import AccountError, do_set_collapse_topics  # noqa: E402
from accounts.models import Stage  # noqa: E402
from chat.content_notes import TOPICS  # noqa: E402
from frontend.selectors import contact_href, resource_regions  # noqa: E402
from moderation.models import ResourceKind  # noqa: E402
from moderation.selectors import resources_for  # noqa: E402


class CollapseTopicsForm(forms.Form):
    collapse_topics = forms.MultipleChoiceField(
        choices=list(TOPICS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Collapse messages with these content notes",
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_settings(request: HttpRequest) -> HttpResponse:
    """/settings/: which content notes stay collapsed until she taps them."""
    form = CollapseTopicsForm(
        request.POST or None, initial={"collapse_topics": request.user.collapse_topics or []}
    )
    if request.method == "POST" and form.is_valid():
        try:
            do_set_collapse_topics(
                request.user, form.cleaned_data["collapse_topics"], acting_user=request.user
            )
        except AccountError as exc:
            form.add_error("collapse_topics", str(exc))
        else:
            messages.success(request, "Saved. Rooms you open from now on use these settings.")
            return redirect("member_settings")
    return render(
        request, "frontend/settings.html", {"form": form}, status=400 if form.errors else 200
    )


@require_GET
def resources_page(request: HttpRequest) -> HttpResponse:
    """/resources/?stage=&region=: the services directory, for her stage and area by default.
    Works logged out, like the help page. `stage=` / `region=` (present but empty) mean "all"."""
    user = request.user
    regions = resource_regions()
    stage = request.GET.get("stage", getattr(user, "stage", "") if user.is_authenticated else "")
    region = request.GET.get("region", getattr(user, "region", "") if user.is_authenticated else "")
    stage = stage if stage in Stage.values else ""
    region = region if region in regions else ""
    # Headings for the page, plural; in ResourceKind's order.
    plural = {
        "helpline": "Helplines",
        "service": "Local and NHS services",
        "group": "Peer support groups",
        "information": "Information",
    }
    kinds = {k: plural.get(k, label) for k, label in ResourceKind.choices}
    groups: dict[str, list[dict]] = {}
    for resource in resources_for(stage=stage, region=region):
        href = contact_href(resource["contact"])
        url = resource["url"] if str(resource["url"]).startswith(("https://", "http://")) else ""
        groups.setdefault(resource["kind"], []).append(
            {**resource, "href": href, "is_sms": bool(href and href.startswith("sms:")), "url": url}
        )
    ordered = [(kinds.get(k, k), groups[k]) for k in kinds if k in groups]
    context = {
        "groups": ordered,
        "stage": stage,
        "region": region,
        "stages": Stage.choices,
        "regions": regions,
        "stage_label": dict(Stage.choices).get(stage, ""),
    }
    return render(request, "frontend/resources.html", context)
