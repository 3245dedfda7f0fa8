"""Logging out turns notifications off on this device (issue 21).

A shared phone must not keep showing Kindred's notices to whoever picks it up after she logged
out, nor deliver them for an account nobody is signed in to there. Every way a session ends
through `django.contrib.auth.logout` sends `user_logged_out` (the Log out button, Quick exit,
a suspended account's next request), with the session still readable: the subscriptions this
browser session turned on or looked at in Settings are removed, and so is the one the page
names in the logout form (`push_endpoint`, added by frontend/static/frontend/push-logout.js,
which also unsubscribes the browser), in case it was turned on in an earlier session.
Other devices keep theirs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from chat.notifications.actions import do_remove_subscription

# The endpoints this session turned on or found in Settings (chat/notifications/views.py).
SESSION_ENDPOINTS = "kindred_push_endpoints"
MAX_REMEMBERED = 10


def remember_device(request: HttpRequest, endpoint: str) -> None:
    known = [e for e in request.session.get(SESSION_ENDPOINTS, []) if e != endpoint]
    request.session[SESSION_ENDPOINTS] = [*known, endpoint][-MAX_REMEMBERED:]


def forget_device(request: HttpRequest, endpoint: str) -> None:
    known = request.session.get(SESSION_ENDPOINTS, [])
    if endpoint in known:
        request.session[SESSION_ENDPOINTS] = [e for e in known if e != endpoint]


def remove_this_devices_subscriptions(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """user_logged_out receiver. Only her own subscriptions: do_remove_subscription filters on
    the user, so an endpoint posted in the form can never remove someone else's."""
    if request is None or user is None or not getattr(user, "is_authenticated", False):
        return
    endpoints = list(request.session.get(SESSION_ENDPOINTS, []))
    if request.method == "POST":
        posted = request.POST.get("push_endpoint", "")
        if posted and len(posted) <= 1000:
            endpoints.append(posted)
    for endpoint in dict.fromkeys(endpoints):
        do_remove_subscription(user, endpoint=endpoint, acting_user=user)
