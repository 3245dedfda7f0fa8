"""The figures in docs/moderation-quality.md: counted the way the product acts, with intervals."""

from __future__ import annotations

import pytest

from moderation.evaluation import Rate, safety_figures, verdict, wilson
from moderation.policy import Decision


def test_wilson_interval_matches_known_values_and_is_sound_at_the_edges():
    lo, hi = wilson(45, 50)
    assert lo == pytest.approx(0.7864, abs=1e-3) and hi == pytest.approx(0.9565, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 10)[1] == pytest.approx(0.2775, abs=1e-3)
    assert wilson(10, 10)[1] == 1.0 and wilson(10, 10)[0] == pytest.approx(0.7225, abs=1e-3)
    assert str(Rate(9, 10)).startswith("0.90 (9/10; 95% CI 0.60–0.98)")


def test_figures_count_what_a_member_or_moderator_would_see():
    rows = [
        {"label": "crisis", "family": "goodbye_final_message"},
        {"label": "crisis", "family": "da_sexual"},
        {"label": "distress"},
        {"label": "distress"},
        {"label": "toxic"},
        {"label": "ok", "family": "idiom_harmless"},
        {"label": "ok", "family": "narrative_services"},
    ]
    decisions = [
        Decision("escalate", "risk", "urgent"),
        Decision("allow", "none", "low"),  # a missed disclosure
        Decision("escalate", "risk", "urgent"),  # distress escalated: a false alarm, not abuse
        Decision("flag", "toxic", "normal"),  # distress put in the abuse queue: the worst kind
        Decision("flag", "insensitive", "normal"),  # toxic reached the queue, in another category
        Decision("escalate", "risk", "urgent"),  # an idiom escalated
        Decision("flag", "insensitive", "normal"),  # a story flagged
    ]
    f = safety_figures(rows, decisions)
    assert (f["risk_escalated"].k, f["risk_escalated"].n) == (1, 2)
    assert f["risk_by_family"]["da_sexual"].k == 0
    assert f["distress_escalated"].k == 1 and f["distress_flagged"].k == 1
    assert f["toxic_flagged"].k == 1 and f["toxic_flagged_as_toxic"].k == 0
    assert f["idioms_escalated"].k == 1 and f["narratives_flagged"].k == 1
    assert f["ok_flagged"].k == 2
    assert verdict("risk_escalated", f["risk_escalated"]) == "missed"
    assert verdict("idioms_escalated", f["idioms_escalated"]) == "missed"
    assert verdict("toxic_flagged", Rate(0, 0)) == "n/a"
