"""Moderation policy: turn rule signals, classifier scores and the safety model into one decision.

Pure: no Django, no ORM, no clock. Two entry points, matching the two moments a message is judged:

* :func:`decide_inline` – before delivery, rules only (microseconds).
* :func:`decide` – in the worker, once the classifier has scored the message.

Principles, in priority order:

1. Risk is escalated to a human at once and never hidden: a mother disclosing suicidal thoughts,
   self-harm, thoughts of harming her baby or danger at home must be seen, by the room and by a
   moderator. Negated statements ("I would never hurt my baby") are not risk.
2. Nothing a member says about herself is treated as toxic. Swearing at yourself is distress.
3. Hiding (``hold``) is for threats, severe abuse, and members a moderator has already restricted.
   Everything else that is doubtful is delivered and ``flag``ged for review.
4. Kindred's trained safety model (``moderation/safety_model.py``) decides what the rules leave
   open: it escalates risk (and risk always wins: a message it reads as risk is escalated, never
   held as abuse), flags toxic and insensitive messages (never holds them), and labels distress.
   When it reads a message as distress, a toxicity flag that rests only on Detoxify's scores is
   withdrawn: harsh words about oneself are why the room exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from moderation.rules import HOLD_ABUSE, RuleMatch, RuleSignals, decides_alone, rule_signals

if TYPE_CHECKING:
    from moderation.classifiers import Classifier, Scores
    from moderation.safety_model import SafetyModel, SafetyScores

Action = Literal["allow", "flag", "hold", "escalate"]
Category = Literal["none", "toxic", "insensitive", "distress", "risk"]
Priority = Literal["urgent", "high", "normal", "low"]


@dataclass(frozen=True)
class Thresholds:
    """Score thresholds, all on the classifier's 0–1 probabilities.

    Defaults are set for Detoxify ``original``/``unbiased`` (whose scores are well spread, and
    whose ``severe_toxicity`` and ``threat`` rarely pass 0.5 on ordinary chat). Use
    :meth:`for_profanity_check` with the profanity-check fallback, whose single probability
    runs much hotter.
    """

    #: ``toxicity`` at or above this, aimed at someone other than the writer → flag as toxic.
    toxicity_flag: float = 0.80
    #: ``insult`` at or above this, aimed at someone else → flag as toxic.
    insult_flag: float = 0.70
    #: ``identity_attack`` at or above this → flag as toxic (identity hate is never self-talk).
    identity_attack_flag: float = 0.50
    #: ``severe_toxicity`` at or above this, not self-directed → hold (hidden pending review).
    severe_toxicity_hold: float = 0.50
    #: ``threat`` at or above this, not self-directed → hold.
    threat_hold: float = 0.60
    #: an insensitive rule hit with ``toxicity`` at or above this is raised to high priority.
    insensitive_priority_toxicity: float = 0.40

    @classmethod
    def for_profanity_check(cls) -> Thresholds:
        """profanity-check gives 0.7+ to mild swearing ("bloody hell") and to many first-person
        sentences, so only near-certain scores flag; it does not model threat/severity at all."""
        return cls(
            toxicity_flag=0.95,
            insult_flag=0.95,
            identity_attack_flag=1.01,
            severe_toxicity_hold=1.01,
            threat_hold=1.01,
            insensitive_priority_toxicity=0.90,
        )


@dataclass(frozen=True)
class MemberState:
    """What the policy needs to know about the sender at the time of sending."""

    muted: bool = False
    probation: bool = False  # new or previously sanctioned member whose posts are pre-moderated
    moderator_on_duty: bool = True


@dataclass(frozen=True)
class Decision:
    action: Action
    category: Category
    priority: Priority
    reasons: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        return self.action != "allow"


def _rule_reason(match: RuleMatch) -> dict[str, Any]:
    return {
        "rule": match.id,
        "category": match.category,
        "subcategory": match.subcategory,
        "span": match.span,
        "comment": match.comment,
    }


def _score_reason(name: str, value: float, threshold: float, note: str = "") -> dict[str, Any]:
    reason: dict[str, Any] = {"score": name, "value": round(value, 4), "threshold": threshold}
    if note:
        reason["note"] = note
    return reason


_HOLD_ABUSE = HOLD_ABUSE


def rules_alone_decide(signals: RuleSignals) -> RuleSignals:
    """The rule hits that decide on their own when Kindred's safety model follows: threats and
    severe abuse (held), plus distress labels. Every other hit (risk, insensitive, other abuse)
    goes to the model stage as a hint, where it counts only if the model agrees at least in part
    (:func:`apply_safety`): on messages written independently of the rules, the rules alone
    escalated a fifth of supportive replies that mention suicide and idioms such as "could kill
    myself for forgetting the nappies" (docs/moderation-quality.md)."""
    keep = tuple(m for m in signals.matches if decides_alone(m))
    return replace(signals, matches=keep)


def decide_inline(
    signals: RuleSignals,
    member_state: MemberState,
    thresholds: Thresholds | None = None,
    *,
    model_follows: bool = False,
) -> Decision:
    """Decide before delivery, from rules alone.

    ``model_follows``: Kindred's safety model is running and will assess this message within
    about a second; the rules then decide only what they are sure of (:func:`rules_alone_decide`)
    and the rest waits for the model. Without it (model off, worker down, still warming up) every
    rule acts here, as a fail-safe.

    Order: risk → escalate (delivered, urgent); muted or on probation → hold; rule-detected threat
    or "kill yourself" → hold; with no moderator on duty, any other abuse or insensitive hit is
    held too, because nobody would see a flag until morning; insensitive → flag;
    distress → allow (category distress, so facilitators can offer support).
    ``thresholds`` is accepted for symmetry with :func:`decide`; rules have no thresholds.
    """
    del thresholds
    if model_follows:
        signals = rules_alone_decide(signals)
    reasons: list[dict[str, Any]] = []
    if signals.risk:
        reasons = [_rule_reason(m) for m in signals.risk]
        if member_state.muted:
            reasons.append(
                {
                    "rule": "member.muted",
                    "note": "escalated despite mute: risk is never hidden from moderators",
                }
            )
        return Decision("escalate", "risk", "urgent", reasons)
    if member_state.muted:
        return Decision(
            "hold",
            _rule_category(signals),
            "normal",
            [{"rule": "member.muted"}] + _all_reasons(signals),
        )
    if member_state.probation:
        return Decision(
            "hold",
            _rule_category(signals),
            "normal",
            [{"rule": "member.probation"}] + _all_reasons(signals),
        )

    severe = [m for m in signals.abuse if m.subcategory in _HOLD_ABUSE]
    if severe:
        return Decision("hold", "toxic", "high", [_rule_reason(m) for m in signals.abuse])
    if not member_state.moderator_on_duty:
        if signals.abuse:
            return Decision(
                "hold",
                "toxic",
                "high",
                [_rule_reason(m) for m in signals.abuse] + [{"rule": "no_moderator_on_duty"}],
            )
        if signals.insensitive:
            return Decision(
                "hold",
                "insensitive",
                "normal",
                [_rule_reason(m) for m in signals.insensitive] + [{"rule": "no_moderator_on_duty"}],
            )
        # A newcomer's first words are deliberately NOT held when nobody is on duty: a mother
        # who finally writes "I'm struggling" at 3am must be heard by her peers, not parked
        # until morning (docs/moderation.md, "When no moderator is on duty").
    if signals.abuse:
        return Decision("flag", "toxic", "high", [_rule_reason(m) for m in signals.abuse])
    if signals.insensitive:
        return Decision(
            "flag", "insensitive", "normal", [_rule_reason(m) for m in signals.insensitive]
        )
    if signals.distress:
        return Decision("allow", "distress", "low", [_rule_reason(m) for m in signals.distress])
    return Decision("allow", "none", "low", [])


def _rule_category(signals: RuleSignals) -> Category:
    if signals.abuse:
        return "toxic"
    if signals.insensitive:
        return "insensitive"
    if signals.distress:
        return "distress"
    return "none"


def _all_reasons(signals: RuleSignals) -> list[dict[str, Any]]:
    return [_rule_reason(m) for m in signals.matches]


def decide(
    signals: RuleSignals,
    scores: Scores | None,
    member_state: MemberState,
    thresholds: Thresholds | None = None,
    *,
    safety: SafetyScores | None = None,
) -> Decision:
    """Full decision once the classifier has run (``scores=None`` when it is unavailable).

    Starts from :func:`decide_inline` (so a message is never treated more leniently after the
    model than before it) and adds what the scores show:

    * not self-directed and ``severe_toxicity``/``threat`` ≥ hold threshold → hold, toxic;
    * not self-directed and ``toxicity``/``insult``/``identity_attack`` ≥ flag threshold → flag, toxic;
    * self-directed (first person, no abuse rule) with high toxicity → allow, category distress:
      the author is never flagged for being harsh about herself;
    * insensitive rule + elevated toxicity → priority high.

    ``safety`` (Kindred's safety model's scores for this message, or ``None`` when the model is
    not loaded) is then applied by :func:`apply_safety`.
    """
    t = thresholds or Thresholds()
    if safety is None:
        return _decide_scores(signals, scores, member_state, t)
    decision = _decide_scores(rules_alone_decide(signals), scores, member_state, t)
    return apply_safety(decision, signals, safety, member_state)


def _decide_scores(
    signals: RuleSignals, scores: Scores | None, member_state: MemberState, t: Thresholds
) -> Decision:
    base = decide_inline(signals, member_state, t)
    score_dict = scores.as_dict() if scores is not None else {}
    unavailable = (
        []
        if scores is not None
        else [
            {
                "rule": "classifier_unavailable",
                "note": "classifier unavailable: decided on rules only",
            }
        ]
    )

    def with_(decision: Decision, *extra: dict[str, Any]) -> Decision:
        return Decision(
            decision.action,
            decision.category,
            decision.priority,
            list(decision.reasons) + list(extra) + unavailable,
            score_dict,
        )

    if scores is None or base.action in ("escalate", "hold"):
        return with_(base)

    self_directed = signals.addressee == "self" and not signals.abuse
    if self_directed:
        high = [
            n
            for n in ("toxicity", "insult", "severe_toxicity")
            if score_dict.get(n, 0.0) >= t.toxicity_flag
        ]
        if high or signals.distress:
            notes = [
                _score_reason(
                    n, score_dict[n], t.toxicity_flag, "self-directed: not held against the author"
                )
                for n in high
            ]
            if base.category == "insensitive":
                return with_(base, *notes)
            return with_(Decision("allow", "distress", "low", list(base.reasons)), *notes)
        return with_(base)

    hold_hits = [
        _score_reason(name, score_dict.get(name, 0.0), limit)
        for name, limit in (("severe_toxicity", t.severe_toxicity_hold), ("threat", t.threat_hold))
        if score_dict.get(name, 0.0) >= limit
    ]
    if hold_hits:
        return with_(Decision("hold", "toxic", "high", list(base.reasons)), *hold_hits)

    flag_hits = [
        _score_reason(name, score_dict.get(name, 0.0), limit)
        for name, limit in (
            ("toxicity", t.toxicity_flag),
            ("insult", t.insult_flag),
            ("identity_attack", t.identity_attack_flag),
        )
        if score_dict.get(name, 0.0) >= limit
    ]
    if base.category == "toxic":
        return with_(base, *flag_hits)
    if base.category == "insensitive":
        if score_dict.get("toxicity", 0.0) >= t.insensitive_priority_toxicity:
            return with_(
                Decision("flag", "insensitive", "high", list(base.reasons)),
                _score_reason("toxicity", score_dict["toxicity"], t.insensitive_priority_toxicity),
            )
        return with_(base)
    if flag_hits:
        return with_(Decision("flag", "toxic", "normal", list(base.reasons)), *flag_hits)
    return with_(base)


def _safety_reason(
    safety: SafetyScores, name: str, value: float, threshold: float, note: str
) -> dict[str, Any]:
    reason = _score_reason(f"kindred_{name}", value, threshold, note)
    if name in ("risk", "context_risk", "sentence_risk"):
        from moderation.safety_model import risk_kind

        reason["family"] = safety.risk_family
        reason["kind"] = risk_kind(safety.risk_family)
        # the support card is discreet for abuse at home, as it is for the abuse rules
        reason["subcategory"] = reason["kind"]
    return reason


def apply_safety(
    decision: Decision,
    signals: RuleSignals,
    safety: SafetyScores,
    member_state: MemberState | None = None,
) -> Decision:
    """Combine Kindred's safety model with the decision of the sure rules and Detoxify.

    ``decision`` was made with :func:`rules_alone_decide`'s hits only; ``signals`` are all of them.

    * **risk**: escalate (urgent, family in the reasons) when the model's calibrated verdict is
      risk, alone or read with the author's recent messages, or when a risk rule fired and the
      model gives risk at least ``thresholds.risk_with_rule``. Risk always wins: such a message is
      escalated, never held or flagged as abuse;
    * a decision already ``hold`` (threat or severe abuse, mute, probation) stands;
    * **toxic** / **insensitive**: flag for review when the model's verdict says so, or when an
      insensitive/abuse rule fired and the model gives that category at least half its threshold;
      with no moderator on duty these are held instead, as the rules did (nobody would see a
      flag until morning);
    * **distress**: a toxicity flag that rests only on Detoxify's scores becomes
      ``allow``/``distress``; a distress category is kept for facilitators;
    * otherwise the decision so far stands (Detoxify remains the toxicity model where installed).

    The model's probabilities are recorded in ``Decision.scores`` under ``kindred_*`` either way.
    """
    t = safety.thresholds
    state = member_state or MemberState()
    scores = {**decision.scores, **safety.as_dict()}

    def result(
        action: Action,
        category: Category,
        priority: Priority,
        *extra: dict[str, Any],
        keep_reasons: bool = True,
    ) -> Decision:
        base = list(decision.reasons) if keep_reasons else []
        return Decision(action, category, priority, base + list(extra), scores)

    rule_risk = [_rule_reason(m) for m in signals.risk]
    if safety.verdict == "risk":
        if safety.by_context:
            reason = _safety_reason(
                safety,
                "context_risk",
                safety.context_risk or 0.0,
                t.risk,
                "read with her recent messages in this room",
            )
        elif safety.by_sentence:
            reason = _safety_reason(
                safety,
                "sentence_risk",
                safety.sentence_risk or 0.0,
                t.risk_sentence or 0.0,
                "one sentence of her message, read on its own",
            )
            reason["span"] = (safety.sentence or "")[:300]
        else:
            reason = _safety_reason(safety, "risk", safety.risk, t.risk, "safety model")
        return result("escalate", "risk", "urgent", *rule_risk, reason)
    if rule_risk and safety.own_risk >= t.risk_with_rule:
        return result(
            "escalate",
            "risk",
            "urgent",
            *rule_risk,
            _safety_reason(
                safety,
                "risk",
                safety.own_risk,
                t.risk_with_rule,
                "a risk rule fired and the safety model agrees in part",
            ),
        )
    if decision.action in ("hold", "escalate"):
        return result(decision.action, decision.category, decision.priority)

    def flag(category: Category, *extra: dict[str, Any]) -> Decision:
        if not state.moderator_on_duty:
            return result(
                "hold",
                category,
                "high" if category == "toxic" else "normal",
                *extra,
                {"rule": "no_moderator_on_duty"},
            )
        return result(
            "flag", category, "high" if category == "toxic" and signals.abuse else "normal", *extra
        )

    rule_abuse = [_rule_reason(m) for m in signals.abuse]
    rule_insensitive = [_rule_reason(m) for m in signals.insensitive]
    if safety.verdict == "toxic":
        return flag(
            "toxic",
            *rule_abuse,
            _safety_reason(safety, "toxic", safety.toxic, t.toxic, "safety model"),
        )
    if safety.verdict == "insensitive":
        return flag(
            "insensitive",
            *rule_insensitive,
            _safety_reason(
                safety, "insensitive", safety.insensitive, t.insensitive, "safety model"
            ),
        )
    if rule_abuse and safety.toxic >= t.toxic / 2:
        return flag(
            "toxic",
            *rule_abuse,
            _safety_reason(
                safety,
                "toxic",
                safety.toxic,
                t.toxic / 2,
                "an abuse rule fired and the safety model agrees in part",
            ),
        )
    if rule_insensitive and safety.insensitive >= t.insensitive / 2:
        return flag(
            "insensitive",
            *rule_insensitive,
            _safety_reason(
                safety,
                "insensitive",
                safety.insensitive,
                t.insensitive / 2,
                "an insensitive rule fired and the safety model agrees in part",
            ),
        )
    if safety.verdict == "distress":
        if decision.action == "flag" and decision.category == "toxic":
            return result(
                "allow",
                "distress",
                "low",
                _safety_reason(
                    safety,
                    "distress",
                    safety.distress,
                    t.distress,
                    "the safety model reads this as her own distress: not held against her",
                ),
                keep_reasons=False,
            )
        if decision.action == "allow":
            return result(
                "allow",
                "distress",
                "low",
                _safety_reason(safety, "distress", safety.distress, t.distress, "safety model"),
            )
    return result(decision.action, decision.category, decision.priority)


def assess(
    texts: Sequence[str],
    classifier: Classifier | None,
    thresholds: Thresholds | None = None,
    member_state: MemberState | None = None,
    *,
    safety_model: SafetyModel | None = None,
    contexts: Sequence[Sequence[str]] | None = None,
) -> list[Decision]:
    """Rules + classifier + safety model + policy for a batch of texts (evaluation, admin
    previews; the worker does the same per batch).

    ``classifier=None`` means no classifier, and every decision says so in its reasons;
    ``safety_model=None`` means no safety model. ``contexts[i]``: the author's recent messages.
    """
    state = member_state or MemberState()
    signals = [rule_signals(text) for text in texts]
    scores: list[Scores | None] = (
        list(classifier.score(list(texts))) if classifier is not None else [None] * len(texts)
    )
    safety: list[SafetyScores | None] = (
        list(safety_model.score(list(texts), contexts))
        if safety_model is not None
        else [None] * len(texts)
    )
    return [
        decide(s, sc, state, thresholds, safety=sf)
        for s, sc, sf in zip(signals, scores, safety, strict=True)
    ]
