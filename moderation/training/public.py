"""The public labelled sets in ``shared/data/public`` (see its SOURCES.md), mapped onto Kindred's labels.

Two uses, decided by licence:

* **training** (``TRAINING_SETS``): only sets whose licence allows it (CC BY 4.0, MIT). A seeded
  sample of each, mapped, is committed under ``moderation/training/public/`` with its licence and
  provenance, so the model rebuilds from the repository alone. ``build_public_training_data``
  regenerates those files from the shared folder.
* **evaluation only** (``EVALUATION_SETS``): non-commercial, share-alike or unclear licences, and
  HateCheck (templated functional tests, which SOURCES.md recommends for evaluation). Read from the
  shared folder at evaluation time and never committed, never trained on, never shown in the product.

Every mapping is the one SOURCES.md proposes; each row keeps its source and original label in
``family`` so a report can say where a number came from.
"""

from __future__ import annotations

import ast
import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path

csv.field_size_limit(1 << 30)

TRAINING_SETS = ("goemotions", "davidson-hsol", "cssrs-reddit")
EVALUATION_SETS = (
    "hatecheck",
    "ucc-unhealthy-conversations",
    "epitome-empathy-reddit",
    "learnedhands-dv",
    "hatexplain",
)
LICENCES = {
    "goemotions": "CC BY 4.0 (Demszky et al. 2020)",
    "davidson-hsol": "MIT (Davidson et al. 2017)",
    "cssrs-reddit": "CC BY (Gaur et al. 2019, Zenodo 10.5281/zenodo.2667859)",
    "hatecheck": "CC BY 4.0 (Röttger et al. 2021); evaluation only by choice (templated tests)",
    "ucc-unhealthy-conversations": "CC BY-NC-SA 4.0; evaluation only",
    "epitome-empathy-reddit": "ambiguous (BSD-3 then UW academic non-commercial); evaluation only",
    "learnedhands-dv": "CC BY-NC-SA 4.0; evaluation only",
    "hatexplain": "MIT upstream, this copy from a GPL-3.0 repository; evaluation only",
}
#: rows per (set, label) in the committed training samples: enough to add breadth, few enough that
#: in-domain chat, not tweets, shapes the model (the trainer also down-weights them).
SAMPLE_PER_LABEL = 1500
SEED = 20261206

_GO_POSITIVE = {
    "admiration",
    "amusement",
    "approval",
    "caring",
    "gratitude",
    "joy",
    "love",
    "optimism",
    "relief",
    "neutral",
    "excitement",
    "pride",
    "curiosity",
    "surprise",
    "realization",
}
_GO_DISTRESS = {
    "sadness",
    "grief",
    "fear",
    "nervousness",
    "remorse",
    "embarrassment",
    "disappointment",
}


def default_public_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "public"


def _row(text: str, label: str, source: str, original: str) -> dict[str, str]:
    return {
        "text": " ".join(text.split()),
        "label": label,
        "family": f"{source}:{original}",
        "source": source,
    }


def goemotions(root: Path, split: str = "train") -> Iterator[dict[str, str]]:
    names = (root / "goemotions" / "emotions.txt").read_text().split()
    with open(root / "goemotions" / f"{split}.tsv", encoding="utf-8") as fh:
        for line in fh:
            text, ids, _ = line.rstrip("\n").split("\t")
            emotions = {names[int(i)] for i in ids.split(",")}
            if emotions <= _GO_POSITIVE:
                yield _row(text, "ok", "goemotions", "+".join(sorted(emotions)))
            elif emotions & _GO_DISTRESS and not emotions & {
                "anger",
                "annoyance",
                "disgust",
                "disapproval",
            }:
                yield _row(
                    text, "distress", "goemotions", "+".join(sorted(emotions & _GO_DISTRESS))
                )


def davidson(root: Path) -> Iterator[dict[str, str]]:
    with open(root / "davidson-hsol" / "labeled_data.csv", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            text = rec["tweet"].replace("&amp;", "&")
            # Strip retweet markers and handles: they are Twitter furniture, not language.
            words = [
                w
                for w in text.split()
                if not w.startswith("@") and w != "RT" and not w.startswith("http")
            ]
            if len(words) < 3:
                continue
            cls = rec["class"]
            label = {"0": "toxic", "1": "toxic", "2": "ok"}[cls]
            yield _row(
                " ".join(words),
                label,
                "davidson-hsol",
                {"0": "hate", "1": "offensive", "2": "neither"}[cls],
            )


def cssrs(root: Path) -> Iterator[dict[str, str]]:
    """C-SSRS labels are per user; a user's posts are each given the user's label, which is why this
    set is noisy (a crisis user's post about something else is not crisis)."""
    mapping = {
        "Ideation": "crisis",
        "Behavior": "crisis",
        "Attempt": "crisis",
        "Indicator": "distress",
        "Supportive": "ok",
    }
    with open(root / "cssrs-reddit" / "500_Reddit_users_posts_labels.csv", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            try:
                posts = ast.literal_eval(rec["Post"])
            except (ValueError, SyntaxError):
                continue  # cut at the spreadsheet cell limit
            for post in posts:
                if 20 <= len(post) <= 2000:
                    yield _row(post, mapping[rec["Label"]], "cssrs-reddit", rec["Label"])


def hatecheck(root: Path) -> Iterator[dict[str, str]]:
    ok_functions = {
        "profanity_nh",
        "target_obj_nh",
        "counter_quote_nh",
        "counter_ref_nh",
        "ident_neutral_nh",
        "ident_pos_nh",
        "negate_neg_nh",
        "slur_homonym_nh",
        "slur_reclaimed_nh",
    }
    with open(root / "hatecheck" / "test_suite_cases.csv", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            fn = rec["functionality"]
            if fn.endswith("_h") or fn in ("target_indiv_nh", "target_group_nh"):
                yield _row(rec["test_case"], "toxic", "hatecheck", fn)
            elif fn in ok_functions:
                yield _row(rec["test_case"], "ok", "hatecheck", fn)


def ucc(root: Path) -> Iterator[dict[str, str]]:
    for split in ("test", "val"):
        with open(root / "ucc-unhealthy-conversations" / f"{split}.csv", encoding="utf-8") as fh:
            for rec in csv.DictReader(fh):
                on = {
                    k
                    for k in (
                        "antagonize",
                        "condescending",
                        "dismissive",
                        "generalisation",
                        "generalisation_unfair",
                        "hostile",
                        "sarcastic",
                    )
                    if rec[k] == "1"
                }
                if on & {"hostile", "antagonize"}:
                    yield _row(rec["comment"], "toxic", "ucc", "+".join(sorted(on)))
                elif on & {"dismissive", "condescending"}:
                    yield _row(rec["comment"], "insensitive", "ucc", "+".join(sorted(on)))
                elif rec["healthy"] == "1" and not on:
                    yield _row(rec["comment"], "ok", "ucc", "healthy")


def epitome(root: Path) -> Iterator[dict[str, str]]:
    """Seeker posts (people asking for support; may include risk) as distress-or-crisis; strongly
    empathic replies as ok. Only used to count how often support-seeking is mistaken for abuse."""
    seen: set[str] = set()
    with open(
        root / "epitome-empathy-reddit" / "emotional-reactions-reddit.csv", encoding="utf-8"
    ) as fh:
        for rec in csv.DictReader(fh):
            if rec["sp_id"] not in seen:
                seen.add(rec["sp_id"])
                yield _row(rec["seeker_post"], "distress", "epitome", "seeker_post")
            if rec["level"] == "2":
                yield _row(rec["response_post"], "ok", "epitome", "empathic_reply")


def learnedhands(root: Path) -> Iterator[dict[str, str]]:
    with open(root / "learnedhands-dv" / "data.tsv", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh, delimiter="\t"):
            yield _row(
                rec["text"],
                "crisis" if rec["label"] == "Yes" else "ok",
                "learnedhands-dv",
                rec["label"],
            )


def hatexplain(root: Path) -> Iterator[dict[str, str]]:
    with open(root / "hatexplain" / "hatexplain_majority.csv", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            cat = rec["category"]
            if cat in ("1", "2"):
                yield _row(rec["text"], "toxic", "hatexplain", {"1": "hate", "2": "offensive"}[cat])
            elif cat == "0":
                yield _row(rec["text"], "ok", "hatexplain", "normal")


READERS = {
    "goemotions": goemotions,
    "davidson-hsol": davidson,
    "cssrs-reddit": cssrs,
    "hatecheck": hatecheck,
    "ucc-unhealthy-conversations": ucc,
    "epitome-empathy-reddit": epitome,
    "learnedhands-dv": learnedhands,
    "hatexplain": hatexplain,
}


def sample(rows: list[dict[str, str]], per_label: int, seed: int = SEED) -> list[dict[str, str]]:
    """A seeded, de-duplicated sample of at most ``per_label`` rows of each label."""
    rng = random.Random(seed)
    by_label: dict[str, list[dict[str, str]]] = {}
    seen: set[str] = set()
    for row in rows:
        key = row["text"].lower()
        if row["text"] and key not in seen:
            seen.add(key)
            by_label.setdefault(row["label"], []).append(row)
    out: list[dict[str, str]] = []
    for label in sorted(by_label):
        group = by_label[label]
        rng.shuffle(group)
        out.extend(group[:per_label])
    return out


def build_training_files(
    root: Path, out_dir: Path, per_label: int = SAMPLE_PER_LABEL
) -> dict[str, dict[str, int]]:
    """Write ``<set>.jsonl`` for each training set; returns the counts per label."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    for name in TRAINING_SETS:
        rows = sample(list(READERS[name](root)), per_label)
        with open(out_dir / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        counts[name] = {}
        for row in rows:
            counts[name][row["label"]] = counts[name].get(row["label"], 0) + 1
    return counts


def evaluation_rows(root: Path, name: str, limit: int | None = 2000) -> list[dict[str, str]]:
    """An evaluation-only set, sampled per label (seeded) so a report runs in minutes."""
    rows = list(READERS[name](root))
    return sample(rows, limit) if limit else rows
