"""Inline rules: risk is caught across phrasings, idioms and negations stay quiet, targets are known."""

from __future__ import annotations

import time

import pytest

from moderation.rule_patterns import RULES
from moderation.rules import (
    _compiled_rules,
    _mask_idioms,
    _trigger_table,
    addressee,
    normalise,
    rule_signals,
)
from tests.moderation.conftest import DATA_DIR, load_labelled


@pytest.mark.parametrize(
    "text,subcategory",
    [
        ("I don't want to live anymore", "suicidal_thoughts"),
        ("I DONT WANT TO LIVE ANY MORE", "suicidal_thoughts"),
        ("i don’t want to be alive", "suicidal_thoughts"),
        (
            "Honestly I'm not sure I want to be here anymore, I'm not suicidal but",
            "suicidal_thoughts",
        ),
        ("everyone would be better off without me", "suicidal_thoughts"),
        ("ive been saving my pills", "suicide_plan"),
        ("I'm going to hurt myself tonight", "self_harm"),
        ("started self-harming again", "self_harm"),
        (
            "I don't want to hurt him but I keep having thoughts of shaking him",
            "harm_to_baby_intrusive",
        ),
        ("I'm so scared I'll drop her down the stairs on purpose", "harm_to_baby_intrusive"),
        ("my partner threatens to take the kids if I leave", "domestic_abuse"),
        ("I'm terrified of my husband", "domestic_abuse"),
        # widened families (docs/moderation-quality.md, "Risk rule families")
        ("I've looked up the cliffs near my mum's", "suicide_plan"),
        ("thinking I should just take everything in the medicine cupboard", "suicide_plan"),
        ("I've had enough of life", "suicidal_thoughts"),
        ("I can't promise I'll stay safe tonight", "suicidal_thoughts"),
        ("started burning my arms again when it gets bad", "self_harm"),
        ("he locks me in the house when he goes out", "domestic_abuse"),
        ("my husband took my phone and keys so I couldn't leave", "domestic_abuse"),
        ("I keep getting flashes of letting her fall down the stairs", "harm_to_baby_intrusive"),
        ("no1 wud even notice if i was gone", "suicidal_thoughts"),
    ],
)
def test_risk_is_detected_across_phrasings(text: str, subcategory: str) -> None:
    signals = rule_signals(text)
    assert signals.risk, text
    assert subcategory in {m.subcategory for m in signals.risk} | {signals.risk[0].subcategory}


@pytest.mark.parametrize(
    "text",
    [
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
        "I'm dying for a wee",
        "I'd kill for a lie-in",
        "I'm so done with nappies",
        "I took his phone off him, he was on it all night",
        "locked myself out of the car again",
        "he took my phone off me at dinner, said I'm glued to it",
        "taking things one day at a time",
    ],
)
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


@pytest.mark.parametrize(
    "text,expected",
    [
        ("I hate who I've become", "self"),
        ("You're an idiot", "other"),
        ("Thank you so much, that helped", "none"),
        ("I'm tired, but you are being ridiculous", "other"),
        ("What a pathetic moaning cow", "none"),
        ("We're all knackered", "self"),
    ],
)
def test_addressee(text: str, expected: str) -> None:
    assert addressee(text) == expected


def test_normalise_expands_contractions_and_apostrophes() -> None:
    assert normalise("I’d NEVER… can't, dont, ur soooo") == "i would never… cannot, do not, your so"


def test_every_rule_has_a_comment_and_unique_id() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(
        r.comment and r.category in {"risk", "distress", "insensitive", "abuse"} for r in RULES
    )


def test_rules_are_fast_enough_to_run_inline() -> None:
    texts = [
        "I'm exhausted and angry all the time and I hate who I've become",
        "Does anyone have a number for the local perinatal team?",
        "You shouldn't be on meds if you're breastfeeding, it's selfish",
    ] * 100
    start = time.perf_counter()
    for t in texts:
        rule_signals(t)
    per_message = (time.perf_counter() - start) / len(texts)
    assert per_message < 0.002, f"{per_message * 1e6:.0f} µs per message"


LONG_MESSAGE = (
    "I don't really know where to start. He is eleven weeks and feeds every two hours, my partner sleeps in the "
    "spare room and I'm the one up with him. My mum says we just got on with it in her day and I end up feeling "
    "worse. I feel like I'm failing at all of it, some days I look at him and feel nothing, then I cry. The health "
    "visitor asked me the questions and I lied because I was scared they'd think I couldn't cope. Does anyone else "
    "feel like this around three months? Did it get better for you, and what actually helped? Thanks for reading. "
) * 5


def test_long_messages_are_fast_enough() -> None:
    """Relative, so a loaded CI runner does not make it flaky: the pre-checked rules (normalising included) must cost
    clearly less than simply running every regex over the text; the old code cost more (numbers in
    docs/moderation-quality.md; the target is < 1 ms on an idle machine)."""
    text = LONG_MESSAGE[:2000]
    norm = _mask_idioms(normalise(text))
    regexes = [c.regex for c in _compiled_rules()]

    def best_of(fn: object) -> float:
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(10):
                fn()  # type: ignore[operator]
            runs.append((time.perf_counter() - start) / 10)
        return min(runs)

    ours = best_of(lambda: rule_signals(text))
    every_regex = best_of(lambda: [list(r.finditer(norm)) for r in regexes])
    assert ours < 0.8 * every_regex, (
        f"{ours * 1e6:.0f} µs vs {every_regex * 1e6:.0f} µs for all regexes"
    )


def _all_texts() -> list[str]:
    texts = [row["text"] for f in sorted(DATA_DIR.glob("*.jsonl")) for row in load_labelled(f.name)]
    return (
        texts
        + [" ".join(texts[i : i + 12])[:2000] for i in range(0, len(texts), 12)]
        + [LONG_MESSAGE[:2000]]
    )


def test_literal_precheck_never_skips_a_rule_that_matches() -> None:
    """The speed-up must not change decisions: whenever a rule's regex matches anywhere, one of its
    literals is found, and (for per-sentence rules) the match lies inside one sentence."""
    for text in _all_texts():
        norm = _mask_idioms(normalise(text))
        present = _trigger_table().present(norm)
        for c in _compiled_rules():
            for m in c.regex.finditer(norm):
                if c.triggers is not None:
                    assert not present.isdisjoint(c.triggers), (c.rule.id, text)
                if c.per_sentence:
                    assert not any(ch in m.group(0) for ch in ".!?\n"), (c.rule.id, text)


def test_the_send_paths_decisive_subset_decides_exactly_as_every_rule_would() -> None:
    """While the safety model follows, the send path runs only the rules that decide alone; its
    inline decision must be the one every rule would have given, in every member state."""
    from moderation.policy import MemberState, decide_inline, rules_alone_decide
    from moderation.training import corpus

    texts = [r.text for r in corpus.test_examples()][::3] + [
        "I will find you and hurt you",
        "kill yourself",
        "I'm a useless mum and I hate myself",
        "go and die",
    ]
    states = (
        MemberState(),
        MemberState(muted=True),
        MemberState(probation=True),
        MemberState(moderator_on_duty=False),
    )
    decisive_hits = 0
    for text in texts:
        every = rule_signals(text)
        decisive = rule_signals(text, "decisive")
        assert decisive.matches == rules_alone_decide(every).matches, text
        decisive_hits += bool(decisive.matches)
        for state in states:
            assert decide_inline(decisive, state, model_follows=True) == decide_inline(
                every, state, model_follows=True
            ), (text, state)
    assert decisive_hits >= 20  # the check compares real hits, not only empty results


def _addressee_per_clause(norm: str) -> str:
    """The reference: every clause on its own, as the rules first decided it."""
    from moderation.rules import _CLAUSE_SPLIT_RE, _addressee_of

    found_self = False
    for clause in _CLAUSE_SPLIT_RE.split(norm):
        if not clause.strip():
            continue
        who = _addressee_of(clause)
        if who == "other":
            return "other"
        found_self = found_self or who == "self"
    return "self" if found_self else "none"


def _corpus_texts() -> list[str]:
    from moderation.training import corpus

    texts = [e.text for e in corpus.training_examples()] + _all_texts()
    texts += [
        "thank, you",
        "me,you know",
        "(me) and you guys",
        "love you x but you're wrong",
        "i said thank you though you idiot",
        "we: you all. mine?",
    ]
    return texts + [" ".join(texts[i : i + 20])[:2000] for i in range(0, len(texts), 20)]


def test_whole_text_addressee_is_the_per_clause_answer() -> None:
    from moderation.rules import _addressee_normalised

    for text in _corpus_texts():
        norm = normalise(text)
        assert _addressee_normalised(norm) == _addressee_per_clause(norm), text


def test_idiom_masking_tries_only_present_idioms_and_masks_the_same() -> None:
    from moderation.rules import _IDIOM_RE

    masked = 0
    for text in _corpus_texts():
        norm = normalise(text)
        expected = _IDIOM_RE.sub(lambda m: "_" * len(m.group(0)), norm)
        assert _mask_idioms(norm) == expected, text
        masked += expected != norm
    assert masked > 20  # the corpus does exercise the idioms


def test_apostrophes_are_still_straightened_when_present() -> None:
    assert normalise("I don\u2019t want to be here") == normalise("I don't want to be here")
    assert normalise("I don`t \u201cknow\u201d") == normalise('I don\'t "know"')


def _tricky_texts() -> list[str]:
    """The corpus, and seeded strings dense in what normalise's fast paths skip or find: letter
    runs, text-speak digits, separators between letters, clause and sentence separators, and
    characters outside the BMP (emoji) before and after words."""
    import random

    rng = random.Random(5)
    pieces = (
        "so sooo noooo aaab xxx x ok ok. hmm... any1 no1 evry1 some1 sum1 every1 ano1 no12 1 "
        "2 be 2b 22 be x2 2 sleep 2 weeks he's 2 - _ / a-b a_b a/b -a b- . , ; : ! ? ;. .; \n "
        "but though butter xx myself my self 😀 😀no1 𝒜 ü ünö1 _no1 no1_"
    ).split(" ")
    made = [
        "".join(rng.choice(pieces) + rng.choice(["", " ", "", ".", "-"]) for _ in range(40))
        for _ in range(3000)
    ]
    return _corpus_texts() + made


def test_normalise_fast_paths_are_the_plain_regexes() -> None:
    """The repeat, digit and hyphen steps give exactly what one regex over the whole text gives."""
    import re

    from moderation.rules import _HYPHEN_RE, _TWO_SPEAK_RE, _one_speak, _squash_repeats

    repeats = re.compile(r"([a-z])\1{2,}")
    one = re.compile(r"\b(any|every|evry|no|some|sum)1\b")
    words = {"any": "anyone", "every": "everyone", "evry": "everyone", "no": "no one"}
    words |= {"some": "someone", "sum": "someone"}
    to_verbs = re.compile(r"\b2(?= (?:be|b|live|die|go|do|wake|kill|hurt|end|carry|keep|exist|"
                          r"stop|take|have|see|me|him|her|them|myself|bed|sleep)\b)")  # fmt: skip
    hyphen = re.compile(r"(?<=[a-z])[-_/](?=[a-z])")
    for text in _tricky_texts():
        t = text.lower()
        assert _squash_repeats(t) == repeats.sub(r"\1", t), text
        assert _one_speak(t) == one.sub(lambda m: words[m.group(1)], t), text
        assert _TWO_SPEAK_RE.sub("to", t) == to_verbs.sub("to", t), text
        assert _HYPHEN_RE.sub(" ", t) == hyphen.sub(" ", t), text


def test_clause_bounds_within_the_sentence_are_the_whole_texts() -> None:
    """The clause around every position, found from its sentence's separators, is the clause a
    scan of the whole text's separators finds."""
    from bisect import bisect_left, bisect_right

    from moderation.rules import _CLAUSE_SPLIT_RE, _Clauses

    for text in _tricky_texts():
        norm = _mask_idioms(normalise(text))
        spans = [m.span() for m in _CLAUSE_SPLIT_RE.finditer(norm)]
        starts, ends = [a for a, _ in spans], [b for _, b in spans]
        clauses = _Clauses(norm)
        for pos in range(len(norm) + 1):
            i, j = bisect_right(ends, pos) - 1, bisect_left(starts, pos)
            whole = (ends[i] if i >= 0 else 0, starts[j] if j < len(starts) else len(norm))
            assert clauses.bounds(pos) == whole, (text, pos)
