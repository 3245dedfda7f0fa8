"""The member data chat holds, exported and erased for accounts' data rights
(accounts.personal_data; registered in ChatConfig.ready; docs/data-protection.md).

These are writes and reads of chat's own tables only; what other apps keep about her messages
(moderation's verdicts, reports) is their handlers' business."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat

from accounts.personal_data import Erasure
from chat.models import (
    MemberFilter,
    Membership,
    Message,
    MessageRevision,
    MessageState,
    Presence,
    Reaction,
)

MODELS = [
    "chat.Message",
    "chat.MessageRevision",
    "chat.Reaction",
    "chat.MemberFilter",
    "chat.Membership",
    "chat.Presence",
]


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_member_data(user: Any, data: dict[str, Any]) -> None:
    """Her rooms, her messages with their earlier versions, her reactions, and whom she muted
    or blocked. Other members' messages are not included (they are theirs)."""
    data["rooms"] = [
        {"room": ms.room.slug, "joined_at": _when(ms.joined_at)}
        for ms in Membership.objects.filter(user=user).select_related("room")
    ]
    data["messages"] = [
        {
            "room": m.room.slug,
            "seq": m.seq,
            "created_at": _when(m.created_at),
            "text": m.body,
            "content_note": m.content_note,
            "state": m.state,
            "edited_at": _when(m.edited_at),
            "earlier_versions": [
                {"revision": r.revision, "text": r.body, "replaced_at": _when(r.replaced_at)}
                for r in m.revisions.all()
            ],
        }
        for m in Message.objects.filter(author=user)
        .select_related("room")
        .prefetch_related("revisions")
        .order_by("created_at", "pk")
    ]
    data["reactions"] = [
        {
            "room": r.message.room.slug,
            "seq": r.message.seq,
            "kind": r.kind,
            "created_at": _when(r.created_at),
        }
        for r in Reaction.objects.filter(user=user).select_related("message__room")
    ]
    data["muted_or_blocked"] = [
        {"display_name": f.other.display_name, "kind": f.kind, "created_at": _when(f.created_at)}
        for f in MemberFilter.objects.filter(owner=user).select_related("other")
    ]


def erase_member_data(erasure: Erasure) -> dict[str, Any]:
    """Her messages stay as empty "deleted" placeholders, so room sequence numbers have no gaps
    and moderators' queue items still point somewhere; their text, earlier versions and the
    client id her device made up go. Her reactions, mutes and blocks (and others' of her), room
    memberships and presence are deleted."""
    user = erasure.user
    mine = Message.objects.filter(author=user)
    count = mine.count()
    MessageRevision.objects.filter(message__author=user).delete()
    mine.update(
        body="",
        html="",
        content_note="",
        state=MessageState.DELETED,
        client_id=Concat(Value("erased-"), Cast(F("pk"), output_field=CharField())),
    )
    Reaction.objects.filter(user=user).delete()
    MemberFilter.objects.filter(owner=user).delete()
    MemberFilter.objects.filter(other=user).delete()
    Membership.objects.filter(user=user).delete()
    Presence.objects.filter(user=user).delete()
    return {"messages": count}
