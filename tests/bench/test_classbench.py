"""int8 vs fp32 agreement is claimed only when it could have failed: on random weights whose
scores all sit far below every threshold it is undecided, with the score spread shown; on
Kindred's committed safety model, whose held-out scores straddle its thresholds, it is a real
check that decides met or missed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bench.classbench import NEAR_BAND, agreement, stratified
from bench.scenarios import _random_agreement, safety_agreement_row

LABELS = ("toxicity", "insult", "identity_attack", "severe_toxicity", "threat")


def _scores(v: float) -> dict[str, float]:
    return {k: v for k in LABELS}


def test_agreement_far_from_every_threshold_cannot_fail_and_is_not_claimed() -> None:
    fp = [_scores(0.02), _scores(0.021)]
    q = [_scores(0.0205), _scores(0.0199)]
    ag = agreement(fp, q)
    assert ag["decision_agreement_product_thresholds"] == 1.0
    assert ag["product_agreement_can_fail"] is False
    assert ag["by_label"]["toxicity"] == {
        "threshold": 0.8,
        "min": 0.02,
        "median": 0.021,
        "max": 0.021,
        "under": 2,
        "over": 0,
        "near": 0,
    }
    text = _random_agreement(ag)
    assert "not claimed" in text and "100" not in text


def test_one_score_far_over_a_threshold_does_not_make_agreement_decidable() -> None:
    """Scores on both sides but none near a threshold: int8 could not flip any of them."""
    fp = [_scores(0.02), _scores(0.02), _scores(0.999)]
    q = [_scores(0.021), _scores(0.019), _scores(0.998)]
    ag = agreement(fp, q)
    assert ag["fp32_messages_over_a_threshold"] == 1
    assert ag["labels_straddled"] == []
    assert ag["product_agreement_can_fail"] is False


def test_agreement_near_a_threshold_is_a_real_check() -> None:
    fp = [_scores(0.49), _scores(0.9)]
    q = [_scores(0.51), _scores(0.9)]
    ag = agreement(fp, q)
    assert ag["product_agreement_can_fail"] is True
    assert "identity_attack" in ag["labels_straddled"]
    assert ag["decision_agreement_product_thresholds"] == 0.5
    assert "50.0%" in _random_agreement(ag)


def test_a_disagreement_always_counts_as_a_check_that_could_fail() -> None:
    ag = agreement([{"risk": 0.2}], [{"risk": 0.95}], {"risk": 0.93})
    assert ag["product_agreement_can_fail"] is True
    assert ag["decision_agreement_product_thresholds"] == 0.0


@dataclass(frozen=True)
class _Ex:
    label: str
    i: int


def test_the_sample_is_spread_over_every_label_and_through_each_label_s_list() -> None:
    rows = [_Ex("ok", i) for i in range(100)] + [_Ex("crisis", i) for i in range(10)]
    rows += [_Ex("toxic", i) for i in range(2)]
    got = stratified(rows, 12)
    by = {lab: [e.i for e in got if e.label == lab] for lab in ("ok", "crisis", "toxic")}
    # Two toxic (all there are), the other ten places shared by crisis and ok.
    assert by["toxic"] == [0, 1] and len(by["crisis"]) == 5 and len(by["ok"]) == 5
    # Evenly through each list, not its first rows.
    assert by["ok"] == [0, 20, 40, 60, 80] and by["crisis"] == [0, 2, 4, 6, 8]
    assert len(stratified(rows, 1000)) == len(rows)
    assert stratified(rows, 12) == got


def _safety(can_fail: bool, agree: float) -> dict:
    return {
        "version": "kindred-safety-vX",
        "messages": 40,
        "labels_sampled": {"crisis": 20, "ok": 20},
        "by_label": {
            "risk": {
                "threshold": 0.93,
                "min": 0.0,
                "median": 0.1,
                "max": 1.0,
                "under": 20,
                "over": 20,
                "near": 3 if can_fail else 0,
            }
        },
        "near_band": NEAR_BAND,
        "max_abs_score_diff": 0.04,
        "product_agreement_can_fail": can_fail,
        "verdict_agreement": agree,
        "verdicts_changed": [{"label": "crisis", "fp32": "risk", "int8": "none"}]
        if agree < 1
        else [],
        "bar": 0.985,
    }


def test_the_safety_model_row_decides_only_when_the_scores_straddle_a_threshold() -> None:
    missed = safety_agreement_row(_safety(True, 0.975))
    assert missed["met"] is False and missed["kindred"] == "97.5 %"
    assert "crisis risk→none" in missed["note"] and "3 within ±0.05" in missed["note"]
    assert safety_agreement_row(_safety(True, 0.99))["met"] is True
    undecided = safety_agreement_row(_safety(False, 1.0))
    assert undecided["met"] is None and undecided["note"].startswith("undecided")
    assert safety_agreement_row({"error": "boom"})["met"] is None


@pytest.mark.slow
def test_the_committed_safety_model_gives_the_check_a_way_to_fail(safety_model_on) -> None:  # noqa: ANN001
    """On the committed model and held-out messages, the scores straddle the calibrated
    thresholds: the int8 check is decidable there (whatever its verdict)."""
    from bench.classbench import safety_model_agreement

    sa = safety_model_agreement(20)
    assert sa["messages"] == 20 and len(sa["labels_sampled"]) >= 4
    assert sa["product_agreement_can_fail"] is True and sa["labels_straddled"]
    assert 0.0 <= sa["verdict_agreement"] <= 1.0
    assert safety_agreement_row(sa)["met"] is not None
