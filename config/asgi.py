"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Django must be set up before anything imports models, so routing is
imported after it.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application does, with our handler

from config.http import KindredASGIHandler  # noqa: E402

django_asgi_app = KindredASGIHandler()

from urllib.parse import urlparse  # noqa: E402

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import (  # noqa: E402
    AllowedHostsOriginValidator,
    OriginValidator,
    WebsocketDenier,
)
from django.conf import settings  # noqa: E402

from config.websocket_routing import websocket_urlpatterns  # noqa: E402


class SiteOriginValidator(OriginValidator):
    """The Origin's scheme and port must be the site's, not only its host: without this a page on
    another port of an allowed host, or a plain-http page (which anyone on the network can write
    into), could open a member's sockets with her cookie. Inside AllowedHostsOriginValidator, which
    keeps checking the Origin's host against ALLOWED_HOSTS (so a DNS-rebound name never passes).

    Accepted, as by Django's CSRF origin check (a socket opens wherever a form post from the same
    page would be accepted):

    - the connection's own origin: `https` when the proxy's header in SECURE_PROXY_SSL_HEADER says
      so (production) or the server reports `wss`, else `http`; and its Host header. This is what
      keeps `make run` and a live server on a random port working with no configuration.
    - the public origins in CSRF_TRUSTED_ORIGINS, for a proxy that does not pass the browser's Host
      on; `https://*.example.org` covers the subdomains, on that scheme and port only.

    Settings are read per handshake (override_settings applies; it costs a few string compares).
    """

    def __init__(self, application) -> None:  # noqa: ANN001
        super().__init__(application, allowed_origins=[])

    async def __call__(self, scope, receive, send):  # noqa: ANN001, ANN204
        if scope["type"] != "websocket":
            raise ValueError("SiteOriginValidator is for WebSocket connections only")
        # As in OriginValidator (and so the outer host check): the last header of a name counts.
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        parsed = urlparse(origin.decode("latin1")) if origin else None
        if parsed is not None and any(
            self.match_allowed_origin(parsed, pattern)
            for pattern in self.site_origins(scope, headers)
        ):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    @staticmethod
    def site_origins(scope: dict, headers: dict[bytes, bytes]) -> list[str]:
        """OriginValidator patterns (scheme://host[:port]; a host starting with "." also covers its
        subdomains) for this connection."""
        patterns = []
        host = headers.get(b"host", b"").decode("latin1")
        if settings.USE_X_FORWARDED_HOST and b"x-forwarded-host" in headers:
            host = headers[b"x-forwarded-host"].decode("latin1")
        if host:
            patterns.append(f"{_connection_scheme(scope, headers)}://{host}")
        for trusted in settings.CSRF_TRUSTED_ORIGINS:
            scheme, sep, netloc = trusted.partition("://")
            # Without a scheme OriginValidator would match on the host alone (Django refuses such
            # entries at startup, check 4_0.E001; skipped here all the same).
            if sep and netloc:
                patterns.append(
                    f"{scheme}://{netloc.removeprefix('*')}"
                )  # *.example.org -> .example.org
        return patterns


def _connection_scheme(scope: dict, headers: dict[bytes, bytes]) -> str:
    """The scheme of the page that may open this socket: Django's HttpRequest.scheme, for a
    WebSocket scope (Daphne puts no scheme in it, even with --proxy-headers)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        if name in headers:
            value = headers[name].decode("latin1").split(",", 1)[0].strip()
            return "https" if value == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            SiteOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# The garbage-collector settings for a long-running server (freeze what is loaded, rarer
# collections) are applied by `manage.py serve` once it has loaded this (config/gcpolicy.py).
