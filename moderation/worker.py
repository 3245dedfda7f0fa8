"""The moderation worker: assesses every stored message with the classifier, exactly once.

The database is the queue. A worker claims a batch by writing a short lease on pending messages
(on PostgreSQL with SELECT … FOR UPDATE SKIP LOCKED, so several workers never claim the same
rows), scores the batch in one model call, then records each assessment in its own transaction
that re-checks the message is still pending and still leased to this worker. A worker killed
mid-batch has committed nothing for the unfinished rows; their lease lapses and they are claimed
again. The one-to-one Assessment row makes a second assessment impossible.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from chat.models import AssessmentState, Message
from moderation.actions import ModelStageResult, do_record_assessments
from moderation.classifiers import ClassifierConfig, ClassifierStatus, load_classifier
from moderation.models import WorkerHeartbeat

logger = logging.getLogger("kindred.moderation.worker")

HEARTBEAT_SECONDS = 2.0
SAFETY_REFRESH_SECONDS = 5.0


def lower_priority(nice: int, *, whole_process: bool = False) -> None:
    """Lower the calling thread's (or the whole process's) CPU priority by `nice` on Linux, where
    each thread has its own nice value; threads it starts later (the model's) inherit it.
    Lowering one's own priority needs no privilege. Elsewhere, nothing happens."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        if whole_process:
            os.nice(nice)
        elif sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            os.setpriority(
                os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice)
            )
    except OSError:
        logger.warning("could not lower the moderation worker's CPU priority", exc_info=True)


def apply_torch_threads() -> None:
    """Score with TORCH_THREADS threads (default 1), whichever models the worker runs. Detoxify's
    loader used to be the only place that set it, so with Detoxify off (`make run`'s default)
    PyTorch took one thread per core: on 2 cores the worker's encodes spread over both and its
    idle threads spun between them, at 110-117 % of a core already at 16 msg/s, taking the CPU
    the web process, the database and the other process's encodes needed."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    threads = max(1, int(getattr(settings, "TORCH_THREADS", 1)))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class ModerationWorker:
    def __init__(
        self,
        *,
        name: str | None = None,
        batch_size: int | None = None,
        lease_seconds: float | None = None,
        classifier_status: ClassifierStatus | None = None,
    ) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.batch_size = batch_size or settings.MODERATION_BATCH_SIZE
        self.batch_seconds = settings.MODERATION_BATCH_SECONDS
        self.seconds_per_message: float | None = None  # measured, smoothed (see next_batch_size)
        self.lease = timedelta(seconds=lease_seconds or settings.MODERATION_LEASE_SECONDS)
        self._status = classifier_status
        self._safety_versions: tuple[str | None, str | None] = (None, None)
        self._safety_checked = -1e9
        self._last_beat = 0.0
        self._last_housekeeping = 0.0
        self._last_claim_sweep = 0.0
        self._started_at = timezone.now()
        self.assessed = 0
        # Facilitation (moderation/facilitation/runtime.py): live facilitator prompts run in this process.
        from moderation.facilitation.runtime import FacilitationRuntime

        self.facilitation = FacilitationRuntime(name=self.name)

    # --- set-up ------------------------------------------------------------------------------

    @property
    def status(self) -> ClassifierStatus:
        if self._status is None:
            self._status = load_classifier(ClassifierConfig.from_settings(settings))
            if self._status.available:
                logger.info("moderation worker %s: classifier %s", self.name, self._status.status)
            else:
                # Loud, not silent: chat keeps working and the rules still run, and /healthz and
                # the moderator pages say the classifier is unavailable.
                logger.error(
                    "moderation worker %s: CLASSIFIER UNAVAILABLE (%s); assessing with safety rules only",
                    self.name,
                    self._status.status,
                )
        return self._status

    def beat(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_beat < HEARTBEAT_SECONDS:
            return
        self._last_beat = now
        status = self.status
        WorkerHeartbeat.objects.update_or_create(
            name=self.name,
            defaults={
                "classifier_status": status.status,
                "classifier_available": status.available,
                "started_at": self._started_at,
                "last_beat": timezone.now(),
                "assessed": self.assessed,
                **self._safety_status(),
            },
        )

    # --- Kindred's safety model (live and shadow) ---------------------------------------------

    def _refresh_safety_versions(self) -> None:
        """Which versions are live and in shadow: re-read every SAFETY_REFRESH_SECONDS, so a
        supervisor's promotion reaches every worker within seconds, without a restart."""
        now = time.monotonic()
        if now - self._safety_checked >= SAFETY_REFRESH_SECONDS:
            self._safety_checked = now
            from moderation.selectors import safety_model_versions

            self._safety_versions = safety_model_versions()

    def _model(self, version: str | None):  # noqa: ANN202
        if version is None:
            return None
        from moderation.safety_model import load_safety_model

        return load_safety_model(version)

    @property
    def safety_model(self):  # noqa: ANN201
        self._refresh_safety_versions()
        return self._model(self._safety_versions[0])

    @property
    def shadow_model(self):  # noqa: ANN201
        self._refresh_safety_versions()
        return self._model(self._safety_versions[1])

    def _safety_status(self) -> dict[str, object]:
        self._refresh_safety_versions()
        live, shadow = self._safety_versions
        model = self._model(live)
        if live is None:
            status = "off (MODERATION_SAFETY_MODEL=off)"
        elif model is None:
            status = f"UNAVAILABLE: {live} could not be loaded (see the worker's log)"
        else:
            status = model.name
        shadow_model = self._model(shadow)
        shadow_status = (
            ""
            if shadow is None
            else (shadow_model.name if shadow_model else f"UNAVAILABLE: {shadow}")
        )
        return {
            "safety_model_status": status,
            "safety_model_available": model is not None,
            "shadow_model_status": shadow_status,
        }

    # --- one batch -----------------------------------------------------------------------------

    def next_batch_size(self) -> int:
        """As many messages as fit in MODERATION_BATCH_SECONDS at the measured pace, at least one
        and at most the batch size. Bigger batches score more messages per second, but every
        message in a batch waits for the whole batch: on a slow CPU a full batch of 32 took
        seconds, and a flag reached the moderators seconds late (docs/performance.md)."""
        if not self.batch_seconds or not self.seconds_per_message:
            return self.batch_size
        return max(1, min(self.batch_size, int(self.batch_seconds / self.seconds_per_message)))

    def _measured(self, n: int, seconds: float) -> None:
        per = seconds / max(1, n)
        old = self.seconds_per_message
        self.seconds_per_message = per if old is None else 0.7 * old + 0.3 * per

    def claim_batch(self) -> list[tuple[int, str, int]]:
        now = timezone.now()
        with transaction.atomic():
            pending = (
                Message.objects.filter(assessment_state=AssessmentState.PENDING)
                .filter(Q(assessment_lease_until__isnull=True) | Q(assessment_lease_until__lt=now))
                .order_by("id")
            )
            if connection.vendor == "postgresql":
                pending = pending.select_for_update(skip_locked=True)
            rows = list(pending.values_list("id", "body", "revision")[: self.next_batch_size()])
            if rows:
                Message.objects.filter(pk__in=[row[0] for row in rows]).update(
                    assessment_worker=self.name, assessment_lease_until=now + self.lease
                )
        return rows

    def housekeeping(self) -> None:
        """Every few seconds: release abandoned claims and alert supervisors to missed targets."""
        now = time.monotonic()
        if now - self._last_claim_sweep >= 2:
            # Often, and cheap (one query when nobody holds a claim): other moderators should
            # see a departed moderator's items open again soon after her grace ends.
            self._last_claim_sweep = now
            from moderation.actions import do_release_claims_of_absent_moderators

            do_release_claims_of_absent_moderators()
        if now - self._last_housekeeping < 10:
            return
        self._last_housekeeping = now
        from moderation.actions import do_alert_missed_targets, do_release_abandoned_claims

        do_release_abandoned_claims()
        do_alert_missed_targets()
        from moderation.care import do_answer_unanswered

        # Nobody on duty and nobody answered her for a few minutes: Kindred does, privately.
        do_answer_unanswered()

    def process_batch(self) -> int:
        """Claim, score and record one batch. Returns how many messages were assessed."""
        status = self.status
        self.housekeeping()
        self.facilitation.step()  # facilitation: cheap when no session is on; never raises
        rows = self.claim_batch()
        if not rows:
            self.beat()
            return 0
        started = time.perf_counter()
        texts = [body for _, body, _ in rows]
        scores: list[dict[str, float] | None]
        classifier_name = "rules-only (classifier unavailable)"
        if status.classifier is not None:
            try:
                scores = [s.as_dict() for s in status.classifier.score(texts)]
                classifier_name = status.classifier.name
            except Exception:  # noqa: BLE001
                logger.exception(
                    "classifier failed on a batch of %d; assessing it with rules only", len(texts)
                )
                scores = [None] * len(rows)
                classifier_name = "rules-only (classifier error)"
        else:
            scores = [None] * len(rows)
        contexts = self._contexts([pk for pk, _, _ in rows])
        safety = self._safety_scores(self.safety_model, texts, contexts)
        model = self.safety_model
        if model is not None and safety[0] is not None:
            classifier_name = f"{model.name} + {classifier_name}"
        done = do_record_assessments(
            [
                ModelStageResult(
                    message_id=pk, revision=revision, scores=score, safety=sf, body=body
                )
                for (pk, body, revision), score, sf in zip(rows, scores, safety, strict=True)
            ],
            classifier=classifier_name,
            worker=self.name,
        )
        self._shadow(rows, texts, contexts, safety)
        self.assessed += done
        self._measured(len(rows), time.perf_counter() - started)
        self.beat()
        return done

    def _contexts(self, ids: list[int]) -> list[list[str]]:
        from moderation.selectors import author_contexts

        found = author_contexts(ids)
        return [found.get(pk, []) for pk in ids]

    def _safety_scores(self, model, texts: list[str], contexts: list[list[str]]) -> list:  # noqa: ANN001
        """Kindred's safety model on the batch; ``None`` each when it is off or fails (logged):
        the rules and Detoxify still decide, and the heartbeat says the model is unavailable."""
        if model is None:
            return [None] * len(texts)
        try:
            return model.score(texts, contexts)
        except Exception:  # noqa: BLE001
            logger.exception(
                "safety model failed on a batch of %d; assessing it without it", len(texts)
            )
            return [None] * len(texts)

    def _shadow(self, rows, texts: list[str], contexts: list[list[str]], live: list) -> None:  # noqa: ANN001
        """Score the batch with the shadow model too and store what it would have decided. Never
        acted on, and a failure here never touches the live assessment."""
        model = self.shadow_model
        if model is None:
            return
        from moderation.actions import do_record_shadow_assessments

        try:
            shadow = model.score(texts, contexts)
            live_model = self.safety_model
            do_record_shadow_assessments(
                [(pk, revision) for pk, _, revision in rows],
                shadow,
                version=model.version,
                live=live,
                live_version=live_model.version if live_model else "",
            )
        except Exception:  # noqa: BLE001
            logger.exception("shadow model %s failed on a batch of %d", model.version, len(texts))

    def backlog(self) -> int:
        return Message.objects.filter(assessment_state=AssessmentState.PENDING).count()

    # --- loops -------------------------------------------------------------------------------

    def run_forever(
        self, stop: threading.Event | None = None, *, max_idle_sleep: float | None = None
    ) -> None:
        """Blocking loop for `manage.py moderation_worker`."""
        stop = stop or threading.Event()
        poll = max_idle_sleep or settings.MODERATION_POLL_SECONDS
        self.warm_up()
        self.beat(force=True)
        while not stop.is_set():
            close_old_connections()
            try:
                done = self.process_batch()
            except Exception:  # noqa: BLE001
                logger.exception("moderation batch failed; retrying")
                done = 0
                stop.wait(1.0)
            if done == 0:
                stop.wait(poll)

    async def run_async(self, *, warmed_up: Callable[[], None] | None = None) -> None:
        """The embedded worker: runs on the web server's event loop, and does the blocking work
        (database and model) in its own thread, at a lower CPU priority than the chat, so the
        loop never waits on the model and the model yields the CPU to delivery. `warmed_up` is
        called once the models are loaded."""
        poll = settings.MODERATION_POLL_SECONDS
        executor = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="moderation",
            initializer=lower_priority,
            initargs=(settings.MODERATION_WORKER_NICE,),
        )
        step = sync_to_async(self._step, thread_sensitive=False, executor=executor)
        await sync_to_async(self.warm_up, thread_sensitive=False, executor=executor)()
        if warmed_up is not None:
            warmed_up()
        while True:
            try:
                done = await step()
            except Exception:  # noqa: BLE001
                logger.exception("moderation batch failed; retrying")
                done = 0
                await asyncio.sleep(1.0)
            if done == 0:
                await asyncio.sleep(poll)

    def warm_up(self) -> None:
        """Load the models before the first message arrives, not while it waits (the sentence
        model takes several seconds to load)."""
        apply_torch_threads()
        try:
            self.status  # noqa: B018 - loads the classifier
            self.safety_model  # noqa: B018 - loads the sentence model and the safety head
            self.shadow_model  # noqa: B018
        except Exception:  # noqa: BLE001
            logger.exception("warming up the moderation models failed; they will load on first use")

    def _step(self) -> int:
        close_old_connections()
        try:
            return self.process_batch()
        finally:
            close_old_connections()
