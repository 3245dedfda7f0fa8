"""The care loop around a mother at risk (docs/moderation.md, "Around a message that shows risk").

An unkind answer to a mother who has just disclosed risk is the worst moment for her to meet
unkindness, and it is routine: "Stop whining, other people have real problems" straight under a
suicidal message. So a message that

* replies to a message escalated as risk, or follows one in the same room within
  RISK_FOLLOW_UP (a few minutes), and is by someone else, and
* is itself flagged toxic or insensitive (by the rules, the model or a report merged later)

becomes an urgent queue item (the 5-minute target), linked to the risk item, and is held: it
disappears from her screen (and the room's) until a moderator reviews it. The link is a reason on
the flag ({"rule": "reply_to_risk", "risk_flag_id": …}), shown in the console.

Both orders are covered: the unkind message is flagged after the risk escalation (the usual
case: `link_to_risk`), or before it, when both waited for the same model batch
(`link_unkind_replies`, run when the risk is escalated). Called inside the flag's transaction by
moderation.actions.do_record_decision; nothing here runs on an ordinary message's send path.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q

from chat.models import MessageState
from moderation.models import Flag, FlagState, Priority

RISK_FOLLOW_UP = timedelta(minutes=5)
UNKIND = frozenset({"toxic", "insensitive"})
LINK_RULE = "reply_to_risk"


def is_linked(flag: Flag) -> bool:
    return any(isinstance(r, dict) and r.get("rule") == LINK_RULE for r in flag.reasons)


def risk_flag_near(message) -> Flag | None:  # noqa: ANN001 - a chat.Message
    """The risk item this message answers: the one it replies to, else the latest escalated
    message by someone else in the same room within RISK_FOLLOW_UP before it."""
    others = Flag.objects.filter(escalated=True).select_related("message")
    if message.author_id is not None:
        others = others.exclude(message__author_id=message.author_id)
    if message.reply_to_id is not None:
        replied = others.filter(message_id=message.reply_to_id).first()
        if replied is not None:
            return replied
    return (
        others.filter(
            message__room_id=message.room_id,
            message__seq__lt=message.seq,
            message__created_at__gte=message.created_at - RISK_FOLLOW_UP,
        )
        .order_by("-message__seq")
        .first()
    )


def answers_risk(message, risk) -> bool:  # noqa: ANN001 - chat.Messages
    """Whether ``message`` answers ``risk`` (a message escalated as risk) as
    :func:`risk_flag_near` reads it: by someone else, a reply to it, or after it in the same room
    within RISK_FOLLOW_UP."""
    if message.author_id is not None and message.author_id == risk.author_id:
        return False
    if message.reply_to_id is not None and message.reply_to_id == risk.pk:
        return True
    return (
        message.room_id == risk.room_id
        and risk.seq < message.seq
        and risk.created_at >= message.created_at - RISK_FOLLOW_UP
    )


def link_to_risk(flag: Flag) -> bool:
    """`flag` (toxic or insensitive, not yet linked) becomes urgent and linked, and its message is
    held, if it answers a risk item. Returns whether it did."""
    risk = risk_flag_near(flag.message)
    if risk is None:
        return False
    _link(flag, risk)
    return True


def link_unkind_replies(risk: Flag) -> int:
    """A message has just been escalated as risk: unkind replies to it, and unkind messages in the
    minutes after it, that were flagged before it was escalated are linked now."""
    message = risk.message
    candidates = (
        Flag.objects.select_for_update(of=("self",))
        .select_related("message", "message__room", "message__author")
        .filter(category__in=UNKIND, escalated=False)
        .exclude(state=FlagState.RESOLVED)
        .filter(
            Q(message__reply_to_id=message.pk)
            | Q(
                message__room_id=message.room_id,
                message__seq__gt=message.seq,
                message__created_at__lte=message.created_at + RISK_FOLLOW_UP,
            )
        )
    )
    if message.author_id is not None:
        candidates = candidates.exclude(message__author_id=message.author_id)
    linked = 0
    for flag in candidates:
        if not is_linked(flag):
            _link(flag, risk)
            linked += 1
    return linked


def _link(flag: Flag, risk: Flag) -> None:
    from chat.events import MODERATORS_GROUP, send_event_on_commit
    from moderation.actions import _set_message_state

    flag.priority = Priority.URGENT
    flag.reasons = [
        *flag.reasons,
        {
            "rule": LINK_RULE,
            "risk_flag_id": risk.pk,
            "risk_seq": risk.message.seq,
            "note": "held from her until a moderator reviews it",
        },
    ]
    flag.save(update_fields=["priority", "reasons"])
    message = flag.message
    if message.state == MessageState.VISIBLE:
        # Audited with no acting user: the system held it.
        _set_message_state(
            message,
            MessageState.HELD,
            acting_user=None,
            action="message.held_near_risk",
            reason=f"unkind reply to risk item {risk.pk}",
        )
    send_event_on_commit(
        MODERATORS_GROUP,
        {"type": "moderation.flag", "flag_id": flag.pk, "urgent": True, "changed": True},
    )


# --- When nobody is there ------------------------------------------------------------------------
#
# A mother who posts into a room with nobody else in it, while no moderator is on duty, hears back
# at once, privately and honestly: her message is saved and others will see it, where help is
# available now, and which rooms have people in them right now. The same answer goes to a member
# whose message has had no reply for NO_REPLY_AFTER (checked by the moderation worker). At most
# one such answer per member and room every ANSWER_EVERY, so it never nags.

ALONE_NOTICE = "room.alone"
ALONE_TITLE = "A note from Kindred, just for you"
NO_REPLY_AFTER = timedelta(minutes=3)
ANSWER_EVERY = timedelta(minutes=30)


def _answered_key(user_id: int, room_id: int) -> str:
    return f"care:alone-answered:{user_id}:{room_id}"


def _rooms_with_people(member, *, exclude_room_id: int) -> list[tuple[str, int]]:  # noqa: ANN001
    from django.db.models import Count, Q
    from django.utils import timezone

    from chat.models import Room
    from chat.selectors import PRESENCE_STALE_SECONDS, can_join

    cutoff = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS)
    rooms = (
        Room.objects.filter(is_archived=False)
        .exclude(pk=exclude_room_id)
        .annotate(
            here=Count(
                "presences__user",
                filter=Q(presences__last_seen__gte=cutoff) & ~Q(presences__user=member),
                distinct=True,
            )
        )
        .filter(here__gt=0)
        .order_by("-here", "position")
    )
    return [(r.name, r.here) for r in rooms if can_join(member, r)][:3]


def alone_text(member, room) -> str:  # noqa: ANN001
    """The answer's words, from what is true now. Short: she reads it on a phone."""
    from moderation.selectors import support_card_helplines

    lines = [
        f"Nobody else is in {room.name} right now and no moderator is on duty. Your message is "
        "saved, and others will see it when they come in.",
    ]
    # 999 has its own sentence below; the card's other services are the ones to talk to.
    region = getattr(member, "region", "") or ""
    helplines = [h for h in support_card_helplines(region) if h["contact"].strip() != "999"][:2]
    if helplines:
        services = "; ".join(
            f"{h['name']}, {h['contact']}" + (f" ({h['hours']})" if h.get("hours") else "")
            for h in helplines
        )
        lines.append(f"To talk to someone now: {services}.")
    lines.append("If you or your baby are in danger, call 999.")
    busy = _rooms_with_people(member, exclude_room_id=room.pk)
    if busy:
        rooms = ", ".join(f"{name} ({n} here)" for name, n in busy)
        lines.append(f"People are in these rooms now: {rooms}.")
    else:
        lines.append("The other rooms are quiet right now too.")
    return " ".join(lines)


def _someone_else_here(member, room) -> bool:  # noqa: ANN001
    from django.utils import timezone

    from chat.models import Presence
    from chat.selectors import PRESENCE_STALE_SECONDS

    cutoff = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS)
    return Presence.objects.filter(room=room, last_seen__gte=cutoff).exclude(user=member).exists()


def do_answer_alone(*, member, room) -> bool:  # noqa: ANN001
    """Send her the private answer unless she had one for this room within ANSWER_EVERY.
    Stored as a Notice (shown again on her next visit until she dismisses it), pushed after
    commit. Returns whether it was sent."""
    from django.core.cache import cache
    from django.db import transaction
    from django.utils import timezone

    from moderation.actions import _notify
    from moderation.models import Notice

    if not cache.add(_answered_key(member.pk, room.pk), 1, timeout=ANSWER_EVERY.seconds):
        return False
    since = timezone.now() - ANSWER_EVERY
    with transaction.atomic():
        # The cache is a fast first guard; the stored notices are the truth across processes.
        recent = Notice.objects.filter(user=member, kind=ALONE_NOTICE, created_at__gte=since)
        if any(n.text.find(room.name) >= 0 for n in recent):
            return False
        _notify(member, kind=ALONE_NOTICE, title=ALONE_TITLE, text=alone_text(member, room))
    return True


def answer_if_alone(message) -> bool:  # noqa: ANN001 - a chat.Message, just stored
    """Called once a member's message is committed. Costs nothing more while a moderator is on
    duty (the on-duty flag is cached for the message path) or once she has been answered here
    lately (a cache key); otherwise one presence query."""
    from django.core.cache import cache

    from moderation.selectors import moderator_on_duty

    author = message.author
    if author is None or author.is_moderator or moderator_on_duty():
        return False
    if cache.get(_answered_key(author.pk, message.room_id)) is not None:
        return False
    if _someone_else_here(author, message.room):
        return False
    return do_answer_alone(member=author, room=message.room)


def do_answer_unanswered(*, now=None) -> int:  # noqa: ANN001
    """The worker's check (every few seconds): members' messages that have waited NO_REPLY_AFTER
    with no message from anyone else in the room since, while no moderator is on duty, get the
    same answer. Looks back a few minutes only, so a restart does not answer old messages."""
    from django.utils import timezone

    from chat.models import Message
    from moderation.selectors import moderator_on_duty

    if moderator_on_duty():
        return 0
    now = now or timezone.now()
    waiting = (
        Message.objects.filter(
            created_at__lte=now - NO_REPLY_AFTER,
            created_at__gt=now - NO_REPLY_AFTER - timedelta(minutes=2),
            state=MessageState.VISIBLE,
            author__role="member",
        )
        .select_related("author", "room")
        .order_by("-created_at")
    )
    answered = 0
    seen: set[tuple[int, int]] = set()
    for message in waiting[:200]:
        key = (message.author_id, message.room_id)
        if key in seen:
            continue
        seen.add(key)
        replied = (
            Message.objects.filter(room_id=message.room_id, seq__gt=message.seq)
            .exclude(author_id=message.author_id)
            .exists()
        )
        if not replied and do_answer_alone(member=message.author, room=message.room):
            answered += 1
    return answered
