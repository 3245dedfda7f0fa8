"""Add any starter practice scenario that is missing (by slug); never overwrites an edit."""

from django.core.management.base import BaseCommand

from moderation.practice.models import Scenario
from moderation.practice.starter import SCENARIOS


class Command(BaseCommand):
    help = "Add the starter practice scenarios that are missing (supervisors' edits are kept)."

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        existing = set(Scenario.objects.values_list("slug", flat=True))
        added = Scenario.objects.bulk_create(
            [
                Scenario(position=(n + 1) * 10, **fields)
                for n, fields in enumerate(SCENARIOS)
                if fields["slug"] not in existing
            ]
        )
        self.stdout.write(f"{len(added)} practice scenarios added, {len(existing)} already there.")
