"""The glue between chat and moderation that runs inside the message's own transaction.

Inline work here must take microseconds: the model never runs on this path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chat.models import MessageState


@dataclass
class InlineOutcome:
    state: str = MessageState.VISIBLE
    decision: object | None = None
    extra: dict = field(default_factory=dict)


def check_may_post(*, author, room) -> None:  # noqa: ANN001
    """Raise ChatError if the author may not post in the room right now (e.g. muted)."""
    return None


def assess_before_delivery(*, author, room, body: str) -> InlineOutcome:  # noqa: ANN001
    return InlineOutcome()


def apply_inline_outcome(message, outcome: InlineOutcome) -> None:  # noqa: ANN001
    return None
