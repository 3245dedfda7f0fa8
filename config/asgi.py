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

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.websocket_routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# The garbage-collector settings for a long-running server (freeze what is loaded, rarer
# collections) are applied by `manage.py serve` once it has loaded this (config/gcpolicy.py).
