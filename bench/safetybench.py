"""Cost of the two safety tiers, on this machine, in one process with a fixed thread count:

    python -m bench.safetybench [--quick] [--out docs/safety-model-bench.md] [--json FILE]

* inline tier: the rules and the inline decision (``rule_signals`` + ``decide_inline``) on
  messages of 2,000 characters, the longest a member can send; p50/p99/max over many calls;
* Kindred's model tier: messages per second on **one** core (``torch.set_num_threads(1)``), in
  batches of MODERATION_BATCH_SIZE (32) as the worker sends them at most, without context and
  with every message given her three previous ones (the model reads them again only where they
  could change the verdict), on the held-out test split's messages (their real length mix; a
  seeded sample with ``--quick``), for the served int8 model and the fp32 one;
* int8 against fp32: how many final decisions differ on the test split (a check that can fail:
  it prints the count and lists the families that changed);
* Detoxify's added cost, when its weights are installed under ``MODELS_DIR`` (they cannot be
  downloaded on the development machines; the report says so when they are absent), and always
  with its architecture and random weights (``bench/detoxify_cost.py``): the same time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

#: ``--quick``: how much of the workload it measures (the whole test split otherwise).
QUICK_SAMPLE = 800
QUICK_DETOXIFY_SAMPLE = 200
QUICK_INLINE_CALLS = 2000
QUICK_SEED = 7


def _inline(n: int, *, model_follows: bool) -> dict:
    """The send path's inline tier on 2,000-character messages: the rules it runs and
    ``decide_inline``. While the safety model follows (the live case) only the rules that decide
    alone run; the fail-safe (no model) runs every rule."""
    from moderation.policy import MemberState, decide_inline
    from moderation.rules import rule_signals
    from moderation.training import corpus

    rows = corpus.training_examples()
    pool = [r.text for r in rows]
    messages = []
    for k in range(50):  # 50 distinct 2,000-character messages from real-length sentences
        text, i = "", k * 37
        while len(text) < 2000:
            text += pool[i % len(pool)] + " "
            i += 1
        messages.append(text[:2000])
    subset = "decisive" if model_follows else "all"
    state = MemberState()
    for m in messages:
        decide_inline(rule_signals(m, subset), state, model_follows=model_follows)
    times = []
    for i in range(n):
        m = messages[i % len(messages)]
        t0 = time.perf_counter_ns()
        decide_inline(rule_signals(m, subset), state, model_follows=model_follows)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    times.sort()
    return {
        "calls": n,
        "chars": 2000,
        "p50_ms": round(times[len(times) // 2], 4),
        "p99_ms": round(times[int(len(times) * 0.99)], 4),
        "max_ms": round(times[-1], 4),
    }


def _throughput(
    model, texts: list[str], batch: int, repeats: int, contexts: list[list[str]] | None = None
) -> dict:
    model.score(texts[:batch])  # warm
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(0, len(texts), batch):
            if contexts is None:
                model.score(texts[i : i + batch])
            else:
                model.score(texts[i : i + batch], contexts[i : i + batch])
        rates.append(len(texts) / (time.perf_counter() - t0))
    return {
        "messages": len(texts),
        "batch": batch,
        "repeats": repeats,
        "msgs_per_s_median": round(statistics.median(rates), 1),
        "msgs_per_s_min": round(min(rates), 1),
        "msgs_per_s_max": round(max(rates), 1),
    }


def workload(texts: list[str], *, quick: bool) -> list[str]:
    """The model tier's messages: all of them, or with ``quick`` a seeded sample, the same one
    every run (a random sample keeps the split's mix of lengths)."""
    if not quick:
        return list(texts)
    return random.Random(QUICK_SEED).sample(texts, min(QUICK_SAMPLE, len(texts)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--version", default=None, help="safety model version (default: the setting)")
    p.add_argument("--inline-calls", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=None, help="write a markdown report here")
    p.add_argument("--json", default=None)
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"throughput on a seeded sample of {QUICK_SAMPLE} test-split messages (Detoxify's "
        f"architecture on {QUICK_DETOXIFY_SAMPLE}) and {QUICK_INLINE_CALLS} inline calls, for "
        "`make bench BENCH_ARGS=--quick`; int8 against fp32 still reads the whole test split",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.inline_calls = min(args.inline_calls, QUICK_INLINE_CALLS)

    import django

    django.setup()
    import torch
    from django.conf import settings

    from moderation.assessing import assess_text
    from moderation.policy import MemberState, Thresholds
    from moderation.safety_model import MODELS_ROOT, load_model_dir
    from moderation.training import corpus

    torch.set_num_threads(1)
    version = args.version or settings.MODERATION_SAFETY_MODEL
    result: dict = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
        },
        "version": version,
    }
    result["inline"] = _inline(args.inline_calls, model_follows=True)
    result["inline_failsafe"] = _inline(args.inline_calls, model_follows=False)
    test = corpus.test_examples()
    texts = [e.text for e in test]
    result["mode"] = "quick" if args.quick else "full"
    result["test_split_messages"] = len(texts)
    texts = workload(texts, quick=args.quick)
    served = load_model_dir(MODELS_ROOT / version)
    result["served_quantize"] = served.card["embedder"].get("quantize")
    batch = settings.MODERATION_BATCH_SIZE  # what the worker hands the model at most
    result["model_tier_served"] = _throughput(served, texts, batch, args.repeats)
    # Worst case: every message read with her three previous messages (a second, longer encode).
    previous = [texts[max(0, i - 3) : i] for i in range(len(texts))]
    result["model_tier_served_all_context"] = _throughput(
        served, texts, batch, args.repeats, previous
    )
    card = dict(served.card)
    from moderation.safety_model import AdaptedMiniLM, SafetyModel

    fp32 = SafetyModel(
        head=served.head,
        thresholds=served.thresholds,
        version=version + "-fp32",
        card=card,
        embedder=AdaptedMiniLM(
            MODELS_ROOT / version / card["embedder"]["adapters"], quantize="none"
        ),
    )
    result["model_tier_fp32"] = _throughput(fp32, texts, batch, args.repeats)

    def decisions(model) -> list[str]:
        out = []
        for i in range(0, len(test), 64):
            chunk = test[i : i + 64]
            for e, sf in zip(
                chunk,
                model.score([e.text for e in chunk], [list(e.context) for e in chunk]),
                strict=True,
            ):
                d = assess_text(
                    e.text,
                    thresholds=Thresholds(),
                    member_state=MemberState(),
                    scores=None,
                    safety=sf,
                ).final
                out.append(f"{d.action}/{d.category}")
        return out

    a, b = decisions(served), decisions(fp32)
    changed = [
        (test[i].label, test[i].family, b[i], a[i]) for i in range(len(test)) if a[i] != b[i]
    ]
    result["int8_vs_fp32"] = {
        "messages": len(test),
        "decisions_changed": len(changed),
        "changed": [
            {"label": lab, "family": fam, "fp32": x, "int8": y} for lab, fam, x, y in changed
        ],
    }
    models_dir = os.environ.get("MODELS_DIR") or str(Path(settings.BASE_DIR) / "var" / "models")
    from moderation.classifiers import detoxify_model_dir, read_manifest

    d = detoxify_model_dir(models_dir, "original")
    if d.is_dir() and read_manifest(d) and not (d / "bench-random-weights.json").exists():
        from moderation.classifiers import DetoxifyClassifier

        result["detoxify"] = _throughput(
            DetoxifyClassifier("original", models_dir=models_dir), texts, batch, args.repeats
        )
    else:
        result["detoxify"] = None
    # Without the weights, the cost is still measurable: it depends on the architecture, not on
    # the weights' values (bench/detoxify_cost.py).
    from bench.detoxify_cost import measure as detoxify_shape_cost

    shape_texts = texts[:QUICK_DETOXIFY_SAMPLE] if args.quick else texts
    result["detoxify_shape"] = detoxify_shape_cost(shape_texts, batch=batch, repeats=args.repeats)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    report = render(result)
    if args.out:
        Path(args.out).write_text(report)
    print(report)
    return 0


def render(r: dict) -> str:
    inline, served, fp = r["inline"], r["model_tier_served"], r["model_tier_fp32"]
    fail = r["inline_failsafe"]
    ctx = r["model_tier_served_all_context"]
    agree = r["int8_vs_fp32"]
    lines = [
        "# Safety tiers: cost on this machine",
        "",
        f"Generated by `python -m bench.safetybench{' --quick' if r.get('mode') == 'quick' else ''}` "
        f"(`make bench-safety`) for `{r['version']}`; every number below "
        f"comes from that run. Machine: {r['machine']['cores']} cores ({r['machine']['cpu']}), torch threads "
        f"{r['machine']['torch_threads']}, Python {r['machine']['python']}.",
        "",
        "| figure | measured | target | verdict |",
        "|---|---|---|---|",
        f"| inline tier, 2,000-character message, p99 ({inline['calls']} calls), live: the rules that "
        f"decide alone while the model follows | {inline['p99_ms']} ms "
        f"(p50 {inline['p50_ms']}, max {inline['max_ms']}) | ≤ 1 ms | {'met' if inline['p99_ms'] <= 1 else 'missed'} |",
        f"| same, fail-safe (no model loaded: every rule runs inline) | {fail['p99_ms']} ms "
        f"(p50 {fail['p50_ms']}, max {fail['max_ms']}) | – | – |",
        f"| Kindred's model tier, one core, batches of {served['batch']}, served ({r['served_quantize']}) | "
        f"{served['msgs_per_s_median']} msg/s (min {served['msgs_per_s_min']}, max {served['msgs_per_s_max']}, "
        f"{served['repeats']} runs of {served['messages']} messages) | ≥ 200 msg/s | "
        f"{'met' if served['msgs_per_s_min'] >= 200 else 'missed'} |",
        f"| same, every message given her three previous messages (read again only where they could "
        f"change the verdict) | "
        f"{ctx['msgs_per_s_median']} msg/s (min {ctx['msgs_per_s_min']}) | – | – |",
        f"| same, fp32 (for comparison) | {fp['msgs_per_s_median']} msg/s | – | – |",
        f"| int8 against fp32: final decisions changed on the test split | {agree['decisions_changed']} of "
        f"{agree['messages']} | – | – |",
    ]
    if r["detoxify"]:
        lines.append(
            f"| Detoxify `original` added cost, one core | {r['detoxify']['msgs_per_s_median']} msg/s | – | – |"
        )
    else:
        lines.append(
            "| Detoxify's added cost with its real weights | not measured: they are not installed on "
            "this machine (they cannot be downloaded here; `fetch_models` installs them in "
            "production) | – | – |"
        )
    shape = r.get("detoxify_shape")
    if shape:
        lines.append(
            f"| Detoxify `original`'s added cost, one core, batches of {shape['batch']}, measured with "
            f"its architecture and random weights (the time does not depend on the weights' values) "
            f"| fp32 {shape['fp32']['msgs_per_s_median']} msg/s ({shape['fp32']['ms_per_msg_median']} "
            f"ms a message, min {shape['fp32']['msgs_per_s_min']}); int8 "
            f"{shape['int8']['msgs_per_s_median']} msg/s ({shape['int8']['ms_per_msg_median']} ms, "
            f"min {shape['int8']['msgs_per_s_min']}) | – | – |"
        )
    workload = (
        f"A seeded sample of {served['messages']} of the test split's {r['test_split_messages']} "
        "messages is the model-tier workload (`--quick`)"
        if r.get("mode") == "quick"
        else "The test split's messages are the model-tier workload"
    )
    lines += [
        "",
        f"{workload}: their real mix of lengths (a few words to ten sentences). "
        '"met" for throughput is judged on the slowest of the runs.',
    ]
    if agree["changed"]:
        lines += ["", "Decisions int8 changed (label, family: fp32 → int8):", ""]
        lines += [
            f"- {c['label']}, {c['family']}: {c['fp32']} → {c['int8']}"
            for c in agree["changed"][:30]
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
