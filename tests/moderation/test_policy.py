"""Policy decisions, and the quality targets on the dev file and the wider labelled set."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.classifiers import ProfanityCheckClassifier, Scores
from moderation.evaluation import evaluate
from moderation.policy import MemberState, Thresholds, assess, decide, decide_inline
from moderation.rules import rule_signals
from tests.moderation.conftest import DATA_DIR, load_labelled

CALM = Scores(
    toxicity=0.01, severe_toxicity=0.0, obscene=0.0, threat=0.0, insult=0.0, identity_attack=0.0
)
ON_DUTY = MemberState()


def scores(**kw: float) -> Scores:
    return Scores(**{**CALM.as_dict(), **kw})


def test_risk_escalates_and_is_never_held_even_for_muted_members() -> None:
    d = decide_inline(
        rule_signals("I don't see the point in living anymore"), MemberState(muted=True)
    )
    assert (d.action, d.category, d.priority) == ("escalate", "risk", "urgent")
    d = decide(rule_signals("I want to die"), scores(toxicity=0.99, severe_toxicity=0.9), ON_DUTY)
    assert d.action == "escalate"


def test_muted_and_probation_members_are_held() -> None:
    assert decide_inline(rule_signals("hello all"), MemberState(muted=True)).action == "hold"
    assert decide_inline(rule_signals("hello all"), MemberState(probation=True)).action == "hold"


def test_rule_threat_is_held_before_delivery() -> None:
    d = decide_inline(rule_signals("I'll find you and make you regret it"), ON_DUTY)
    assert (d.action, d.category) == ("hold", "toxic")


def test_without_moderator_insults_and_insensitive_messages_are_held_but_newcomers_are_heard() -> (
    None
):
    off = MemberState(moderator_on_duty=False)
    assert decide_inline(rule_signals("get lost you silly cow"), off).action == "hold"
    assert decide_inline(rule_signals("get lost you silly cow"), ON_DUTY).action == "flag"
    assert decide_inline(rule_signals("you just need to think positive"), off).action == "hold"
    # A newcomer's first words are never held for being new (docs/moderation.md).
    assert (
        decide_inline(rule_signals("Hi all, new here and really struggling tonight"), off).action
        == "allow"
    )
    assert decide_inline(rule_signals("Hi all, new here"), off).action == "allow"


def test_model_severe_toxicity_at_someone_is_held() -> None:
    d = decide(
        rule_signals("you are the worst"), scores(toxicity=0.97, severe_toxicity=0.7), ON_DUTY
    )
    assert (d.action, d.category) == ("hold", "toxic")
    assert {"score": "severe_toxicity", "value": 0.7, "threshold": 0.5} in d.reasons


def test_model_toxicity_at_someone_is_flagged() -> None:
    d = decide(
        rule_signals("honestly what is wrong with people like that"), scores(toxicity=0.9), ON_DUTY
    )
    assert (d.action, d.category) == ("flag", "toxic")


def test_self_directed_toxicity_is_distress_not_toxic() -> None:
    d = decide(
        rule_signals("I'm such a fucking useless mum"),
        scores(toxicity=0.98, insult=0.9, obscene=0.9),
        ON_DUTY,
    )
    assert (d.action, d.category) == ("allow", "distress")
    assert any(r.get("note", "").startswith("self-directed") for r in d.reasons)


def test_insensitive_with_toxicity_gets_high_priority() -> None:
    d = decide(rule_signals("just snap out of it"), scores(toxicity=0.6), ON_DUTY)
    assert (d.action, d.category, d.priority) == ("flag", "insensitive", "high")


def test_unavailable_classifier_falls_back_to_rules_and_says_so() -> None:
    d = decide(rule_signals("you're an idiot"), None, ON_DUTY)
    assert (d.action, d.category) == ("flag", "toxic")
    assert any(r.get("rule") == "classifier_unavailable" for r in d.reasons)
    assert d.scores == {}


# --- quality targets ---------------------------------------------------------------------------


def _dev_file() -> Path:
    """The shared dev file (../shared/data in CI) if present, else the copy kept in the repo."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "dev_messages.jsonl"
    return shared if shared.is_file() else DATA_DIR / "dev_messages.jsonl"


def _labelled(name: str) -> list[dict[str, str]]:
    if name == "dev":
        path = _dev_file()
        return (
            load_labelled(path.name)
            if path.parent == DATA_DIR
            else [
                __import__("json").loads(line)
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()
            ]
        )
    return load_labelled("wider_messages.jsonl")


CONFIGURATIONS = {
    "rules": lambda: (None, None),
    "rules+profanity-check": lambda: (ProfanityCheckClassifier(), Thresholds.for_profanity_check()),
}


@pytest.mark.parametrize("dataset", ["dev", "wider"])
@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_quality_targets(dataset: str, configuration: str) -> None:
    rows = _labelled(dataset)
    classifier, thresholds = CONFIGURATIONS[configuration]()
    result = evaluate(rows, assess([r["text"] for r in rows], classifier, thresholds))
    misses = "\n".join(f"{e['label']} -> {e['predicted']}: {e['text']}" for e in result.errors)
    assert result.per_category["risk"].recall == 1.0, misses
    assert result.ok_escalated == 0, misses
    assert result.distress_flagged_as_toxic_rate <= 0.05, misses
    assert result.per_category["toxic"].recall >= 0.90, misses
    assert result.per_category["insensitive"].recall >= 0.70, misses
    assert result.ok_flag_rate <= 0.05, misses
