"""Reads for pages, the API and the consumer. No writes here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Role, User
from chat.errors import RoomForbidden, RoomNotFound
from chat.models import Membership, Message, MessageState, Presence, Room, RoomKind

PRESENCE_STALE_SECONDS = 75
RESUME_BATCH_LIMIT = 500


def can_join(user: User, room: Room) -> bool:
    """Who may join which room (docs/protocol.md, "Rooms"): moderators and supervisors join every
    room; a member joins the room for her current stage and every topic room."""
    if not user.is_authenticated or user.is_suspended or room.is_archived:
        return False
    if user.role in (Role.MODERATOR, Role.SUPERVISOR):
        return True
    if room.kind == RoomKind.TOPIC:
        return True
    return room.stage == user.stage


def access_room(user: User, slug: str) -> Room:
    """Fetch a room and check the user may be in it; raises RoomNotFound / RoomForbidden."""
    try:
        room = Room.objects.get(slug=slug)
    except Room.DoesNotExist as exc:
        raise RoomNotFound() from exc
    if not can_join(user, room):
        raise RoomForbidden()
    return room


def past_conversation_limit(user: User, room: Room) -> int | None:
    """The last message she may read in a room she can no longer join (she changed stage: her
    past conversations stay hers to read), or None if she has no such access. Posting, joining
    and presence still go by `can_join` alone."""
    if not user.is_authenticated or user.is_suspended:
        return None
    return (
        Membership.objects.filter(user=user, room=room, read_only_until_seq__isnull=False)
        .values_list("read_only_until_seq", flat=True)
        .first()
    )


def access_past_conversation(user: User, slug: str) -> tuple[Room, int]:
    """A room she may only read, and the last message she may read there; raises RoomNotFound /
    RoomForbidden like `access_room`. For a room she may join, use `access_room`."""
    try:
        room = Room.objects.get(slug=slug)
    except Room.DoesNotExist as exc:
        raise RoomNotFound() from exc
    limit = past_conversation_limit(user, room)
    if limit is None or can_join(user, room):
        raise RoomForbidden()
    return room, limit


def serialize_user(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return _user_dict(user.pk, user.display_name, user.role)


def _user_dict(pk: int, display_name: str, role: str) -> dict[str, Any]:
    return {"id": pk, "display_name": display_name, "role": role}


def reaction_summary(message: Message) -> dict[str, Any]:
    """{kind: {"count": n, "by": [display names]}} for the three support reactions."""
    summary: dict[str, Any] = {}
    reactions = message.reactions.all()  # prefetched by the list selectors
    for reaction in sorted(reactions, key=lambda r: r.created_at):
        entry = summary.setdefault(reaction.kind, {"count": 0, "by": []})
        entry["count"] += 1
        entry["by"].append(reaction.user.display_name)
    return summary


def _quote(message: Message) -> dict[str, Any] | None:
    parent = message.reply_to
    if parent is None:
        return None
    return {
        "seq": parent.seq,
        "author_id": parent.author_id,
        "author": parent.author.display_name if parent.author else None,
        "excerpt": parent.body[:140],
        "state": parent.state,
    }


def _card(message: Message) -> dict[str, Any] | None:
    """The card another app attached to the message, as that app renders it now; None when there
    is none or its object has gone."""
    if message.card_id is None:
        return None
    card = message.card
    return card.as_card() if card is not None else None


def serialize_message(message: Message) -> dict[str, Any]:
    """The full form, as stored. Redact with `redact_for` before it leaves the server."""
    return {
        "id": message.pk,
        "seq": message.seq,
        "room": message.room.slug,
        "client_id": message.client_id,
        "author": serialize_user(message.author),
        "body": message.body,
        "html": message.html,
        "created_at": message.created_at.isoformat(),
        "state": message.state,
        "edited": message.edited_at is not None,
        "content_note": message.content_note,
        "reply_to": _quote(message),
        "reactions": reaction_summary(message),
        "resource": _card(message),
        # Escalated as risk: "sending a hug" and "thank you" only, never "me too".
        "supportive_only": message.shows_risk,
    }


def redact_for(
    message: dict[str, Any], *, viewer_id: int, viewer_is_moderator: bool
) -> dict[str, Any]:
    """What one viewer may see of a message. Every sequence number is delivered (so clients can
    tell a gap from a held message), but held and removed text only goes to those entitled."""
    state = message["state"]
    author = message.get("author") or {}
    quote = message.get("reply_to")
    if quote and quote.get("state") not in (None, MessageState.VISIBLE) and not viewer_is_moderator:
        message = {**message, "reply_to": {**quote, "excerpt": ""}}
    if state == MessageState.VISIBLE:
        return message
    if state != MessageState.DELETED and viewer_is_moderator:
        return message
    if state == MessageState.HELD and author.get("id") == viewer_id:
        return message
    redacted = dict(message)
    redacted["body"] = ""
    redacted["html"] = ""
    redacted["client_id"] = ""
    redacted["reply_to"] = None
    redacted["reactions"] = {}
    if state == MessageState.HELD:
        redacted["author"] = None
    return redacted


def _message_queryset(room: Room):
    return (
        Message.objects.filter(room=room)
        .select_related("author", "reply_to", "reply_to__author")
        .prefetch_related("reactions__user", "card")
    )


def _in_room(rows: list[Message], room: Room) -> list[Message]:
    """They are all in `room`: give them the object in hand instead of joining the room table."""
    for m in rows:
        m.room = room
    return rows


def message_by_seq(room: Room, seq: int) -> Message | None:
    found = _in_room(list(_message_queryset(room).filter(seq=seq)[:1]), room)
    return found[0] if found else None


def filters_of(user: User) -> dict[str, set[int]]:
    """Whom she has muted or blocked, and who has blocked her (they don't see her presence)."""
    from chat.models import MemberFilter

    rows = MemberFilter.objects.filter(
        Q(owner=user) | Q(other=user, kind=MemberFilter.Kind.BLOCK)
    ).values_list("owner_id", "other_id")
    hidden: set[int] = set()
    blocked_by: set[int] = set()
    for owner_id, other_id in rows:
        if owner_id == user.pk:
            hidden.add(other_id)
        else:
            blocked_by.add(owner_id)
    return {"hidden": hidden, "blocked_by": blocked_by}


def unread_counts(user: User) -> list[dict[str, Any]]:
    """New messages in each joined room since she last read it (for the in-page indicator)."""
    rows = Membership.objects.filter(user=user).select_related("room")
    return [
        {
            "room": m.room.slug,
            "name": m.room.name,
            "unread": max(0, m.room.last_seq - m.last_read_seq),
        }
        for m in rows
        if not m.room.is_archived
    ]


def recent_messages(room: Room, *, limit: int = 50) -> list[Message]:
    rows = list(_message_queryset(room).order_by("-seq")[:limit])
    rows.reverse()
    return _in_room(rows, room)


def messages_after(room: Room, after_seq: int, *, limit: int = RESUME_BATCH_LIMIT) -> list[Message]:
    return _in_room(
        list(_message_queryset(room).filter(seq__gt=after_seq).order_by("seq")[:limit]), room
    )


def messages_before(room: Room, before_seq: int | None, *, limit: int = 50) -> list[Message]:
    qs = _message_queryset(room)
    if before_seq is not None:
        qs = qs.filter(seq__lt=before_seq)
    rows = list(qs.order_by("-seq")[:limit])
    rows.reverse()
    return _in_room(rows, room)


def present_users(room: Room) -> list[dict[str, Any]]:
    cutoff = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS)
    # Read on every join: just the three fields (no model instances), since a member joining a
    # room of n would otherwise build n full User objects, and a room's reconnect storm n² of them.
    rows = (
        User.objects.filter(
            pk__in=Presence.objects.filter(room=room, last_seen__gte=cutoff).values("user_id")
        )
        .order_by("display_name")
        .values_list("pk", "display_name", "role")
    )
    return [_user_dict(*r) for r in rows]


def room_list_for(user: User) -> list[dict[str, Any]]:
    cutoff = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS)
    rooms = Room.objects.filter(is_archived=False).annotate(
        member_count=Count("memberships", distinct=True),
        online_count=Count(
            "presences__user", filter=Q(presences__last_seen__gte=cutoff), distinct=True
        ),
        moderators_online=Count(
            "presences__user",
            filter=Q(presences__last_seen__gte=cutoff)
            & Q(presences__user__role__in=[Role.MODERATOR, Role.SUPERVISOR]),
            distinct=True,
        ),
    )
    memberships = dict(
        Membership.objects.filter(user=user).values_list("room_id", "read_only_until_seq")
    )
    joined = set(memberships)
    result = []
    for room in rooms:
        result.append(
            {
                "room": room,
                "slug": room.slug,
                "name": room.name,
                "kind": room.kind,
                "stage": room.stage,
                "description": room.description,
                "member_count": room.member_count,
                "online_count": room.online_count,
                "moderator_present": room.moderators_online > 0,
                "can_join": can_join(user, room),
                "is_member": room.pk in joined,
                # A stage room she has left: her past conversations there, to read only.
                "past_only": memberships.get(room.pk) is not None and not can_join(user, room),
            }
        )
    # Rooms you can join first: a mother should find her own room at the top of the list.
    result.sort(key=lambda r: (not r["can_join"], r["kind"] != RoomKind.STAGE, r["room"].position))
    return result


def hide_filtered(message: dict[str, Any], hidden: set[int] | frozenset[int]) -> dict[str, Any]:
    """Apply one viewer's mute/block list: their messages keep their seq (no gap) but lose their
    words, and so do quotes of them inside other people's replies."""
    author = message.get("author") or {}
    if author.get("id") in hidden:
        return {**message, "body": "", "html": "", "reply_to": None, "hidden_for_you": True}
    quote = message.get("reply_to")
    if quote and quote.get("author_id") in hidden:
        return {**message, "reply_to": {**quote, "excerpt": "", "hidden_for_you": True}}
    return message
