"""Semantic exemplar layer (real all-MiniLM-L6-v2, loaded offline once per session) and how the
policy combines it with the rules."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from moderation.evaluation import evaluate
from moderation.policy import MemberState, Thresholds, assess, decide
from moderation.rules import rule_signals
from moderation.semantic import (
    CATEGORIES,
    KEYS,
    load_exemplars,
    load_semantic_scorer,
    sentences,
)
from tests.moderation.conftest import DATA_DIR, load_labelled

ON_DUTY = MemberState()


def sem(**kw: float) -> dict[str, float]:
    """A semantic dict with every category at a neutral 0.2 unless given."""
    return {**dict.fromkeys(KEYS, 0.2), **{f"semantic_{k}": v for k, v in kw.items()}}


# --- the exemplar file ---------------------------------------------------------------------------

def test_exemplars_cover_every_category_and_copy_no_labelled_message() -> None:
    exemplars = load_exemplars()
    assert {e.category for e in exemplars} == set(CATEGORIES)
    labelled = {row["text"].strip().lower() for f in DATA_DIR.glob("*.jsonl") for row in load_labelled(f.name)}
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "dev_messages.jsonl"
    if shared.is_file():
        labelled |= {json.loads(line)["text"].strip().lower() for line in shared.read_text().splitlines() if line.strip()}
    assert not [e.text for e in exemplars if e.text.strip().lower() in labelled]
    assert len({e.text for e in exemplars}) == len(exemplars)


def test_bad_exemplar_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ex.jsonl"
    path.write_text('# comment\n{"category": "rude", "text": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError):
        load_exemplars(path)


def test_load_failure_returns_none_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                            semantic_scorer) -> None:
    with caplog.at_level(logging.ERROR, logger="moderation.semantic"):
        assert load_semantic_scorer(exemplars_path=tmp_path / "missing.jsonl") is None
    assert "semantic scorer unavailable" in caplog.text


def test_sentences_split_only_multi_sentence_messages() -> None:
    assert sentences("just one line here") == []
    assert sentences("First sentence is here. Second one is here too!") == [
        "First sentence is here.", "Second one is here too!"]


# --- the scorer ----------------------------------------------------------------------------------

def test_scores_are_per_message_in_order_and_batch_independent(semantic_scorer) -> None:
    texts = ["you're a pathetic waste of space", "we had a lovely walk in the park", "I feel so alone"]
    batch = semantic_scorer.score(texts)
    assert len(batch) == 3 and all(set(d) == set(KEYS) for d in batch)
    for text, scores in zip(texts, batch, strict=True):
        single = semantic_scorer.score([text])[0]
        assert all(abs(single[k] - scores[k]) < 1e-3 for k in KEYS)
    assert semantic_scorer.score([]) == []
    assert "exemplars" in semantic_scorer.name


def test_nearest_category_is_sensible_for_plain_examples(semantic_scorer) -> None:
    texts = {"toxic": "you are a vile useless excuse for a person",
             "ok": "thank you all so much for the lovely messages",
             "distress": "I feel so empty and I cry every night"}
    for category, scores in zip(texts, semantic_scorer.score(list(texts.values())), strict=True):
        assert max(KEYS, key=scores.__getitem__) == f"semantic_{category}", (category, scores)


def test_one_hostile_sentence_in_a_long_friendly_post_is_not_averaged_away(semantic_scorer) -> None:
    friendly = "We went to the park this morning and the weather was lovely. The baby napped in the pram. "
    hostile = "Honestly you are a pathetic waste of space."
    calm, mixed = semantic_scorer.score([friendly * 3, friendly * 3 + hostile])
    assert mixed["semantic_toxic"] >= Thresholds().semantic_toxic_flag > calm["semantic_toxic"]


# --- policy combination (fixed dicts: no model needed) --------------------------------------------

def test_semantic_only_toxic_aimed_at_someone_is_flagged_never_held() -> None:
    d = decide(rule_signals("you really are something else aren't you"), None, ON_DUTY, semantic=sem(toxic=0.7))
    assert (d.action, d.category) == ("flag", "toxic")
    assert any(r.get("score") == "semantic_toxic" for r in d.reasons)
    assert d.scores["semantic_toxic"] == 0.7


def test_semantic_toxic_on_first_person_words_is_never_toxic() -> None:
    d = decide(rule_signals("I'm such a useless waste of space today"), None, ON_DUTY,
               semantic=sem(toxic=0.9, distress=0.5))
    assert d.category != "toxic" and d.action == "allow"


def test_semantic_insensitive_is_flagged_for_review() -> None:
    d = decide(rule_signals("you knew full well what you were signing up for"), None, ON_DUTY,
               semantic=sem(insensitive=0.6))
    assert (d.action, d.category, d.priority) == ("flag", "insensitive", "normal")


def test_semantic_risk_alone_needs_very_high_similarity() -> None:
    t = Thresholds()
    quiet = decide(rule_signals("everything is a bit much"), None, ON_DUTY, semantic=sem(risk=t.semantic_risk_escalate - 0.01))
    assert quiet.action != "escalate"
    loud = decide(rule_signals("everything is a bit much"), None, ON_DUTY, semantic=sem(risk=t.semantic_risk_escalate + 0.01))
    assert (loud.action, loud.category) == ("escalate", "risk")


def test_semantic_risk_with_a_distress_rule_hit_escalates_at_a_lower_bar() -> None:
    text = "I'm so overwhelmed, it all feels pointless"
    assert rule_signals(text).distress
    d = decide(rule_signals(text), None, ON_DUTY, semantic=sem(risk=0.66, distress=0.5))
    assert (d.action, d.category) == ("escalate", "risk")


def test_semantic_never_turns_abuse_into_risk_or_releases_a_hold() -> None:
    d = decide(rule_signals("Go and kill yourself"), None, ON_DUTY, semantic=sem(risk=0.95))
    assert (d.action, d.category) == ("hold", "toxic")
    d = decide(rule_signals("I want to die"), None, ON_DUTY, semantic=sem(ok=0.99))
    assert d.action == "escalate"


def test_semantic_distress_labels_self_talk_without_flagging() -> None:
    d = decide(rule_signals("some days I just stare at the wall"), None, ON_DUTY, semantic=sem(distress=0.7))
    assert (d.action, d.category) == ("allow", "distress")


@pytest.mark.parametrize("text", [
    "I could murder a cup of tea", "My feet are killing me", "I nearly died laughing",
    "this baby will be the death of me lol", "I'd kill for a nap", "I'm dying to know what she's called",
    "I killed myself laughing at that", "that cake is to die for", "the 4am feed is a killer",
])
def test_idioms_never_escalate_with_the_real_model(semantic_scorer, text: str) -> None:
    d = assess([text], None, semantic_scorer=semantic_scorer)[0]
    assert d.action == "allow", (text, d.reasons, d.scores)


# --- quality targets with the real model ---------------------------------------------------------

@pytest.mark.parametrize("dataset", ["dev_messages.jsonl", "wider_messages.jsonl"])
def test_quality_targets_with_semantic_layer(semantic_scorer, dataset: str) -> None:
    rows = load_labelled(dataset)
    result = evaluate(rows, assess([r["text"] for r in rows], None, semantic_scorer=semantic_scorer))
    misses = "\n".join(f"{e['label']} -> {e['predicted']}: {e['text']}" for e in result.errors)
    assert result.per_category["risk"].recall == 1.0, misses
    assert result.ok_escalated == 0, misses
    assert result.distress_flagged_as_toxic_rate <= 0.05, misses
    assert result.per_category["toxic"].recall >= 0.90, misses
    assert result.per_category["insensitive"].recall >= 0.70, misses
    assert result.ok_flag_rate <= 0.05, misses


@pytest.mark.parametrize("dataset", ["holdout_messages.jsonl", "holdout2_messages.jsonl"])
def test_holdout_safety_invariants_with_semantic_layer(semantic_scorer, dataset: str) -> None:
    """Holdouts are reported in docs/moderation-quality.md, not tuned on. Only the invariants that
    must hold on any data are asserted: no idiom/ok escalations, no distress flagged as toxic."""
    rows = load_labelled(dataset)
    result = evaluate(rows, assess([r["text"] for r in rows], None, semantic_scorer=semantic_scorer))
    assert result.ok_escalated == 0
    assert result.distress_flagged_as_toxic_rate == 0.0
