"""Remove message text past the retention period. Run daily (docs/data-protection.md):

python manage.py purge_expired            # MESSAGE_RETENTION_DAYS (default 365)
python manage.py purge_expired --dry-run  # say what would go, change nothing
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from moderation.actions import do_purge_expired


class Command(BaseCommand):
    help = "Delete message text older than MESSAGE_RETENTION_DAYS, keeping anonymous daily counts and anything still under review."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--days", type=int, default=None, help="override MESSAGE_RETENTION_DAYS for this run"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be removed; change nothing"
        )

    def handle(self, *args, days: int | None, dry_run: bool, **options) -> None:  # noqa: ANN002, ANN003
        days = settings.MESSAGE_RETENTION_DAYS if days is None else days
        try:
            result = do_purge_expired(retention_days=days, dry_run=dry_run)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(
            f"{verb} the text of {result.messages} message(s) from {result.days} day(s) before "
            f"{result.cutoff:%Y-%m-%d %H:%M} ({days}-day retention); kept {result.kept_under_review} "
            "still under review."
        )
