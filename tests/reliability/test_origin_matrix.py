"""Attack: cross-site WebSocket hijacking. Every WebSocket endpoint in the routing table (read at
test time, so a new endpoint is covered without editing this file) refuses the handshake for
foreign origins, `null`, look-alike hosts, a missing Origin, and the site's own host on another
scheme or port, even with a valid session cookie; and accepts the real origin (so the refusals are
not an artefact of a broken test) and the configured public origins (CSRF_TRUSTED_ORIGINS)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from tests.conftest import _session_cookie, open_socket
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
# open_socket's Host header is 127.0.0.1:8000 and the connection is plain ws, so the site's origin
# is http://127.0.0.1:8000 (as for `make run`).
SITE = "http://127.0.0.1:8000"
GOOD_ORIGINS = [SITE]


def same_host_other_origin(site: str) -> list[str]:
    """The site's own host name, but not its origin: the other scheme (a plain-http page, where a
    network attacker can inject script, opening the https site's sockets), another port (any other
    program on the machine serving a page), and another allowed name of the same machine. Their
    hosts all pass ALLOWED_HOSTS, so only the scheme-and-port rule can refuse them."""
    parts = urlsplit(site)
    other = "https" if parts.scheme == "http" else "http"
    return [
        f"{other}://{parts.hostname}:{parts.port}",
        f"{parts.scheme}://{parts.hostname}:{parts.port + 1}",
        f"{parts.scheme}://{parts.hostname}",  # the scheme's default port
        f"{other}://{parts.hostname}",
        f"{parts.scheme}://localhost:{parts.port}",
        f"ws://{parts.hostname}:{parts.port}",  # not a page's origin at all
    ]


def websocket_paths() -> list[str]:
    """Every route in config.websocket_routing, with its converters filled in."""
    from django.urls import URLPattern, URLResolver

    from config.websocket_routing import websocket_urlpatterns

    fill = {
        "slug": "newborn",
        "int": "1",
        "str": "newborn",
        "path": "newborn",
        "uuid": "00000000-0000-0000-0000-000000000001",
    }

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
async def test_bad_origins_are_refused_on_every_endpoint_in_process(
    moderator, member, path
) -> None:  # noqa: ANN001
    """Through the real ASGI stack (config.asgi.application), as a moderator: the user who may
    open every endpoint, so only the Origin can be the reason for a refusal."""
    if path.startswith("/ws/checkins/"):
        # A check-in socket needs a real check-in she is part of.
        from asgiref.sync import sync_to_async

        from moderation.checkins.actions import do_open_checkin

        checkin, _ = await sync_to_async(do_open_checkin)(member=member, acting_user=moderator)
        path = f"/ws/checkins/{checkin.pk}/"
    refused = []
    for origin in [*BAD_ORIGINS, *same_host_other_origin(SITE)]:
        comm = await open_socket(
            moderator, path, origin=None if origin is None else origin.encode()
        )
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
        assert first["type"] in {"room.joined", "moderation.ready", "checkin.joined"}, (
            origin,
            first,
        )
        await comm.disconnect()


@pytest.mark.integration
async def test_bad_origins_get_http_403_from_the_real_server(stack: Stack) -> None:
    """Over a real TCP handshake with Daphne: refused before the socket opens (HTTP 403)."""
    results: dict[str, dict[str, int]] = {}
    cookie = stack.cookie("relmod")
    # An HTTP client cannot put non-ASCII in a header; its punycode form is in the list.
    origins = [o for o in BAD_ORIGINS if o is None or o.isascii()] + same_host_other_origin(
        stack.origin
    )
    for path in websocket_paths():
        url = f"{stack.ws_base}{path}"
        statuses = await asyncio.gather(
            *(handshake_status(url, origin, cookie) for origin in origins)
        )
        results[path] = dict(zip([str(o) for o in origins], statuses, strict=True))
        good = await handshake_status(url, stack.origin, cookie)
        assert good == 101, (path, good)
    accepted = {p: [o for o, s in r.items() if s != 403] for p, r in results.items()}
    assert all(not v for v in accepted.values()), accepted


async def _handshake(user, origin: str, *, headers: tuple[tuple[bytes, bytes], ...] = ()) -> bool:  # noqa: ANN001
    """Whether /ws/moderation/ opens for `user` (who may open it) from `origin`, on Host
    127.0.0.1:8000, with extra request headers."""
    from config.asgi import application

    cookie = await sync_to_async(_session_cookie)(user)
    comm = WebsocketCommunicator(
        application,
        "/ws/moderation/",
        headers=[
            (b"host", b"127.0.0.1:8000"),
            (b"origin", origin.encode()),
            (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
            *headers,
        ],
    )
    connected, _ = await comm.connect(timeout=3)
    await comm.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
async def test_a_public_origin_is_accepted_on_its_own_scheme_and_port_only(
    moderator, settings
) -> None:  # noqa: ANN001
    """Behind a proxy the browser's Origin is the public one (CSRF_TRUSTED_ORIGINS), not the Host
    the server sees; its scheme and port must match as well as its host."""
    settings.CSRF_TRUSTED_ORIGINS = ["https://localhost"]
    assert await _handshake(moderator, "https://localhost")
    assert await _handshake(moderator, "https://localhost:443")  # the same origin, port spelled out
    for origin in ["http://localhost", "https://localhost:8443", "http://localhost:443"]:
        assert not await _handshake(moderator, origin), origin


@pytest.mark.django_db(transaction=True)
async def test_behind_a_tls_proxy_the_site_origin_is_https(moderator, settings) -> None:  # noqa: ANN001
    """The proxy's X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER, as Django trusts it for CSRF) makes
    the socket's own origin https://<Host>: a plain-http page on the same host is refused."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = ((b"x-forwarded-proto", b"https"),)
    assert await _handshake(moderator, "https://127.0.0.1:8000", headers=proxied)
    assert not await _handshake(moderator, "http://127.0.0.1:8000", headers=proxied)


@pytest.mark.django_db(
    transaction=True
)  # in the full suite the handshake path touches the database
async def test_a_wildcard_public_origin_covers_subdomains_on_its_scheme_and_port() -> None:
    """CSRF_TRUSTED_ORIGINS' `https://*.example.org` form. The host check (ALLOWED_HOSTS) is the
    outer validator's, so this drives the scheme-and-port validator alone."""
    from django.test import override_settings

    from config.asgi import SiteOriginValidator

    async def accept(scope, receive, send) -> None:  # noqa: ANN001
        await receive()
        await send({"type": "websocket.accept"})

    async def opens(origin: str) -> bool:
        comm = WebsocketCommunicator(
            SiteOriginValidator(accept),
            "/ws/moderation/",
            headers=[(b"host", b"10.0.0.5:8000"), (b"origin", origin.encode())],
        )
        connected, _ = await comm.connect(timeout=3)
        await comm.disconnect()
        return connected

    with override_settings(CSRF_TRUSTED_ORIGINS=["https://*.example.org"]):
        assert await opens("https://chat.example.org")
        assert await opens("https://example.org")
        for origin in [
            "http://chat.example.org",
            "https://chat.example.org:8443",
            "https://chat.example.org.evil.test",
            "https://evilexample.org",
            "null",
        ]:
            assert not await opens(origin), origin
