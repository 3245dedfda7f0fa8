"""Facilitator prompts name the member they are about: on erasure her pseudonym is replaced
there (accounts.personal_data; registered in ModerationConfig.ready). Prompts are not in her
export: they are the facilitator's words, and what was sent to the room is in the room."""

from __future__ import annotations

from django.utils.html import escape

from accounts import personal_data
from accounts.personal_data import Erasure
from chat.models import Message
from moderation.facilitation.models import PromptRecord


def erase_member_data(erasure: Erasure) -> None:
    old, new = erasure.old_display_name, erasure.new_display_name
    for record in PromptRecord.objects.filter(target_user=erasure.user).select_related("message"):
        if record.message is not None:
            # The facilitator's message that carried the prompt names her.
            Message.objects.filter(pk=record.message.pk).update(
                body=record.message.body.replace(old, new),
                html=record.message.html.replace(escape(old), escape(new)),
            )
        record.text = record.text.replace(old, new)
        record.sent_text = record.sent_text.replace(old, new)
        record.target = new[:30]
        record.save(update_fields=["text", "sent_text", "target"])


def register() -> None:
    personal_data.register(
        "moderation.facilitation",
        models=["moderation.PromptRecord"],
        erase=erase_member_data,
        order=30,
    )
