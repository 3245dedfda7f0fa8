"""Kindred's trained safety model: the committed artefact, its measured floor on the held-out test
split, and what a mother or a moderator would notice from it.

The sentences in the behaviour tests below were written for these tests; none comes from the
training data or the test split."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from moderation.assessing import assess_text
from moderation.evaluation import Rate, safety_figures
from moderation.policy import MemberState, Thresholds
from moderation.safety_model import (
    CLASSES,
    MODELS_ROOT,
    AdaptedMiniLM,
    SafetyHead,
    SafetyModel,
    SafetyThresholds,
    load_model_dir,
    read_card,
)
from moderation.training import corpus

LIVE = settings.MODERATION_SAFETY_MODEL_DEFAULT

#: Floors on the held-out test split, set below what the committed model measured (see its
#: card and docs/moderation-quality.md) by about the width of the statistical noise, so a retrain
#: that gets clearly worse fails here. They are floors for regressions, not the product targets.
FLOORS = {
    "risk_escalated": (">=", 0.80),
    "toxic_flagged": (">=", 0.70),
    "insensitive_flagged": (">=", 0.60),
    "distress_escalated": ("<=", 0.20),
    "distress_flagged": ("<=", 0.08),
    "ok_flagged": ("<=", 0.10),
    "short_ok_flagged": ("<=", 0.10),
}


def final(model: SafetyModel, text: str, context: list[str] | None = None):
    safety = model.score([text], [context or []])[0]
    return assess_text(
        text, thresholds=Thresholds(), member_state=MemberState(), scores=None, safety=safety
    ).final


# --- the artefact --------------------------------------------------------------------------------


def test_committed_model_is_small_versioned_and_says_what_it_was_trained_on():
    model_dir = MODELS_ROOT / LIVE
    size = sum(p.stat().st_size for p in model_dir.iterdir())
    assert size < 5 * 1024 * 1024, f"the committed artefact is {size / 1e6:.1f} MB"
    card = read_card(model_dir)
    assert card["version"] == LIVE and tuple(card["classes"]) == CLASSES
    assert set(card["thresholds"]) >= {
        "risk",
        "risk_context_floor",
        "risk_with_rule",
        "toxic",
        "insensitive",
    }
    assert any(k.startswith("kindred:") for k in card["training_data"])  # in-domain writers
    assert card["evaluation"]["test"]["messages"] >= 900
    assert (model_dir / "MODEL_CARD.md").read_text().startswith(f"# Model card: {LIVE}")
    assert settings.MODERATION_SAFETY_MODEL in ("off", LIVE)  # tests switch it off by default


def test_adapters_round_trip_exactly(tmp_path: Path):
    rng = np.random.default_rng(1)
    deltas = {
        "encoder.layer.0.attention.self.query": (
            rng.normal(size=(8, 384)).astype(np.float32),
            rng.normal(size=(384, 8)).astype(np.float32),
            2.0,
        )
    }
    AdaptedMiniLM.write_adapters(tmp_path / "a.npz", deltas)
    back = AdaptedMiniLM.read_adapters(tmp_path / "a.npz")
    a, b, scale = back["encoder.layer.0.attention.self.query"]
    assert scale == 2.0 and np.array_equal(a, deltas["encoder.layer.0.attention.self.query"][0])
    assert np.array_equal(b, deltas["encoder.layer.0.attention.self.query"][1])


def test_a_missing_or_foreign_artefact_is_refused_not_guessed(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        load_model_dir(tmp_path / "nothing-here")
    (tmp_path / "bad").mkdir()
    card = read_card(MODELS_ROOT / LIVE)
    card["classes"] = ["ok", "toxic"]
    (tmp_path / "bad" / "card.json").write_text(json.dumps(card))
    shutil.copy(MODELS_ROOT / LIVE / "head.npz", tmp_path / "bad" / "head.npz")
    with pytest.raises(ValueError, match="classes"):
        load_model_dir(tmp_path / "bad")


class _Fixed:
    """An embedder whose vector for each text is given (the head's logits), recording what it
    was asked to encode."""

    def __init__(self, rows: dict[str, list[float]]) -> None:
        self.rows, self.seen = rows, []

    def encode(self, texts):
        self.seen += list(texts)
        return np.array([self.rows[t] for t in texts], dtype=np.float32)


def _logit_model(embedder: _Fixed) -> SafetyModel:
    """A head whose logits are the inputs themselves (5 classes), one risk family."""
    head = SafetyHead(np.eye(5), np.zeros(5), np.zeros((1, 5)), np.zeros(1), ["suicidal_passive"])
    t = SafetyThresholds(
        risk=0.5,
        risk_context_floor=0.2,
        risk_with_rule=0.3,
        toxic=0.5,
        insensitive=0.5,
        distress=0.5,
    )
    return SafetyModel(head=head, thresholds=t, embedder=embedder, version="test")


def test_risk_wins_and_context_is_read_by_the_head_alone():
    """The verdict logic on hand-made probabilities: no embedder involved."""
    big, small = 6.0, 0.0
    rows = {
        "toxic and risk": [small, small, big + 1, big, small],
        "vague": [1.0, small, 0.6, small, small],
        "earlier plan vague": [small, small, big, small, small],
        "thanks x": [big, small, small, small, small],
        "earlier plan thanks x": [small, small, big, small, small],
    }
    model = _logit_model(_Fixed(rows))
    both, vague, thanks = model.score(
        ["toxic and risk", "vague", "thanks x"], [[], ["earlier plan"], ["earlier plan"]]
    )
    assert both.verdict == "risk"  # risk is checked first: never held as abuse
    assert vague.verdict == "risk" and vague.by_context  # mildly risky line after a plan
    assert thanks.verdict == "none" and not thanks.by_context  # "thanks x" is not escalated again


def test_sentences_are_split_at_stops_and_line_breaks_and_keep_two_words_or_more():
    from moderation.safety_model import sentences

    assert sentences("Lovely day at the park. Anyway I'm done!! ok\nsee you all tomorrow x") == [
        "Lovely day at the park.",
        "Anyway I'm done!!",
        "ok\nsee you all tomorrow x".split("\n")[1],
    ]
    assert sentences("one line with no stop at all") == ["one line with no stop at all"]
    assert sentences("Well… I tried. lol.") == ["Well…", "I tried."][1:]  # one-word parts dropped


def test_a_disclosure_after_a_line_about_her_day_is_read_on_its_own():
    """Read whole, the ordinary sentence dilutes the disclosure; read alone, it is risk at the
    model's sentence threshold, with the family of that sentence. Without a sentence threshold
    (older cards), sentences are not read."""
    import dataclasses

    day, plan = "Lovely day at the park.", "I have saved my tablets for tonight."
    whole = f"{day} {plan}"
    rows = {
        whole: [3.0, 0.0, 1.0, 0.0, 0.0],
        day: [6.0, 0.0, 0.0, 0.0, 0.0],
        plan: [0.0, 0.0, 6.0, 0.0, 0.0],
        "just a line. and another one here": [6.0, 0.0, 0.0, 0.0, 0.0],
        "just a line.": [6.0, 0.0, 0.0, 0.0, 0.0],
        "and another one here": [6.0, 0.0, 0.0, 0.0, 0.0],
    }
    embedder = _Fixed(rows)
    model = _logit_model(embedder)
    assert model.score([whole])[0].verdict == "none"  # no sentence threshold: read whole only
    assert embedder.seen == [whole]
    model.thresholds = dataclasses.replace(model.thresholds, risk_sentence=0.9)
    embedder.seen = []
    hers, calm = model.score([whole, "just a line. and another one here"])
    assert hers.verdict == "risk" and hers.by_sentence and hers.sentence_risk > 0.9
    assert hers.risk < 0.5 and hers.own_risk == hers.sentence_risk
    assert calm.verdict == "none" and not calm.by_sentence
    assert "kindred_sentence_risk" in hers.as_dict()
    model.thresholds = dataclasses.replace(model.thresholds, risk_sentence=0.999)
    assert model.score([whole])[0].verdict == "none"  # the sentence must reach its own bar


def test_a_story_of_many_sentences_has_only_its_first_and_last_read_alone():
    import dataclasses

    from moderation.safety_model import SENTENCES_READ_ALONE

    lines = [f"Line number {i} of her story." for i in range(SENTENCES_READ_ALONE + 1)]
    story = " ".join(lines)
    shorter = " ".join(lines[:-1])
    rows = {text: [6.0, 0.0, 0.0, 0.0, 0.0] for text in [story, shorter, *lines]}
    embedder = _Fixed(rows)
    model = _logit_model(embedder)
    model.thresholds = dataclasses.replace(model.thresholds, risk_sentence=0.9)
    model.score([story, shorter])
    assert embedder.seen == [story, shorter, lines[0], lines[-1], *lines[:-1]]


def test_the_end_of_a_message_longer_than_the_encoder_reads_is_read(safety_model_on):
    """About 450 word pieces: read in overlapping windows of her own words, cut at word
    boundaries, the last one ending where she stopped."""
    embedder = safety_model_on.embedder
    tokenizer = embedder._load().tokenizer
    story = " ".join(
        f"Day {i} of the school run and the baby's jabs, nothing much to report." for i in range(30)
    )
    ending = "I have decided tonight is the night, the tablets are in my bag."
    text = f"{story} {ending}"
    windows = embedder.windows([text, "short"])
    assert windows[1] == ["short"]
    parts = windows[0]
    assert len(parts) >= 3 and parts[-1].endswith(ending) and parts[0].startswith("Day 0")
    for part in parts:
        assert part in text and part == part.strip()
        assert len(tokenizer(part, add_special_tokens=False)["input_ids"]) <= embedder.window_pieces
    whole = safety_model_on.score([text])[0]
    assert whole.verdict == "risk", whole


def test_recent_messages_are_read_again_only_when_they_could_change_the_verdict():
    """A second, longer encode per message would halve what the worker assesses a second; it
    is spent only on a message that is not risk already and whose own risk reaches the floor."""

    rows = {
        "plain risk": [0.0, 0.0, 6.0, 0.0, 0.0],
        "vague": [1.0, 0.0, 0.6, 0.0, 0.0],
        "thanks x": [6.0, 0.0, 0.0, 0.0, 0.0],
        "earlier vague": [0.0, 0.0, 6.0, 0.0, 0.0],
    }
    embedder = _Fixed(rows)
    model = _logit_model(embedder)
    risk, vague, thanks = model.score(
        ["plain risk", "vague", "thanks x"], [["earlier"], ["earlier"], ["earlier"]]
    )
    assert embedder.seen == ["plain risk", "vague", "thanks x", "earlier vague"]
    assert risk.verdict == "risk" and not risk.by_context and risk.context_risk is None
    assert vague.verdict == "risk" and vague.by_context and vague.context_risk is not None
    assert thanks.verdict == "none" and thanks.context_risk is None


def test_reading_context_only_when_needed_changes_no_verdict_of_the_live_model():
    """The same decisions as reading every message's context, on the test split's messages that
    carry one, each as the only context row among plain neighbours: a message's vector must not
    depend on what else is encoded with it."""
    import torch

    from moderation.safety_model import context_text, load_safety_model, verdict_for

    torch.set_num_threads(2)
    model = load_safety_model(LIVE)
    examples = [e for e in corpus.test_examples() if e.context]
    plain = [e.text for e in corpus.test_examples() if not e.context][:64]
    assert len(examples) >= 100
    texts = [e.text for e in examples]
    contexts = [list(e.context) for e in examples]
    mixed_texts, mixed_contexts = texts + plain, contexts + [[] for _ in plain]
    lazy = model.score(mixed_texts, mixed_contexts)[: len(texts)]
    # Every context read, as the model did before: one encode of everything.
    units = texts + [context_text(c, x) for c, x in zip(contexts, texts, strict=True)]
    vectors = model.embedder.encode(units)
    probs = model.head.probabilities(vectors)
    t = model.thresholds
    # Her sentences read alone (where the card says so) come before her context.
    by_sentence = model._sentence_risk(texts, probs[: len(texts)])
    for i, got in enumerate(lazy):
        p, cr = probs[i], float(probs[len(texts) + i, 2])
        verdict = verdict_for(p, t)
        sr = by_sentence.get(i, (0.0,))[0]
        if verdict != "risk" and t.risk_sentence is not None and sr >= t.risk_sentence:
            verdict = "risk"
        own = max(float(p[2]), sr)
        by_context = verdict != "risk" and cr >= t.risk and own >= t.risk_context_floor
        assert (got.verdict, got.by_context) == ("risk" if by_context else verdict, by_context), (
            examples[i].label,
            examples[i].family,
        )
        if got.context_risk is not None:
            assert got.context_risk == pytest.approx(cr, abs=1e-6)


# --- measured floor on the held-out test split ----------------------------------------------------


@pytest.fixture(scope="module")
def test_split_figures():
    import torch

    from moderation.safety_model import load_safety_model
    from moderation.training.report import assess_rows

    torch.set_num_threads(2)
    model = load_safety_model(LIVE)
    assert model is not None
    rows = [
        {"text": e.text, "label": e.label, "family": e.family, "context": list(e.context)}
        for e in corpus.test_examples()
    ]
    assert len({e.writer for e in corpus.test_examples()}) >= 4
    return safety_figures(rows, assess_rows(model, rows))


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_committed_model_meets_its_floor_on_the_held_out_test_split(test_split_figures, name):
    op, bound = FLOORS[name]
    rate: Rate = test_split_figures[name]
    assert rate.n >= 100
    assert (rate.value >= bound) if op == ">=" else (rate.value <= bound), f"{name}: {rate}"


def test_no_risk_family_is_left_mostly_unescalated(test_split_figures):
    weak = {f: str(r) for f, r in test_split_figures["risk_by_family"].items() if r.value < 0.5}
    assert not weak, weak


# --- what people notice ----------------------------------------------------------------------------


def test_a_quiet_goodbye_with_no_alarming_word_is_escalated(safety_model_on):
    d = final(
        safety_model_on,
        "Thank you all for being so lovely to me these last few months. I've written "
        "letters for the boys and left them in the drawer. I won't be on here again, "
        "look after each other xx",
    )
    assert (d.action, d.category, d.priority) == ("escalate", "risk", "urgent")


def test_a_goodbye_after_a_line_about_her_day_gets_the_card(safety_model_on):
    text = (
        "Bath time was chaos again, he splashed everywhere. Did the big shop and the washing. "
        "I've written the letters and the boys will be fine with their dad."
    )
    assert safety_model_on.score([text])[0].risk < safety_model_on.thresholds.risk  # read whole
    d = final(safety_model_on, text)
    assert (d.action, d.category, d.priority) == ("escalate", "risk", "urgent"), d.reasons


def test_a_long_story_about_an_unkind_midwife_raises_nothing(safety_model_on):
    story = (
        "When I was on the postnatal ward the night midwife was really short with me. I'd pressed the "
        "buzzer because I couldn't lift him out of the cot after the section and she sighed and said "
        "she had twelve other women to see. I cried after she left. The day staff were lovely though, "
        "and one of them sat with me for ages the next morning. I still think about that night."
    )
    d = final(safety_model_on, story)
    assert d.action == "allow", d.reasons


@pytest.mark.parametrize(
    "line",
    [
        "ok",
        "Thanks x",
        "Sarah",
        "Written on the bus",
        "Rain again today",
        "Kettle on",
        "Morning all",
        "The GP changed my tablets last week.",
    ],
)
def test_short_everyday_lines_raise_nothing(safety_model_on, line):
    """v1 flagged "ok", "Thanks x" and a name as toxic with 0.97–1.00: nothing in its training was
    that short. Lines written for this test (none is in the training data)."""
    d = final(safety_model_on, line)
    assert d.action == "allow", (line, d.category, d.reasons)


def test_a_mother_harsh_about_herself_is_not_put_in_the_abuse_queue(safety_model_on):
    for text in (
        "I'm such a useless mum, I forgot her bottle again and she screamed the whole bus ride",
        "honestly could kill myself for locking the keys in the car with the pram in the boot 🙈",
    ):
        d = final(safety_model_on, text)
        assert d.action == "allow", (text, d)


def test_an_insult_aimed_at_another_mother_goes_to_the_queue(safety_model_on):
    d = final(
        safety_model_on,
        "nobody asked for your opinion you smug cow, go back to your perfect little life",
    )
    assert d.action in ("flag", "hold") and d.category == "toxic"


def test_a_vague_line_is_read_with_her_earlier_messages(safety_model_on):
    line = "won't be a problem for anyone much longer"
    earlier = [
        "I've been saving up my tablets in the bathroom cabinet",
        "I know which night I'm going to do it",
    ]
    assert final(safety_model_on, line, earlier).action == "escalate"
    harmless = [
        "moving house on Saturday, boxes everywhere",
        "the landlord is finally fixing the boiler",
    ]
    assert final(safety_model_on, "it'll all be over soon thank god", harmless).action != "escalate"


def test_the_sentence_threshold_is_chosen_by_its_rule_on_the_selection_writers(
    tmp_path: Path, monkeypatch
):
    """train.calibrate_sentences: the lowest grid value at which the selection writers' single
    messages stay within the training calibration's limits is written to the card with its
    notes; with no such value, sentences are not read alone."""
    from moderation.training import corpus as corpus_module
    from moderation.training import train

    model_dir = tmp_path / LIVE
    shutil.copytree(MODELS_ROOT / LIVE, model_dir)
    rows = [e for e in corpus.selection_examples() if not e.context]
    sample = (
        [e for e in rows if e.label == "crisis"][:30]
        + [e for e in rows if e.label == "distress"][:30]
        + [e for e in rows if e.label == "ok"][:60]
    )
    monkeypatch.setattr(corpus_module, "selection_examples", lambda: sample)
    card = train.calibrate_sentences(model_dir, log=lambda _: None)
    saved = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    notes = saved["calibration"]["risk_sentence"]
    assert (
        saved["thresholds"].get("risk_sentence")
        == notes["threshold"]
        == (card["thresholds"].get("risk_sentence"))
    )
    assert notes["messages"] == {"crisis": 30, "distress": 30, "ok": 60}
    if notes["threshold"] is not None:
        assert notes["threshold"] >= saved["thresholds"]["risk"]
        assert notes["distress_escalated"] <= train.MAX_DISTRESS_ESCALATED
        assert notes["ok_escalated"] <= train.MAX_OK_ESCALATED
    # Limits nothing can meet: no threshold, and the card says sentences are not read alone.
    monkeypatch.setattr(train, "MAX_OK_ESCALATED", -1.0)
    train.calibrate_sentences(model_dir, log=lambda _: None)
    saved = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    assert "risk_sentence" not in saved["thresholds"]
    assert saved["calibration"]["risk_sentence"]["threshold"] is None
