"""Every chat write happens here: check_* validates and raises ChatError, do_* writes and pushes."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from chat.errors import ChatError, RoomForbidden
from chat.events import room_group, send_event_on_commit
from chat.models import Membership, Message, Presence, Room
from chat.rendering import normalise_body, render_body
from chat.selectors import PRESENCE_STALE_SECONDS, can_join, present_users, serialize_message
from moderation import pipeline

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _check_rate_limit(user: User) -> None:
    """At most CHAT_RATE_LIMIT_COUNT messages per CHAT_RATE_LIMIT_SECONDS per member, counted in
    the shared cache so that two tabs or two web processes share one allowance."""
    window = settings.CHAT_RATE_LIMIT_SECONDS
    now = timezone.now().timestamp()
    bucket = int(now // window)
    key = f"chat-rate:{user.pk}:{bucket}"
    if cache.add(key, 1, timeout=int(window) + 2):
        return
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=int(window) + 2)
        return
    if count > settings.CHAT_RATE_LIMIT_COUNT:
        retry_after = round((bucket + 1) * window - now, 1)
        raise ChatError(
            "rate_limited",
            "You're sending messages very quickly. Please wait a moment and try again.",
            retry_after=retry_after,
        )


def check_message_body(body: object) -> str:
    if not isinstance(body, str):
        raise ChatError("validation", "The message must be text.", field="body")
    text = normalise_body(body)
    if not text:
        raise ChatError("validation", "The message is empty.", field="body")
    if len(text) > settings.CHAT_MAX_BODY_CHARS:
        raise ChatError(
            "validation",
            f"Messages can be at most {settings.CHAT_MAX_BODY_CHARS} characters "
            f"(this one has {len(text)}).",
            field="body",
        )
    return text


def check_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise ChatError(
            "validation",
            "client_id must be 8–64 letters, digits, '-' or '_'.",
            field="client_id",
        )
    return client_id


def _existing(author: User, client_id: str) -> Message | None:
    return Message.objects.select_related("author", "room").filter(author=author, client_id=client_id).first()


def check_send_message(
    *, author: User, room: Room, client_id: object, body: object
) -> tuple[Message, bool]:
    """Validate and send. Idempotent on (author, client_id): a resend returns the stored message
    and creates nothing. Returns (message, created)."""
    client_id = check_client_id(client_id)
    existing = _existing(author, client_id)
    if existing is not None:
        if existing.room_id != room.pk:
            raise ChatError("validation", "That client_id was already used in another room.", field="client_id")
        return existing, False
    text = check_message_body(body)
    if not can_join(author, room):
        raise RoomForbidden("You can no longer post in this room.")
    pipeline.check_may_post(author=author, room=room)
    _check_rate_limit(author)
    try:
        return do_send_message(author=author, room=room, client_id=client_id, body=text), True
    except IntegrityError:
        # The same client_id raced in from a second socket; the first one won.
        existing = _existing(author, client_id)
        if existing is None:
            raise
        return existing, False


def do_send_message(*, author: User, room: Room, client_id: str, body: str) -> Message:
    """Store a message with the room's next sequence number, then push it after commit.

    The sequence number is taken by an UPDATE on the room row inside this transaction, which
    locks the row until commit: concurrent senders queue, and a rollback returns the number, so
    sequence numbers have no gaps.
    """
    with transaction.atomic():
        Room.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + 1)
        seq = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
        inline = pipeline.assess_before_delivery(author=author, room=room, body=body)
        message = Message.objects.create(
            room=room,
            seq=seq,
            author=author,
            client_id=client_id,
            body=body,
            html=render_body(body),
            created_at=timezone.now(),
            state=inline.state,
        )
        message.room = room
        message.author = author
        Membership.objects.get_or_create(user=author, room=room)
        pipeline.apply_inline_outcome(message, inline)
        send_event_on_commit(
            room_group(room.pk), {"type": "chat.message", "message": serialize_message(message)}
        )
    return message


def do_join_room(*, user: User, room: Room, channel_name: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        Membership.objects.get_or_create(user=user, room=room)
        Presence.objects.update_or_create(
            channel_name=channel_name,
            defaults={"user": user, "room": room, "connected_at": now, "last_seen": now},
        )
        _push_presence(room)


def do_leave_room(*, channel_name: str) -> None:
    with transaction.atomic():
        presence = Presence.objects.select_related("room").filter(channel_name=channel_name).first()
        if presence is None:
            return
        room = presence.room
        presence.delete()
        _push_presence(room)


def do_touch_presence(*, channel_name: str) -> None:
    Presence.objects.filter(channel_name=channel_name).update(last_seen=timezone.now())


def do_sweep_stale_presence() -> int:
    cutoff = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS * 4)
    deleted, _ = Presence.objects.filter(last_seen__lt=cutoff).delete()
    return deleted


def do_mark_read(*, user: User, room: Room, seq: int) -> None:
    Membership.objects.filter(user=user, room=room, last_read_seq__lt=seq).update(last_read_seq=seq)


def _push_presence(room: Room) -> None:
    users = present_users(room)
    send_event_on_commit(room_group(room.pk), {"type": "chat.presence", "present": users})
