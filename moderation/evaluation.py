"""Measure moderation decisions against labelled messages. Pure: no Django, no I/O.

Labels are the ones used in the labelled sets: ``ok``, ``distress``, ``crisis`` (= policy category
``risk``), ``toxic``, ``insensitive``.

A message counts as *predicted* category C when the decision's category is C and, for C in
(risk, toxic, insensitive), the decision actually acted on it (not ``allow``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from moderation.policy import Decision

LABEL_TO_CATEGORY = {"ok": "none", "crisis": "risk", "risk": "risk", "toxic": "toxic",
                     "insensitive": "insensitive", "distress": "distress"}
CATEGORIES = ("risk", "toxic", "insensitive", "distress")


@dataclass(frozen=True)
class CategoryScore:
    precision: float
    recall: float
    support: int  # labelled examples of this category
    predicted: int  # decisions in this category


@dataclass(frozen=True)
class Evaluation:
    per_category: dict[str, CategoryScore]
    distress_flagged_as_toxic_rate: float  # distress messages given category toxic or held/flagged
    ok_flag_rate: float  # ok messages that were flagged, held or escalated
    ok_escalated: int  # ok messages escalated as risk (idiom false alarms)
    caught_for_review: dict[str, float]  # share of each label acted on in any category
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "per_category": {c: vars(s) for c, s in self.per_category.items()},
            "distress_flagged_as_toxic_rate": self.distress_flagged_as_toxic_rate,
            "ok_flag_rate": self.ok_flag_rate,
            "ok_escalated": self.ok_escalated,
            "caught_for_review": self.caught_for_review,
        }


def _predicted(decision: Decision) -> str:
    if decision.category == "distress":
        return "distress"
    if decision.category in ("risk", "toxic", "insensitive") and decision.action != "allow":
        return decision.category
    return "none"


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def evaluate(labelled: Sequence[Mapping[str, str]], decisions: Sequence[Decision]) -> Evaluation:
    """Per-category precision/recall plus the two harm metrics the product cares about most."""
    if len(labelled) != len(decisions):
        raise ValueError("labelled and decisions must be the same length")
    gold = [LABEL_TO_CATEGORY[row["label"]] for row in labelled]
    pred = [_predicted(d) for d in decisions]

    per_category = {}
    for cat in CATEGORIES:
        tp = sum(1 for g, p in zip(gold, pred) if g == cat and p == cat)
        support = sum(1 for g in gold if g == cat)
        predicted = sum(1 for p in pred if p == cat)
        per_category[cat] = CategoryScore(_ratio(tp, predicted), _ratio(tp, support), support, predicted)

    distress = [d for g, d in zip(gold, decisions) if g == "distress"]
    distress_bad = sum(1 for d in distress if d.category == "toxic" or d.action in ("flag", "hold"))
    ok = [d for g, d in zip(gold, decisions) if g == "none"]
    caught = {}
    for label in sorted({row["label"] for row in labelled}):
        rows = [d for row, d in zip(labelled, decisions) if row["label"] == label]
        caught[label] = _ratio(sum(1 for d in rows if d.action != "allow"), len(rows))

    errors = [
        {"text": row["text"], "label": row["label"], "predicted": p, "action": d.action,
         "reasons": [r.get("rule") or r.get("score") for r in d.reasons]}
        for row, g, p, d in zip(labelled, gold, pred, decisions)
        if g != p
    ]
    return Evaluation(
        per_category=per_category,
        distress_flagged_as_toxic_rate=_ratio(distress_bad, len(distress)) if distress else 0.0,
        ok_flag_rate=(sum(1 for d in ok if d.action != "allow") / len(ok)) if ok else 0.0,
        ok_escalated=sum(1 for d in ok if d.action == "escalate"),
        caught_for_review=caught,
        errors=errors,
    )
