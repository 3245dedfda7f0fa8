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
from accounts.models import Stage
from accounts.ratelimit import remember_known_device
from accounts.signals import login_session_ended


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
                email=data.get("email") or "",
            )
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend="accounts.backends.KindredBackend")
            messages.success(request, f"Welcome to Kindred, {user.display_name}.")
            # Her recovery codes, shown once on the next page (then only their hashes remain).
            request.session[RECOVERY_CODES_SESSION_KEY] = do_issue_recovery_codes(
                user, acting_user=user
            )
            return redirect("recovery_codes")
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


def _end_this_session(request: HttpRequest) -> None:
    """Log out, and close every socket this login session opened (other devices stay in)."""
    session_key = request.session.session_key
    logout(request)
    if session_key:
        # chat closes this session's sockets (chat.receivers).
        login_session_ended.send(sender=None, session_key=session_key)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    _end_this_session(request)
    return redirect("login")


@require_POST
def quick_exit_view(request: HttpRequest) -> HttpResponse:
    """POST /accounts/quick-exit/: what Quick exit sends (navigator.sendBeacon) as the page
    leaves for the neutral site, so that Back, or someone picking up her phone, finds Kindred
    logged out. CSRF-checked like every POST (the beacon carries the page's token): another
    site must not be able to log her out. 204 either way, as a beacon's answer is never read;
    Clear-Site-Data asks the browser to drop its cached copies of Kindred's pages too."""
    if request.user.is_authenticated:
        _end_this_session(request)
    response = HttpResponse(status=204)
    response["Clear-Site-Data"] = '"cache"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def change_stage(request: HttpRequest) -> HttpResponse:
    """Two steps: she picks a stage, then reads what changes (the stage room she can post in,
    the one she leaves, which she can still read) and confirms. Nothing changes before that."""
    form = StageForm(request.POST or None, initial={"stage": request.user.stage})
    if request.method == "POST" and form.is_valid():
        new_stage = form.cleaned_data["stage"]
        if new_stage == request.user.stage:
            messages.info(request, "That is already your stage: nothing has changed.")
            return redirect("rooms")
        if request.POST.get("confirm") != "yes":
            return render(
                request,
                "accounts/stage_confirm.html",
                {
                    "new_stage": new_stage,
                    "new_label": dict(Stage.choices)[new_stage],
                    "old_label": request.user.get_stage_display(),
                },
            )
        try:
            do_change_stage(request.user, new_stage, acting_user=request.user)
        except AccountError as exc:
            form.add_error("stage", str(exc))
        else:
            messages.success(
                request,
                "Your stage is updated: your room list shows your new stage room, and your past "
                "conversations in your old one are still there to read.",
            )
            return redirect("rooms")
    return render(
        request, "accounts/stage.html", {"form": form}, status=400 if form.errors else 200
    )


# --- Data rights: download and erase (docs/data-protection.md) -------------------------------

import json  # noqa: E402

from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.actions import do_erase_account, do_export_member_data  # noqa: E402
from accounts.forms import EraseAccountForm  # noqa: E402


@login_required
@require_http_methods(["GET"])
def my_data(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/my_data.html", {"erase_form": EraseAccountForm(user=request.user)}
    )


@login_required
@require_POST
def download_my_data(request: HttpRequest) -> HttpResponse:
    """POST, not GET: the download is audited, and a link someone else sends her must not
    start it."""
    data = do_export_member_data(request.user, acting_user=request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder),
        content_type="application/json",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="kindred-my-data-{timezone.localdate():%Y%m%d}.json"'
    )
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


# --- Recovery codes (issue 21) ----------------------------------------------------------------

from accounts.actions import (  # noqa: E402
    RECOVERY_CODE_COUNT,
    do_issue_recovery_codes,
    unused_recovery_codes,
)
from accounts.forms import NewRecoveryCodesForm, RecoverWithCodeForm  # noqa: E402

# Codes made a moment ago wait here for the one page that shows them; it takes them out.
RECOVERY_CODES_SESSION_KEY = "kindred_recovery_codes_once"


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """GET: her new codes, once (straight after sign-up or after making new ones), with a
    download; afterwards, how many are left. POST (with her password): new codes, replacing the
    old ones."""
    form = NewRecoveryCodesForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            request.session[RECOVERY_CODES_SESSION_KEY] = do_issue_recovery_codes(
                request.user, acting_user=request.user
            )
            return redirect("recovery_codes")
        return render(
            request,
            "accounts/recovery_codes.html",
            {"form": form, "unused": unused_recovery_codes(request.user)},
            status=400,
        )
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    download = ""
    if codes:
        from urllib.parse import quote

        text = (
            "Recovery codes\n\nEach code works once, with your username, to set a new "
            "password if you forget yours.\n\n" + "\n".join(codes) + "\n"
        )
        download = "data:text/plain;charset=utf-8," + quote(text)
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            "codes": codes or [],
            "download": download,
            "form": form,
            "unused": unused_recovery_codes(request.user),
            "total": RECOVERY_CODE_COUNT,
        },
    )


@require_http_methods(["GET", "POST"])
def recover_with_code(request: HttpRequest) -> HttpResponse:
    """She forgot her password: username + one recovery code + a new password, and she is in."""
    if request.user.is_authenticated:
        return redirect("rooms")
    form = RecoverWithCodeForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            user = form.user
            login(request, user, backend="accounts.backends.KindredBackend")
            left = unused_recovery_codes(user)
            note = f"Your new password is set. You have {left} recovery code{'s' if left != 1 else ''} left."
            if left <= 3:
                note += " Make new ones in Settings, under Recovery codes."
            messages.success(request, note)
            response = redirect("rooms")
            remember_known_device(request, response, user.username)
            return response
        status = 429 if form.refusal is not None else 400
        response = render(request, "accounts/recover.html", {"form": form}, status=status)
        if form.refusal is not None:
            response["Retry-After"] = str(form.refusal.retry_after)
        return response
    return render(request, "accounts/recover.html", {"form": form})
