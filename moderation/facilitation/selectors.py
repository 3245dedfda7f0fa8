"""Reads for facilitated sessions: the schedule members see, what the runtime must run, and the
prompts a facilitator has waiting. No writes here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from chat.models import Room
from moderation.facilitation.models import FacilitatedSession, Occurrence, PromptRecord, PromptState

# How far ahead the room list and the room page look.
UPCOMING_HORIZON = timedelta(days=14)


def _live_sessions(rooms: Iterable[Room] | None = None) -> QuerySet[FacilitatedSession]:
    qs = (
        FacilitatedSession.objects.filter(cancelled_at__isnull=True, room__is_archived=False)
        .select_related("room")
        .prefetch_related("cancellations", "facilitators")
    )
    if rooms is not None:
        qs = qs.filter(room__in=list(rooms))
    return qs


def _may_overlap(
    qs: QuerySet[FacilitatedSession], after: datetime, before: datetime, *, slack: timedelta
) -> QuerySet[FacilitatedSession]:
    """Narrow in SQL to sessions that could have an occurrence in [after, before); the exact
    answer (weekly repeats, cancelled days) is computed in Python on the few rows left."""
    today = timezone.localtime(after).date()
    return qs.filter(starts_at__lt=before).filter(
        Q(weekly=False, ends_at__gt=after - slack)
        | Q(weekly=True, repeat_until__isnull=True)
        | Q(weekly=True, repeat_until__gte=today - timedelta(days=1))
    )


def occurrences_between(
    after: datetime, before: datetime, *, rooms: Iterable[Room] | None = None
) -> list[Occurrence]:
    """Every occurrence not ended by ``after`` and starting before ``before``, by start time."""
    result: list[Occurrence] = []
    for session in _may_overlap(_live_sessions(rooms), after, before, slack=timedelta(0)):
        result.extend(session.occurrences(after=after, before=before))
    result.sort(key=lambda o: (o.starts_at, o.session.pk))
    return result


def upcoming_sessions(
    room: Room, *, now: datetime | None = None, limit: int = 3
) -> list[dict[str, Any]]:
    """The room's sessions under way or starting in the next two weeks, soonest first, as the
    room page and the JSON API show them."""
    now = now or timezone.now()
    return [
        serialize_occurrence(o, now=now)
        for o in occurrences_between(now, now + UPCOMING_HORIZON, rooms=[room])[:limit]
    ]


def upcoming_sessions_by_room(
    *, now: datetime | None = None, per_room: int = 2
) -> dict[str, list[dict[str, Any]]]:
    """For the room list: room slug → its next sessions (at most ``per_room``), in one query."""
    now = now or timezone.now()
    by_room: dict[str, list[dict[str, Any]]] = {}
    for occurrence in occurrences_between(now, now + UPCOMING_HORIZON):
        items = by_room.setdefault(occurrence.session.room.slug, [])
        if len(items) < per_room:
            items.append(serialize_occurrence(occurrence, now=now))
    return by_room


def serialize_occurrence(occurrence: Occurrence, *, now: datetime) -> dict[str, Any]:
    session = occurrence.session
    return {
        "id": session.pk,
        "room": session.room.slug,
        "room_name": session.room.name,
        "title": session.title,
        "focus": session.focus,
        "starts_at": occurrence.starts_at.isoformat(),
        "ends_at": occurrence.ends_at.isoformat(),
        # Datetimes too, for templates (|date and |time filters); the JSON API drops these.
        "start": occurrence.starts_at,
        "end": occurrence.ends_at,
        "weekly": session.weekly,
        "live": occurrence.is_live(now),
        "facilitators": sorted(f.display_name for f in session.facilitators.all()),
    }


def active_occurrences(
    now: datetime, *, lead: timedelta = timedelta(0), tail: timedelta = timedelta(0)
) -> list[Occurrence]:
    """Occurrences whose [start - lead, end + tail) contains ``now``: what the runtime runs.
    One indexed query; cheap when nothing is scheduled."""
    qs = _may_overlap(
        FacilitatedSession.objects.filter(cancelled_at__isnull=True, room__is_archived=False)
        .select_related("room")
        .prefetch_related("cancellations"),
        now - tail,
        now + lead + timedelta(microseconds=1),
        slack=timedelta(0),
    )
    result = []
    for session in qs:
        occurrence = session.occurrence_at(now, lead=lead, tail=tail)
        if occurrence is not None:
            result.append(occurrence)
    return result


def active_session_for_room(room: Room, *, now: datetime | None = None) -> Occurrence | None:
    """The session under way in ``room`` at ``now``, if any."""
    now = now or timezone.now()
    for occurrence in active_occurrences(now):
        if occurrence.session.room_id == room.pk:
            return occurrence
    return None


def is_facilitator(user: User, session: FacilitatedSession) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_moderator
        and not user.is_suspended
        and session.facilitators.filter(pk=user.pk).exists()
    )


def pending_prompts(user: User, room: Room, *, now: datetime | None = None) -> list[PromptRecord]:
    """Prompts still waiting for ``user`` in ``room``'s session under way (for a panel that has
    just opened or reconnected). Empty for anyone who is not facilitating it."""
    occurrence = active_session_for_room(room, now=now)
    if occurrence is None or not is_facilitator(user, occurrence.session):
        return []
    return list(
        PromptRecord.objects.filter(
            session=occurrence.session,
            occurrence_start=occurrence.starts_at,
            state=PromptState.SHOWN,
        ).select_related("session", "session__room")
    )


def sessions_for_supervisors(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every session not over yet (and the recently cancelled), for the supervisor's list."""
    now = now or timezone.now()
    rows = []
    qs = (
        FacilitatedSession.objects.select_related("room", "created_by")
        .prefetch_related("facilitators", "cancellations")
        .order_by("starts_at")
    )
    for session in qs:
        upcoming = list(session.occurrences(after=now, before=now + timedelta(days=60)))
        if session.cancelled_at is None and not upcoming and session.ends_at < now:
            continue
        if session.cancelled_at is not None and session.cancelled_at < now - timedelta(days=30):
            continue
        rows.append(
            {
                "session": session,
                "next": upcoming[0] if upcoming else None,
                "upcoming": upcoming[:6],
                "cancelled_days": [
                    c.date
                    for c in session.cancellations.all()
                    if c.date >= timezone.localtime(now).date()
                ],
                "facilitators": sorted(f.display_name for f in session.facilitators.all()),
            }
        )
    return rows
