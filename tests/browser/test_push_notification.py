"""The service worker's notification, as Chromium shows it (issue 21).

Chromium cannot reach a real push service here, so the push message is delivered through the
DevTools protocol (ServiceWorker.deliverPushMessage), exactly as the push service would hand it
to the browser after decryption. The payload is the one the server sends for a reply
(chat/notifications/actions.py WORDING): the notification must carry Kindred's neutral words and
never what anyone wrote. The server's encrypted delivery itself is tested in
tests/chat/test_notifications.py."""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from chat.notifications.actions import WORDING
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

SHOWN = """async () => {
    const registration = await navigator.serviceWorker.getRegistration('/');
    const shown = registration ? await registration.getNotifications() : [];
    return shown.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data}));
}"""


def _shown_when(page, ready, timeout_s: float = 30.0) -> list[dict]:  # noqa: ANN001
    """The service worker's notifications once `ready(shown)` holds. Polled from here, because
    `wait_for_function` takes the Promise that getNotifications() gives as already truthy."""
    deadline = time.monotonic() + timeout_s
    shown = page.evaluate(SHOWN)
    while not ready(shown) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        shown = page.evaluate(SHOWN)
    return shown


def test_a_push_message_shows_kindreds_words_and_never_the_message(
    open_as, live_server_proc: LiveServer, screens
) -> None:  # noqa: ANN001
    page = open_as("vera")
    origin = live_server_proc.url
    page.context.grant_permissions(["notifications"], origin=origin)
    page.goto(f"{origin}/settings/")
    page.evaluate(
        """async () => {
            await navigator.serviceWorker.register('/sw.js', {scope: '/'});
            await navigator.serviceWorker.ready;
        }"""
    )
    assert page.evaluate("Notification.permission") == "granted"

    cdp = page.context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    for _ in range(300):  # up to 30 s: a loaded CI machine starts service workers slowly
        ours = [r for r in registrations if r["scopeURL"] == f"{origin}/" and not r["isDeleted"]]
        if ours:
            break
        page.wait_for_timeout(100)
    assert ours, f"no service worker registration for {origin}/: {registrations}"

    # What someone wrote, which must never reach the lock screen: here it even rides along in
    # fields the server never sends, and the service worker must show only title and body.
    secret = f"I can't stop crying in the bathroom {uuid.uuid4().hex[:6]}"
    payload = {
        **WORDING["reply"],
        "url": "/rooms/newborn/",
        "tag": "kindred-reply",
        "kind": "reply",
        "message": secret,
        "text": secret,
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": origin,
            "registrationId": ours[0]["registrationId"],
            "data": json.dumps(payload),
        },
    )
    shown = _shown_when(page, lambda shown: len(shown) > 0)
    assert len(shown) == 1
    notification = shown[0]
    assert notification["title"] == "New reply"
    assert notification["body"] == "Someone replied to you."
    assert notification["tag"] == "kindred-reply"
    assert notification["data"] == {"url": "/rooms/newborn/"}
    assert secret not in json.dumps(notification)
    assert "crying" not in json.dumps(notification)

    # A push the worker cannot read, or one that points off the site, still shows only a
    # neutral line and opens a Kindred page.
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": origin,
            "registrationId": ours[0]["registrationId"],
            "data": json.dumps({"url": "https://evil.example/", "tag": "kindred-other"}),
        },
    )
    shown = _shown_when(page, lambda shown: any(n["tag"] == "kindred-other" for n in shown))
    other = next((n for n in shown if n["tag"] == "kindred-other"), None)
    assert other is not None, shown
    assert other["title"] == "New message" and other["body"] == ""
    assert other["data"] == {"url": "/rooms/"}
    screens.shot("notification-shown")

    # With the service worker in charge of the page, Log out still logs out (push-logout.js
    # first unsubscribes this browser, where it has a subscription).
    page.reload()
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_label("Username")).to_be_visible()
