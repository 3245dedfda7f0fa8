from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.actions import do_create_account
from accounts.models import Role, Stage, User

DEMO_PASSWORD = "kindred-demo-2026"
DEMO_ACCOUNTS = [
    ("amara", "Amara", Role.MEMBER, Stage.NEWBORN),
    ("bea", "Bea", Role.MEMBER, Stage.NEWBORN),
    ("cleo", "Cleo", Role.MEMBER, Stage.PREGNANT),
    ("morgan", "Morgan", Role.MODERATOR, ""),
    ("sam", "Sam", Role.SUPERVISOR, ""),
]


class Command(BaseCommand):
    help = "Development only: create one demo account per role and print the logins."

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts with a published password; it only runs with DEBUG on."
            )
        for username, display_name, role, stage in DEMO_ACCOUNTS:
            if not User.objects.filter(username=username).exists():
                do_create_account(
                    username=username,
                    password=DEMO_PASSWORD,
                    display_name=display_name,
                    role=role,
                    stage=stage,
                    adult_confirmed=True,
                    guidelines_accepted=True,
                    validate_password_strength=False,
                )
        self.stdout.write("Demo accounts (development only), password for all: " + DEMO_PASSWORD)
        for username, _display_name, role, stage in DEMO_ACCOUNTS:
            where = f", stage {stage}" if stage else ""
            self.stdout.write(f"  {username:<6} {role}{where}")
