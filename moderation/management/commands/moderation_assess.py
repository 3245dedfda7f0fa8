from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chat.models import Room
from moderation import selectors
from moderation.assessing import assess_text
from moderation.classifiers import ClassifierConfig, Scores, load_classifier
from moderation.policy import MemberState

BATCH = 32


class Command(BaseCommand):
    help = (
        "Assess messages the way the live room would. Reads JSON Lines ({\"text\": ...}) from FILE "
        "or stdin and writes one JSON line per input: action, category, priority, scores, reasons."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("file", nargs="?", help="JSON Lines file; stdin when omitted or '-'")
        parser.add_argument("--room", default=None, help="use this room's thresholds (slug)")
        parser.add_argument(
            "--report",
            action="store_true",
            help='when input lines carry a "label", print precision/recall per category to stderr',
        )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        thresholds = selectors.thresholds_for(self._room(options["room"])) if options["room"] else None
        status = load_classifier(ClassifierConfig.from_settings(settings))
        self.stderr.write(f"classifier: {status.status}")
        if thresholds is None:
            from moderation.policy import Thresholds

            thresholds = Thresholds.for_profanity_check() if status.fallback_used or (
                status.classifier is not None and "profanity" in status.classifier.name
            ) else Thresholds()
        texts, labels = self._read(options["file"])
        semantic = _semantic_scorer()
        self.stderr.write(f"semantic layer: {semantic.name if semantic else 'off'}")
        decisions = []
        for start in range(0, len(texts), BATCH):
            chunk = texts[start : start + BATCH]
            scores = status.classifier.score(chunk) if status.classifier else [None] * len(chunk)
            sem = semantic.score(chunk) if semantic else [None] * len(chunk)
            for text, score, sem_scores in zip(chunk, scores, sem, strict=True):
                kwargs = {"semantic": sem_scores} if sem_scores is not None else {}
                final = assess_text(
                    text, thresholds=thresholds, member_state=MemberState(), scores=score, **kwargs
                ).final
                decisions.append(final)
                out = {
                    "text": text,
                    "action": final.action,
                    "category": final.category,
                    "priority": final.priority,
                    "scores": {**(score.as_dict() if isinstance(score, Scores) else {}), **(sem_scores or {})},
                    "reasons": final.reasons,
                }
                self.stdout.write(json.dumps(out, ensure_ascii=False))
        if options["report"]:
            self._report(texts, labels, decisions, status.status, semantic)

    def _room(self, slug: str) -> Room:
        try:
            return Room.objects.get(slug=slug)
        except Room.DoesNotExist as exc:
            raise CommandError(f"No room with slug {slug!r}") from exc

    def _read(self, path: str | None) -> list[str]:
        if path in (None, "-"):
            lines = sys.stdin.read().splitlines()
        else:
            try:
                with open(path, encoding="utf-8") as handle:
                    lines = handle.read().splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        texts, labels = [], []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise CommandError(f"line {number}: not valid JSON ({exc})") from exc
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise CommandError(f'line {number}: expected an object with a string "text"')
            texts.append(obj["text"])
            labels.append(obj.get("label"))
        return texts, labels

    def _report(self, texts, labels, decisions, classifier_status, semantic) -> None:  # noqa: ANN001
        from moderation.evaluation import evaluate

        if any(label is None for label in labels):
            raise CommandError('--report needs a "label" on every input line')
        result = evaluate([{"text": t, "label": label} for t, label in zip(texts, labels, strict=True)], decisions)
        write = self.stderr.write
        write(f"classifier: {classifier_status}; semantic layer: {semantic.name if semantic else 'off'}")
        write("| category | precision | recall | labelled | predicted |")
        write("|---|---|---|---|---|")
        for category, score in result.per_category.items():
            write(f"| {category} | {score.precision:.2f} | {score.recall:.2f} | {score.support} | {score.predicted} |")
        write(f"distress wrongly flagged as toxic: {result.distress_flagged_as_toxic_rate:.0%}")
        write(f"ok messages flagged: {result.ok_flag_rate:.0%}; ok messages escalated: {result.ok_escalated}")


def _semantic_scorer():  # noqa: ANN202
    try:
        from moderation.semantic import load_semantic_scorer
    except ImportError:
        return None
    return load_semantic_scorer()
