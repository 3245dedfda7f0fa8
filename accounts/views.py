from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.actions import AccountError, do_change_stage, do_create_account
from accounts.forms import LoginForm, SignupForm, StageForm
from accounts.ratelimit import remember_known_device


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("rooms")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = do_create_account(
                username=data["username"],
                password=data["password"],
                display_name=data["display_name"],
                stage=data["stage"],
                adult_confirmed=data["adult"],
                guidelines_accepted=data["guidelines"],
            )
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend="accounts.backends.KindredBackend")
            messages.success(request, f"Welcome to Kindred, {user.display_name}.")
            return redirect("rooms")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/signup.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("rooms")
    form = LoginForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            login(request, form.user, backend="accounts.backends.KindredBackend")
            next_url = request.GET.get("next", "")
            # Browsers read "/\host" as "//host": Django's check knows, a startswith("/") did not.
            local = next_url.startswith("/") and url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            response = redirect(next_url if local else "rooms")
            remember_known_device(request, response, form.cleaned_data["username"])
            return response
        if form.refusal is not None:
            response = render(request, "accounts/login.html", {"form": form}, status=429)
            response["Retry-After"] = str(form.refusal.retry_after)
            return response
        return render(request, "accounts/login.html", {"form": form}, status=400)
    return render(request, "accounts/login.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Log out, and close every socket this login session opened (other devices stay in)."""
    from chat.events import send_event_on_commit, session_group

    session_key = request.session.session_key
    logout(request)
    if session_key:
        send_event_on_commit(
            session_group(session_key),
            {"type": "user.disconnect", "code": "not_authenticated", "message": "You have logged out.", "close_code": 4401},
        )
    return redirect("login")


@login_required
@require_http_methods(["GET", "POST"])
def change_stage(request: HttpRequest) -> HttpResponse:
    form = StageForm(request.POST or None, initial={"stage": request.user.stage})
    if request.method == "POST" and form.is_valid():
        try:
            do_change_stage(request.user, form.cleaned_data["stage"], acting_user=request.user)
        except AccountError as exc:
            form.add_error("stage", str(exc))
        else:
            messages.success(request, "Your stage is updated; your room list now shows your new stage room.")
            return redirect("rooms")
    return render(request, "accounts/stage.html", {"form": form}, status=400 if form.errors else 200)


# --- Data rights: download and erase (docs/data-protection.md) -------------------------------

import json  # noqa: E402

from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.actions import do_erase_account, do_export_member_data  # noqa: E402
from accounts.forms import EraseAccountForm  # noqa: E402


@login_required
@require_http_methods(["GET"])
def my_data(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/my_data.html", {"erase_form": EraseAccountForm(user=request.user)})


@login_required
@require_POST
def download_my_data(request: HttpRequest) -> HttpResponse:
    """POST, not GET: the download is audited, and a link someone else sends her must not
    start it."""
    data = do_export_member_data(request.user, acting_user=request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="kindred-my-data-{timezone.localdate():%Y%m%d}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def erase_my_account(request: HttpRequest) -> HttpResponse:
    form = EraseAccountForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "accounts/my_data.html", {"erase_form": form}, status=400)
    try:
        do_erase_account(request.user, acting_user=request.user)
    except AccountError as exc:
        form.add_error(None, str(exc))
        return render(request, "accounts/my_data.html", {"erase_form": form}, status=400)
    logout(request)
    return render(request, "accounts/erased.html")
