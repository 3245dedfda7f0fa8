"""Attack: cross-site WebSocket hijacking. Every WebSocket endpoint in the routing table (read at
test time, so a new endpoint is covered without editing this file) refuses the handshake for
foreign origins, `null`, look-alike hosts and a missing Origin, even with a valid session cookie;
and accepts the real origin (so the refusals are not an artefact of a broken test)."""

from __future__ import annotations

import asyncio
import re

import pytest
from channels.testing import WebsocketCommunicator

from tests.conftest import open_socket
from tests.reliability.conftest import Stack
from tests.reliability.wsclient import handshake_status

BAD_ORIGINS = [
    None,  # no Origin header at all
    "null",  # sandboxed iframes, file:// pages, some redirects
    "http://evil.example",
    "https://evil.example",
    "http://127.0.0.1.evil.example",  # look-alike: allowed host as a subdomain label
    "http://localhost.evil.example",
    "http://evil-localhost",
    "http://localhost-evil.example",
    "http://evillocalhost",
    "http://127.0.0.1@evil.example",  # userinfo trick
    "http://evil.example#127.0.0.1",
    "http://127.0.0.2",
    "http://127.1",
    "http://0x7f.0.0.1",
    "http://xn--lcalhost-9wg",  # punycode of a Cyrillic look-alike
    "http://lоcalhost",  # Cyrillic "о"
    "http://LOCALHOST.evil.example",
    "http://%6cocalhost",
    "ws://evil.example",
    "file://",
]
GOOD_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000", "https://localhost"]


def websocket_paths() -> list[str]:
    """Every route in config.websocket_routing, with its converters filled in."""
    from django.urls import URLPattern, URLResolver

    from config.websocket_routing import websocket_urlpatterns

    fill = {"slug": "newborn", "int": "1", "str": "newborn", "path": "newborn", "uuid": "00000000-0000-0000-0000-000000000001"}

    def walk(patterns, prefix=""):  # noqa: ANN001, ANN202
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                yield route

    paths = []
    for route in walk(websocket_urlpatterns):
        route = route.lstrip("^").rstrip("$")
        route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: fill.get(m.group(1) or "str", "x"), route)
        paths.append("/" + route.lstrip("/"))
    return paths


def test_the_routing_table_is_enumerated() -> None:
    paths = websocket_paths()
    assert "/ws/rooms/newborn/" in paths and "/ws/moderation/" in paths, paths


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", websocket_paths())
async def test_bad_origins_are_refused_on_every_endpoint_in_process(moderator, path) -> None:  # noqa: ANN001
    """Through the real ASGI stack (config.asgi.application), as a moderator: the user who may
    open every endpoint, so only the Origin can be the reason for a refusal."""
    refused = []
    for origin in BAD_ORIGINS:
        comm = await open_socket(moderator, path, origin=None if origin is None else origin.encode())
        connected, code = await comm.connect(timeout=3)
        if connected:
            await comm.disconnect()
        refused.append((origin, connected, code))
    assert [r for r in refused if r[1]] == [], refused
    for origin in GOOD_ORIGINS:
        comm: WebsocketCommunicator = await open_socket(moderator, path, origin=origin.encode())
        connected, _ = await comm.connect(timeout=3)
        assert connected, origin
        first = await comm.receive_json_from(timeout=3)
        assert first["type"] in {"room.joined", "moderation.ready"}, (origin, first)
        await comm.disconnect()


@pytest.mark.integration
async def test_bad_origins_get_http_403_from_the_real_server(stack: Stack) -> None:
    """Over a real TCP handshake with Daphne: refused before the socket opens (HTTP 403)."""
    results: dict[str, dict[str, int]] = {}
    cookie = stack.cookie("relmod")
    # An HTTP client cannot put non-ASCII in a header; its punycode form is in the list.
    origins = [o for o in BAD_ORIGINS if o is None or o.isascii()]
    for path in websocket_paths():
        url = f"{stack.ws_base}{path}"
        statuses = await asyncio.gather(*(handshake_status(url, origin, cookie) for origin in origins))
        results[path] = dict(zip([str(o) for o in origins], statuses, strict=True))
        good = await handshake_status(url, stack.origin, cookie)
        assert good == 101, (path, good)
    accepted = {p: [o for o, s in r.items() if s != 403] for p, r in results.items()}
    assert all(not v for v in accepted.values()), accepted
