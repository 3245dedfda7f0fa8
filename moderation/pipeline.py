"""Moderation hooks that run inside the message's own transaction, before delivery.

Only the inline safety rules run here (microseconds); the classifier never runs on this path.
The worker (moderation/worker.py) assesses every message with the model afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.errors import ChatError
from chat.models import MessageState
from moderation import rules, selectors
from moderation.policy import Decision, decide_inline


@dataclass
class InlineOutcome:
    state: str
    decision: Decision


def check_may_post(*, author, room) -> None:  # noqa: ANN001
    """A muted member can still read, but her frames get a clear error."""
    mute = selectors.active_mute(author, room)
    if mute is not None:
        raise ChatError(
            "muted",
            "A moderator has paused your posting in this room for a while. You can still read.",
            until=mute.until.isoformat(),
        )


def assess_before_delivery(*, author, room, body: str) -> InlineOutcome:  # noqa: ANN001
    """Rules and the member's state decide whether the message is held before anyone sees it."""
    signals = rules.rule_signals(body)
    decision = decide_inline(signals, selectors.member_state(author, room), selectors.thresholds_for(room))
    state = MessageState.HELD if decision.action == "hold" else MessageState.VISIBLE
    return InlineOutcome(state=state, decision=decision)


def apply_inline_outcome(message, outcome: InlineOutcome) -> None:  # noqa: ANN001
    from moderation.actions import do_record_decision

    if outcome.decision.action != "allow":
        do_record_decision(message, outcome.decision, source="rule")
