"""WebSocket consumer for a room. Thin: parse, authorise, call an action, relay events.

Every frame a client can send is validated; every refusal is a typed `error` frame
(docs/protocol.md). The socket is only closed for reasons listed there as close codes.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async as _database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from chat import actions, room_frames, selectors
from chat.errors import ChatError
from chat.events import deferring_pushes, room_group, send_event_now, session_group, user_group
from chat.fanout import DIRECT_SEND, get_hub
from config.text import INVALID_TEXT, lone_surrogate_path

logger = logging.getLogger(__name__)


def database_sync_to_async(fn):  # noqa: ANN001, ANN201
    """Each call is a self-contained unit of database work (its own transaction), so it can run
    on any thread of the pool: sends from different sockets no longer queue behind one thread.
    SQLite serialises writers itself (IMMEDIATE transactions with a busy timeout). The pushes it
    commits are sent from the event loop once it returns (`chat.events.deferring_pushes`)."""
    return deferring_pushes(lambda f: _database_sync_to_async(f, thread_sensitive=False), fn)


CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_SUSPENDED = 4410
# RFC 6455's "try again later" is 1013, but autobahn (Daphne's WebSocket library) only lets a
# server close with 1000 or 3000–4999 and raised instead of closing: 4013 mirrors it.
CLOSE_TRY_AGAIN = 4013
# She opened more room sockets than CHAT_MAX_SOCKETS_PER_USER: this, her oldest, was let go.
# The client does not reconnect by itself (two tabs would take turns closing each other).
CLOSE_TOO_MANY_SOCKETS = 4409

EARLY_EVENTS_LIMIT = 1000
PONG = json.dumps({"type": "pong"})
MEMBER_FRAMES = frozenset({"message.edit", "message.delete", "reaction.toggle", "member.filter"})


@database_sync_to_async
def _access_room(user: User, slug: str):  # noqa: ANN202
    room = selectors.access_room(user, slug)
    return room, selectors.filters_of(user)


@database_sync_to_async
def _join(
    user: User, room, channel_name: str, known: tuple[int, list] | None = None
) -> dict[str, Any]:  # noqa: ANN001
    """Everything a socket needs on joining, in one trip to the database thread. `known`: the
    room's recent history as this process last serialised it, and the `last_seq` it was read at
    (chat.fanout.RecentHistory); used if the room has had no new message since."""
    actions.do_join_room(user=user, room=room, channel_name=channel_name)
    # last_seq before the messages: a message stored in between makes the history newer than
    # the seq it is filed under, never older.
    last_seq = room.__class__.objects.values_list("last_seq", flat=True).get(pk=room.pk)
    if known is not None and known[0] == last_seq:
        messages, read_at = known[1], None
    else:
        rows = selectors.recent_messages(room, limit=settings.CHAT_HISTORY_ON_JOIN)
        messages, read_at = [selectors.serialize_message(m) for m in rows], last_seq
    return {
        # What other apps send after room.joined, again on every join (it survives reconnects):
        # her unread notices, an open private check-in (chat.room_frames).
        "notices": room_frames.join_frames(user, room),
        "messages": messages,
        "history_read_at": read_at,
        "present": selectors.present_users(room),
        "last_seq": max([last_seq] + [m["seq"] for m in messages]),
    }


@database_sync_to_async
def _leave(channel_name: str) -> None:
    actions.do_leave_room(channel_name=channel_name)


@database_sync_to_async
def _send(user: User, room, frame: dict[str, Any]):  # noqa: ANN001, ANN202
    message, created = actions.check_send_message(
        author=user,
        room=room,
        client_id=frame.get("client_id"),
        body=frame.get("body"),
        reply_to=frame.get("reply_to"),
        content_note=frame.get("content_note"),
        membership_known=True,
    )
    return selectors.serialize_message(message), created


@database_sync_to_async
def _member_action(user: User, room, frame: dict[str, Any]) -> dict[str, Any] | None:  # noqa: ANN001
    """Edits, deletes, reactions and mute/block: validated and written by actions."""
    user = User.objects.get(pk=user.pk)
    kind = frame["type"]
    if kind == "message.edit":
        actions.check_edit_message(
            user=user,
            room=room,
            seq=frame.get("seq"),
            body=frame.get("body"),
            content_note=frame.get("content_note"),
        )
    elif kind == "message.delete":
        actions.check_delete_message(user=user, room=room, seq=frame.get("seq"))
    elif kind == "reaction.toggle":
        actions.check_toggle_reaction(
            user=user, room=room, seq=frame.get("seq"), kind=frame.get("kind")
        )
    elif kind == "member.filter":
        other_id, what = frame.get("user_id"), frame.get("kind")
        if isinstance(other_id, bool) or not isinstance(other_id, int):
            raise ChatError("validation", "user_id must be a member's id.", field="user_id")
        other = User.objects.filter(pk=other_id).first()
        if other is None:
            raise ChatError("not_found", "There is no such member.")
        actions.do_set_member_filter(owner=user, other=other, kind=what)
        return {"type": "member.filter.saved", "user_id": other_id, "kind": what}
    return None


@database_sync_to_async
def _registered_frame(
    user: User,
    room,  # noqa: ANN001
    handler: room_frames.FrameHandler,
    frame: dict[str, Any],
) -> dict[str, Any] | None:
    """A frame type another app answers (chat.room_frames), with her row loaded afresh as for
    chat's own member frames."""
    return handler(User.objects.get(pk=user.pk), room, frame)


@database_sync_to_async
def _filters(user: User) -> dict[str, set[int]]:
    return selectors.filters_of(user)


@database_sync_to_async
def _resume(user: User, room, after_seq: int) -> list[dict[str, Any]]:  # noqa: ANN001
    actions.check_read_rate(user)
    return [selectors.serialize_message(m) for m in selectors.messages_after(room, after_seq)]


@database_sync_to_async
def _mark_read(user: User, room, read_seq: int) -> None:  # noqa: ANN001
    actions.do_mark_read(user=user, room=room, seq=read_seq)


@database_sync_to_async
def _reload_member(user: User, room):  # noqa: ANN001, ANN202
    """Her role, stage or account changed: reload her and check she may still be here."""
    user = User.objects.get(pk=user.pk)
    return user, selectors.can_join(user, room)


def _non_negative_int(value: object, field: str) -> int:
    # bool is an int subclass in Python; true/false are not sequence numbers.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 2**53:
        raise ChatError("validation", f"{field} must be a whole number ≥ 0.", field=field)
    return value


class RoomConsumer(AsyncWebsocketConsumer):
    """One member's socket in one room.

    Its room, user and session groups are subscribed through the process's fan-out hub
    (chat.fanout), which calls `deliver` for every event; events that arrive before the member
    has her `room.joined` frame wait in `_early` so that nothing overtakes the history."""

    # Everything a room socket receives arrives through its process's fan-out hub, so it needs no
    # channel-layer channel of its own (no queue and no pending receive per socket): Channels
    # gives a consumer none when its alias names no configured layer. `channel_name` is still
    # set, to a unique id of the socket, and keys its presence row.
    channel_layer_alias = "kindred-room-sockets-receive-through-the-hub"
    channel_name = ""
    room = None
    user: User | None = None
    filters: dict[str, set[int]] = {"hidden": frozenset(), "blocked_by": frozenset()}  # noqa: RUF012
    _ready = False
    _hub = None
    _plain_viewer = False  # not a moderator and no mute/block list: gets the shared frame
    _read_seq = None
    direct_send = (
        None  # Kindred's Daphne lets the hub write a pre-framed message (chat.fanout.DIRECT_SEND)
    )

    async def dispatch(self, message: dict[str, Any]) -> None:
        """As Channels' own, minus the `close_old_connections` it runs in a thread before every
        incoming frame (Channels ≥ 4.2): every database call here already does that in its own
        thread (`database_sync_to_async`), and the extra thread hop per frame was most of the
        cost of thousands of idle phones pinging (docs/performance.md, "Idle connections")."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.channel_name = f"socket.{uuid.uuid4().hex}"
        self._early: list[dict[str, Any]] = []
        self._last_typing = 0.0
        user = self.scope.get("user")
        # Accept first so that the refusal reaches the client as a documented close code;
        # a refused handshake only shows up as an opaque 1006 in browsers.
        await self.accept()
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_NOT_AUTHENTICATED, "not_authenticated", "Please log in first.")
            return
        # Loaded by the auth middleware for this handshake; later changes to her role, stage or
        # account reach this socket as a `user.changed` / `user.disconnect` event.
        user = getattr(user, "_wrapped", user)
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            room, filters = await _access_room(user, slug)
        except ChatError as exc:
            code = CLOSE_NOT_FOUND if exc.code == "not_found" else CLOSE_FORBIDDEN
            await self._refuse(code, exc.code, exc.message)
            return
        self.user, self.filters = user, filters
        self._update_viewer()
        groups = [room_group(room.pk), user_group(user.pk)]
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            groups.append(session_group(session_key))
        self.direct_send = (self.scope.get("extensions") or {}).get(DIRECT_SEND)
        self._hub = get_hub(get_channel_layer())
        try:
            for group in groups:
                await self._hub.subscribe(group, self)
        except Exception:  # noqa: BLE001
            # The channel layer (Redis) is down or restarting. Nothing is lost — messages are in
            # the database — so tell the client to come back shortly and resume.
            logger.warning(
                "channel layer unavailable while joining %s; asking the client to retry", room.slug
            )
            self._hub.unsubscribe(self)
            await self._refuse(
                CLOSE_TRY_AGAIN, "unavailable", "Reconnecting: the chat service is restarting."
            )
            return
        self.room = room
        history, group = self._hub.history, room_group(room.pk)
        token = history.token(group)
        joined = await _join(self.user, self.room, self.channel_name, history.peek(group))
        if joined["history_read_at"] is None:
            history.hits += 1
        else:
            history.put(group, token, joined["history_read_at"], joined["messages"])
        await self._send_json(
            {
                "type": "room.joined",
                "room": {"slug": self.room.slug, "name": self.room.name},
                "you": selectors.serialize_user(self.user),
                "messages": [self._redact(m) for m in joined["messages"]],
                "present": self._visible_presence(joined["present"]),
                "last_seq": joined["last_seq"],
            }
        )
        for notice in joined["notices"]:
            await self._send_json(notice)
        # What happened while we were reading the history, minus what the history already had.
        while self._early:
            event = self._early.pop(0)
            if event["type"] == "chat.message" and event["message"]["seq"] <= joined["last_seq"]:
                continue
            await self._handle(event)
        self._early = []
        self._ready = True

    async def _refuse(self, close_code: int, error_code: str, message: str) -> None:
        await self._send_json({"type": "error", "code": error_code, "message": message})
        await self.close(code=close_code)

    async def disconnect(self, code: int) -> None:
        self._ready = False
        if self._hub is not None:
            self._hub.unsubscribe(self)
        if self.room is not None:
            await _leave(self.channel_name)

    # --- called by the fan-out hub ---------------------------------------------------------

    def plain_viewer_other_than(self, author_id: int | None) -> bool:
        """Ready, not a moderator, no mute/block list, and not the author: the shared frame is hers."""
        return self._ready and self._plain_viewer and author_id != self.user.pk

    def presence_channel(self) -> str | None:
        return self.channel_name if self._ready else None

    async def deliver(self, event: dict[str, Any]) -> None:
        if self._ready:
            await self._handle(event)
        elif self.room is not None or self._hub is not None:
            if len(self._early) < EARLY_EVENTS_LIMIT:
                self._early.append(event)
            # Beyond the limit the client sees a seq gap on the next message and resumes.

    async def _handle(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "chat.message":
            message = event["message"]
            public = event.get("public_frame")
            if public is not None and self._plain_viewer:
                author_id = (message.get("author") or {}).get("id")
                if author_id != self.user.pk:
                    # What every ordinary viewer sees is the same text, rendered once.
                    await self._send_text(public)
                    return
            await self.chat_message(event)
            return
        handler = getattr(self, kind.replace(".", "_"), None)
        if handler is None or kind.startswith("_"):
            logger.warning("room socket has no handler for %r", kind)
            return
        await handler(event)

    # --- client frames ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self._ready:
            return
        try:
            frame = self._parse(text_data, bytes_data)
            await self._dispatch(frame)
            if frame["type"] == "ping" and self.direct_send is not None:
                # Its repeat (same read position) would change nothing here: Daphne answers it.
                self.direct_send.answer_repeats(text_data, PONG)
        except ChatError as exc:
            await self._send_json(exc.as_frame())
        except Exception:  # noqa: BLE001
            # Never drop the socket on our own bug: the client gets a typed error and keeps its
            # connection; the traceback goes to the log.
            logger.exception("unhandled error in room consumer")
            await self._send_json(
                {
                    "type": "error",
                    "code": "server_error",
                    "message": "Something went wrong on our side; please try again.",
                }
            )

    def _parse(self, text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        if text_data is None:
            raise ChatError("bad_frame", "Frames must be JSON text, not binary.")
        if (
            len(text_data) > settings.CHAT_MAX_FRAME_BYTES
            or len(text_data.encode("utf-8", "surrogatepass")) > settings.CHAT_MAX_FRAME_BYTES
        ):
            raise ChatError(
                "frame_too_large", f"Frames can be at most {settings.CHAT_MAX_FRAME_BYTES} bytes."
            )
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError) as exc:
            raise ChatError("bad_json", "That frame was not valid JSON.") from exc
        if not isinstance(frame, dict):
            raise ChatError("validation", "A frame must be a JSON object.")
        if not isinstance(frame.get("type"), str):
            raise ChatError("validation", "A frame needs a string 'type'.", field="type")
        bad = lone_surrogate_path(frame)
        if bad:
            raise ChatError("validation", INVALID_TEXT, field=bad)
        return frame

    async def _dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "message.send":
            await self._on_send(frame)
        elif kind == "resume":
            await self._on_resume(frame)
        elif kind == "typing":
            await self._on_typing()
        elif kind in MEMBER_FRAMES:
            answer = await _member_action(self.user, self.room, frame)
            if answer is not None:
                await self._send_json(answer)
        elif kind == "ping":
            # Cheap on purpose: thousands of idle phones ping every 25 s. Presence is marked
            # seen by the process's hub heartbeat; the read position is written only when it moved.
            read_seq = frame.get("read_seq")
            if read_seq is not None:
                read = _non_negative_int(read_seq, "read_seq")
                if read != self._read_seq:
                    await _mark_read(self.user, self.room, read)
                    self._read_seq = read
            await self._send_text(PONG)
        else:
            # Looked up last, so that chat's own frames (and the idle pings) pay nothing for it.
            handler = room_frames.handler_for(kind)
            if handler is None:
                raise ChatError("unknown_type", f"Unknown frame type {kind[:40]!r}.")
            answer = await _registered_frame(self.user, self.room, handler, frame)
            if answer is not None:
                await self._send_json(answer)

    async def _on_send(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        try:
            message, created = await _send(self.user, self.room, frame)
        except ChatError as exc:
            if isinstance(client_id, str):
                exc.extra.setdefault("client_id", client_id[:64])
            raise
        await self._send_json(
            {
                "type": "message.ack",
                "client_id": message["client_id"],
                "created": created,
                "message": self._redact(message),
            }
        )

    async def _on_resume(self, frame: dict[str, Any]) -> None:
        after = _non_negative_int(frame.get("after_seq"), "after_seq")
        if self.direct_send is not None and self.direct_send.closing:
            return  # requests read before the socket was dropped: nobody is left to answer
        messages = await _resume(self.user, self.room, after)
        await self._send_json(
            {
                "type": "messages.batch",
                "after_seq": after,
                "messages": [self._redact(m) for m in messages],
                "more": len(messages) >= selectors.RESUME_BATCH_LIMIT,
            }
        )

    async def _on_typing(self) -> None:
        """At most one "typing…" per member and room per CHAT_TYPING_INTERVAL_SECONDS, counted
        in the shared cache so that all her sockets (and web processes) share it; the rest are
        dropped silently: typing is a hint, not something she is waiting on."""
        interval = settings.CHAT_TYPING_INTERVAL_SECONDS
        now = time.monotonic()
        if now - self._last_typing < interval:
            return
        self._last_typing = now
        if not await cache.aadd(f"chat-typing:{self.user.pk}:{self.room.pk}", 1, timeout=interval):
            return
        await send_event_now(
            room_group(self.room.pk),
            {"type": "chat.typing", "user": selectors.serialize_user(self.user)},
        )

    # --- channel-layer events ----------------------------------------------------------------

    def _redact(self, message: dict[str, Any]) -> dict[str, Any]:
        message = selectors.redact_for(
            message, viewer_id=self.user.pk, viewer_is_moderator=self.user.is_moderator
        )
        # Muted or blocked by this viewer: the seq still arrives (no gap), the words don't.
        return selectors.hide_filtered(message, self.filters["hidden"])

    def _visible_presence(self, present: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [u for u in present if u["id"] not in self.filters["blocked_by"]]

    def _update_viewer(self) -> None:
        self._plain_viewer = not self.user.is_moderator and not self.filters["hidden"]

    async def user_filters_changed(self, event: dict[str, Any]) -> None:
        self.filters = await _filters(self.user)
        self._update_viewer()

    async def user_changed(self, event: dict[str, Any]) -> None:
        """Her role, stage or account changed elsewhere (settings, a supervisor)."""
        self.user, allowed = await _reload_member(self.user, self.room)
        self._update_viewer()
        if not allowed:
            await self._refuse(CLOSE_FORBIDDEN, "forbidden", "You can no longer be in this room.")

    async def chat_message(self, event: dict[str, Any]) -> None:
        message = event["message"]
        author_id = (message.get("author") or {}).get("id")
        quoted_id = (message.get("reply_to") or {}).get("author_id")
        public = event.get("public_frame")
        if (
            public is not None
            and not self.user.is_moderator
            and author_id != self.user.pk
            and author_id not in self.filters["hidden"]
            and quoted_id not in self.filters["hidden"]
        ):
            # What every ordinary viewer sees is the same bytes: send the pre-rendered frame.
            await self._send_text(public)
            return
        await self._send_json({"type": "message.new", "message": self._redact(message)})

    async def chat_message_updated(self, event: dict[str, Any]) -> None:
        await self._send_json(
            {"type": "message.updated", "message": self._redact(event["message"])}
        )

    async def chat_presence_change(self, event: dict[str, Any]) -> None:
        user = event["user"]
        if user["id"] in self.filters["blocked_by"]:
            return
        # The same frame for everyone in the room: rendered once per process (the hub hands
        # every local socket the same event).
        frame = event.get("_frame")
        if frame is None:
            frame = event["_frame"] = json.dumps(
                {"type": f"presence.{event['change']}", "user": user}, ensure_ascii=False
            )
        await self._send_text(frame)

    async def chat_presence(self, event: dict[str, Any]) -> None:
        await self._send_json(
            {"type": "presence", "present": self._visible_presence(event["present"])}
        )

    async def chat_typing(self, event: dict[str, Any]) -> None:
        uid = event["user"]["id"]
        if (
            uid != self.user.pk
            and uid not in self.filters["hidden"]
            and uid not in self.filters["blocked_by"]
        ):
            await self._send_json({"type": "typing", "user": event["user"]})

    async def user_notice(self, event: dict[str, Any]) -> None:
        """A private frame for this user only (support card, warning, report outcome)."""
        await self._send_json(event["frame"])

    async def user_socket_limit(self, event: dict[str, Any]) -> None:
        """She opened another room socket beyond CHAT_MAX_SOCKETS_PER_USER and this is one of her
        oldest (`actions.do_join_room`); its presence is already gone."""
        if self.channel_name in event["channel_names"]:
            self._ready = False  # nothing more for this socket
            await self._send_json(
                {
                    "type": "error",
                    "code": "too_many_sockets",
                    "message": "Kindred is open in too many other tabs or devices, so it was closed here.",
                }
            )
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)

    async def user_disconnect(self, event: dict[str, Any]) -> None:
        await self._send_json(
            {"type": "error", "code": event.get("code", "forbidden"), "message": event["message"]}
        )
        await self.close(code=event.get("close_code", CLOSE_SUSPENDED))

    async def _send_json(self, payload: dict[str, Any]) -> None:
        await self._send_text(json.dumps(payload, ensure_ascii=False))

    async def _send_text(self, text: str) -> None:
        """Straight to the socket under Kindred's Daphne (config/daphne.py), else through ASGI.
        A socket whose client has stopped reading is dropped once its unsent backlog passes
        CHAT_MAX_SOCKET_BACKLOG_BYTES, so one frozen (or hostile) client cannot hold the web
        process's memory; a real phone reconnects and resumes from its last seq."""
        direct = self.direct_send
        if direct is not None and direct.backlog() > settings.CHAT_MAX_SOCKET_BACKLOG_BYTES:
            if not direct.closing:
                logger.warning(
                    "dropping a socket %d bytes behind (user %s)", direct.backlog(), self.user.pk
                )
                direct.drop()
            return
        if direct is None:
            await self.base_send({"type": "websocket.send", "text": text})
        elif not direct.send_text(text) and not direct.closing:
            await self.base_send({"type": "websocket.send", "text": text})
        # else: the socket is closing or gone (a push raced the close); the frame is dropped
        # quietly, as the protocol says: a client that comes back resumes from its last seq.

    async def chat_session(self, event: dict[str, Any]) -> None:
        """A facilitated session in this room started or ended (pushed by facilitation with the
        frame ready: `session.started` / `session.ended`)."""
        await self._send_json(event["frame"])
