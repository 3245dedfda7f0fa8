"""The moderator console's JSON API (docs/moderation-api.md). Views are thin: parse, call an
action, answer. Every refusal is a typed JSON error, never a 500."""

from __future__ import annotations

import json
import logging
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from chat.models import Room
from config.text import INVALID_TEXT, lone_surrogate_path
from moderation import actions, selectors
from moderation.access import moderator_required
from moderation.models import Flag

access_logger = logging.getLogger("kindred.access")  # reliability fix: see _run


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


STATUS_FOR = {
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "not_claimed": 409,
    "validation": 400,
}


def _body_errors_typed(view):  # noqa: ANN001, ANN202
    """A body Django will not read (larger than DATA_UPLOAD_MAX_MEMORY_SIZE, or a form with more
    than DATA_UPLOAD_MAX_NUMBER_FIELDS fields) is the API's typed error, not Django's HTML 400.

    Django's CSRF middleware reads a form-encoded body (request.POST) before any view runs, where
    its error could not be caught. So the view is exempt from the middleware and runs the very
    same check itself (csrf_protect is CsrfViewMiddleware as a decorator): CSRF is enforced
    exactly as before, and first, as before, but inside this try."""
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> JsonResponse:  # noqa: ANN002, ANN003
        try:
            return protected(request, *args, **kwargs)
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return _error(
                "too_large",
                f"The request body is larger than the {limit} bytes this API accepts.",
                413,
            )
        except TooManyFieldsSent:
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            return _error("validation", f"The request has more than {limit} fields.", 400)

    return wrapped


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise actions.ModerationError(
                "validation", "The request body was not valid JSON."
            ) from exc
        if not isinstance(data, dict):
            raise actions.ModerationError("validation", "The request body must be a JSON object.")
        if lone_surrogate_path(data):
            raise actions.ModerationError("validation", INVALID_TEXT)
        return data
    return request.POST.dict()


def _str(data: dict[str, Any], key: str, limit: int = 2000) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise actions.ModerationError("validation", f"{key} must be text.")
    if len(value) > limit:
        raise actions.ModerationError("validation", f"{key} can be at most {limit} characters.")
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool):
        raise actions.ModerationError("validation", f"{key} must be a whole number.")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise actions.ModerationError("validation", f"{key} must be a whole number.") from exc


def _run(fn, request: HttpRequest | None = None):  # noqa: ANN001, ANN202
    try:
        return fn()
    except actions.ModerationError as exc:
        # --- reliability fix (tests/reliability/test_role_matrix.py): an action-level refusal
        # (a moderator suspending a moderator…) is logged like a role-check refusal (docs:
        # "Every refusal is logged").
        if exc.code == "forbidden" and request is not None:
            access_logger.warning(
                "refused %s %s to user %s (role %s): %s",
                request.method,
                request.path,
                request.user.pk,
                getattr(request.user, "role", ""),
                exc.message,
            )
        # --- end reliability fix
        return _error(exc.code, exc.message, STATUS_FOR.get(exc.code, 400))
    except (User.DoesNotExist, Room.DoesNotExist, Flag.DoesNotExist):
        return _error("not_found", "Not found.", 404)
    except Exception as exc:  # noqa: BLE001
        from chat.models import Message
        from moderation.models import Mute

        if isinstance(exc, (Mute.DoesNotExist, Message.DoesNotExist)):
            return _error("not_found", "Not found.", 404)
        raise


def _flag_json(flag_id: int) -> dict[str, Any]:
    flag = selectors.open_queue().filter(pk=flag_id).first() or Flag.objects.select_related(
        "message", "message__author", "message__room", "claimed_by", "resolved_by"
    ).get(pk=flag_id)
    return selectors.serialize_flag(flag)


@require_GET
@moderator_required
def flag_detail(request: HttpRequest, flag_id: int) -> JsonResponse:
    def go() -> JsonResponse:
        flag = Flag.objects.select_related(
            "message", "message__author", "message__room", "claimed_by", "resolved_by"
        ).get(pk=flag_id)
        return JsonResponse(
            {
                "flag": selectors.serialize_flag(flag),
                "context": selectors.flag_context(flag),
                "warning_template": actions.WARNING_TEMPLATE.format(
                    name=flag.message.author.display_name if flag.message.author else "there",
                    room=flag.message.room.name,
                ),
            }
        )

    return _run(go, request)


FLAG_ACTIONS = {
    "claim": lambda req, fid, d: actions.do_claim_flag(flag_id=fid, acting_user=req.user),
    "release": lambda req, fid, d: actions.do_release_flag(flag_id=fid, acting_user=req.user),
    "dismiss": lambda req, fid, d: actions.do_dismiss_flag(
        flag_id=fid, acting_user=req.user, reason=_str(d, "reason", 500)
    ),
    "approve": lambda req, fid, d: actions.do_approve_message(
        flag_id=fid, acting_user=req.user, reason=_str(d, "reason", 500)
    ),
    "hide": lambda req, fid, d: actions.do_hide_message(
        flag_id=fid, acting_user=req.user, reason=_str(d, "reason", 500)
    ),
    "warn": lambda req, fid, d: actions.do_warn_member(
        flag_id=fid, acting_user=req.user, text=_str(d, "text")
    ),
    "escalate": lambda req, fid, d: actions.do_escalate_flag(
        flag_id=fid, acting_user=req.user, note=_str(d, "note")
    ),
    "mute": lambda req, fid, d: _mute_from_flag(req, fid, d),
    "suspend": lambda req, fid, d: _suspend_from_flag(req, fid, d),
}


def _mute_from_flag(request: HttpRequest, flag_id: int, data: dict[str, Any]) -> Flag:
    flag = Flag.objects.select_related("message__author", "message__room").get(pk=flag_id)
    if flag.message.author is None:
        raise actions.ModerationError("conflict", "This member's account no longer exists.")
    actions.do_mute_member(
        member=flag.message.author,
        room=flag.message.room,
        minutes=_int(data, "minutes"),
        acting_user=request.user,
        reason=_str(data, "reason", 500),
        flag_id=flag_id,
    )
    return flag


def _suspend_from_flag(request: HttpRequest, flag_id: int, data: dict[str, Any]) -> Flag:
    flag = Flag.objects.select_related("message__author").get(pk=flag_id)
    if flag.message.author is None:
        raise actions.ModerationError("conflict", "This member's account no longer exists.")
    actions.do_suspend_member(
        member=flag.message.author,
        acting_user=request.user,
        reason=_str(data, "reason", 500),
        flag_id=flag_id,
    )
    return flag


@_body_errors_typed
@require_POST
@moderator_required
def flag_action(request: HttpRequest, flag_id: int, action: str) -> JsonResponse:
    handler = FLAG_ACTIONS.get(action)
    if handler is None:
        return _error("not_found", f"Unknown action {action[:40]!r}.", 404)

    def go() -> JsonResponse:
        handler(request, flag_id, _body(request))
        return JsonResponse({"ok": True, "flag": _flag_json(flag_id)})

    return _run(go, request)


@_body_errors_typed
@require_POST
@moderator_required
def restore_message(request: HttpRequest, message_id: int) -> JsonResponse:
    return _run(
        lambda: (
            actions.do_restore_message(
                message_id=message_id,
                acting_user=request.user,
                reason=_str(_body(request), "reason", 500),
            ),
            JsonResponse({"ok": True}),
        )[1],
        request,
    )


@_body_errors_typed
@require_POST
@moderator_required
def unmute(request: HttpRequest, mute_id: int) -> JsonResponse:
    return _run(
        lambda: (
            actions.do_unmute_member(
                mute_id=mute_id,
                acting_user=request.user,
                reason=_str(_body(request), "reason", 500),
            ),
            JsonResponse({"ok": True}),
        )[1],
        request,
    )


@_body_errors_typed
@require_POST
@moderator_required
def member_action(request: HttpRequest, member_id: int, action: str) -> JsonResponse:
    def go() -> JsonResponse:
        member = User.objects.get(pk=member_id)
        data = _body(request)
        if action == "note":
            actions.do_add_moderator_note(
                member=member, acting_user=request.user, text=_str(data, "text")
            )
        elif action == "suspend":
            actions.do_suspend_member(
                member=member, acting_user=request.user, reason=_str(data, "reason", 500)
            )
        elif action == "reinstate":
            actions.do_reinstate_member(
                member=member, acting_user=request.user, reason=_str(data, "reason", 500)
            )
        elif action == "mute":
            room = Room.objects.get(slug=_str(data, "room", 64))
            actions.do_mute_member(
                member=member,
                room=room,
                minutes=_int(data, "minutes"),
                acting_user=request.user,
                reason=_str(data, "reason", 500),
            )
        else:
            return _error("not_found", f"Unknown action {action[:40]!r}.", 404)
        return JsonResponse({"ok": True})

    return _run(go, request)


@_body_errors_typed
@moderator_required
def duty(request: HttpRequest) -> JsonResponse:
    """GET: my duty stats (care counters). POST {"on_duty": true|false}."""
    if request.method == "POST":

        def go() -> JsonResponse:
            value = _body(request).get("on_duty")
            if isinstance(value, str):
                value = value.lower() in ("1", "true", "on", "yes")
            if not isinstance(value, bool):
                raise actions.ModerationError("validation", "on_duty must be true or false.")
            actions.do_set_on_duty(moderator=request.user, on_duty=value)
            return JsonResponse(
                {**selectors.duty_stats(request.user), "claim_grace_seconds": _claim_grace()}
            )

        return _run(go, request)
    if request.method != "GET":
        return _error("method_not_allowed", "GET or POST.", 405)
    return JsonResponse(
        {
            **selectors.duty_stats(request.user),
            "claim_grace_seconds": _claim_grace(),
            "now": timezone.now().isoformat(),
        }
    )


def _claim_grace() -> int:
    return round(settings.MODERATION_CLAIM_GRACE_SECONDS)
