"""Facilitated sessions, the prompts offered during them, and the editable prompt library.

Registered in the ``moderation`` app (moderation/models.py imports this module), so the tables are
``moderation_*`` and the migrations live in moderation/migrations.

Times: a session's ``starts_at``/``ends_at`` are its first occurrence. A weekly session repeats at
the same *local* wall-clock time (Europe/London), so "Tuesdays at 10am" stays 10am across the
clock change. Sessions run through school holidays: nothing is skipped unless a supervisor cancels
that day (``SessionCancellation``) or the whole series (``cancelled_at``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from moderation.facilitation.library import SIGNALS

__all__ = [
    "FacilitatedSession",
    "Occurrence",
    "PromptRecord",
    "PromptState",
    "PromptTemplate",
    "SessionCancellation",
    "SessionOccurrence",
]

WEEK = timedelta(days=7)
SIGNAL_CHOICES = [(s, s.replace("_", " ")) for s in SIGNALS]


@dataclass(frozen=True)
class Occurrence:
    """One meeting of a session: the series plus this meeting's start and end."""

    session: FacilitatedSession
    starts_at: datetime
    ends_at: datetime

    @property
    def local_date(self) -> date:
        return timezone.localtime(self.starts_at).date()

    @property
    def duration_minutes(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 60.0

    def is_live(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class FacilitatedSession(models.Model):
    """A facilitated session in a room, created and edited by supervisors (moderation/facilitation/
    actions.py), run by its facilitators (moderators)."""

    room = models.ForeignKey(
        "chat.Room", on_delete=models.PROTECT, related_name="facilitated_sessions"
    )
    title = models.CharField(max_length=120)
    focus = models.CharField(
        max_length=300, help_text="A sentence or two: what this session is about."
    )
    # Selects per-topic prompt texts (PromptTemplate.topic), e.g. "sleep". Blank: the defaults.
    topic = models.SlugField(max_length=40, blank=True)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    weekly = models.BooleanField(default=False)
    # Last local date a weekly session may start on; empty means it runs until cancelled.
    repeat_until = models.DateField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="facilitated_sessions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Which facilitation runtime runs this session's engine, and until when (see runtime.py). With
    # several workers only the lease holder runs it; a worker that dies lets the lease lapse.
    engine_worker = models.CharField(max_length=100, blank=True)
    engine_lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="session_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.room})"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def occurrences(
        self, *, after: datetime, before: datetime, include_cancelled: bool = False
    ) -> Iterator[Occurrence]:
        """Occurrences that have not ended by ``after`` and start before ``before``, in order.

        Cancelled days are skipped unless ``include_cancelled``; pass the session with
        ``prefetch_related("cancellations")`` when iterating many sessions.
        """
        if self.cancelled_at is not None and not include_cancelled:
            return
        cancelled = set() if include_cancelled else {c.date for c in self.cancellations.all()}
        duration = self.duration
        local_start = timezone.localtime(self.starts_at)
        if not self.weekly:
            candidates: Iterator[int] = iter([0])
        else:
            # Skip straight to the week before `after` instead of walking from the first meeting.
            weeks = max(0, int((after - self.starts_at - duration) / WEEK))
            candidates = _count_from(weeks)
        for week in candidates:
            # Adding a timedelta to an aware datetime keeps the wall-clock time and re-resolves the
            # UTC offset, which is what "every Tuesday at 10am" means across the clock change.
            start = _normalise(local_start + week * WEEK)
            if start >= before:
                return
            if self.weekly and self.repeat_until is not None and start.date() > self.repeat_until:
                return
            end = start + duration
            if end > after and start.date() not in cancelled:
                yield Occurrence(self, start, end)

    def next_occurrence(
        self, now: datetime, *, horizon: timedelta = timedelta(days=400)
    ) -> Occurrence | None:
        """The occurrence under way at ``now``, or else the next one to start."""
        return next(self.occurrences(after=now, before=now + horizon), None)

    def occurrence_at(
        self, now: datetime, *, lead: timedelta = timedelta(0), tail: timedelta = timedelta(0)
    ) -> Occurrence | None:
        """The occurrence whose [start - lead, end + tail) window contains ``now``, if any."""
        for occurrence in self.occurrences(
            after=now - tail, before=now + lead + timedelta(microseconds=1)
        ):
            if occurrence.starts_at - lead <= now < occurrence.ends_at + tail:
                return occurrence
        return None


def _count_from(start: int) -> Iterator[int]:
    n = start
    while True:
        yield n
        n += 1


def _normalise(local: datetime) -> datetime:
    # zoneinfo resolves the offset lazily from the wall time; normalising through UTC makes
    # comparisons and storage exact (a wall time inside the spring-forward gap moves on an hour).
    return timezone.localtime(local.astimezone(timezone.get_current_timezone()))


class SessionCancellation(models.Model):
    """One meeting of a weekly (or one-off) session called off, by local date. Keyed by date rather
    than start time so that moving the series to a new time keeps the day cancelled."""

    session = models.ForeignKey(
        FacilitatedSession, on_delete=models.CASCADE, related_name="cancellations"
    )
    date = models.DateField()
    reason = models.CharField(max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "date"], name="one_cancellation_per_session_day"
            ),
        ]


class SessionOccurrence(models.Model):
    """What happened at one meeting: when the room was told it started and ended. The unique key
    makes each announcement happen once, however many runtimes there are or how often one restarts."""

    session = models.ForeignKey(FacilitatedSession, on_delete=models.CASCADE, related_name="runs")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    started_announced_at = models.DateTimeField(null=True, blank=True)
    ended_announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "starts_at"], name="one_run_per_occurrence"),
        ]


class PromptState(models.TextChoices):
    SHOWN = "shown", "Shown to the facilitator"
    SENT = "sent", "Sent"
    DISMISSED = "dismissed", "Dismissed"


class PromptRecord(models.Model):
    """Every prompt the engine offered a facilitator, and what she did with it.

    ``t`` is the engine's time (seconds since the occurrence's start). The engine is deterministic,
    so a runtime rebuilt after a restart produces the same (signal, t, target) for a prompt it had
    already recorded; the unique key turns that into a no-op instead of a second prompt.
    """

    session = models.ForeignKey(
        FacilitatedSession, on_delete=models.PROTECT, related_name="prompts"
    )
    occurrence_start = models.DateTimeField()
    t = models.FloatField()
    signal = models.CharField(max_length=16, choices=SIGNAL_CHOICES)
    text = models.TextField()
    reason = models.TextField()
    # The engine's name for the member it is about (her display name at the time), if any.
    target = models.CharField(max_length=30, blank=True)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shown_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=PromptState.choices, default=PromptState.SHOWN)
    sent_text = models.TextField(blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acted_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["session", "occurrence_start", "t", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "occurrence_start", "signal", "t", "target"],
                name="one_prompt_per_engine_event",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "occurrence_start", "state"], name="prompt_pending_idx")
        ]

    def __str__(self) -> str:
        return f"{self.signal} prompt for session {self.session_id} ({self.state})"

    @property
    def edited(self) -> bool:
        return self.state == PromptState.SENT and self.sent_text != self.text

    @property
    def is_private(self) -> bool:
        # A check-in is about one member who may be struggling: it goes to her alone, never the room.
        return self.signal == "check_in"


class PromptTemplate(models.Model):
    """One prompt text. The engine's PromptLibrary is built from the active rows: per signal, in
    ``position`` order; rows with a ``topic`` replace that signal's defaults for sessions with that
    topic. Seeded from moderation/facilitation/data/prompts.json; supervisors edit them."""

    signal = models.CharField(max_length=16, choices=SIGNAL_CHOICES)
    topic = models.SlugField(max_length=40, blank=True)
    text = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["signal", "topic", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.signal}{f' ({self.topic})' if self.topic else ''}: {self.text[:40]}"
