"""Reads for private check-ins: who may see one, and their wire form."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from accounts.models import User
from chat.errors import ChatError
from moderation.checkins.models import CheckIn, CheckInMessage

HISTORY_LIMIT = 500


def checkin_group(checkin_id: int) -> str:
    return f"checkin-{checkin_id}"


def may_see(user: User, checkin: CheckIn) -> bool:
    """The member herself, and every moderator and supervisor (a check-in is the team's, so the
    next moderator on duty can carry it on, and supervisors oversee it)."""
    if not getattr(user, "is_authenticated", False) or user.is_suspended:
        return False
    return checkin.member_id == user.pk or user.is_moderator


def access_checkin(user: User, checkin_id: object) -> CheckIn:
    """The check-in, if this user may see it. Someone else's check-in is "not found", not
    "forbidden": a member cannot learn that another member was checked on."""
    if isinstance(checkin_id, bool) or not isinstance(checkin_id, int):
        raise ChatError("validation", "A check-in id is a whole number.")
    checkin = (
        CheckIn.objects.select_related("member", "opened_by", "closed_by", "flag")
        .filter(pk=checkin_id)
        .first()
    )
    if checkin is None or not may_see(user, checkin):
        raise ChatError("not_found", "There is no such conversation.")
    return checkin


def open_checkin_for(member: User) -> CheckIn | None:
    return CheckIn.objects.filter(member=member, closed_at__isnull=True).first()


def _speaker(author: User | None, checkin: CheckIn) -> dict[str, Any]:
    if author is None:
        return {"id": None, "display_name": "Former moderator", "role": "moderator"}
    return {"id": author.pk, "display_name": author.display_name, "role": author.role}


def serialize_message(message: CheckInMessage, checkin: CheckIn) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "client_id": message.client_id,
        "author": _speaker(message.author, checkin),
        "from_member": message.author_id == checkin.member_id,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


def serialize_checkin(checkin: CheckIn) -> dict[str, Any]:
    return {
        "id": checkin.pk,
        "member": {"id": checkin.member_id, "display_name": checkin.member.display_name},
        "opened_by": checkin.opened_by.display_name if checkin.opened_by else None,
        "opened_at": checkin.opened_at.isoformat(),
        "closed_at": checkin.closed_at.isoformat() if checkin.closed_at else None,
        "closed_by": checkin.closed_by.display_name if checkin.closed_by else None,
        "flag_id": checkin.flag_id,
        "last_seq": checkin.last_seq,
        "url": f"/checkins/{checkin.pk}/",
    }


def messages_after(checkin: CheckIn, after_seq: int) -> list[dict[str, Any]]:
    rows = (
        CheckInMessage.objects.filter(checkin=checkin, seq__gt=after_seq)
        .select_related("author")
        .order_by("seq")[:HISTORY_LIMIT]
    )
    return [serialize_message(m, checkin) for m in rows]


def opened_frame(checkin: CheckIn) -> dict[str, Any]:
    """What a member's open pages get when a moderator opens a check-in with her (and on joining
    a room while one is open): a private banner linking to the conversation."""
    return {
        "type": "checkin.opened",
        "checkin": serialize_checkin(checkin),
        "text": "A moderator has messaged you privately. Only you and Kindred's moderators can see it.",
    }


def open_checkin_frames(member: User) -> list[dict[str, Any]]:
    checkin = (
        CheckIn.objects.select_related("member", "opened_by", "closed_by")
        .filter(member=member, closed_at__isnull=True)
        .first()
    )
    return [] if checkin is None else [opened_frame(checkin)]


def checkins_for_staff(*, open_only: bool = False, member: User | None = None, limit: int = 100):
    # Open ones first (NULLs sort differently in PostgreSQL and SQLite: say which way).
    rows = CheckIn.objects.select_related("member", "opened_by", "closed_by").order_by(
        F("closed_at").desc(nulls_first=True), "-opened_at"
    )
    if open_only:
        rows = rows.filter(closed_at__isnull=True)
    if member is not None:
        rows = rows.filter(member=member)
    return list(rows[:limit])
