"""Reads for moderation: thresholds, member state, helplines, the queue."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from chat.models import Message, Room
from moderation.models import (
    Flag,
    FlagState,
    Helpline,
    ModeratorDuty,
    Mute,
    Priority,
    RoomPolicy,
    SafetyModelRelease,
    SafetyModelState,
    WorkerHeartbeat,
)
from moderation.policy import MemberState, Thresholds

WORKER_STALE_SECONDS = 15
# Response targets shown on every queue item; a missed target alerts supervisors.
TARGET_SECONDS = {
    Priority.URGENT: 5 * 60,
    Priority.HIGH: 30 * 60,
    Priority.NORMAL: 60 * 60,
    Priority.LOW: 4 * 60 * 60,
}


def _thresholds_key(room_id: int) -> str:
    return f"moderation:thresholds:{room_id}"


ON_DUTY_KEY = "moderation:on-duty"


def thresholds_for(room: Room) -> Thresholds:
    """Read on every message, changed rarely: kept in the shared cache, which every change to a
    RoomPolicy clears (moderation.signals)."""
    key = _thresholds_key(room.pk)
    cached = cache.get(key)
    if cached is not None:
        return cached
    policy = RoomPolicy.objects.filter(room=room).first()
    thresholds = Thresholds() if policy is None else Thresholds(**policy.values())
    cache.set(key, thresholds, timeout=300)
    return thresholds


def active_mute(user, room: Room) -> Mute | None:  # noqa: ANN001
    """Checked before every message a member sends, where building this query with the ORM each
    time cost more than running it: the statement is built once per process from the model's
    metadata, and the Mute itself is only loaded for a member who is muted."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # as the ORM passes it
    with connection.cursor() as cursor:
        cursor.execute(_active_mute_sql(connection.vendor), [user.pk, room.pk, now])
        row = cursor.fetchone()
    return None if row is None else Mute.objects.filter(pk=row[0]).first()


@functools.cache
def _active_mute_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    col = {
        name: q(Mute._meta.get_field(name).column)
        for name in ("id", "user", "room", "until", "lifted_at")
    }
    return (
        f"SELECT {col['id']} FROM {q(Mute._meta.db_table)} WHERE {col['user']} = %s AND {col['room']} = %s "
        f"AND {col['lifted_at']} IS NULL AND {col['until']} > %s ORDER BY {col['until']} DESC LIMIT 1"
    )


def moderator_on_duty() -> bool:
    """Read on every message: cached briefly in the shared cache, cleared whenever a duty starts
    or ends (moderation.signals)."""
    cached = cache.get(ON_DUTY_KEY)
    if cached is None:
        cached = ModeratorDuty.objects.filter(ended_at__isnull=True).exists()
        cache.set(ON_DUTY_KEY, cached, timeout=30)
    return cached


def member_state(author, room: Room, *, muted: bool | None = None) -> MemberState:  # noqa: ANN001
    if muted is None:
        muted = active_mute(author, room) is not None
    return MemberState(muted=muted, probation=False, moderator_on_duty=moderator_on_duty())


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
        return {
            "classifier": "unknown: no moderation worker is running",
            "classifier_available": False,
            "safety_model": "unknown: no moderation worker is running",
            "safety_model_available": False,
            "shadow_model": "none",
            "workers": 0,
        }
    statuses = sorted({w.classifier_status for w in workers})
    safety = sorted({w.safety_model_status for w in workers if w.safety_model_status})
    shadow = sorted({w.shadow_model_status for w in workers if w.shadow_model_status})
    return {
        "classifier": "; ".join(statuses),
        "classifier_available": all(w.classifier_available for w in workers),
        "safety_model": "; ".join(safety) or "off",
        "safety_model_available": all(w.safety_model_available for w in workers),
        "shadow_model": "; ".join(shadow) or "none",
        "workers": len(workers),
    }


def open_queue():  # noqa: ANN201
    """Open and claimed flags: escalations first, then priority, then longest waiting."""
    return (
        Flag.objects.exclude(state=FlagState.RESOLVED)
        .select_related("message", "message__author", "message__room", "claimed_by")
        .annotate(
            escalation_rank=Case(
                When(escalated=True, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("escalation_rank", "priority", "created_at")
    )


def _follow_up_until(flag: Flag) -> str | None:
    from moderation.actions import FOLLOW_UP_WINDOW

    if flag.state != FlagState.RESOLVED or flag.resolved_at is None:
        return None
    return (flag.resolved_at + FOLLOW_UP_WINDOW).isoformat()


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
        "resolution": flag.resolution,
        "resolved_by": flag.resolved_by.display_name if flag.resolved_by else None,
        # Until when the moderator who resolved it may still hide, warn, mute or suspend from
        # this item (moderation.actions.FOLLOW_UP_WINDOW); the console shows those actions.
        "follow_up_until": _follow_up_until(flag),
        "message": {
            "id": message.pk,
            "seq": message.seq,
            "room": message.room.slug,
            "room_name": message.room.name,
            "state": message.state,
            "body": message.body,
            "author": {
                "id": message.author_id,
                "display_name": message.author.display_name if message.author else None,
            },
            "created_at": message.created_at.isoformat(),
        },
    }


def flag_context(flag: Flag) -> dict[str, Any]:
    """Everything a moderator needs to judge one item without leaving the console."""
    from moderation.models import ModeratorNote, Report

    message = flag.message
    room_msgs = Message.objects.filter(room=message.room).select_related("author")
    before = list(room_msgs.filter(seq__lt=message.seq).order_by("-seq")[:10])[::-1]
    after = list(room_msgs.filter(seq__gt=message.seq).order_by("seq")[:10])

    def brief(m: Message) -> dict[str, Any]:
        return {
            "seq": m.seq,
            "room": m.room.slug if m.room_id != message.room_id else message.room.slug,
            "author": m.author.display_name if m.author else None,
            "body": m.body,
            "state": m.state,
            "created_at": m.created_at.isoformat(),
            "is_flagged_message": m.pk == message.pk,
        }

    author = message.author
    elsewhere: list[dict[str, Any]] = []
    earlier_flags: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    mutes: list[dict[str, Any]] = []
    if author is not None:
        elsewhere = [
            brief(m)
            for m in Message.objects.filter(author=author)
            .exclude(room=message.room)
            .select_related("room", "author")
            .order_by("-created_at")[:10]
        ]
        earlier_flags = [
            {
                "id": f.pk,
                "category": f.category,
                "state": f.state,
                "resolution": f.resolution,
                "created_at": f.created_at.isoformat(),
                "body": f.message.body,
            }
            for f in Flag.objects.filter(message__author=author)
            .exclude(pk=flag.pk)
            .select_related("message")
            .order_by("-created_at")[:10]
        ]
        notes = [
            {
                "kind": n.kind,
                "text": n.text,
                "by": n.author.display_name if n.author else None,
                "created_at": n.created_at.isoformat(),
            }
            for n in ModeratorNote.objects.filter(member=author).select_related("author")[:20]
        ]
        mutes = [
            {"id": m.pk, "room": m.room.slug, "until": m.until.isoformat()}
            for m in Mute.objects.filter(
                user=author, lifted_at__isnull=True, until__gt=timezone.now()
            ).select_related("room")
        ]
    reports = [
        {"by": r.reporter.display_name, "reason": r.reason, "created_at": r.created_at.isoformat()}
        for r in Report.objects.filter(flag=flag).select_related("reporter")
    ]
    return {
        "before": [brief(m) for m in before],
        "message": brief(message),
        "after": [brief(m) for m in after],
        "author_elsewhere": elsewhere,
        "earlier_flags": earlier_flags,
        "notes": notes,
        "active_mutes": mutes,
        "reports": reports,
        "author_suspended": bool(author and author.suspended_at),
    }


def duty_stats(moderator) -> dict[str, Any]:  # noqa: ANN001
    """Care for moderators: how long on duty and how many items handled in this stretch."""
    from moderation.models import ModeratorPreference

    duty = ModeratorDuty.objects.filter(moderator=moderator, ended_at__isnull=True).first()
    prefs, _ = ModeratorPreference.objects.get_or_create(moderator=moderator)
    if duty is None:
        return {
            "on_duty": False,
            "handled": 0,
            "minutes": 0,
            "suggest_break": False,
            "blur_categories": prefs.blur_categories,
        }
    handled = Flag.objects.filter(resolved_by=moderator, resolved_at__gte=duty.started_at).count()
    minutes = int((timezone.now() - duty.started_at).total_seconds() // 60)
    return {
        "on_duty": True,
        "since": duty.started_at.isoformat(),
        "handled": handled,
        "minutes": minutes,
        "suggest_break": handled >= prefs.break_after_items or minutes >= prefs.break_after_minutes,
        "break_after_items": prefs.break_after_items,
        "break_after_minutes": prefs.break_after_minutes,
        "blur_categories": prefs.blur_categories,
    }


def resources_for(*, stage: str = "", region: str = "", kind: str = "") -> list[dict[str, Any]]:
    """The resources directory: national services plus those for her region, for her stage
    (services with no stages listed are for everyone)."""
    rows = Helpline.objects.filter(is_active=True)
    rows = rows.filter(region__in=["", region]) if region else rows
    if kind:
        rows = rows.filter(kind=kind)
    out = []
    for h in rows:
        if stage and h.stages and stage not in h.stages:
            continue
        out.append(
            {
                **h.as_card(),
                "region": h.region,
                "stages": h.stages,
                "last_verified": h.last_verified.isoformat() if h.last_verified else None,
            }
        )
    return out


def author_contexts(message_ids: list[int]) -> dict[int, list[str]]:
    """For each message, the same author's earlier messages in the same room (not deleted), at
    most ``CONTEXT_MESSAGES`` and no older than ``CONTEXT_SECONDS`` before it, oldest first: what
    the safety model reads with a message to see risk that builds over several lines."""
    from chat.models import MessageState
    from moderation.safety_model import CONTEXT_MESSAGES, CONTEXT_SECONDS

    rows = list(
        Message.objects.filter(pk__in=message_ids, author__isnull=False).values_list(
            "id", "room_id", "author_id", "seq", "created_at"
        )
    )
    out: dict[int, list[str]] = {pk: [] for pk, *_ in rows}
    if not rows:
        return out
    # One statement for the batch: per message, her last few earlier messages (each a small
    # ORDER BY … LIMIT, as one query each would be), put together with UNION ALL.
    q = connection.ops.quote_name
    one = (
        f"SELECT * FROM (SELECT %s AS target, {q('seq')}, {q('body')} FROM "
        f"{q(Message._meta.db_table)} WHERE {q('room_id')} = %s AND {q('author_id')} = %s "
        f"AND {q('seq')} < %s AND {q('created_at')} >= %s AND {q('state')} <> %s "
        f"ORDER BY {q('seq')} DESC LIMIT {int(CONTEXT_MESSAGES)}) AS c{{i}}"
    )
    params: list[Any] = []
    for pk, room_id, author_id, seq, created_at in rows:
        since = connection.ops.adapt_datetimefield_value(
            created_at - timedelta(seconds=CONTEXT_SECONDS)
        )
        params += [pk, room_id, author_id, seq, since, MessageState.DELETED.value]
    sql = " UNION ALL ".join(one.format(i=i) for i in range(len(rows)))
    found: dict[int, list[tuple[int, str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for target, seq, body in cursor.fetchall():
            found.setdefault(int(target), []).append((int(seq), body))
    for pk, earlier in found.items():
        out[pk] = [body for _seq, body in sorted(earlier)]
    return out


def safety_model_versions() -> tuple[str | None, str | None]:
    """(live version, shadow version). The live one is the promoted release, else the setting
    (``None`` when that is "off"); the shadow one only exists once a supervisor starts one."""
    from django.conf import settings

    live = shadow = None
    for version, state in SafetyModelRelease.objects.filter(
        state__in=[SafetyModelState.LIVE, SafetyModelState.SHADOW]
    ).values_list("version", "state"):
        if state == SafetyModelState.LIVE:
            live = version
        else:
            shadow = version
    if live is None:
        configured = settings.MODERATION_SAFETY_MODEL
        live = None if configured in ("", "off") else configured
    return live, (shadow if shadow != live else None)


#: a resolved flag's outcome → what it teaches the safety model
HARMFUL_RESOLUTIONS = frozenset({"hidden", "warned", "muted", "suspended"})
NOT_HARMFUL_RESOLUTIONS = frozenset({"dismissed", "approved"})


def moderator_labels(*, since=None) -> list[dict[str, Any]]:  # noqa: ANN001
    """Moderators' decisions on resolved queue items, as training labels for the safety model.

    * a toxic/insensitive item hidden, warned, muted or suspended → that category (harmful);
    * a toxic/insensitive item dismissed or approved → ``ok`` (not harmful);
    * a risk item acted on or escalated to supervisors → ``crisis`` (risk confirmed);
    * a risk item dismissed → no label, outcome ``risk_downgraded`` (was it distress or ordinary
      chat? a person decides before it is trained on);
    * an item only members reported (the model and rules let it through) that was acted on →
      its category, marked ``model_missed``.

    Respects erasure and retention: only messages that still have their text (erased members'
    and expired messages are scrubbed to ""), not deleted by their author. No author, room or
    member identity is exported; the text is the member's own words, so the file is personal data
    and stays on the server (docs/data-protection.md).
    """
    from chat.models import MessageState

    flags = (
        Flag.objects.filter(state=FlagState.RESOLVED)
        .exclude(message__body="")
        .exclude(message__state=MessageState.DELETED)
        .select_related("message")
        .order_by("resolved_at")
    )
    if since is not None:
        flags = flags.filter(resolved_at__gte=since)
    out = []
    for flag in flags:
        resolution = flag.resolution
        label: str | None
        outcome: str
        if flag.category == "risk":
            if resolution in NOT_HARMFUL_RESOLUTIONS:
                label, outcome = None, "risk_downgraded"
            else:
                label, outcome = "crisis", "risk_confirmed"
        elif flag.category in ("toxic", "insensitive"):
            if resolution in HARMFUL_RESOLUTIONS:
                label, outcome = flag.category, "harmful"
            elif resolution in NOT_HARMFUL_RESOLUTIONS:
                label, outcome = "ok", "not_harmful"
            else:
                continue
        else:
            continue
        sources = set(flag.sources or [flag.source])
        out.append(
            {
                "text": flag.message.body,
                "label": label,
                "outcome": outcome,
                "flagged_as": flag.category,
                "resolution": resolution,
                "model_missed": sources == {"report"} and outcome in ("harmful", "risk_confirmed"),
                "resolved_at": flag.resolved_at.isoformat() if flag.resolved_at else None,
                "writer": "moderators",
            }
        )
    return out


_READY_CACHE_SECONDS = 5.0
_ready: dict[str, float | bool] = {"at": -1e9, "value": False}


def safety_model_ready() -> bool:
    """Is a moderation worker alive with the safety model loaded? Read before every message (so
    kept for a few seconds per process): when it is, the inline rules leave all but their sure
    cases to the model stage; when it is not, every rule acts inline as a fail-safe."""
    import time

    now = time.monotonic()
    if now - float(_ready["at"]) >= _READY_CACHE_SECONDS:
        cutoff = timezone.now() - timedelta(seconds=WORKER_STALE_SECONDS)
        _ready["value"] = WorkerHeartbeat.objects.filter(
            last_beat__gte=cutoff, safety_model_available=True
        ).exists()
        _ready["at"] = now
    return bool(_ready["value"])


def forget_safety_model_ready() -> None:
    """Tests and a worker that has just loaded the model: read the heartbeat again next time."""
    _ready["at"] = -1e9
