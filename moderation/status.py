"""What the moderation side is doing right now, for /healthz and the moderator pages."""

from __future__ import annotations

from typing import Any

from chat.models import AssessmentState, Message
from moderation.selectors import classifier_health


def summary() -> dict[str, Any]:
    backlog = Message.objects.filter(assessment_state=AssessmentState.PENDING).count()
    return {"moderation_backlog": backlog, **classifier_health()}
