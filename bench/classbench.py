"""Classifier throughput, run in its own process (fixed thread count):

    python -m bench.classbench --model original --n-base 24 --n-opt 256 --out FILE

Baseline: Detoxify's own predict() called once per message (same architecture, same threads).
Optimised: the product's DetoxifyClassifier.score() (tokenized once, sorted by token count, cut
into padding-minimising micro-batches of at most MODERATION_BATCH_SIZE), fp32 (quantize="off") and
int8 (quantize="on": dynamic quantization; the product default "auto" uses it only when
fetch_models recorded int8-vs-fp32 decision agreement >= 98.5 % for the checkpoint).
Agreement of int8 against fp32 is computed on these random weights, together with whether it could
have failed (their scores sit near 0.02, far from every threshold, so usually it cannot and the
report does not claim it), and on the real weights whenever MODELS_DIR holds a fetched model
(manifest.json from fetch_models). With --safety-n N it is also measured where it can fail: on
Kindred's committed safety model (served int8 against fp32) over N held-out test-split messages
spread over its labels, whose scores straddle the calibrated thresholds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
LABEL_THRESHOLDS = {
    "toxicity": 0.80,
    "insult": 0.70,
    "identity_attack": 0.50,
    "severe_toxicity": 0.50,
    "threat": 0.60,
}


def _decisions(scores: list[dict[str, float]], thresholds: dict[str, float]) -> list[tuple]:
    return [tuple(s.get(k, 0.0) >= v for k, v in thresholds.items()) for s in scores]


#: A score this close to its threshold is one quantisation could plausibly move across it: the
#: agreement check has power only over such scores.
NEAR_BAND = 0.05


def agreement(
    fp32: list[dict[str, float]],
    int8: list[dict[str, float]],
    thresholds: dict[str, float] = LABEL_THRESHOLDS,
) -> dict:
    """int8 against fp32 at `thresholds` (label → threshold), with what says whether the check
    could have failed: each label's fp32 score spread against its threshold (how many scores sit
    under it, over it, and within NEAR_BAND of it).

    The check could fail (`product_agreement_can_fail`) when some decision did differ, or when
    some label's fp32 scores straddle its threshold (some on each side) with at least one within
    NEAR_BAND of it. Scores all on one side of every threshold and far from it (random weights
    with a -4 output bias: every score near 0.02) leave agreement at 100 % whatever int8 does, so
    the check is undecided there. A lone score far over a threshold does not make it decidable."""
    labels = [k for k in fp32[0] if k in thresholds]
    diffs = [abs(a[k] - b[k]) for a, b in zip(fp32, int8) for k in labels]
    same_product = sum(
        a == b for a, b in zip(_decisions(fp32, thresholds), _decisions(int8, thresholds))
    )
    # A stress test for random weights, whose scores all sit near 0.5: thresholds at each label's
    # fp32 median put half the messages right at the decision boundary.
    med = {k: sorted(s[k] for s in fp32)[len(fp32) // 2] for k in labels}
    pairs = [
        (x, y) for a, b in zip(_decisions(fp32, med), _decisions(int8, med)) for x, y in zip(a, b)
    ]
    same_median_label = sum(x == y for x, y in pairs) / max(1, len(pairs))
    by_label = {}
    for k in labels:
        vals = sorted(a[k] for a in fp32)
        t = thresholds[k]
        by_label[k] = {
            "threshold": t,
            "min": round(vals[0], 4),
            "median": round(vals[len(vals) // 2], 4),
            "max": round(vals[-1], 4),
            "under": sum(v < t for v in vals),
            "over": sum(v >= t for v in vals),
            "near": sum(abs(v - t) <= NEAR_BAND for v in vals),
        }
    straddled = [k for k, b in by_label.items() if b["under"] and b["over"] and b["near"]]
    margins = [abs(a[k] - thresholds[k]) for a in fp32 for k in labels]
    positives = sum(any(d) for d in _decisions(fp32, thresholds))
    min_margin = min(margins) if margins else None
    can_fail = bool(diffs) and (same_product < len(fp32) or bool(straddled))
    return {
        "messages": len(fp32),
        "max_abs_score_diff": round(max(diffs), 4) if diffs else None,
        "mean_abs_score_diff": round(sum(diffs) / len(diffs), 5) if diffs else None,
        "decision_agreement_product_thresholds": round(same_product / len(fp32), 4),
        "per_label_agreement_at_median_thresholds": round(same_median_label, 4),
        "fp32_messages_over_a_threshold": positives,
        "min_margin_to_threshold": round(min_margin, 4) if min_margin is not None else None,
        "score_range": [
            round(min(a[k] for a in fp32 for k in labels), 4),
            round(max(a[k] for a in fp32 for k in labels), 4),
        ]
        if labels
        else None,
        "by_label": by_label,
        "near_band": NEAR_BAND,
        "labels_straddled": straddled,
        "product_agreement_can_fail": can_fail,
    }


def stratified(examples: list, n: int) -> list:
    """Up to `n` examples, the same number from each label where there are enough, spread evenly
    through each label's list (so every writer's file contributes), in a fixed order."""
    by_label: dict[str, list] = {}
    for e in examples:
        by_label.setdefault(e.label, []).append(e)
    labels = sorted(by_label)
    quota = dict.fromkeys(labels, 0)
    left = n
    while left > 0:  # one place per label in turn, skipping labels with nothing left
        open_ = [lab for lab in labels if quota[lab] < len(by_label[lab])]
        if not open_:
            break
        for lab in open_[:left]:
            quota[lab] += 1
        left -= len(open_[:left])
    out: list = []
    for lab in labels:
        rows, m = by_label[lab], quota[lab]
        out += [rows[int(k * len(rows) / m)] for k in range(m)]
    return out


def safety_model_agreement(n: int, version: str | None = None, batch: int = 16) -> dict:
    """Kindred's own safety model as served (int8, as its card says) against the same model in
    fp32, on `n` messages of the held-out test split spread over its labels (ordinary, distress,
    crisis, insensitive, toxic), each read with its context as the worker reads it: the verdicts'
    agreement, and each class's score spread against its calibrated threshold, so a reader sees
    whether the check could have failed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    from moderation.classifiers import INT8_MIN_AGREEMENT
    from moderation.safety_model import MODELS_ROOT, embedder_for, load_model_dir
    from moderation.training import corpus

    version = version or settings.MODERATION_SAFETY_MODEL
    model_dir = MODELS_ROOT / version
    served = load_model_dir(model_dir)
    card = served.card
    fp32_card = {**card, "embedder": {**card["embedder"], "quantize": "none"}}
    fp32 = load_model_dir(model_dir, embedder=embedder_for(fp32_card, model_dir))
    sample = stratified(corpus.test_examples(), n)
    texts, contexts = [e.text for e in sample], [list(e.context) for e in sample]

    def scores(model) -> list:  # noqa: ANN001
        out = []
        for i in range(0, len(texts), batch):
            out += model.score(texts[i : i + batch], contexts[i : i + batch])
        return out

    a, b = scores(fp32), scores(served)
    t = served.thresholds
    thresholds = {
        "risk": t.risk,
        "toxic": t.toxic,
        "insensitive": t.insensitive,
        "distress": t.distress,
    }
    out = agreement(
        [{k: getattr(x, k) for k in thresholds} for x in a],
        [{k: getattr(x, k) for k in thresholds} for x in b],
        thresholds,
    )
    same = sum(x.verdict == y.verdict for x, y in zip(a, b, strict=True))
    changed = [
        {"label": e.label, "fp32": x.verdict, "int8": y.verdict}
        for e, x, y in zip(sample, a, b, strict=True)
        if x.verdict != y.verdict
    ]
    out.update(
        {
            "version": version,
            "served_quantize": card["embedder"].get("quantize"),
            "labels_sampled": {
                lab: sum(e.label == lab for e in sample)
                for lab in sorted({e.label for e in sample})
            },
            "verdict_agreement": round(same / len(sample), 4) if sample else None,
            "verdicts_changed": changed,
            "fp32_verdicts": {
                v: sum(x.verdict == v for x in a) for v in sorted({x.verdict for x in a})
            },
            "bar": INT8_MIN_AGREEMENT,
        }
    )
    return out


def real_weights_agreement(model_type: str, texts: list[str], batch: int) -> dict | None:
    from moderation.classifiers import DetoxifyClassifier, detoxify_model_dir, read_manifest

    models_dir = os.environ.get("MODELS_DIR") or str(
        Path(__file__).resolve().parent.parent / "var" / "models"
    )
    d = detoxify_model_dir(models_dir, model_type)
    manifest = read_manifest(d) if d.is_dir() else None
    if not manifest or (d / "bench-random-weights.json").exists():
        return None
    fp = DetoxifyClassifier(model_type, models_dir=models_dir, batch_size=batch, quantize="off")
    q = DetoxifyClassifier(model_type, models_dir=models_dir, batch_size=batch, quantize="on")
    auto = DetoxifyClassifier(model_type, models_dir=models_dir, batch_size=batch)
    a = [s.as_dict() for s in fp.score(texts)]
    b = [s.as_dict() for s in q.score(texts)]
    out = agreement(a, b)
    out["models_dir"] = str(d)
    out["product_default"] = auto.int8_status
    out["recorded_int8_check"] = manifest.get("int8_check")
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="original")
    p.add_argument("--n-base", type=int, default=24)
    p.add_argument("--n-opt", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument(
        "--safety-n",
        type=int,
        default=0,
        help="also compare Kindred's safety model int8 (served) vs fp32 on this many test-split "
        "messages (0: skip)",
    )
    p.add_argument("--out", required=True)
    a = p.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import torch

    torch.set_num_threads(a.threads)
    from detoxify import Detoxify

    from bench.models import build, corpus
    from moderation.classifiers import DetoxifyClassifier

    t = time.monotonic()
    ckpt, hf = build(a.model)
    build_s = time.monotonic() - t
    texts = corpus(max(a.n_opt, a.n_base))
    base = Detoxify(checkpoint=str(ckpt), huggingface_config_path=str(hf))
    fp = DetoxifyClassifier(
        a.model, checkpoint=str(ckpt), batch_size=a.batch, threads=a.threads, quantize="off"
    )
    q = DetoxifyClassifier(
        a.model, checkpoint=str(ckpt), batch_size=a.batch, threads=a.threads, quantize="on"
    )
    torch.set_num_threads(a.threads)
    # Warm up each path once.
    base.predict(texts[0])
    fp.score(texts[:4])
    q.score(texts[:4])  # noqa: E702

    res = {
        "model": a.model,
        "threads": a.threads,
        "batch": a.batch,
        "build_seconds": round(build_s, 1),
        # int8's gain depends on the CPU's integer dot-product instructions (AVX-512 VNNI or not).
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "quantized_engine": torch.backends.quantized.engine,
        "baseline": [],
        "fp32_batched": [],
        "int8_batched": [],
    }
    # Interleaved repetitions, so machine noise hits all three alike; medians are reported.
    for _rep in range(a.reps):
        sample = texts[: a.n_base]
        t = time.perf_counter()
        with torch.inference_mode():
            for text in sample:
                base.predict(text)
        res["baseline"].append(len(sample) / (time.perf_counter() - t))
        t = time.perf_counter()
        fp.score(sample)
        res["fp32_batched"].append(len(sample) / (time.perf_counter() - t))
        t = time.perf_counter()
        q.score(sample)
        res["int8_batched"].append(len(sample) / (time.perf_counter() - t))
    fa = [s.as_dict() for s in fp.score(texts[: a.n_opt])]
    qa = [s.as_dict() for s in q.score(texts[: a.n_opt])]
    # Batched fp32 must equal per-message fp32 (padding is masked): check on a few.
    single = base.predict(texts[:8])
    res["batched_vs_single_max_diff"] = round(
        max(abs(single[k][i] - fa[i][k]) for i in range(8) for k in fa[0] if k in single), 6
    )
    res["agreement_random_weights"] = agreement(fa, qa)
    try:
        res["agreement_real_weights"] = real_weights_agreement(a.model, texts[: a.n_opt], a.batch)
    except Exception as exc:  # noqa: BLE001
        res["agreement_real_weights"] = {"error": str(exc)}
    if a.safety_n:
        try:
            res["agreement_safety_model"] = safety_model_agreement(a.safety_n)
        except Exception as exc:  # noqa: BLE001
            res["agreement_safety_model"] = {"error": f"{type(exc).__name__}: {exc}"}
    Path(a.out).write_text(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
