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

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

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

        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=options["host"], port=options["port"]),
            ready_callable=ready,
            websocket_max_message_size=256 * 1024,
            websocket_max_frame_size=256 * 1024,
            verbosity=1,
        ).run()
