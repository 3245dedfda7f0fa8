"""The notifications API (her browser's subscription) and the service worker."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from chat.notifications.actions import (
    NotificationError,
    do_remove_subscription,
    do_save_subscription,
)
from chat.notifications.models import PushSubscription
from chat.notifications.receivers import forget_device, remember_device

MAX_BODY = 4096


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@require_http_methods(["GET", "POST", "DELETE"])
def subscription_api(request: HttpRequest) -> JsonResponse:
    """POST /api/notifications/subscription {endpoint, keys: {p256dh, auth}, kinds}: turn on
    (or update) notifications for this browser. DELETE with {endpoint}: turn them off.
    CSRF-checked (X-CSRFToken)."""
    if not request.user.is_authenticated:
        return _error("not_authenticated", "Please log in first.", 401)
    if request.method == "GET":  # ?endpoint=: what this device gets, to show in Settings
        found = (
            PushSubscription.objects.filter(
                user=request.user, endpoint=request.GET.get("endpoint", "")[:1000]
            )
            .values_list("kinds", flat=True)
            .first()
        )
        if found is None:
            return _error("not_found", "Notifications are not on for this device.", 404)
        # Only this browser knows its endpoint: logging out here turns it off (receivers.py).
        remember_device(request, request.GET["endpoint"][:1000])
        return JsonResponse({"kinds": found})
    if len(request.body) > MAX_BODY:
        return _error("validation", "That request is too large.", 413)
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _error("validation", "Send JSON.", 400)
    if not isinstance(data, dict):
        return _error("validation", "Send a JSON object.", 400)
    try:
        if request.method == "DELETE":
            removed = do_remove_subscription(
                request.user, endpoint=data.get("endpoint"), acting_user=request.user
            )
            forget_device(request, data.get("endpoint"))
            return JsonResponse({"removed": removed})
        keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
        subscription = do_save_subscription(
            request.user,
            endpoint=data.get("endpoint"),
            p256dh=keys.get("p256dh"),
            auth=keys.get("auth"),
            kinds=data.get("kinds"),
            acting_user=request.user,
        )
    except NotificationError as exc:
        status = {"forbidden": 403, "not_configured": 503, "limit": 409}.get(exc.code, 400)
        return _error(exc.code, exc.message, status)
    remember_device(request, subscription.endpoint)
    return JsonResponse({"saved": True, "kinds": subscription.kinds}, status=201)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """/sw.js, served from the site's root so that it may show notifications for every page."""
    response = render(request, "notifications/sw.js", content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response
