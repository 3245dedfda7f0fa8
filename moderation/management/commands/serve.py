from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.core.management.base import BaseCommand

logger = logging.getLogger("kindred.serve")


class Command(BaseCommand):
    help = (
        "Serve Kindred with Daphne. With MODERATION_EMBEDDED_WORKER on (the default without Redis), "
        "the moderation worker runs inside this one process."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument(
            "--proxy-headers", action="store_true",
            help="Behind a reverse proxy: take the client's address and scheme from X-Forwarded-*.",
        )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        from daphne.endpoints import build_endpoint_description_strings

        from config.asgi import application

        embedded = settings.MODERATION_EMBEDDED_WORKER

        def ready() -> None:
            if embedded:
                from moderation.worker import ModerationWorker

                worker = ModerationWorker()
                # Keep a reference: the loop only holds tasks weakly.
                self._worker_task = asyncio.ensure_future(worker.run_async())
                logger.info("embedded moderation worker %s started", worker.name)
            self.stdout.write(f"Kindred is serving on http://{options['host']}:{options['port']}/")

        proxy = (
            {"proxy_forwarded_address_header": "X-Forwarded-For", "proxy_forwarded_port_header": "X-Forwarded-Port",
             "proxy_forwarded_proto_header": "X-Forwarded-Proto"}
            if options["proxy_headers"] else {}
        )
        _server_class()(
            application=application,
            endpoints=build_endpoint_description_strings(host=options["host"], port=options["port"]),
            ready_callable=ready,
            # Clients ping every 25 s and each pong resets Daphne's keep-alive clock, so with a
            # 30 s interval Daphne pings only sockets that went silent (and closes them 30 s later
            # if they don't answer). At its 20 s default it pinged every socket as well, doubling
            # the idle work of thousands of phones (docs/performance.md, "Idle connections").
            ping_interval=30,
            ping_timeout=30,
            websocket_max_message_size=256 * 1024,
            websocket_max_frame_size=256 * 1024,
            verbosity=1,
            **proxy,
        ).run()


def _server_class():  # noqa: ANN202
    """Daphne, with its two per-connection sweeps run less often.

    Daphne walks every open connection once a second (finished applications) and every two
    seconds (timeouts and keep-alive pings). With thousands of idle phones connected those sweeps
    were a large part of the idle CPU (docs/performance.md, "Idle connections"). Here they run
    every 5 and 6 seconds: a closed socket's resources are released up to 5 s later, and a
    keep-alive ping or timeout acts up to 6 s later, on 30 s intervals."""
    from daphne.server import Server
    from twisted.internet import reactor

    class KindredServer(Server):
        APPLICATION_EVERY = 5  # of Daphne's 1 s ticks
        TIMEOUT_EVERY = 3  # of Daphne's 2 s ticks
        _app_ticks = 0
        _timeout_ticks = 0

        def application_checker(self) -> None:
            self._app_ticks += 1
            if self._app_ticks % self.APPLICATION_EVERY == 0:
                super().application_checker()  # does the sweep and schedules the next tick
            else:
                reactor.callLater(1, self.application_checker)

        def timeout_checker(self) -> None:
            self._timeout_ticks += 1
            if self._timeout_ticks % self.TIMEOUT_EVERY == 0:
                super().timeout_checker()
            else:
                reactor.callLater(2, self.timeout_checker)

    return KindredServer
