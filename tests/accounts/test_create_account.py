from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from moderation.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_creates_a_member_with_stage_and_display_name(capsys):
    call_command(
        "create_account",
        "--username",
        "amara",
        "--password",
        "a-long-password-1",
        "--role",
        "member",
        "--stage",
        "newborn",
        "--display-name",
        "SleepyOwl",
    )
    user = User.objects.get(username="amara")
    assert (user.role, user.stage, user.display_name) == ("member", "newborn", "SleepyOwl")
    assert user.check_password("a-long-password-1")
    assert "Created member 'amara'" in capsys.readouterr().out
    assert AuditEntry.objects.filter(action="account.created", target_user=user).exists()


def test_moderator_needs_no_stage():
    call_command(
        "create_account",
        "--username",
        "mo",
        "--password",
        "a-long-password-1",
        "--role",
        "moderator",
        "--display-name",
        "Morgan",
    )
    assert User.objects.get(username="mo").is_moderator


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "member"], "stage"),
        (["--role", "member", "--stage", "newborn", "--display-name", "ab"], "at least 3"),
        (["--role", "member", "--stage", "newborn", "--display-name", "x" * 31], "at most 30"),
        (["--role", "member", "--stage", "newborn", "--display-name", "<b>hi</b>"], "Use letters"),
    ],
)
def test_bad_input_fails_with_a_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "create_account", "--username", "someone", "--password", "a-long-password-1", *args
        )
    assert not User.objects.filter(username="someone").exists()


def test_invalid_role_and_stage_are_rejected_by_the_parser():
    with pytest.raises(CommandError):
        call_command(
            "create_account", "--username", "x1", "--password", "p-long-enough-1", "--role", "admin"
        )
    with pytest.raises(CommandError):
        call_command(
            "create_account",
            "--username",
            "x1",
            "--password",
            "p-long-enough-1",
            "--role",
            "member",
            "--stage",
            "teen",
        )


def test_duplicates_are_refused():
    call_command(
        "create_account",
        "--username",
        "amara",
        "--password",
        "a-long-password-1",
        "--role",
        "member",
        "--stage",
        "baby",
        "--display-name",
        "Owl",
    )
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "create_account",
            "--username",
            "AMARA",
            "--password",
            "a-long-password-1",
            "--role",
            "member",
            "--stage",
            "baby",
            "--display-name",
            "Other",
        )
    with pytest.raises(CommandError, match="taken"):
        call_command(
            "create_account",
            "--username",
            "bea",
            "--password",
            "a-long-password-1",
            "--role",
            "member",
            "--stage",
            "baby",
            "--display-name",
            "owl",
        )


def test_weak_password_is_refused():
    with pytest.raises(CommandError, match="Password"):
        call_command(
            "create_account",
            "--username",
            "amara",
            "--password",
            "123",
            "--role",
            "member",
            "--stage",
            "baby",
        )


def test_exit_code_is_non_zero_on_failure():
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_account",
            "--username",
            "z",
            "--password",
            "x",
            "--role",
            "nope",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "invalid choice" in result.stderr
