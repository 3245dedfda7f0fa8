from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.actions import AccountError, do_create_account
from accounts.models import Role, Stage


class Command(BaseCommand):
    help = "Create a Kindred account non-interactively."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--stage", choices=Stage.values, default="")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--region", default="")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        try:
            user = do_create_account(
                username=options["username"],
                password=options["password"],
                display_name=options["display_name"] or options["username"],
                role=options["role"],
                stage=options["stage"],
                region=options["region"],
                # Operators create accounts on behalf of people who confirmed these in person.
                adult_confirmed=True,
                guidelines_accepted=True,
            )
        except AccountError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created {user.role} {user.username!r} (shown as {user.display_name!r})."
        )
