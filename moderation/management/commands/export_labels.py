"""Write moderators' decisions as labelled messages for the safety model (JSON Lines).

    manage.py export_labels labels.jsonl              # every resolved queue item still on record
    manage.py export_labels labels.jsonl --days 90    # resolved in the last 90 days

Train a candidate on them with ``train_safety_model --name NAME --extra-labels labels.jsonl``,
run it in shadow, and promote it from the supervisor pages. The file holds members' own words:
keep it on the server, never commit it (docs/moderation-quality.md, "Learning from moderators").
Each export is audited.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from moderation.audit import record_audit
from moderation.selectors import moderator_labels


class Command(BaseCommand):
    help = "Export moderators' decisions as safety-model training labels (JSON Lines)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("out", help="file to write ('-' for stdout)")
        parser.add_argument(
            "--days", type=int, default=None, help="only items resolved in the last N days"
        )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if options["days"] is not None and options["days"] <= 0:
            raise CommandError("--days must be a positive number of days")
        since = timezone.now() - timedelta(days=options["days"]) if options["days"] else None
        rows = moderator_labels(since=since)
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if options["out"] == "-":
            self.stdout.write(lines, ending="")
        else:
            try:
                with open(options["out"], "w", encoding="utf-8") as fh:
                    fh.write(lines)
            except OSError as exc:
                raise CommandError(f"Cannot write {options['out']}: {exc.strerror}") from exc
        with transaction.atomic():
            record_audit(
                action="labels.exported",
                acting_user=None,
                after={
                    "rows": len(rows),
                    "days": options["days"],
                    "labelled": sum(1 for r in rows if r["label"]),
                },
                reason="export_labels management command",
            )
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
        self.stderr.write(
            f"{len(rows)} decisions exported: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
