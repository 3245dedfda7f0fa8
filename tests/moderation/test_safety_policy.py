"""How the safety model's scores combine with the rules and Detoxify (moderation.policy): pure, on
hand-made scores, so each rule of combination is pinned whatever a retrained model scores."""

from __future__ import annotations

from moderation.classifiers import Scores
from moderation.policy import MemberState, Thresholds, decide, decide_inline
from moderation.rules import rule_signals
from moderation.safety_model import SafetyScores, SafetyThresholds, verdict_for

T = SafetyThresholds(
    risk=0.5, risk_context_floor=0.2, risk_with_rule=0.25, toxic=0.6, insensitive=0.6, distress=0.4
)


def safety(
    *,
    ok=0.0,
    distress=0.0,
    risk=0.0,
    toxic=0.0,
    insensitive=0.0,
    family="suicidal_passive",
    context_risk=None,
    by_context=False,
) -> SafetyScores:
    import numpy as np

    verdict = (
        "risk" if by_context else verdict_for(np.array([ok, distress, risk, toxic, insensitive]), T)
    )
    return SafetyScores(
        ok=ok,
        distress=distress,
        risk=risk,
        toxic=toxic,
        insensitive=insensitive,
        risk_family=family,
        risk_family_p=0.9,
        verdict=verdict,
        thresholds=T,
        context_risk=context_risk,
        by_context=by_context,
    )


def detoxify(**kw) -> Scores:
    base = dict(
        toxicity=0.0, severe_toxicity=0.0, obscene=0.0, threat=0.0, insult=0.0, identity_attack=0.0
    )
    return Scores(**{**base, **kw})


def test_risk_verdict_escalates_with_family_and_kind_even_when_detoxify_would_hold():
    text = "he put his hands round my neck last night and said next time he won't stop"
    d = decide(
        rule_signals(text),
        detoxify(threat=0.95, toxicity=0.9),
        MemberState(),
        Thresholds(),
        safety=safety(risk=0.8, family="da_physical_threats"),
    )
    assert (d.action, d.category, d.priority) == ("escalate", "risk", "urgent")
    reason = [r for r in d.reasons if r.get("score") == "kindred_risk"][0]
    assert reason["family"] == "da_physical_threats" and reason["kind"] == "domestic_abuse"
    assert reason["subcategory"] == "domestic_abuse"  # the support card is the discreet one


def test_a_risk_rule_alone_does_not_escalate_when_the_model_reads_a_supportive_reply():
    text = "if you ever feel suicidal please ring the Samaritans on 116 123, we're here x"
    assert rule_signals(text).risk, "precondition: a risk rule fires on this supportive reply"
    d = decide(
        rule_signals(text), None, MemberState(), Thresholds(), safety=safety(ok=0.97, risk=0.02)
    )
    assert d.action == "allow"


def test_a_risk_rule_with_partial_model_support_escalates():
    text = "I want to die"
    d = decide(
        rule_signals(text), None, MemberState(), Thresholds(), safety=safety(distress=0.6, risk=0.3)
    )
    assert d.action == "escalate"
    assert any(r.get("rule", "").startswith("risk.") for r in d.reasons)


def test_context_escalation_says_so():
    d = decide(
        rule_signals("soon it won't matter"),
        None,
        MemberState(),
        Thresholds(),
        safety=safety(ok=0.6, risk=0.3, context_risk=0.9, by_context=True),
    )
    assert d.action == "escalate"
    assert any(r.get("score") == "kindred_context_risk" for r in d.reasons)


def test_sentence_escalation_says_so_and_a_rule_counts_sentence_support():
    import dataclasses

    t = dataclasses.replace(T, risk_sentence=0.9)
    hit = dataclasses.replace(
        safety(ok=0.8, risk=0.01),
        thresholds=t,
        sentence_risk=0.95,
        by_sentence=True,
        verdict="risk",
        sentence="anyway the tablets are ready",
    )
    d = decide(rule_signals("lovely day. anyway"), None, MemberState(), Thresholds(), safety=hit)
    assert d.action == "escalate"
    reason = next(r for r in d.reasons if r.get("score") == "kindred_sentence_risk")
    assert reason["span"] == "anyway the tablets are ready"  # moderators see which sentence
    # A risk rule and one sentence that the model finds risky in part: they agree in part.
    part = dataclasses.replace(safety(ok=0.8, risk=0.01), thresholds=t, sentence_risk=0.3)
    text = "lovely day at the park. I want to die"
    assert decide(rule_signals(text), None, MemberState(), Thresholds(), safety=part).action == (
        "escalate"
    )


def test_distress_withdraws_a_detoxify_only_toxicity_flag():
    text = "I am so f***ing stupid, forgot the nappies again"
    d = decide(
        rule_signals(text),
        detoxify(toxicity=0.95, insult=0.9),
        MemberState(),
        Thresholds(),
        safety=safety(distress=0.9),
    )
    assert (d.action, d.category) == ("allow", "distress")


def test_toxic_verdict_flags_and_is_held_when_nobody_is_on_duty():
    text = "you're a disgrace and everyone here laughs at you"
    flagged = decide(
        rule_signals(text), None, MemberState(), Thresholds(), safety=safety(toxic=0.9)
    )
    assert (flagged.action, flagged.category) == ("flag", "toxic")
    held = decide(
        rule_signals(text),
        None,
        MemberState(moderator_on_duty=False),
        Thresholds(),
        safety=safety(toxic=0.9),
    )
    assert (held.action, held.category) == ("hold", "toxic")


def test_threats_are_still_held_by_the_rules_before_anyone_sees_them():
    text = "I know where you live and I'm coming round to sort you out"
    signals = rule_signals(text)
    inline = decide_inline(signals, MemberState(), model_follows=True)
    assert inline.action == "hold"


def test_with_the_model_following_the_rules_leave_risk_and_insensitive_to_it():
    text = "if you ever feel suicidal please ring the Samaritans on 116 123, we're here x"
    assert (
        decide_inline(rule_signals(text), MemberState(), model_follows=False).action == "escalate"
    )
    assert decide_inline(rule_signals(text), MemberState(), model_follows=True).action == "allow"


def test_an_insensitive_rule_needs_some_model_agreement():
    text = "at least you've got a healthy baby, some people can't have one"
    signals = rule_signals(text)
    assert signals.insensitive, "precondition"
    kept = decide(
        signals, None, MemberState(), Thresholds(), safety=safety(insensitive=0.35, ok=0.6)
    )
    assert (kept.action, kept.category) == ("flag", "insensitive")
    dropped = decide(
        signals, None, MemberState(), Thresholds(), safety=safety(ok=0.95, insensitive=0.01)
    )
    assert dropped.action == "allow"
