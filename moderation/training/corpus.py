"""Kindred's in-domain labelled messages and the committed public samples, as training rows.

Layout (all JSON Lines, one message a line: ``text``, ``label``, ``family``, ``writer``, optional
``context`` = the same author's earlier messages in the room, oldest first):

* ``data/writer-*.jsonl`` – training writers (``writer-a`` is the shared file written for the
  project; the others were written for this model by independent writers, see ``README.md``).
* ``test/writer-t*.jsonl`` – the held-out test split, written by writers who never saw the training
  data, the rules or each other's sentences. Never trained on, never used to choose anything.
* ``selection/writer-t*.jsonl`` – a split written the same way, on which a rule written in advance
  chose between candidate models (``docs/moderation-quality.md``). Never trained on; not the
  reported test split, because something was chosen on it.
* ``public/*.jsonl`` – seeded, mapped samples of the permissive public sets (``public.py``).

Labels: ``ok``, ``distress``, ``crisis`` (the product's *risk*), ``toxic``, ``insensitive``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from moderation.safety_model import RISK_KINDS

HERE = Path(__file__).resolve().parent
TRAIN_DIR = HERE / "data"
TEST_DIR = HERE / "test"
SELECTION_DIR = HERE / "selection"
PUBLIC_DIR = HERE / "public"

LABELS = ("ok", "distress", "crisis", "toxic", "insensitive")
RISK_FAMILIES = tuple(f for families in RISK_KINDS.values() for f in families)


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    family: str
    writer: str
    source: str
    context: tuple[str, ...] = field(default=())


def read_jsonl(path: Path, *, source: str, writer: str | None = None) -> list[Example]:
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        label = row["label"]
        if label == "risk":
            label = "crisis"
        if label not in LABELS or not str(row.get("text", "")).strip():
            raise ValueError(f"{path}:{lineno}: need a text and a label in {LABELS}")
        out.append(
            Example(
                text=row["text"].strip(),
                label=label,
                family=str(row.get("family") or ""),
                writer=str(writer or row.get("writer") or path.stem),
                source=source,
                context=tuple(str(c) for c in row.get("context") or ()),
            )
        )
    return out


def _writer_of(path: Path) -> str:
    return path.stem.removeprefix("writer-")


def training_examples(directory: Path = TRAIN_DIR) -> list[Example]:
    rows: list[Example] = []
    for path in sorted(directory.glob("writer-*.jsonl")):
        rows.extend(read_jsonl(path, source="kindred", writer=_writer_of(path)))
    return dedupe(rows)


def test_examples(directory: Path = TEST_DIR) -> list[Example]:
    rows: list[Example] = []
    for path in sorted(directory.glob("writer-*.jsonl")):
        rows.extend(read_jsonl(path, source="kindred-test", writer=_writer_of(path)))
    return dedupe(rows)


def selection_examples(directory: Path = SELECTION_DIR) -> list[Example]:
    return test_examples(directory)


def public_examples(names: Iterable[str], directory: Path = PUBLIC_DIR) -> list[Example]:
    rows: list[Example] = []
    for name in names:
        rows.extend(read_jsonl(directory / f"{name}.jsonl", source=name, writer=name))
    return rows


def fold(text: str) -> str:
    """Case and spacing folded, for comparing texts."""
    return " ".join(text.lower().split())


def dedupe(rows: list[Example]) -> list[Example]:
    """Drop exact repeats (case and spacing folded) of the same context + text; the first wins."""
    seen: set[str] = set()
    out = []
    for row in rows:
        key = " ".join((" | ".join(row.context) + " || " + row.text).lower().split())
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out
