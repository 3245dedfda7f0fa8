"""Everything moderation plugs into chat, so that chat never imports moderation
(docs/architecture.md). `connect()` runs once, from ModerationConfig.ready:

- chat's message gate (chat.gate): the inline rules and mutes (moderation.pipeline.InlineGate);
- after a member's message is stored (chat.signals.message_sent): Kindred answers her if she is
  alone with nobody on duty (moderation.care);
- room socket frames (chat.room_frames): `message.report`, `notice.read`, `resource.share`, and
  her unread notices after every `room.joined`;
- the room list (chat.page_context): whether a moderator is on duty; the room list and the room
  page (the `room.sessions` slot): facilitated sessions under way or coming up;
- the audit writer that the apps below moderation write through (accounts.audit).
"""

from __future__ import annotations

import logging
from typing import Any

from django.template.loader import render_to_string

from accounts import audit as accounts_audit
from accounts.models import User
from chat import actions as chat_actions
from chat import gate, page_context, room_frames
from chat.errors import ChatError
from chat.models import Room
from chat.signals import message_sent
from moderation import actions, care, pipeline, selectors
from moderation.audit import record_audit

logger = logging.getLogger(__name__)

REPORT_RECEIVED = "Thank you. A moderator will look at it, and we'll let you know what happened."


def on_message_report(user: User, room: Room, frame: dict[str, Any]) -> dict[str, Any]:
    """`message.report` {seq, reason?}: a member reports a message in this room."""
    seq, reason = frame.get("seq"), frame.get("reason", "")
    if (
        isinstance(seq, bool)
        or not isinstance(seq, int)
        or not isinstance(reason, str)
        or len(reason) > 500
    ):
        raise ChatError(
            "validation",
            "A report needs the message's seq and an optional reason (≤ 500 characters).",
        )
    message = room.messages.filter(seq=seq).first()
    if message is None:
        raise ChatError("not_found", "There is no such message in this room.")
    chat_actions.check_action_rate(user)
    try:
        actions.do_report_message(reporter=user, message=message, reason=reason)
    except actions.ReportError as exc:
        raise ChatError("validation", str(exc)) from exc
    return {"type": "report.received", "seq": seq, "message": REPORT_RECEIVED}


def on_notice_read(user: User, room: Room, frame: dict[str, Any]) -> None:
    """`notice.read` {id}: she dismissed one of her notices."""
    try:
        actions.do_mark_notice_read(user=user, notice_id=frame.get("id"))
    except actions.ModerationError as exc:
        raise ChatError("validation", exc.message, field="id") from exc


def on_resource_share(user: User, room: Room, frame: dict[str, Any]) -> dict[str, Any]:
    """`resource.share` {resource_id, client_id}: a moderator shares a resource card."""
    message, _ = actions.check_share_resource(
        moderator=user,
        room=room,
        resource_id=frame.get("resource_id"),
        client_id=frame.get("client_id"),
    )
    return {"type": "resource.shared", "seq": message.seq}


def unread_notices(user: User, room: Room) -> list[dict[str, Any]]:
    return actions.unread_notice_frames(user=user)


def answer_if_alone(sender: Any, *, message: Any, **kwargs: Any) -> None:
    """Nobody else in the room and nobody on duty: Kindred answers her privately (moderation.care).
    A failure here never turns her sent message into an error."""
    try:
        care.answer_if_alone(message)
    except Exception:  # noqa: BLE001
        logger.exception("could not answer a member posting alone in %s", message.room_id)


def on_duty_context(request: Any) -> dict[str, Any]:
    # On duty means on the rota (the console's switch), wherever she is: a moderator on duty
    # outside a room still sees the queue and can check in privately (issue 21).
    return {"moderator_on_duty": selectors.moderator_on_duty()}


def upcoming_sessions(request, room) -> str:  # noqa: ANN001, ARG001
    """A room's facilitated sessions under way or coming up, in the room list and the room page."""
    from moderation.facilitation.selectors import upcoming_sessions as select_upcoming

    return render_to_string(
        "facilitation/upcoming.html", {"sessions": select_upcoming(room, limit=2)}
    )


def connect() -> None:
    accounts_audit.set_writer(record_audit)
    gate.register("moderation", pipeline.InlineGate())
    message_sent.connect(answer_if_alone, dispatch_uid="moderation.answer_if_alone")
    room_frames.register_frame("message.report", on_message_report)
    room_frames.register_frame("notice.read", on_notice_read)
    room_frames.register_frame("resource.share", on_resource_share)
    room_frames.register_join_frames("moderation.notices", unread_notices)
    page_context.register(page_context.ROOM_LIST, "moderation.on_duty", on_duty_context)
    page_context.register_slot(
        page_context.ROOM_SESSIONS, "facilitation.upcoming", upcoming_sessions
    )
