"""One message's full assessment, as the live path makes it: the inline rules decision (before
delivery) and the model-stage decision (after), combined into what happens to the message.

`manage.py moderation_assess` uses exactly this, so a supervisor testing a threshold change sees
what the live room would do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from moderation import rules
from moderation.classifiers import Scores
from moderation.policy import Decision, MemberState, Thresholds, decide, decide_inline

if TYPE_CHECKING:
    from moderation.safety_model import SafetyScores

SEVERITY = {"allow": 0, "flag": 1, "hold": 2, "escalate": 3}


@dataclass(frozen=True)
class FullAssessment:
    inline: Decision
    model: Decision

    @property
    def final(self) -> Decision:
        """The more severe of the two stages; escalation always wins, and its reasons are kept."""
        first, second = sorted(
            (self.inline, self.model), key=lambda d: SEVERITY[d.action], reverse=True
        )
        reasons = list(first.reasons) + [r for r in second.reasons if r not in first.reasons]
        return Decision(first.action, first.category, first.priority, reasons, self.model.scores)


def assess_text(
    body: str,
    *,
    thresholds: Thresholds,
    member_state: MemberState,
    scores: Scores | None,
    safety: SafetyScores | None = None,
) -> FullAssessment:
    signals = rules.rule_signals(body)
    inline = decide_inline(signals, member_state, thresholds, model_follows=safety is not None)
    model = decide(signals, scores, member_state, thresholds, safety=safety)
    return FullAssessment(inline=inline, model=model)
