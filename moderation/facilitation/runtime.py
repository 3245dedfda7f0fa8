"""The live half of facilitation: runs one FacilitationEngine per session under way, fed from the
database, inside the moderation worker process (ModerationWorker.process_batch calls ``step``).

Each ``step(now)``:

1. at most once per ``scan_seconds``, finds the occurrences under way (one indexed query; nothing
   else happens when no session is on);
2. takes or renews a lease on each session's row, so that with several workers exactly one runs a
   session's engine (the lease lapses if that worker dies, and another takes over);
3. feeds its engine the room's new messages in ``seq`` order (author's first message in the room →
   ``is_newcomer``; an ``Assessment`` of category "distress" → the distress hint; held and removed
   messages are not fed), new flags on members' messages (``on_flag``) and who is present, then
   ticks it to ``now``;
4. records the prompts that came out and pushes each, after commit, to the session's facilitators
   only (their ``user-<id>`` groups), and tells the room when the session starts and ends.

A message still waiting for its assessment holds the feed (and the clock) back for up to
``assessment_wait_s``, so its distress hint is not lost and the engine's time never goes back.

After a restart the engine is rebuilt by replaying the occurrence's messages from its start (the
engine is deterministic). Prompts that come out of the replay are delivered only if still fresh
(``fresh_s``; the opening while within the engine's opening window) and not already recorded: the
record's unique key (signal, t, target) makes a replayed prompt that was delivered before a no-op.

Blocking work (MiniLM encoding, ~10 ms per message) happens here, off the web event loop; the model
is loaded in a background thread once a session is about to start, and drift is simply not checked
until it is ready (it is not wanted in a session's first five minutes anyway).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Min, Q
from django.utils import timezone

from accounts.models import Role, User
from chat.models import AssessmentState, Message, MessageState, Presence
from chat.selectors import PRESENCE_STALE_SECONDS
from moderation.facilitation import actions
from moderation.facilitation.embeddings import Embedder
from moderation.facilitation.engine import (
    DEFAULT_HELPLINE,
    EngineSettings,
    FacilitationEngine,
    Prompt,
    SessionInfo,
)
from moderation.facilitation.library import PromptLibrary, PromptLibraryError, default_library
from moderation.facilitation.models import FacilitatedSession, Occurrence, PromptTemplate
from moderation.facilitation.selectors import active_occurrences
from moderation.facilitation.sentiment import SentimentScorer
from moderation.models import Assessment, Category, Flag, Helpline

logger = logging.getLogger("kindred.facilitation.runtime")

DEFAULT_EMBEDDER = "default"


def load_library() -> PromptLibrary:
    """The library supervisors maintain (PromptTemplate rows). A signal with no active rows uses
    the shipped texts; an unusable library falls back to them whole, loudly, because a session
    should never go without prompts over a bad edit (edits are validated on save anyway)."""
    rows = list(
        PromptTemplate.objects.filter(is_active=True)
        .order_by("signal", "topic", "position", "pk")
        .values_list("signal", "topic", "text")
    )
    try:
        return actions.check_prompt_library(rows)
    except PromptLibraryError:
        logger.exception("the prompt library in the database is unusable; using the shipped texts")
        return default_library()


def helpline_text() -> str:
    """What the closing prompt offers: the perinatal service and one that is open all night."""
    active = list(Helpline.objects.filter(is_active=True))
    perinatal = next((h for h in active if "pandas" in h.name.lower()), None)
    samaritans = next((h for h in active if h.name.lower().startswith("samaritans")), None)
    if perinatal and samaritans:
        return f"{perinatal.name} on {perinatal.contact}, or Samaritans, free and any time, on {samaritans.contact}"
    if perinatal:
        return f"{perinatal.name} on {perinatal.contact}"
    return DEFAULT_HELPLINE


def _when(dt: datetime) -> str:
    local = timezone.localtime(dt)
    hour = local.strftime("%I").lstrip("0") + (local.strftime(":%M") if local.minute else "")
    return f"on {local:%A} {local.day} {local:%B} at {hour}{local.strftime('%p').lower()}"


@dataclass
class _Run:
    """One occurrence's engine and how far it has read."""

    session_id: int
    room_id: int
    starts_at: datetime
    ends_at: datetime
    engine: FacilitationEngine
    last_seq: int = 0
    last_flag_id: int = 0
    t: float = 0.0
    presence: frozenset[str] | None = None
    names: dict[str, int] = field(default_factory=dict)
    # Prompts produced but not yet delivered (the opening, from start()).
    pending: list[Prompt] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, datetime]:
        return (self.session_id, self.starts_at)

    def seconds(self, moment: datetime) -> float:
        return (moment - self.starts_at).total_seconds()


class FacilitationRuntime:
    """Runs the engines of the sessions under way. Not thread-safe: one caller at a time (the
    moderation worker's loop)."""

    def __init__(
        self,
        *,
        name: str | None = None,
        settings: EngineSettings | None = None,
        library: Callable[[], PromptLibrary] = load_library,
        embedder: Embedder | str | None = DEFAULT_EMBEDDER,
        sentiment: SentimentScorer | str | None = DEFAULT_EMBEDDER,
        scan_seconds: float = 1.0,
        lease_seconds: float = 30.0,
        assessment_wait_s: float = 10.0,
        fresh_s: float = 60.0,
        tail: timedelta = timedelta(minutes=2),
        warm_lead: timedelta = timedelta(minutes=10),
    ) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.settings = settings or EngineSettings()
        self._library = library
        self._embedder_choice = embedder
        self._sentiment_choice = sentiment
        self._sentiment: SentimentScorer | None = None
        self.scan_seconds = scan_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.assessment_wait = timedelta(seconds=assessment_wait_s)
        self.fresh_s = fresh_s
        self.tail = tail
        self.warm_lead = warm_lead
        self._runs: dict[tuple[int, datetime], _Run] = {}
        self._last_scan: datetime | None = None
        self._warm_thread: threading.Thread | None = None
        self._warm_embedder: Embedder | None = None

    # --- entry point ------------------------------------------------------------------------------

    def step(self, now: datetime | None = None) -> int:
        """Advance every session under way to ``now``. Returns how many prompts were recorded.
        Never raises: a facilitation bug must not stop the moderation worker that hosts it."""
        now = now or timezone.now()
        if (
            self._last_scan is not None
            and (now - self._last_scan).total_seconds() < self.scan_seconds
        ):
            return 0
        self._last_scan = now
        try:
            return self._step(now)
        except Exception:
            logger.exception("facilitation step failed; engines will be rebuilt on the next step")
            self._runs.clear()
            return 0

    @property
    def running(self) -> list[tuple[int, datetime]]:
        """(session id, occurrence start) of the engines this runtime is running."""
        return list(self._runs)

    # --- one step -----------------------------------------------------------------------------------

    def _step(self, now: datetime) -> int:
        occurrences = active_occurrences(now, lead=self.warm_lead, tail=self.tail)
        if occurrences:
            self._warm_up()
        live = {(o.session.pk, o.starts_at): o for o in occurrences if o.starts_at <= now}
        for key in [k for k in self._runs if k not in live]:
            self._drop(key)
        recorded = 0
        for key, occurrence in live.items():
            if not self._hold_lease(occurrence.session, now):
                if key in self._runs:
                    logger.warning("lost the lease on session %s to another worker", key[0])
                    del self._runs[key]
                continue
            run = self._runs.get(key)
            if run is None:
                run = self._runs[key] = self._build(occurrence)
            if now < occurrence.ends_at:
                actions.do_announce_session(
                    session=occurrence.session,
                    starts_at=occurrence.starts_at,
                    ends_at=occurrence.ends_at,
                    event="started",
                    now=now,
                )
            recorded += self._advance(run, occurrence, now)
            if now >= occurrence.ends_at:
                actions.do_announce_session(
                    session=occurrence.session,
                    starts_at=occurrence.starts_at,
                    ends_at=occurrence.ends_at,
                    event="ended",
                    now=now,
                )
        return recorded

    def _hold_lease(self, session: FacilitatedSession, now: datetime) -> bool:
        # One UPDATE, so two workers racing for a free or lapsed lease cannot both win it.
        return (
            FacilitatedSession.objects.filter(pk=session.pk)
            .filter(
                Q(engine_worker=self.name)
                | Q(engine_lease_until__isnull=True)
                | Q(engine_lease_until__lt=now)
            )
            .update(engine_worker=self.name, engine_lease_until=now + self.lease)
            == 1
        )

    def _drop(self, key: tuple[int, datetime]) -> None:
        self._runs.pop(key, None)
        if not any(k[0] == key[0] for k in self._runs):
            FacilitatedSession.objects.filter(pk=key[0], engine_worker=self.name).update(
                engine_worker="", engine_lease_until=None
            )

    # --- building an engine ---------------------------------------------------------------------------

    def _sentiment_scorer(self) -> SentimentScorer | None:
        if self._sentiment_choice == DEFAULT_EMBEDDER:
            if self._sentiment is None:
                from moderation.facilitation.sentiment import default_sentiment

                self._sentiment = default_sentiment()
            return self._sentiment
        return self._sentiment_choice  # type: ignore[return-value]

    def _current_embedder(self) -> Embedder | None:
        if self._embedder_choice == DEFAULT_EMBEDDER:
            return self._warm_embedder
        return self._embedder_choice  # type: ignore[return-value]

    def _warm_up(self) -> None:
        """Load MiniLM in the background (6–9 s, mostly importing torch) so that neither the
        moderation worker nor the session waits for it."""
        if self._embedder_choice != DEFAULT_EMBEDDER or self._warm_thread is not None:
            return

        def load() -> None:
            from moderation.facilitation.embeddings import default_embedder

            try:
                model = default_embedder()
                model.encode(["warming up"])
                self._warm_embedder = model
                logger.info("facilitation: sentence model loaded")
            except Exception:
                logger.exception("facilitation: sentence model unavailable; drift prompts are off")

        self._warm_thread = threading.Thread(target=load, name="facilitation-warm-up", daemon=True)
        self._warm_thread.start()

    def _build(self, occurrence: Occurrence) -> _Run:
        session = occurrence.session
        following = next(
            session.occurrences(
                after=occurrence.ends_at, before=occurrence.ends_at + timedelta(days=60)
            ),
            None,
        )
        info = SessionInfo(
            focus=session.focus,
            duration_minutes=occurrence.duration_minutes,
            title=session.title,
            next_session=_when(following.starts_at) if following else None,
            topic=session.topic or None,
            helpline=helpline_text(),
        )
        engine = FacilitationEngine(
            info,
            settings=self.settings,
            library=self._library(),
            embedder=self._current_embedder(),
            sentiment=self._sentiment_scorer(),
        )
        run = _Run(
            session_id=session.pk,
            room_id=session.room_id,
            starts_at=occurrence.starts_at,
            ends_at=occurrence.ends_at,
            engine=engine,
        )
        # The opening belongs to t=0, so every engine starts there: a fresh one offers it, and one
        # rebuilt after a restart replays the messages so far (see the module docstring).
        run.pending = run.engine.start(0.0)
        return run

    # --- feeding ------------------------------------------------------------------------------------------

    def _advance(self, run: _Run, occurrence: Occurrence, now: datetime) -> int:
        engine = run.engine
        if engine.embedder is None:
            engine.embedder = self._current_embedder()
        prompts, run.pending = run.pending, []
        cutoff = now
        messages = list(
            Message.objects.filter(
                room_id=run.room_id,
                seq__gt=run.last_seq,
                created_at__gte=run.starts_at,
                created_at__lte=now,
            )
            .select_related("author")
            .order_by("seq")[:500]
        )
        fed: list[Message] = []
        for message in messages:
            waiting = (
                message.assessment_state == AssessmentState.PENDING
                and now - message.created_at < self.assessment_wait
            )
            if waiting:
                cutoff = message.created_at
                break
            fed.append(message)
        first_seq = self._first_seqs(run, fed)
        distressed = (
            set(
                Assessment.objects.filter(message__in=fed, category=Category.DISTRESS).values_list(
                    "message_id", flat=True
                )
            )
            if fed
            else set()
        )
        events: list[tuple[datetime, int, str, Any]] = [
            (m.created_at, 0, "message", m) for m in fed
        ]
        flags = (
            Flag.objects.filter(
                message__room_id=run.room_id,
                created_at__gte=run.starts_at,
                created_at__lt=cutoff,
                pk__gt=run.last_flag_id,
                # Only messages written in this session: a flag raised now on something she wrote
                # before it began (assessed late, or reported) is the queue's, not the facilitator's.
                message__created_at__gte=run.starts_at,
            )
            .select_related("message__author")
            .order_by("pk")
        )
        events += [(f.created_at, 1, "flag", f) for f in flags]
        events.sort(key=lambda e: (e[0], e[1]))
        for moment, _, kind, item in events:
            t = max(run.seconds(moment), run.t)
            run.t = t
            if kind == "message":
                run.last_seq = item.seq
                prompts += self._feed_message(run, item, t, first_seq, distressed)
            else:
                run.last_flag_id = max(run.last_flag_id, item.pk)
                author = item.message.author
                if author is not None and author.role == Role.MEMBER:
                    run.names[author.display_name] = author.pk
                    prompts += engine.on_flag(t, author.display_name, item.category)
        t_cut = max(run.seconds(cutoff), run.t)
        present = self._present_members(run, now)
        if present != run.presence:
            run.presence = present
            prompts += engine.on_presence(t_cut, present)
        prompts += engine.on_tick(t_cut)
        run.t = t_cut
        return self._deliver(run, occurrence, prompts, now)

    def _first_seqs(self, run: _Run, messages: list[Message]) -> dict[int, int]:
        authors = {m.author_id for m in messages if m.author_id is not None}
        if not authors:
            return {}
        rows = (
            Message.objects.filter(room_id=run.room_id, author_id__in=authors)
            .values("author_id")
            .annotate(first=Min("seq"))
        )
        return {r["author_id"]: r["first"] for r in rows}

    def _feed_message(
        self, run: _Run, message: Message, t: float, first_seq: dict[int, int], distressed: set[int]
    ) -> list[Prompt]:
        author: User | None = message.author
        if author is None or message.state != MessageState.VISIBLE:
            # Held or removed text is not the room's conversation; a flag on it reaches the engine
            # as on_flag instead.
            return []
        run.names[author.display_name] = author.pk
        if author.is_moderator:
            return run.engine.on_message(t, author.display_name, "facilitator", message.body)
        return run.engine.on_message(
            t,
            author.display_name,
            "member",
            message.body,
            is_newcomer=first_seq.get(author.pk) == message.seq,
            distress=message.pk in distressed,
        )

    def _present_members(self, run: _Run, now: datetime) -> frozenset[str]:
        cutoff = now - timedelta(seconds=PRESENCE_STALE_SECONDS)
        names = (
            Presence.objects.filter(
                room_id=run.room_id, last_seen__gte=cutoff, user__role=Role.MEMBER
            )
            .values_list("user__display_name", flat=True)
            .distinct()
        )
        return frozenset(names)

    # --- delivering ----------------------------------------------------------------------------------------

    def _deliver(
        self, run: _Run, occurrence: Occurrence, prompts: list[Prompt], now: datetime
    ) -> int:
        now_t = run.seconds(now)
        keep = [p for p in prompts if self._still_useful(p, now_t)]
        dropped = len(prompts) - len(keep)
        if dropped:
            logger.info(
                "session %s: %d stale prompt(s) from catching up not shown", run.session_id, dropped
            )
        if not keep:
            return 0
        records = actions.do_record_prompts(
            session=occurrence.session,
            occurrence_start=run.starts_at,
            prompts=keep,
            worker=self.name,
            now=now,
            targets=run.names,
        )
        return len(records)

    def _still_useful(self, prompt: Prompt, now_t: float) -> bool:
        if prompt.signal == "opening":
            return now_t <= self.settings.opening_window_s
        return now_t - prompt.t <= self.fresh_s
