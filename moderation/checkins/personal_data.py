"""A member's private check-ins in her export, and out of the database when she is erased
(accounts.personal_data; registered in CheckinsConfig.ready).

Both sides of each conversation are hers to read: the moderators' lines are about her. On erasure
every line of her check-ins loses its words (the moderators' too, which quote and name her); the
rows stay as empty placeholders, so the audit trail of who opened, wrote and closed still lines
up (the audit rows never held the words)."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat

from accounts import personal_data
from accounts.personal_data import Erasure
from moderation.checkins.models import CheckIn, CheckInMessage


def export_member_data(user, data: dict[str, Any]) -> None:  # noqa: ANN001
    def when(value):  # noqa: ANN001, ANN202
        return value.isoformat() if value else None

    conversations = []
    for checkin in CheckIn.objects.filter(member=user).order_by("opened_at", "pk"):
        lines = CheckInMessage.objects.filter(checkin=checkin).order_by("seq")
        conversations.append(
            {
                "opened_at": when(checkin.opened_at),
                "closed_at": when(checkin.closed_at),
                "messages": [
                    {
                        "from": "you" if m.author_id == user.pk else "a moderator",
                        "text": m.body,
                        "created_at": when(m.created_at),
                    }
                    for m in lines
                ],
            }
        )
    data["private_checkins"] = conversations


def erase_member_data(erasure: Erasure) -> dict[str, Any]:
    lines = CheckInMessage.objects.filter(checkin__member=erasure.user)
    count = lines.update(
        body="", client_id=Concat(Value("erased-"), Cast(F("pk"), output_field=CharField()))
    )
    return {"checkin_messages": count}


def register() -> None:
    personal_data.register(
        "moderation.checkins",
        models=["checkins.CheckIn", "checkins.CheckInMessage"],
        export=export_member_data,
        erase=erase_member_data,
        order=40,
    )
