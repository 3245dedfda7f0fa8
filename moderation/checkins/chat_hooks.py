"""What private check-ins add to chat, so that chat never imports them (docs/architecture.md).
`connect()` runs once, from CheckinsConfig.ready."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from chat import page_context, room_frames
from chat.models import Room
from moderation.checkins.selectors import open_checkin_for, open_checkin_frames


def open_checkin_on_join(user: User, room: Room) -> list[dict[str, Any]]:
    """An open private check-in is announced again on every join (it survives reconnects)."""
    return open_checkin_frames(user)


def room_list_context(request: Any) -> dict[str, Any]:
    """A private check-in waiting for her is shown on the room list too, not only inside a room."""
    user = request.user
    return {"open_checkin": None if user.is_moderator else open_checkin_for(user)}


def connect() -> None:
    room_frames.register_join_frames("checkins.open", open_checkin_on_join)
    page_context.register(page_context.ROOM_LIST, "checkins.open", room_list_context)
