"""Reads for moderation: thresholds, member state, helplines, the queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from chat.models import Message, Room
from moderation.models import Flag, FlagState, Helpline, ModeratorDuty, Mute, Priority, RoomPolicy, WorkerHeartbeat
from moderation.policy import MemberState, Thresholds

WORKER_STALE_SECONDS = 15
# Response targets shown on every queue item; a missed target alerts supervisors.
TARGET_SECONDS = {Priority.URGENT: 5 * 60, Priority.HIGH: 30 * 60, Priority.NORMAL: 60 * 60, Priority.LOW: 4 * 60 * 60}


def thresholds_for(room: Room) -> Thresholds:
    policy = RoomPolicy.objects.filter(room=room).first()
    if policy is None:
        return Thresholds()
    return Thresholds(**policy.values())


def active_mute(user, room: Room) -> Mute | None:  # noqa: ANN001
    return (
        Mute.objects.filter(user=user, room=room, lifted_at__isnull=True, until__gt=timezone.now())
        .order_by("-until")
        .first()
    )


def moderator_on_duty() -> bool:
    return ModeratorDuty.objects.filter(ended_at__isnull=True).exists()


def member_state(author, room: Room, *, exclude_message_id: int | None = None) -> MemberState:  # noqa: ANN001
    earlier = Message.objects.filter(author=author)
    if exclude_message_id is not None:
        earlier = earlier.exclude(pk=exclude_message_id)
    return MemberState(
        muted=active_mute(author, room) is not None,
        probation=False,
        moderator_on_duty=moderator_on_duty(),
        first_message=not earlier.exists(),
    )


def support_card_helplines(region: str = "") -> list[dict[str, Any]]:
    rows = Helpline.objects.filter(is_active=True, show_on_support_card=True)
    rows = rows.filter(region__in=["", region]) if region else rows.filter(region="")
    return [
        {"name": h.name, "contact": h.contact, "when": h.when, "hours": h.hours, "url": h.url}
        for h in rows
    ]


def classifier_health() -> dict[str, Any]:
    """What the moderation workers report about themselves."""
    cutoff = timezone.now() - timedelta(seconds=WORKER_STALE_SECONDS)
    workers = list(WorkerHeartbeat.objects.filter(last_beat__gte=cutoff).order_by("name"))
    if not workers:
        return {"classifier": "unknown: no moderation worker is running", "classifier_available": False, "workers": 0}
    statuses = sorted({w.classifier_status for w in workers})
    return {
        "classifier": "; ".join(statuses),
        "classifier_available": all(w.classifier_available for w in workers),
        "workers": len(workers),
    }


def open_queue():  # noqa: ANN201
    """Open and claimed flags: escalations first, then priority, then longest waiting."""
    return (
        Flag.objects.exclude(state=FlagState.RESOLVED)
        .select_related("message", "message__author", "message__room", "claimed_by")
        .annotate(escalation_rank=Case(When(escalated=True, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("escalation_rank", "priority", "created_at")
    )


def serialize_flag(flag: Flag, *, now=None) -> dict[str, Any]:  # noqa: ANN001
    now = now or timezone.now()
    message = flag.message
    waited = (now - flag.created_at).total_seconds()
    target = TARGET_SECONDS[Priority(flag.priority)]
    return {
        "id": flag.pk,
        "category": flag.category,
        "priority": Priority(flag.priority).label.lower(),
        "escalated": flag.escalated,
        "source": flag.source,
        "sources": flag.sources,
        "state": flag.state,
        "report_count": flag.report_count,
        "scores": flag.scores,
        "reasons": flag.reasons,
        "created_at": flag.created_at.isoformat(),
        "waiting_seconds": int(waited),
        "target_seconds": target,
        "target_missed": waited > target,
        "claimed_by": flag.claimed_by.display_name if flag.claimed_by else None,
        "message": {
            "id": message.pk,
            "seq": message.seq,
            "room": message.room.slug,
            "room_name": message.room.name,
            "state": message.state,
            "body": message.body,
            "author": {"id": message.author_id, "display_name": message.author.display_name if message.author else None},
            "created_at": message.created_at.isoformat(),
        },
    }
