"""Moderation hooks that run inside the message's own transaction, before delivery.

Only the inline safety rules run here (microseconds); the models never run on this path. The
worker (moderation/worker.py) assesses every message with the safety model and the classifier
afterwards. While a worker has the safety model loaded, the rules decide here only what they are
sure of (threats and severe abuse are held; mute and probation); risk, insensitive and other abuse
hits wait the second or so for the model stage, which decides with them as hints.
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


def assess_before_delivery(*, author, room, body: str, muted: bool | None = None) -> InlineOutcome:  # noqa: ANN001
    """Rules and the member's state decide whether the message is held before anyone sees it.
    `muted`: already known by the caller (check_may_post has just looked), so not looked up again."""
    model_follows = selectors.safety_model_ready()
    # While the model follows, only the rules that decide alone run here; the rest are hints the
    # model stage computes again, off the send path.
    signals = rules.rule_signals(body, "decisive" if model_follows else "all")
    state = selectors.member_state(author, room, muted=muted)
    decision = decide_inline(
        signals, state, selectors.thresholds_for(room), model_follows=model_follows
    )
    state = MessageState.HELD if decision.action == "hold" else MessageState.VISIBLE
    return InlineOutcome(state=state, decision=decision)


def apply_inline_outcome(message, outcome: InlineOutcome) -> None:  # noqa: ANN001
    from moderation.actions import do_record_decision

    if outcome.decision.action != "allow":
        do_record_decision(message, outcome.decision, source="rule")


class InlineGate:
    """These hooks as chat's message gate (chat.gate.MessageGate), registered from
    ModerationConfig.ready (moderation.chat_hooks): chat calls them without importing moderation."""

    def check_may_post(self, *, author, room) -> None:  # noqa: ANN001
        check_may_post(author=author, room=room)

    def assess(self, *, author, room, body: str, may_post_checked: bool) -> InlineOutcome:  # noqa: ANN001
        # check_may_post has just looked for a mute and found none: not looked up again.
        return assess_before_delivery(
            author=author, room=room, body=body, muted=False if may_post_checked else None
        )

    def after_stored(self, message, verdict: InlineOutcome) -> None:  # noqa: ANN001
        apply_inline_outcome(message, verdict)
