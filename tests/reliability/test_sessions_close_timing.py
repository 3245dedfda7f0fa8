"""Sessions: a logged-out or suspended user's open sockets are closed within seconds. The
behaviour is tested in tests/chat and tests/moderation; this measures it on the real server
(Daphne + Redis channel layer), from the HTTP request that logs out or suspends to the socket's
close, and keeps the figure."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.reliability.conftest import Stack, write_figure

pytestmark = [pytest.mark.integration]

LIMIT_SECONDS = 3.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


def http(
    stack: Stack,
    method: str,
    path: str,
    session: str,
    data: dict | None = None,
    json_body: bool = False,
) -> tuple[int, str]:
    """A same-origin request carrying the session, with the CSRF token a browser would send."""
    opener = urllib.request.build_opener(_NoRedirect)
    page = opener.open(
        urllib.request.Request(
            f"{stack.server.url}/rooms/", headers={"Cookie": f"sessionid={session}"}
        ),
        timeout=10,
    )
    token = re.search(r"csrftoken=([^;]+)", page.headers.get("Set-Cookie", "")).group(1)
    headers = {
        "Cookie": f"sessionid={session}; csrftoken={token}",
        "X-CSRFToken": token,
        "Origin": stack.server.url,
        "Referer": f"{stack.server.url}/rooms/",
    }
    if json_body:
        body = json.dumps(data or {}).encode()
        headers["Content-Type"] = "application/json"
    else:
        body = urllib.parse.urlencode({**(data or {}), "csrfmiddlewaretoken": token}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        response = opener.open(
            urllib.request.Request(
                f"{stack.server.url}{path}", data=body, headers=headers, method=method
            ),
            timeout=10,
        )
        return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def _open(stack: Stack, session: str, slug: str):  # noqa: ANN202
    ws = await connect(
        f"{stack.ws_base}/ws/rooms/{slug}/",
        origin=stack.origin,
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=5,
    )
    first = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert first["type"] == "room.joined", first
    return ws


async def _closed_after(ws, t0: float) -> tuple[float, int | None, str | None]:  # noqa: ANN001
    code = None
    error = None
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["type"] == "error":
                error = frame["code"]
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
    return time.monotonic() - t0, code, error


async def test_logout_and_suspension_close_open_sockets_within_seconds(stack: Stack) -> None:
    users = await asyncio.to_thread(
        stack.create_users,
        [("relout", "member", "newborn", "Rel Out"), ("relsusp", "member", "newborn", "Rel Susp")],
    )
    # A second login session for the same member: her other device must stay connected.
    other = (
        await asyncio.to_thread(
            stack.create_users, [("relout2", "member", "newborn", "Rel Out Two")]
        )
    )["relout2"]
    figure: dict = {}

    # Logout: the two sockets of this login session close; another user's socket stays.
    session = users["relout"]["session"]
    socks = [await _open(stack, session, slug) for slug in ("newborn", "feeding")]
    bystander = await _open(stack, other["session"], "newborn")
    t0 = time.monotonic()
    waits = [asyncio.create_task(_closed_after(ws, t0)) for ws in socks]
    status, _ = await asyncio.to_thread(http, stack, "POST", "/accounts/logout/", session)
    logout_results = await asyncio.gather(*waits)
    await bystander.send(json.dumps({"type": "ping"}))
    pong = json.loads(await asyncio.wait_for(bystander.recv(), 5))
    await bystander.close()
    figure["logout"] = {
        "http_status": status,
        "sockets": len(socks),
        "seconds_to_close": [round(s, 3) for s, _, _ in logout_results],
        "close_codes": [c for _, c, _ in logout_results],
        "error_codes": [e for _, _, e in logout_results],
        "other_session_still_connected": pong["type"]
        in ("pong", "presence", "presence.joined", "presence.left"),
    }

    # Suspension by a moderator through the console API.
    target = users["relsusp"]
    socks = [
        await _open(stack, target["session"], slug)
        for slug in ("newborn", "feeding", "sleep-and-tiredness")
    ]
    t0 = time.monotonic()
    waits = [asyncio.create_task(_closed_after(ws, t0)) for ws in socks]
    status, body = await asyncio.to_thread(
        http,
        stack,
        "POST",
        f"/api/moderation/members/{target['id']}/suspend",
        stack.users["relmod"]["session"],
        {"reason": "reliability test"},
        True,
    )
    suspend_results = await asyncio.gather(*waits)
    figure["suspension"] = {
        "http_status": status,
        "sockets": len(socks),
        "seconds_to_close": [round(s, 3) for s, _, _ in suspend_results],
        "close_codes": [c for _, c, _ in suspend_results],
        "error_codes": [e for _, _, e in suspend_results],
    }
    write_figure("session-close", figure)

    assert figure["logout"]["http_status"] == 302, figure
    assert all(c == 4401 for c in figure["logout"]["close_codes"]), figure
    assert figure["logout"]["other_session_still_connected"], figure
    assert figure["suspension"]["http_status"] == 200, (figure, body)
    assert all(c == 4410 for c in figure["suspension"]["close_codes"]), figure
    assert all(e == "suspended" for e in figure["suspension"]["error_codes"]), figure
    assert (
        max(figure["logout"]["seconds_to_close"] + figure["suspension"]["seconds_to_close"])
        < LIMIT_SECONDS
    ), figure
