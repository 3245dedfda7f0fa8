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
            "--proxy-headers",
            action="store_true",
            help=(
                "Let Daphne take the client's address and scheme from X-Forwarded-*. Daphne uses the "
                "header's first entry, which the client chooses; Kindred itself does not need this "
                "(HTTPS: SECURE_PROXY_SSL_HEADER; client address for throttling: TRUSTED_PROXY_COUNT)."
            ),
        )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        from daphne.endpoints import build_endpoint_description_strings

        from config.asgi import application
        from config.daphne import KindredServer
        from config.gcpolicy import settle_long_running_heap

        embedded = settings.MODERATION_EMBEDDED_WORKER

        def ready() -> None:
            # Everything imported so far lives as long as the process (config/gcpolicy.py); the
            # embedded worker's models join it once loaded.
            settle_long_running_heap()
            if embedded:
                from moderation.worker import ModerationWorker

                worker = ModerationWorker()
                # Keep a reference: the loop only holds tasks weakly.
                self._worker_task = asyncio.ensure_future(
                    worker.run_async(warmed_up=settle_long_running_heap)
                )
                logger.info("embedded moderation worker %s started", worker.name)
            self.stdout.write(f"Kindred is serving on http://{options['host']}:{options['port']}/")

        proxy = (
            {
                "proxy_forwarded_address_header": "X-Forwarded-For",
                "proxy_forwarded_port_header": "X-Forwarded-Port",
                "proxy_forwarded_proto_header": "X-Forwarded-Proto",
            }
            if options["proxy_headers"]
            else {}
        )
        KindredServer(
            application=application,
            endpoints=build_endpoint_description_strings(
                host=options["host"], port=options["port"]
            ),
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
