from __future__ import annotations

import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from config.gcpolicy import settle_long_running_heap
from moderation.worker import ModerationWorker, lower_priority


class Command(BaseCommand):
    help = "Assess every stored message with the classifier and safety rules (Procfile: worker)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--once", action="store_true", help="Drain the backlog once and exit.")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        # Sharing a machine with the web process, delivery comes first (MODERATION_WORKER_NICE).
        lower_priority(settings.MODERATION_WORKER_NICE, whole_process=True)
        worker = ModerationWorker(batch_size=options["batch_size"])
        self.stdout.write(f"moderation worker {worker.name}: {worker.status.status}")
        if options["once"]:
            # Drain everything pending, waiting out leases left by a worker that died.
            total = 0
            while worker.backlog():
                done = worker.process_batch()
                total += done
                if not done:
                    time.sleep(0.2)
            self.stdout.write(f"assessed {total} message(s); backlog {worker.backlog()}")
            return
        worker.warm_up()
        settle_long_running_heap()  # the models live as long as the process (config/gcpolicy.py)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        worker.run_forever(stop)
        self.stdout.write("moderation worker stopped")
