"""int8 vs fp32 agreement is claimed only when it could have failed."""

from __future__ import annotations

from bench.classbench import agreement
from bench.scenarios import _random_agreement

LABELS = ("toxicity", "insult", "identity_attack", "severe_toxicity", "threat")


def _scores(v: float) -> dict[str, float]:
    return {k: v for k in LABELS}


def test_agreement_far_from_every_threshold_cannot_fail_and_is_not_claimed() -> None:
    fp = [_scores(0.02), _scores(0.021)]
    q = [_scores(0.0205), _scores(0.0199)]
    ag = agreement(fp, q)
    assert ag["decision_agreement_product_thresholds"] == 1.0
    assert ag["product_agreement_can_fail"] is False
    text = _random_agreement(ag)
    assert "not claimed" in text and "100" not in text


def test_agreement_near_a_threshold_is_a_real_check() -> None:
    fp = [_scores(0.49), _scores(0.9)]
    q = [_scores(0.51), _scores(0.9)]
    ag = agreement(fp, q)
    assert ag["product_agreement_can_fail"] is True
    assert ag["decision_agreement_product_thresholds"] == 0.5
    assert "50.0%" in _random_agreement(ag)
