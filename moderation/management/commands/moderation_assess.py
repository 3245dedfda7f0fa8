"""Assess messages the way the live room would, and report the safety figures on labelled sets.

Examples::

    manage.py moderation_assess messages.jsonl                # one JSON line of decision per input
    manage.py moderation_assess --split test --report         # the held-out test split, with intervals
    manage.py moderation_assess --split study --report        # real mothers' quotes from the study
    manage.py moderation_assess --split test --model kindred-safety-v3 --report   # a candidate model
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chat.models import Room
from moderation import selectors
from moderation.assessing import assess_text
from moderation.classifiers import ClassifierConfig, Scores, load_classifier
from moderation.policy import MemberState, Thresholds

BATCH = 32
SPLITS = ("test", "train", "dev", "study")


def split_rows(name: str) -> list[dict[str, Any]]:
    """Labelled rows of a named evaluation set."""
    from pathlib import Path

    from moderation.training import corpus, study_quotes

    if name == "test":
        examples = corpus.test_examples()
    elif name == "train":
        examples = corpus.training_examples()
    elif name == "dev":
        path = Path(settings.BASE_DIR) / "tests" / "moderation" / "data" / "dev_messages.jsonl"
        examples = corpus.read_jsonl(path, source="dev", writer="dev")
    elif name == "study":
        return [
            {"text": q, "label": "ok", "family": "narrative_services"}
            for q in study_quotes.quotes()
        ]
    else:
        raise CommandError(f"--split must be one of {', '.join(SPLITS)}")
    if not examples:
        raise CommandError(f"the {name} split is empty")
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


class Command(BaseCommand):
    help = (
        'Assess messages the way the live room would. Reads JSON Lines ({"text": ..., optional "label", '
        '"family", "context": [earlier messages by the same author]}) from FILE, stdin or --split, and writes '
        "one JSON line per input: action, category, priority, scores, reasons."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("file", nargs="?", help="JSON Lines file; stdin when omitted or '-'")
        parser.add_argument("--split", choices=SPLITS, help="a labelled set instead of FILE")
        parser.add_argument("--room", default=None, help="use this room's thresholds (slug)")
        parser.add_argument(
            "--model",
            default=None,
            help="safety model version (default: the live one; 'off' for none)",
        )
        parser.add_argument(
            "--report",
            action="store_true",
            help='print the safety figures with 95%% intervals (needs a "label" on every line)',
        )
        parser.add_argument(
            "--quiet", action="store_true", help="no per-message lines (with --report)"
        )
        parser.add_argument(
            "--json-report", default=None, help="also write the figures as JSON to this file"
        )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        thresholds = (
            selectors.thresholds_for(self._room(options["room"])) if options["room"] else None
        )
        status = load_classifier(ClassifierConfig.from_settings(settings))
        self.stderr.write(f"classifier: {status.status}")
        if thresholds is None:
            thresholds = (
                Thresholds.for_profanity_check()
                if status.fallback_used
                or (status.classifier is not None and "profanity" in status.classifier.name)
                else Thresholds()
            )
        rows = split_rows(options["split"]) if options["split"] else self._read(options["file"])
        model = self._safety_model(options["model"])
        self.stderr.write(f"safety model: {model.name if model else 'off'}")
        decisions = []
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            texts = [r["text"] for r in chunk]
            scores = status.classifier.score(texts) if status.classifier else [None] * len(chunk)
            safety = (
                model.score(texts, [r.get("context") or [] for r in chunk])
                if model
                else [None] * len(chunk)
            )
            for row, score, sf in zip(chunk, scores, safety, strict=True):
                final = assess_text(
                    row["text"],
                    thresholds=thresholds,
                    member_state=MemberState(),
                    scores=score,
                    safety=sf,
                ).final
                decisions.append(final)
                if options["quiet"]:
                    continue
                out = {
                    "text": row["text"],
                    "action": final.action,
                    "category": final.category,
                    "priority": final.priority,
                    "scores": {
                        **(score.as_dict() if isinstance(score, Scores) else {}),
                        **(sf.as_dict() if sf is not None else {}),
                    },
                    "reasons": final.reasons,
                }
                self.stdout.write(json.dumps(out, ensure_ascii=False))
        if options["report"]:
            self._report(rows, decisions, status.status, model, options["json_report"])

    def _safety_model(self, version: str | None):  # noqa: ANN202
        from moderation.safety_model import load_safety_model

        if version is None:
            version, _ = selectors.safety_model_versions()
        if version in (None, "off"):
            return None
        model = load_safety_model(version)
        if model is None:
            raise CommandError(f"safety model {version!r} could not be loaded (see the log above)")
        return model

    def _room(self, slug: str) -> Room:
        try:
            return Room.objects.get(slug=slug)
        except Room.DoesNotExist as exc:
            raise CommandError(f"No room with slug {slug!r}") from exc

    def _read(self, path: str | None) -> list[dict[str, Any]]:
        if path in (None, "-"):
            lines = sys.stdin.read().splitlines()
        else:
            try:
                with open(path, encoding="utf-8") as handle:
                    lines = handle.read().splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        rows = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise CommandError(f"line {number}: not valid JSON ({exc})") from exc
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise CommandError(f'line {number}: expected an object with a string "text"')
            context = obj.get("context") or []
            if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
                raise CommandError(f'line {number}: "context" must be a list of strings')
            rows.append(
                {
                    "text": obj["text"],
                    "label": obj.get("label"),
                    "family": obj.get("family"),
                    "context": context,
                }
            )
        return rows

    def _report(self, rows, decisions, classifier_status, model, json_path) -> None:  # noqa: ANN001
        from moderation.evaluation import Rate, safety_figures, verdict

        if any(r.get("label") is None for r in rows):
            raise CommandError('--report needs a "label" on every input line')
        figures = safety_figures(rows, decisions)
        write = self.stderr.write
        write(
            f"classifier: {classifier_status}; safety model: {model.name if model else 'off'}; "
            f"{len(rows)} messages"
        )
        write("| figure | value (k/n; 95% CI) | target |")
        write("|---|---|---|")
        for name, value in figures.items():
            if isinstance(value, Rate):
                write(f"| {name} | {value} | {verdict(name, value)} |")
        if figures["risk_by_family"]:
            write("| risk family | escalated (k/n; 95% CI) | ≥ 0.90 |")
            write("|---|---|---|")
            for family, value in figures["risk_by_family"].items():
                write(f"| {family} | {value} | {'met' if value.value >= 0.9 else 'missed'} |")
        if json_path:
            data = {
                k: (v.as_dict() if isinstance(v, Rate) else {f: r.as_dict() for f, r in v.items()})
                for k, v in figures.items()
            }
            data["model"] = model.name if model else "off"
            data["classifier"] = classifier_status
            with open(json_path, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
