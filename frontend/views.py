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
