"""Rebuild Kindred's safety model from the repository (``make train``).

    manage.py train_safety_model                          # the committed default model
    manage.py train_safety_model --name kindred-safety-v6 --public goemotions
    manage.py train_safety_model --ablation               # what each public set adds (frozen-embedding proxy)
    manage.py train_safety_model --recalibrate            # thresholds again from saved cross-writer predictions

Fine-tunes MiniLM's adapters and the heads on ``moderation/training/data`` plus the chosen public
samples, calibrates the thresholds on cross-writer predictions, then measures the finished model once on the
held-out test split and the study's quotes and writes ``card.json`` and ``MODEL_CARD.md``.
The test split is measured, never used to choose anything.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from moderation.safety_model import MODELS_ROOT


class Command(BaseCommand):
    help = "Train Kindred's safety model from the repository's labelled data (minutes on a 2-core CPU)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        from moderation.training.train import DEFAULT_PUBLIC

        parser.add_argument(
            "--name",
            dest="model_version",
            default=settings.MODERATION_SAFETY_MODEL_DEFAULT,
            help="the version name: a folder under moderation/safety_models/",
        )
        parser.add_argument(
            "--public",
            default=",".join(DEFAULT_PUBLIC),
            help="comma-separated permissive public sets to add ('' for none)",
        )
        parser.add_argument(
            "--quantize",
            choices=("int8-fixed", "int8", "none"),
            default="int8-fixed",
            help="how the encoder is served (and the head calibrated): int8 with activation "
            "scales fixed at training (the default; a message's scores never depend on its "
            "neighbours), int8 with dynamic scales, or fp32",
        )
        parser.add_argument("--out", default=str(MODELS_ROOT), help="artefact root folder")
        parser.add_argument(
            "--epochs", type=int, default=None, help="passes over the data (default: the trainer's)"
        )
        parser.add_argument(
            "--ablation",
            action="store_true",
            help="only compare public-set choices (frozen-embedding proxy, cross-writer)",
        )
        parser.add_argument(
            "--extra-labels",
            action="append",
            default=[],
            help="moderators' labels from export_labels (repeatable; never commit them)",
        )
        parser.add_argument(
            "--doc",
            default=None,
            help="also write the measured tables into this document between its "
            "<!-- measured:start --> and <!-- measured:end --> markers",
        )
        parser.add_argument(
            "--recalibrate",
            action="store_true",
            help="only choose the thresholds again from the saved cross-writer predictions "
            "(var/train/cross_writer.npz) and re-measure; no fine-tuning",
        )
        parser.add_argument(
            "--no-evaluate", action="store_true", help="skip the test-split measurement"
        )
        parser.add_argument(
            "--evaluate-only",
            action="store_true",
            help="measure the existing artefact again (e.g. after a serving change) and "
            "rewrite its card's evaluation, MODEL_CARD.md and --doc; trains nothing",
        )

        parser.add_argument(
            "--calibrate-sentences",
            action="store_true",
            help="only choose an existing artefact's risk_sentence threshold on the selection "
            "writers (docs/moderation-quality.md), then re-measure it; trains nothing",
        )
        parser.add_argument(
            "--fix-activation-scales",
            action="store_true",
            help="only switch an existing artefact to int8 with fixed activation scales "
            "(measured in fp32 on the training messages; weights and thresholds unchanged), "
            "then re-measure it; trains nothing",
        )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        import torch

        from moderation.training import public as public_sets
        from moderation.training import train

        torch.set_num_threads(2)
        chosen = [p for p in options["public"].split(",") if p]
        unknown = set(chosen) - set(public_sets.TRAINING_SETS)
        if unknown:
            raise CommandError(
                f"not a permissive training set: {sorted(unknown)}; "
                f"choose from {', '.join(public_sets.TRAINING_SETS)}"
            )
        if options["ablation"]:
            options["epochs"] = options["epochs"] or train.EPOCHS
            self._ablation(options, train)
            return
        started = time.perf_counter()
        if options["fix_activation_scales"]:
            self._rework_artefact(
                options,
                started,
                lambda d: train.fix_artefact_scales(d, log=self.stdout.write),
                lambda d, exc: f"cannot fix {d}'s scales: {exc}",
            )
            return
        if options["calibrate_sentences"]:
            self._rework_artefact(
                options,
                started,
                lambda d: train.calibrate_sentences(d, log=self.stdout.write),
                lambda d, exc: f"cannot calibrate {d}: {exc}",
            )
            return
        if options["evaluate_only"]:
            model_dir = Path(options["out"]) / options["model_version"]
            try:
                card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {model_dir / 'card.json'}: {exc}") from exc
            self._evaluate({**options, "no_evaluate": False}, card)
            self.stdout.write(f"done in {time.perf_counter() - started:.0f}s")
            return
        if options["recalibrate"]:
            extra = [Path(p) for p in options["extra_labels"]]
            self._rework_artefact(
                options,
                started,
                lambda d: train.recalibrate(d, extra_labels=extra, log=self.stdout.write),
                lambda d, exc: str(exc),
            )
            return
        options["epochs"] = options["epochs"] or train.EPOCHS
        card = train.train(
            version=options["model_version"],
            out_root=Path(options["out"]),
            public_sets=chosen,
            quantize=options["quantize"],
            epochs=options["epochs"],
            extra_labels=[Path(p) for p in options["extra_labels"]],
            log=self.stdout.write,
        )
        self._evaluate(options, card)
        self.stdout.write(f"done in {time.perf_counter() - started:.0f}s")

    def _rework_artefact(self, options, started: float, step, error) -> None:  # noqa: ANN001
        """One step on an existing artefact (``step(model_dir)`` returns its new card; ``error``
        words a failure as a CommandError), then the re-measurement."""
        model_dir = Path(options["out"]) / options["model_version"]
        try:
            card = step(model_dir)
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(error(model_dir, exc)) from exc
        self._evaluate(options, card)
        self.stdout.write(f"done in {time.perf_counter() - started:.0f}s")

    def _evaluate(self, options, card: dict) -> None:  # noqa: ANN001
        if options["no_evaluate"]:
            return
        from moderation.training.report import evaluate_artefact, write_model_card

        model_dir = Path(options["out"]) / options["model_version"]
        card["evaluation"] = evaluate_artefact(model_dir, log=self.stdout.write)
        (model_dir / "card.json").write_text(
            json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        write_model_card(model_dir, card)
        if options["doc"]:
            self._write_doc(Path(options["doc"]), card)

    def _write_doc(self, path: Path, card: dict) -> None:
        from moderation.training.report import quality_tables

        start, end = "<!-- measured:start -->", "<!-- measured:end -->"
        text = path.read_text(encoding="utf-8")
        if start not in text or end not in text:
            raise CommandError(f"{path} has no {start} … {end} markers")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        path.write_text(head + start + "\n" + quality_tables(card) + end + tail, encoding="utf-8")
        self.stdout.write(f"wrote the measured tables into {path}")

    def _ablation(self, options, train) -> None:  # noqa: ANN001
        """What each permissive public set adds, measured cheaply: a logistic-regression head on
        the *frozen* base MiniLM embeddings, trained with and without each set, scored across the
        same two writer groups and calibrated the same way. A proxy (the served model is
        fine-tuned), so it says whether a set's language helps on Kindred's, not by how much the
        fine-tuned model would move. Validation only; the test split is not read."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        from moderation.facilitation.embeddings import MiniLMEmbedder
        from moderation.safety_model import SafetyHead
        from moderation.training import public as public_sets

        embedder = MiniLMEmbedder(batch_size=64)
        cache: dict[str, np.ndarray] = {}

        def embed(texts: list[str]) -> np.ndarray:
            todo = [t for t in dict.fromkeys(texts) if t not in cache]
            for start in range(0, len(todo), 256):
                chunk = todo[start : start + 256]
                for text, vec in zip(chunk, embedder.encode(chunk), strict=True):
                    cache[text] = vec
            return np.stack([cache[t] for t in texts])

        configs = (
            [()]
            + [(name,) for name in public_sets.TRAINING_SETS]
            + [tuple(public_sets.TRAINING_SETS)]
        )
        lines = [
            "| public sets added (frozen-embedding proxy) | risk recall | toxic recall | insensitive recall | "
            "distress escalated | distress flagged | ok flagged |",
            "|---|---|---|---|---|---|---|",
        ]
        for config in configs:
            rows = train.load_rows(config)
            X = embed([train.unit_text(r) for r in rows])
            alone_X = embed([r.text for r in rows])
            y = np.array([train.LABEL_INDEX[r.label] for r in rows])
            probs = np.full((len(rows), 5), np.nan)
            alone = np.full_like(probs, np.nan)
            for group in train.writer_groups(rows):
                held = np.array([r.source == "kindred" and r.writer in group for r in rows])
                clf = LogisticRegression(C=4.0, max_iter=3000)
                clf.fit(
                    X[~held],
                    y[~held],
                    sample_weight=train._weights([r for r, h in zip(rows, held) if not h]),
                )
                head = SafetyHead(
                    clf.coef_, clf.intercept_, np.zeros((1, X.shape[1])), np.zeros(1), ["-"]
                )
                probs[held] = head.probabilities(X[held])
                alone[held] = head.probabilities(alone_X[held])
            cal = train.calibrate(probs, rows, alone)
            m = train.oof_metrics(probs, rows, cal.thresholds)
            lines.append(
                f"| {', '.join(config) or 'none (in-domain only)'} | {m['risk_recall']:.3f} | {m['toxic_recall']:.3f} | "
                f"{m['insensitive_recall']:.3f} | {m['distress_escalated']:.3f} | {m['distress_flagged']:.3f} | "
                f"{m['ok_flagged']:.3f} |"
            )
            self.stdout.write(lines[-1])
        self.stdout.write("\n".join(lines))
