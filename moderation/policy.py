"""Moderation policy: turn rule signals, model scores and semantic similarities into one decision.

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
4. The semantic exemplar layer (``moderation/semantic.py``) can only add: it flags (never holds)
   toxic/insensitive messages aimed at someone else, labels self-directed pain as distress, and
   escalates risk only at very high similarity or together with a distress rule hit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from moderation.rules import RuleMatch, RuleSignals, rule_signals

if TYPE_CHECKING:
    from moderation.classifiers import Classifier, Scores
    from moderation.semantic import SemanticScorer

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

    # Semantic exemplar layer (cosine similarities from ``SemanticScorer``; calibrated on the dev
    # and wider sets, see docs/moderation-quality.md). "Margin" is how far the category's
    # similarity must exceed the best of the competing categories named in each comment.
    #: ``semantic_toxic`` at or above this, with the margin over ok/distress/insensitive, aimed at
    #: someone else (second person, or no one identifiable) → flag toxic.
    semantic_toxic_flag: float = 0.36
    semantic_toxic_margin: float = 0.0
    #: ``semantic_insensitive`` at or above this, with the margin over ok/distress/toxic, not
    #: first person → flag insensitive.
    semantic_insensitive_flag: float = 0.36
    semantic_insensitive_margin: float = 0.0
    #: added to both flag thresholds when the words are aimed at no one identifiable (no "you"),
    #: where a flag is likelier to be a general complaint ("nobody understands what this is like").
    semantic_unaddressed_extra: float = 0.10
    #: ``semantic_distress`` at or above this, with the margin over ok/toxic/insensitive, not aimed
    #: at someone else → category distress (still ``allow``: support, never punishment).
    semantic_distress_label: float = 0.50
    semantic_distress_margin: float = 0.05
    #: ``semantic_risk`` at or above this with the margin over ok/distress → escalate on its own.
    #: Deliberately very high: idioms ("could murder a cup of tea") must never escalate.
    semantic_risk_escalate: float = 0.78
    semantic_risk_margin: float = 0.15
    #: lower bar when a distress rule also fired (self-directed pain plus risk-like wording).
    semantic_risk_with_distress: float = 0.62
    semantic_risk_with_distress_margin: float = 0.05

    @classmethod
    def for_profanity_check(cls) -> Thresholds:
        """profanity-check gives 0.7+ to mild swearing ("bloody hell") and to many first-person
        sentences, so only near-certain scores flag; it does not model threat/severity at all."""
        return cls(toxicity_flag=0.95, insult_flag=0.95, identity_attack_flag=1.01,
                   severe_toxicity_hold=1.01, threat_hold=1.01, insensitive_priority_toxicity=0.90)


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
    return {"rule": match.id, "category": match.category, "subcategory": match.subcategory,
            "span": match.span, "comment": match.comment}


def _score_reason(name: str, value: float, threshold: float, note: str = "") -> dict[str, Any]:
    reason: dict[str, Any] = {"score": name, "value": round(value, 4), "threshold": threshold}
    if note:
        reason["note"] = note
    return reason


_HOLD_ABUSE = frozenset({"threat", "severe"})


def decide_inline(signals: RuleSignals, member_state: MemberState, thresholds: Thresholds | None = None) -> Decision:
    """Decide before delivery, from rules alone.

    Order: risk → escalate (delivered, urgent); muted or on probation → hold; rule-detected threat
    or "kill yourself" → hold; with no moderator on duty, any other abuse or insensitive hit is
    held too, because nobody would see a flag until morning; insensitive → flag;
    distress → allow (category distress, so facilitators can offer support).
    ``thresholds`` is accepted for symmetry with :func:`decide`; rules have no thresholds.
    """
    del thresholds
    reasons: list[dict[str, Any]] = []
    if signals.risk:
        reasons = [_rule_reason(m) for m in signals.risk]
        if member_state.muted:
            reasons.append({"rule": "member.muted", "note": "escalated despite mute: risk is never hidden from moderators"})
        return Decision("escalate", "risk", "urgent", reasons)
    if member_state.muted:
        return Decision("hold", _rule_category(signals), "normal", [{"rule": "member.muted"}] + _all_reasons(signals))
    if member_state.probation:
        return Decision("hold", _rule_category(signals), "normal", [{"rule": "member.probation"}] + _all_reasons(signals))

    severe = [m for m in signals.abuse if m.subcategory in _HOLD_ABUSE]
    if severe:
        return Decision("hold", "toxic", "high", [_rule_reason(m) for m in signals.abuse])
    if not member_state.moderator_on_duty:
        if signals.abuse:
            return Decision("hold", "toxic", "high",
                            [_rule_reason(m) for m in signals.abuse] + [{"rule": "no_moderator_on_duty"}])
        if signals.insensitive:
            return Decision("hold", "insensitive", "normal",
                            [_rule_reason(m) for m in signals.insensitive] + [{"rule": "no_moderator_on_duty"}])
        # A newcomer's first words are deliberately NOT held when nobody is on duty: a mother
        # who finally writes "I'm struggling" at 3am must be heard by her peers, not parked
        # until morning (docs/moderation.md, "When no moderator is on duty").
    if signals.abuse:
        return Decision("flag", "toxic", "high", [_rule_reason(m) for m in signals.abuse])
    if signals.insensitive:
        return Decision("flag", "insensitive", "normal", [_rule_reason(m) for m in signals.insensitive])
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
    semantic: Mapping[str, float] | None = None,
) -> Decision:
    """Full decision once the classifier has run (``scores=None`` when it is unavailable).

    Starts from :func:`decide_inline` (so a message is never treated more leniently after the
    model than before it) and adds what the scores show:

    * not self-directed and ``severe_toxicity``/``threat`` ≥ hold threshold → hold, toxic;
    * not self-directed and ``toxicity``/``insult``/``identity_attack`` ≥ flag threshold → flag, toxic;
    * self-directed (first person, no abuse rule) with high toxicity → allow, category distress:
      the author is never flagged for being harsh about herself;
    * insensitive rule + elevated toxicity → priority high.

    ``semantic`` (the dict from ``SemanticScorer.score`` for this message, or ``None``) is then
    applied by :func:`apply_semantic`; it never makes a decision more lenient and never holds.
    """
    t = thresholds or Thresholds()
    decision = _decide_scores(signals, scores, member_state, t)
    if semantic:
        decision = apply_semantic(decision, signals, semantic, t)
    return decision


def _decide_scores(signals: RuleSignals, scores: Scores | None, member_state: MemberState, t: Thresholds) -> Decision:
    base = decide_inline(signals, member_state, t)
    score_dict = scores.as_dict() if scores is not None else {}
    unavailable = [] if scores is not None else [
        {"rule": "classifier_unavailable", "note": "classifier unavailable: decided on rules only"}]

    def with_(decision: Decision, *extra: dict[str, Any]) -> Decision:
        return Decision(decision.action, decision.category, decision.priority,
                        list(decision.reasons) + list(extra) + unavailable, score_dict)

    if scores is None or base.action in ("escalate", "hold"):
        return with_(base)

    self_directed = signals.addressee == "self" and not signals.abuse
    if self_directed:
        high = [n for n in ("toxicity", "insult", "severe_toxicity") if score_dict.get(n, 0.0) >= t.toxicity_flag]
        if high or signals.distress:
            notes = [_score_reason(n, score_dict[n], t.toxicity_flag, "self-directed: not held against the author")
                     for n in high]
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
        for name, limit in (("toxicity", t.toxicity_flag), ("insult", t.insult_flag),
                            ("identity_attack", t.identity_attack_flag))
        if score_dict.get(name, 0.0) >= limit
    ]
    if base.category == "toxic":
        return with_(base, *flag_hits)
    if base.category == "insensitive":
        if score_dict.get("toxicity", 0.0) >= t.insensitive_priority_toxicity:
            return with_(Decision("flag", "insensitive", "high", list(base.reasons)),
                         _score_reason("toxicity", score_dict["toxicity"], t.insensitive_priority_toxicity))
        return with_(base)
    if flag_hits:
        return with_(Decision("flag", "toxic", "normal", list(base.reasons)), *flag_hits)
    return with_(base)


def _margin(semantic: Mapping[str, float], key: str, *others: str) -> float:
    return semantic.get(f"semantic_{key}", 0.0) - max(semantic.get(f"semantic_{o}", 0.0) for o in others)


def apply_semantic(decision: Decision, signals: RuleSignals, semantic: Mapping[str, float],
                   thresholds: Thresholds | None = None) -> Decision:
    """Combine nearest-exemplar similarities with the decision so far and with whom the words are
    aimed at (``signals.addressee``). Only ever adds:

    * risk: escalate when ``semantic_risk`` is very high (with a clear margin over ok/distress),
      or fairly high together with a distress rule hit; never for words aimed at someone else or
      alongside an abuse rule ("go and kill yourself" is abuse, and stays held);
    * toxic: flag (normal priority, never hold) a message aimed at someone else or at no one
      identifiable, never a first-person one: self-directed distress is never toxic;
    * insensitive: flag, same addressee rule;
    * distress: an ``allow``/``none`` message about the writer becomes category ``distress``.

    The similarities are recorded in ``Decision.scores`` under their own keys either way.
    """
    t = thresholds or Thresholds()
    sim = {k: float(v) for k, v in semantic.items()}
    scores = {**decision.scores, **sim}

    def result(action: Action, category: Category, priority: Priority, *extra: dict[str, Any]) -> Decision:
        return Decision(action, category, priority, list(decision.reasons) + list(extra), scores)

    unchanged = result(decision.action, decision.category, decision.priority)
    if decision.action == "escalate":
        return unchanged

    who = signals.addressee
    risk = sim.get("semantic_risk", 0.0)
    if who != "other" and not signals.abuse and decision.action != "hold":
        risk_margin = _margin(sim, "risk", "ok", "distress")
        if risk >= t.semantic_risk_escalate and risk_margin >= t.semantic_risk_margin:
            return result("escalate", "risk", "urgent", _score_reason(
                "semantic_risk", risk, t.semantic_risk_escalate, "semantic: very close to risk exemplars"))
        if (signals.distress and risk >= t.semantic_risk_with_distress
                and _margin(sim, "risk", "ok", "distress") >= t.semantic_risk_with_distress_margin):
            return result("escalate", "risk", "urgent", _score_reason(
                "semantic_risk", risk, t.semantic_risk_with_distress,
                "semantic: close to risk exemplars, with a distress rule hit"))

    if decision.action != "allow":
        return unchanged  # already flagged or held by rules/classifier: keep their reasons

    if who != "self":
        extra = t.semantic_unaddressed_extra if who == "none" else 0.0
        toxic = sim.get("semantic_toxic", 0.0)
        if (toxic >= t.semantic_toxic_flag + extra
                and _margin(sim, "toxic", "ok", "distress", "insensitive") >= t.semantic_toxic_margin):
            return result("flag", "toxic", "normal", _score_reason(
                "semantic_toxic", toxic, t.semantic_toxic_flag, "semantic: close to hostile exemplars; human review"))
        insensitive = sim.get("semantic_insensitive", 0.0)
        if (insensitive >= t.semantic_insensitive_flag + extra
                and _margin(sim, "insensitive", "ok", "distress", "toxic") >= t.semantic_insensitive_margin):
            return result("flag", "insensitive", "normal", _score_reason(
                "semantic_insensitive", insensitive, t.semantic_insensitive_flag,
                "semantic: close to minimising/judging exemplars; human review"))

    if decision.category == "none" and who != "other":
        distress = sim.get("semantic_distress", 0.0)
        if (distress >= t.semantic_distress_label
                and _margin(sim, "distress", "ok", "toxic", "insensitive") >= t.semantic_distress_margin):
            return result("allow", "distress", "low", _score_reason(
                "semantic_distress", distress, t.semantic_distress_label, "semantic: close to distress exemplars"))
    return unchanged


def assess(
    texts: Sequence[str],
    classifier: Classifier | None,
    thresholds: Thresholds | None = None,
    member_state: MemberState | None = None,
    *,
    semantic_scorer: SemanticScorer | None = None,
) -> list[Decision]:
    """Rules + classifier + semantic layer + policy for a batch of texts (evaluation, admin
    previews; the worker does the same per batch).

    ``classifier=None`` means no classifier, and every decision says so in its reasons;
    ``semantic_scorer=None`` means no semantic layer.
    """
    state = member_state or MemberState()
    signals = [rule_signals(text) for text in texts]
    scores: list[Scores | None] = list(classifier.score(list(texts))) if classifier is not None else [None] * len(texts)
    semantic: list[Mapping[str, float] | None] = (
        list(semantic_scorer.score(list(texts))) if semantic_scorer is not None else [None] * len(texts))
    return [decide(s, sc, state, thresholds, semantic=sem)
            for s, sc, sem in zip(signals, scores, semantic, strict=True)]
