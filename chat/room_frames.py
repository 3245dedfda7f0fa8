"""Frames other apps add to the room socket, without chat importing them (docs/architecture.md).

- `register_frame`: a frame type a client may send on the room socket that another app answers
  (moderation: `message.report`, `notice.read`, `resource.share`). chat's own frame types are
  parsed first and cannot be taken over.
- `register_join_frames`: frames a socket gets right after `room.joined`, on every (re)join
  (moderation: her unread notices; check-ins: an open private check-in).

Both are registered from the app's AppConfig.ready. Pushes to a socket later on go through
`chat.events` as ever (a `user.notice` event carries a ready frame).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from chat.models import Room

# (her freshly loaded row, the room, the frame as parsed) -> the answer frame for her, or None.
# Called in a database thread, outside any transaction (open one if the work needs it). Raise
# chat.errors.ChatError to refuse: its code and message reach her as an `error` frame. Count
# the frame against her budget with chat.actions.check_action_rate if it writes or pushes.
FrameHandler = Callable[["User", "Room", dict[str, Any]], "dict[str, Any] | None"]
# (her row, the room) -> frames, in the order she should get them. Called in a database thread.
JoinFrames = Callable[["User", "Room"], "list[dict[str, Any]]"]

# Frame types the room consumer handles itself (chat/consumers.py, docs/protocol.md).
CHAT_FRAME_TYPES = frozenset(
    {
        "message.send",
        "resume",
        "typing",
        "ping",
        "message.edit",
        "message.delete",
        "reaction.toggle",
        "member.filter",
    }
)

_handlers: dict[str, FrameHandler] = {}
_join_providers: dict[str, JoinFrames] = {}


def register_frame(frame_type: str, handler: FrameHandler) -> None:
    """`frame_type` on the room socket is answered by `handler`. Registering the same type with
    the same handler again is a no-op; another handler for a type already taken is an error."""
    if frame_type in CHAT_FRAME_TYPES:
        raise ValueError(f"{frame_type!r} is one of chat's own frame types")
    current = _handlers.get(frame_type)
    if current is not None and current is not handler:
        raise ValueError(f"{frame_type!r} is already handled by {current!r}")
    _handlers[frame_type] = handler


def handler_for(frame_type: str) -> FrameHandler | None:
    return _handlers.get(frame_type)


def register_join_frames(name: str, provider: JoinFrames) -> None:
    """`provider`'s frames follow `room.joined`, after those of providers registered before it
    (so in INSTALLED_APPS order); registering a name again replaces that provider in place."""
    _join_providers[name] = provider


def join_frames(user: User, room: Room) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    for provider in _join_providers.values():
        frames.extend(provider(user, room))
    return frames
