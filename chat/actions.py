"""Every chat write happens here: check_* validates and raises ChatError, do_* writes and pushes."""

from __future__ import annotations

import functools
import json
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from accounts.models import User
from chat import content_notes, gate, selectors
from chat.errors import ChatError, RoomForbidden
from chat.events import room_group, send_event_on_commit, user_group
from chat.models import (
    AssessmentState,
    MemberFilter,
    Membership,
    Message,
    MessageRevision,
    MessageState,
    Presence,
    Reaction,
    ReactionKind,
    Room,
    RoomKind,
)
from chat.rendering import normalise_body, render_body
from chat.selectors import PRESENCE_STALE_SECONDS, can_join, redact_for, serialize_message
from chat.signals import message_sent
from config.text import INVALID_TEXT, lone_surrogate_path

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
logger = logging.getLogger(__name__)


def _check_rate_limit(user: User, budget: str = "send") -> None:
    """Two budgets per member, each counted in the shared cache so that two tabs or two web
    processes share one allowance (docs/protocol.md, "Rate limits"):

    * ``send``: new messages, at most CHAT_RATE_LIMIT_COUNT per CHAT_RATE_LIMIT_SECONDS;
    * ``action``: every other frame that writes or pushes to others (edits, deletes, reactions,
      reports, shared resources), at most CHAT_ACTION_RATE_LIMIT_COUNT in the same window;
    * ``read``: resume requests (each can answer with a batch of hundreds of kB), at most
      CHAT_READ_RATE_LIMIT_COUNT in the same window.
    """
    window = settings.CHAT_RATE_LIMIT_SECONDS
    limit = {
        "send": settings.CHAT_RATE_LIMIT_COUNT,
        "action": settings.CHAT_ACTION_RATE_LIMIT_COUNT,
        "read": settings.CHAT_READ_RATE_LIMIT_COUNT,
    }[budget]
    now = timezone.now().timestamp()
    bucket = int(now // window)
    key = f"chat-rate:{budget}:{user.pk}:{bucket}"
    if cache.add(key, 1, timeout=int(window) + 2):
        return
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=int(window) + 2)
        return
    if count > limit:
        retry_after = round((bucket + 1) * window - now, 1)
        doing = {
            "send": "sending messages",
            "action": "editing and reacting",
            "read": "asking for history",
        }[budget]
        raise ChatError(
            "rate_limited",
            f"You're {doing} very quickly. Please wait a moment and try again.",
            retry_after=retry_after,
        )


def check_read_rate(user: User) -> None:
    """Counts one resume request against the member's read budget (``rate_limited`` when spent)."""
    _check_rate_limit(user, "read")


def check_action_rate(user: User) -> None:
    """Counts one edit, delete, reaction, report or shared resource against the member's action
    budget; raises ``rate_limited`` (with ``retry_after``) when it is spent."""
    _check_rate_limit(user, "action")


def check_message_body(body: object) -> str:
    if not isinstance(body, str):
        raise ChatError("validation", "The message must be text.", field="body")
    if lone_surrogate_path(body):
        raise ChatError("validation", INVALID_TEXT, field="body")
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


def already_sent(author: User, client_id: str) -> Message | None:
    """The message this member already sent with this client_id, if any (a resend). Looked up
    before every send, by the unique (author, client_id) index; the statement is built once per
    process, since building it with the ORM each time cost more than running it."""
    with connection.cursor() as cursor:
        cursor.execute(_existing_sql(connection.vendor), [author.pk, client_id])
        found = cursor.fetchone()
    if found is None:
        return None
    return selectors.message_by_seq(Room.objects.get(pk=found[0]), found[1])


@functools.cache
def _existing_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    col = {
        name: q(Message._meta.get_field(name).column)
        for name in ("room", "seq", "author", "client_id")
    }
    return (
        f"SELECT {col['room']}, {col['seq']} FROM {q(Message._meta.db_table)} "
        f"WHERE {col['author']} = %s AND {col['client_id']} = %s LIMIT 1"
    )


def check_content_note(note: object, *, room: Room, text: str) -> str:
    if note in (None, ""):
        note = ""
    elif not isinstance(note, str) or note not in content_notes.TOPICS:
        raise ChatError(
            "validation",
            f"content_note must be one of: {', '.join(content_notes.TOPICS)}.",
            field="content_note",
        )
    missing = content_notes.missing_required_note(
        text, required=room.required_content_notes, given=note
    )
    if missing:
        raise ChatError(
            "content_note_required",
            f"This room asks for a content note on messages about {content_notes.TOPICS[missing].lower()}. "
            "Please add one so others can choose when to read it.",
            field="content_note",
            topic=missing,
        )
    return note


def _check_reply_to(reply_to: object, room: Room) -> Message | None:
    if reply_to is None:
        return None
    if isinstance(reply_to, bool) or not isinstance(reply_to, int) or reply_to < 1:
        raise ChatError(
            "validation", "reply_to must be the seq of a message in this room.", field="reply_to"
        )
    parent = Message.objects.select_related("author").filter(room=room, seq=reply_to).first()
    if parent is None:
        raise ChatError(
            "validation", "You can only reply to a message in this room.", field="reply_to"
        )
    return parent


def check_send_message(
    *,
    author: User,
    room: Room,
    client_id: object,
    body: object,
    reply_to: object = None,
    content_note: object = None,
    membership_known: bool = False,
) -> tuple[Message, bool]:
    """Validate and send. Idempotent on (author, client_id): a resend returns the stored message
    and creates nothing. Returns (message, created). `membership_known`: the caller (a room
    socket, which joined) knows she is a member of the room."""
    client_id = check_client_id(client_id)
    existing = already_sent(author, client_id)
    if existing is not None:
        if existing.room_id != room.pk:
            raise ChatError(
                "validation", "That client_id was already used in another room.", field="client_id"
            )
        return existing, False
    text = check_message_body(body)
    if not can_join(author, room):
        raise RoomForbidden("You can no longer post in this room.")
    note = check_content_note(content_note, room=room, text=text)
    parent = _check_reply_to(reply_to, room)
    gate.check_may_post(author=author, room=room)
    _check_rate_limit(author)
    try:
        message = do_send_message(
            author=author,
            room=room,
            client_id=client_id,
            body=text,
            reply_to=parent,
            content_note=note,
            may_post_checked=True,
            membership_known=membership_known,
        )
    except IntegrityError:
        # The same client_id raced in from a second socket; the first one won.
        existing = already_sent(author, client_id)
        if existing is None:
            raise
        return existing, False
    # Other apps act on a stored message here (moderation answers a member posting alone); a
    # failure in one is logged by send_robust and never turns her sent message into an error.
    message_sent.send_robust(sender=Message, message=message)
    _notify_replied_to(message)
    return message, True


def _notify_replied_to(message: Message) -> None:
    """A notification to the member she replied to, if that member turned them on (chat/
    notifications). After her message is stored; a failure here never fails her send."""
    from chat.notifications.actions import notify_reply

    try:
        notify_reply(message)
    except Exception:  # noqa: BLE001
        logger.exception("could not notify the member replied to in %s", message.room_id)


def do_send_message(
    *,
    author: User,
    room: Room,
    client_id: str,
    body: str,
    reply_to: Message | None = None,
    content_note: str = "",
    card: models.Model | None = None,
    may_post_checked: bool = False,
    membership_known: bool = False,
) -> Message:
    """Store a message with the room's next sequence number, then push it after commit. The
    message gates (chat.gate) decide, inside the transaction, whether it is held.
    `may_post_checked`: the caller has just run `gate.check_may_post` for this author and room.

    The sequence number is taken by an UPDATE on the room row inside this transaction, which
    locks the row until commit: concurrent senders queue, and a rollback returns the number, so
    sequence numbers have no gaps.
    """
    with transaction.atomic():
        seq = _next_seq(room)
        assessment = gate.assess(
            author=author, room=room, body=body, may_post_checked=may_post_checked
        )
        message = Message.objects.create(
            room=room,
            seq=seq,
            author=author,
            client_id=client_id,
            body=body,
            html=render_body(body),
            created_at=timezone.now(),
            state=assessment.state,
            reply_to=reply_to,
            content_note=content_note,
            card=card,
        )
        message.room = room
        message.author = author
        # A new message has no reactions: serialising it needs no query for them.
        message._prefetched_objects_cache = {"reactions": Reaction.objects.none()}
        if not membership_known:
            Membership.objects.get_or_create(user=author, room=room)
        gate.after_stored(message, assessment)
        full = serialize_message(message)
        send_event_on_commit(
            room_group(room.pk),
            {
                "type": "chat.message",
                "message": full,
                # Rendered once here for every ordinary viewer, instead of once per socket.
                "public_frame": json.dumps(
                    {
                        "type": "message.new",
                        "message": redact_for(full, viewer_id=0, viewer_is_moderator=False),
                    },
                    ensure_ascii=False,
                ),
            },
        )
    return message


def _next_seq(room: Room) -> int:
    """Take the room's next sequence number. The UPDATE locks the room row until the enclosing
    transaction ends, so concurrent senders queue and a rollback gives the number back.
    One statement (UPDATE … RETURNING, SQLite ≥ 3.35 and PostgreSQL) instead of an update and a
    re-read: this runs for every message."""
    table = connection.ops.quote_name(Room._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq",
            [room.pk],
        )
        return cursor.fetchone()[0]


def do_join_room(*, user: User, room: Room, channel_name: str) -> list[str]:
    """Records the new socket's presence. A member has at most CHAT_MAX_SOCKETS_PER_USER open
    room sockets (every room, every device, every web process): beyond that her oldest ones are
    let go here, and told so after commit (`user.socket_limit`: they close with
    CLOSE_TOO_MANY_SOCKETS, docs/protocol.md). Returns the channel names let go."""
    now = timezone.now()
    with transaction.atomic():
        # Her joins one at a time, so two at once cannot both keep a sixth socket.
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
        Membership.objects.get_or_create(user=user, room=room)
        # A socket's channel name is new with every connection.
        Presence.objects.create(
            channel_name=channel_name, user=user, room=room, connected_at=now, last_seen=now
        )
        if Presence.objects.filter(room=room, user=user).count() == 1:  # her first open tab here
            _push_presence_change(room, user, "joined")
        live = Presence.objects.filter(
            user=user, last_seen__gte=now - timedelta(seconds=PRESENCE_STALE_SECONDS)
        )
        oldest_first = list(live.order_by("connected_at", "pk").select_related("room"))
        excess = oldest_first[: max(0, len(oldest_first) - settings.CHAT_MAX_SOCKETS_PER_USER)]
        if not excess:
            return []
        Presence.objects.filter(pk__in=[p.pk for p in excess]).delete()
        for other in {p.room_id: p.room for p in excess}.values():
            if not Presence.objects.filter(room=other, user=user).exists():
                _push_presence_change(other, user, "left")
        let_go = [p.channel_name for p in excess]
        send_event_on_commit(
            user_group(user.pk), {"type": "user.socket_limit", "channel_names": let_go}
        )
        return let_go


def do_leave_room(*, channel_name: str) -> None:
    with transaction.atomic():
        presence = (
            Presence.objects.select_related("room", "user")
            .filter(channel_name=channel_name)
            .first()
        )
        if presence is None:
            return
        room, user = presence.room, presence.user
        presence.delete()
        if not Presence.objects.filter(room=room, user=user).exists():  # her last tab here closed
            _push_presence_change(room, user, "left")


def do_touch_presence_many(*, channel_names: list[str]) -> None:
    """A web process marks all its open sockets as still here, in one statement (chat.fanout)."""
    Presence.objects.filter(channel_name__in=channel_names).update(last_seen=timezone.now())


def do_sweep_stale_presence() -> int:
    cutoff = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS * 4)
    deleted, _ = Presence.objects.filter(last_seen__lt=cutoff).delete()
    return deleted


def do_mark_read(*, user: User, room: Room, seq: int) -> None:
    Membership.objects.filter(user=user, room=room, last_read_seq__lt=seq).update(last_read_seq=seq)


def _push_presence_change(room: Room, user: User, change: str) -> None:
    """Who came or went, not the whole list: a join in a room of n costs n small frames, not n
    copies of an n-long list (the joining socket gets the full list in room.joined)."""
    from chat.selectors import serialize_user

    send_event_on_commit(
        room_group(room.pk),
        {"type": "chat.presence_change", "change": change, "user": serialize_user(user)},
    )


# --- Things a member does to messages and to other members -----------------------------------


def _own_message(user: User, room: Room, seq: object) -> Message:
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ChatError(
            "validation", "seq must be the number of a message in this room.", field="seq"
        )
    message = Message.objects.select_related("author", "room").filter(room=room, seq=seq).first()
    if message is None:
        raise ChatError("not_found", "There is no such message in this room.")
    if message.author_id != user.pk:
        raise ChatError("forbidden", "You can only change your own messages.")
    if message.state in (MessageState.DELETED, MessageState.HIDDEN):
        raise ChatError("forbidden", "This message can no longer be changed.")
    window = settings.CHAT_EDIT_WINDOW_SECONDS
    if (timezone.now() - message.created_at).total_seconds() > window:
        raise ChatError(
            "forbidden", f"Messages can be changed for {window // 60} minutes after sending."
        )
    return message


def _push_updated(message: Message) -> None:
    message = (
        Message.objects.select_related("author", "room", "reply_to", "reply_to__author")
        .prefetch_related("reactions__user")
        .get(pk=message.pk)
    )
    send_event_on_commit(
        room_group(message.room_id),
        {"type": "chat.message_updated", "message": serialize_message(message)},
    )


def check_edit_message(
    *, user: User, room: Room, seq: object, body: object, content_note: object = None
) -> Message:
    """Edit your own message within the edit window. Others see "edited"; the earlier text is
    kept for supervisors; the new text is checked by the rules now and assessed again."""
    text = check_message_body(body)
    check_action_rate(user)
    with transaction.atomic():
        message = _own_message(user, room, seq)
        Message.objects.select_for_update().filter(pk=message.pk).first()
        note = check_content_note(
            content_note if content_note is not None else message.content_note, room=room, text=text
        )
        if text == message.body and note == message.content_note:
            return message
        MessageRevision.objects.create(
            message=message,
            revision=message.revision,
            body=message.body,
            content_note=message.content_note,
            replaced_at=timezone.now(),
        )
        assessment = gate.assess(author=user, room=room, body=text)
        message.body = text
        message.html = render_body(text)
        message.content_note = note
        message.edited_at = timezone.now()
        message.revision += 1
        if assessment.state == MessageState.HELD:
            message.state = MessageState.HELD
        message.assessment_state = AssessmentState.PENDING
        message.assessment_worker = ""
        message.assessment_lease_until = None
        message.save()
        gate.after_stored(message, assessment)
        _push_updated(message)
    return message


def check_delete_message(*, user: User, room: Room, seq: object) -> Message:
    """Delete your own message within the edit window: everyone sees "deleted"; the text stays
    in the logs for supervisors."""
    check_action_rate(user)
    with transaction.atomic():
        message = _own_message(user, room, seq)
        message.state = MessageState.DELETED
        message.save(update_fields=["state"])
        _push_updated(message)
    return message


SUPPORTIVE_ONLY = "This message gets supportive reactions only: a hug or a thank-you."


def check_toggle_reaction(*, user: User, room: Room, seq: object, kind: object) -> Message:
    """Add or take back a support reaction ("me too", "sending a hug", "thank you"). Nobody reacts
    to her own message, and a message escalated as risk takes no "me too" (it can spread the
    feeling): taking one back is always allowed."""
    if kind not in ReactionKind.values:
        raise ChatError(
            "validation", f"kind must be one of: {', '.join(ReactionKind.values)}.", field="kind"
        )
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ChatError(
            "validation", "seq must be the number of a message in this room.", field="seq"
        )
    check_action_rate(user)
    with transaction.atomic():
        message = Message.objects.filter(room=room, seq=seq, state=MessageState.VISIBLE).first()
        if message is None:
            raise ChatError("not_found", "There is no such message to react to.")
        if message.author_id == user.pk:
            raise ChatError("forbidden", "You can't react to your own message.")
        deleted, _ = Reaction.objects.filter(message=message, user=user, kind=kind).delete()
        if not deleted:
            if kind == ReactionKind.ME_TOO and message.shows_risk:
                raise ChatError("forbidden", SUPPORTIVE_ONLY)
            Reaction.objects.create(message=message, user=user, kind=kind)
        _push_updated(message)
    return message


def do_set_member_filter(*, owner: User, other: User, kind: str | None) -> None:
    """Mute or block another member for yourself, or undo it (kind None)."""
    if owner.pk == other.pk:
        raise ChatError("validation", "You can't mute or block yourself.")
    if kind is not None and kind not in MemberFilter.Kind.values:
        raise ChatError("validation", "kind must be mute, block or null.", field="kind")
    if kind is not None and other.is_moderator:
        raise ChatError(
            "forbidden", "Moderators can't be muted or blocked: they keep the room safe."
        )
    with transaction.atomic():
        if kind is None:
            MemberFilter.objects.filter(owner=owner, other=other).delete()
        else:
            MemberFilter.objects.update_or_create(owner=owner, other=other, defaults={"kind": kind})
        from chat.events import user_group

        # Both people's open sockets refresh their filters (hidden messages, hidden presence).
        for uid in (owner.pk, other.pk):
            send_event_on_commit(user_group(uid), {"type": "user.filters_changed"})


# --- Her rooms after a change of stage (issue 21) -----------------------------------------------


def do_settle_memberships_after_stage_change(user: User) -> None:
    """Called inside the transaction of her stage change (chat.receivers): each stage room she
    was in and may no longer join becomes read-only up to its current last message, so her past
    conversations stay readable while new ones stay with the mothers at that stage; a stage room
    she may join again becomes hers in full. Not audited on its own: the stage change it follows
    is (account.stage_changed). Idempotent."""
    rows = Membership.objects.filter(user=user).select_related("room")
    for membership in rows:
        room = membership.room
        if room.kind != RoomKind.STAGE:
            continue
        allowed = can_join(user, room)
        if not allowed and membership.read_only_until_seq is None:
            membership.read_only_until_seq = room.last_seq
            membership.save(update_fields=["read_only_until_seq"])
        elif allowed and membership.read_only_until_seq is not None:
            membership.read_only_until_seq = None
            membership.save(update_fields=["read_only_until_seq"])
