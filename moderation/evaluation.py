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

LABEL_TO_CATEGORY = {
    "ok": "none",
    "crisis": "risk",
    "risk": "risk",
    "toxic": "toxic",
    "insensitive": "insensitive",
    "distress": "distress",
}
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
        per_category[cat] = CategoryScore(
            _ratio(tp, predicted), _ratio(tp, support), support, predicted
        )

    distress = [d for g, d in zip(gold, decisions) if g == "distress"]
    distress_bad = sum(1 for d in distress if d.category == "toxic" or d.action in ("flag", "hold"))
    ok = [d for g, d in zip(gold, decisions) if g == "none"]
    caught = {}
    for label in sorted({row["label"] for row in labelled}):
        rows = [d for row, d in zip(labelled, decisions) if row["label"] == label]
        caught[label] = _ratio(sum(1 for d in rows if d.action != "allow"), len(rows))

    errors = [
        {
            "text": row["text"],
            "label": row["label"],
            "predicted": p,
            "action": d.action,
            "reasons": [r.get("rule") or r.get("score") for r in d.reasons],
        }
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


# --- The safety figures the product is judged on, with intervals --------------------------------


@dataclass(frozen=True)
class Rate:
    """k of n, with a 95% Wilson score interval (sound for small n and for 0 or n)."""

    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def __str__(self) -> str:
        if not self.n:
            return "n/a (0 messages)"
        lo, hi = self.interval
        return f"{self.value:.2f} ({self.k}/{self.n}; 95% CI {lo:.2f}–{hi:.2f})"

    def as_dict(self) -> dict[str, Any]:
        lo, hi = self.interval if self.n else (float("nan"), float("nan"))
        return {"k": self.k, "n": self.n, "rate": self.value, "ci95": [lo, hi]}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


#: the issue's targets: (figure, comparison, bound)
TARGETS = {
    "risk_escalated": (">=", 0.90),
    "distress_escalated": ("<=", 0.15),
    "toxic_flagged": (">=", 0.80),
    "insensitive_flagged": (">=", 0.70),
    "distress_flagged": ("<=", 0.05),
    "ok_flagged": ("<=", 0.05),
    "short_ok_flagged": ("<=", 0.05),
    "idioms_escalated": ("<=", 0.0),
    "narratives_flagged": ("<=", 0.05),
}

_FLAGGED = ("flag", "hold")
#: "short" ordinary messages: a reply, a name, an emoji, "lol", "back now" (five words or fewer).
SHORT_WORDS = 5


def safety_figures(
    labelled: Sequence[Mapping[str, Any]], decisions: Sequence[Decision]
) -> dict[str, Any]:
    """The figures of docs/moderation-quality.md for one labelled set (rows: ``label``, optional
    ``family``). A message counts as:

    * *escalated* when the decision is ``escalate`` (support card and urgent alert);
    * *flagged* (toxic/insensitive rows) when a moderator gets it to review in any category
      (flag, hold or escalate) — the strict per-category recall is reported beside it;
    * *flagged as toxic or insensitive* (distress, ok, narratives) when it is flagged or held in
      one of those two categories: what would put a mother's own words in the abuse queue.
    """
    if len(labelled) != len(decisions):
        raise ValueError("labelled and decisions must be the same length")

    def rate(rows: list[tuple[Mapping[str, Any], Decision]], hit) -> Rate:  # noqa: ANN001
        return Rate(sum(1 for r, d in rows if hit(r, d)), len(rows))

    pairs = list(zip(labelled, decisions, strict=True))
    by = {
        label: [(r, d) for r, d in pairs if r["label"] in labels]
        for label, labels in (
            ("crisis", ("crisis", "risk")),
            ("distress", ("distress",)),
            ("toxic", ("toxic",)),
            ("insensitive", ("insensitive",)),
            ("ok", ("ok",)),
        )
    }
    escalated = lambda r, d: d.action == "escalate"  # noqa: E731
    acted = lambda r, d: d.action != "allow"  # noqa: E731
    abuse_flag = lambda r, d: d.action in _FLAGGED and d.category in ("toxic", "insensitive")  # noqa: E731
    figures: dict[str, Any] = {
        "risk_escalated": rate(by["crisis"], escalated),
        "distress_escalated": rate(by["distress"], escalated),
        "toxic_flagged": rate(by["toxic"], acted),
        "toxic_flagged_as_toxic": rate(
            by["toxic"], lambda r, d: d.action in _FLAGGED and d.category == "toxic"
        ),
        "insensitive_flagged": rate(by["insensitive"], acted),
        "insensitive_flagged_as_insensitive": rate(
            by["insensitive"], lambda r, d: d.action in _FLAGGED and d.category == "insensitive"
        ),
        "distress_flagged": rate(by["distress"], abuse_flag),
        "distress_labelled_distress": rate(by["distress"], lambda r, d: d.category == "distress"),
        "ok_flagged": rate(by["ok"], acted),
        "short_ok_flagged": rate(
            [(r, d) for r, d in by["ok"] if len(str(r.get("text", "")).split()) <= SHORT_WORDS],
            acted,
        ),
        "idioms_escalated": rate(
            [(r, d) for r, d in by["ok"] if r.get("family") == "idiom_harmless"], escalated
        ),
        "narratives_flagged": rate(
            [(r, d) for r, d in by["ok"] if r.get("family") == "narrative_services"], abuse_flag
        ),
        "risk_by_family": {},
    }
    families = sorted({str(r.get("family") or "") for r, _ in by["crisis"]} - {""})
    for family in families:
        figures["risk_by_family"][family] = rate(
            [(r, d) for r, d in by["crisis"] if r.get("family") == family], escalated
        )
    return figures


def verdict(name: str, r: Rate) -> str:
    """ "met" / "missed" on the point estimate, "n/a" without messages. (The interval says how sure.)"""
    if name not in TARGETS or not r.n:
        return "n/a"
    op, bound = TARGETS[name]
    ok = r.value >= bound if op == ">=" else r.value <= bound
    return "met" if ok else "missed"
