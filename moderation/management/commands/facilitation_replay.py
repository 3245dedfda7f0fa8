"""``manage.py facilitation_replay FILE|-``: print the prompts the engine would give for a transcript."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.facilitation.embeddings import default_embedder
from moderation.facilitation.library import PromptLibrary, PromptLibraryError, default_library
from moderation.facilitation.replay import (
    ReplayInputError,
    parse_replay,
    prompt_to_json,
    run_replay,
)
from moderation.facilitation.sentiment import default_sentiment


class Command(BaseCommand):
    help = (
        "Replay a JSON Lines session transcript through the facilitation engine and print one JSON "
        "line per prompt. See docs/facilitation.md for the input format."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help='transcript in JSON Lines, or "-" for standard input')
        parser.add_argument(
            "--library", help="prompt library JSON to use instead of the shipped defaults"
        )
        parser.add_argument(
            "--no-embeddings",
            action="store_true",
            help="skip drift detection and so never load the sentence-embedding model",
        )
        parser.add_argument(
            "--no-assess",
            action="store_true",
            help="do not assess members' messages (only the transcript's own distress marks and flags count)",
        )
        parser.add_argument(
            "--stop-at-last-event",
            action="store_true",
            help="do not run the clock on to the session's scheduled end",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        try:
            if name == "-":
                lines = sys.stdin.read().splitlines()
            else:
                lines = Path(name).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {name}: {exc}") from None
        try:
            script = parse_replay(lines)
        except ReplayInputError as exc:
            raise CommandError(f"{'<stdin>' if name == '-' else name}: {exc}") from None
        try:
            library = (
                PromptLibrary.from_json_file(options["library"])
                if options["library"]
                else default_library()
            )
        except PromptLibraryError as exc:
            raise CommandError(str(exc)) from None
        prompts = run_replay(
            script,
            library=library,
            embedder=None if options["no_embeddings"] else default_embedder(),
            sentiment=default_sentiment(),
            until_end=not options["stop_at_last_event"],
            assess=None if options["no_assess"] else _live_assessment(),
        )
        for prompt in prompts:
            self.stdout.write(json.dumps(prompt_to_json(prompt), ensure_ascii=False))


def _live_assessment():  # noqa: ANN202
    """Assess as the live worker does: the rules and the live safety model (and the classifier
    when it is installed), through ``moderation.assessing.assess_text``."""
    from django.conf import settings

    from moderation.assessing import assess_text
    from moderation.classifiers import ClassifierConfig, load_classifier
    from moderation.policy import MemberState, Thresholds
    from moderation.safety_model import load_safety_model
    from moderation.selectors import safety_model_versions

    live, _ = safety_model_versions()
    model = load_safety_model(live) if live else None
    status = load_classifier(ClassifierConfig.from_settings(settings))

    def assess(texts, contexts):  # noqa: ANN001, ANN202
        safety = (
            model.score(list(texts), [list(c) for c in contexts]) if model else [None] * len(texts)
        )
        scores = status.classifier.score(list(texts)) if status.classifier else [None] * len(texts)
        return [
            assess_text(
                t, thresholds=Thresholds(), member_state=MemberState(), scores=sc, safety=sf
            ).final
            for t, sc, sf in zip(texts, scores, safety, strict=True)
        ]

    return assess
