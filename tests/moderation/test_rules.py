"""Inline rules: risk is caught across phrasings, idioms and negations stay quiet, targets are known."""

from __future__ import annotations

import time

import pytest

from moderation.rule_patterns import RULES
from moderation.rules import addressee, normalise, rule_signals


@pytest.mark.parametrize("text,subcategory", [
    ("I don't want to live anymore", "suicidal_thoughts"),
    ("I DONT WANT TO LIVE ANY MORE", "suicidal_thoughts"),
    ("i don’t want to be alive", "suicidal_thoughts"),
    ("Honestly I'm not sure I want to be here anymore, I'm not suicidal but", "suicidal_thoughts"),
    ("everyone would be better off without me", "suicidal_thoughts"),
    ("ive been saving my pills", "suicide_plan"),
    ("I'm going to hurt myself tonight", "self_harm"),
    ("started self-harming again", "self_harm"),
    ("I don't want to hurt him but I keep having thoughts of shaking him", "harm_to_baby_intrusive"),
    ("I'm so scared I'll drop her down the stairs on purpose", "harm_to_baby_intrusive"),
    ("my partner threatens to take the kids if I leave", "domestic_abuse"),
    ("I'm terrified of my husband", "domestic_abuse"),
])
def test_risk_is_detected_across_phrasings(text: str, subcategory: str) -> None:
    signals = rule_signals(text)
    assert signals.risk, text
    assert subcategory in {m.subcategory for m in signals.risk} | {signals.risk[0].subcategory}


@pytest.mark.parametrize("text", [
    "I could murder a cup of tea",
    "My feet are killing me",
    "I nearly died laughing",
    "this baby will be the death of me lol",
    "the regression nearly broke us",
    "I'd kill for a nap",
    "I killed myself laughing at that",
    "I'd never hurt myself, don't worry",
    "I would never hurt my baby",
    "I wouldn’t ever harm my son",
    "I could have died of embarrassment",
    "He kicked me all night, definitely a footballer (34 weeks)",
    "cut myself chopping onions lol",
    "I'm dying to know what she's called",
    "no point in buying the big pack of nappies",
    "we're saving up for a new pram",
])
def test_idioms_and_negations_are_not_risk(text: str) -> None:
    assert not rule_signals(text).risk, [m.id for m in rule_signals(text).risk]


def test_negated_match_is_kept_for_audit() -> None:
    signals = rule_signals("I would never hurt my baby")
    assert [m.id for m in signals.suppressed] and all(m.negated for m in signals.suppressed)


def test_insults_are_aimed_at_others_but_self_talk_is_distress() -> None:
    assert rule_signals("you silly cow").abuse
    self_talk = rule_signals("I'm such a silly cow, forgot the wipes")
    assert not self_talk.abuse
    assert rule_signals("You're not a bad mum at all").abuse == ()


@pytest.mark.parametrize("text,expected", [
    ("I hate who I've become", "self"),
    ("You're an idiot", "other"),
    ("Thank you so much, that helped", "none"),
    ("I'm tired, but you are being ridiculous", "other"),
    ("What a pathetic moaning cow", "none"),
    ("We're all knackered", "self"),
])
def test_addressee(text: str, expected: str) -> None:
    assert addressee(text) == expected


def test_normalise_expands_contractions_and_apostrophes() -> None:
    assert normalise("I’d NEVER… can't, dont, ur soooo") == "i would never… cannot, do not, your so"


def test_every_rule_has_a_comment_and_unique_id() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(r.comment and r.category in {"risk", "distress", "insensitive", "abuse"} for r in RULES)


def test_rules_are_fast_enough_to_run_inline() -> None:
    texts = ["I'm exhausted and angry all the time and I hate who I've become",
             "Does anyone have a number for the local perinatal team?",
             "You shouldn't be on meds if you're breastfeeding, it's selfish"] * 100
    start = time.perf_counter()
    for t in texts:
        rule_signals(t)
    per_message = (time.perf_counter() - start) / len(texts)
    assert per_message < 0.002, f"{per_message * 1e6:.0f} µs per message"
