"""Display names cannot pass for a staff member's, nor a staff member's for anyone else's
(accounts/display_names.py and accounts.actions.check_display_name; issue 17, item 9)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.actions import AccountError, check_display_name, do_erase_account
from accounts.display_names import names_look_alike
from accounts.models import Role, User
from tests.accounts.test_views import SIGNUP as VIEWS_SIGNUP

pytestmark = pytest.mark.django_db

# The sign-up form of test_views, without its display name (each test here picks one).
SIGNUP = {k: v for k, v in VIEWS_SIGNUP.items() if k != "display_name"}

LOOK_ALIKES_OF_MORGAN = [
    "\u041corgan",  # Cyrillic capital EM
    "Morg\u0430n",  # Cyrillic small A
    "\uff4d\uff4f\uff52\uff47\uff41\uff4e",  # full-width
    "Morgan.",
    "M.organ",
    "Mor-gan",
    "M o r g a n",
    "MORGAN",
    "M\u00f6rgan",
    "rnorgan",
    "M0rgan",
    "Morgan\u3164",  # ends in an invisible Hangul filler
]


@pytest.mark.parametrize("name", LOOK_ALIKES_OF_MORGAN)
def test_a_member_cannot_take_a_name_that_looks_like_a_moderators(client, moderator, name):
    response = client.post(reverse("signup"), {**SIGNUP, "display_name": name})
    assert response.status_code == 400
    assert not User.objects.filter(username="owl-at-night").exists()
    page = response.content.decode()
    assert "moderator" in page or "taken" in page or "visible letters" in page


@pytest.mark.parametrize("name", ["S\u0430m", "5am", "S a m", "Sam_"])
def test_nor_one_that_looks_like_a_supervisors(supervisor, name):
    with pytest.raises(AccountError, match="moderator's name|taken"):
        check_display_name(name)


@pytest.mark.parametrize("name", ["Megan", "Morgana", "Norgan", "Moe", "Organ", "Pam", "Sami"])
def test_names_that_only_resemble_a_staff_name_are_fine(client, moderator, supervisor, name):
    response = client.post(reverse("signup"), {**SIGNUP, "display_name": name})
    assert response.status_code == 302
    assert User.objects.get(username="owl-at-night").display_name == name


def test_names_are_stored_in_nfkc(client):
    response = client.post(
        reverse("signup"), {**SIGNUP, "display_name": "\uff2e\uff49\uff47\uff48\uff54  Owl"}
    )
    assert response.status_code == 302
    assert User.objects.get(username="owl-at-night").display_name == "Night Owl"


def test_a_staff_account_cannot_take_a_name_that_looks_like_a_members(make_user):
    make_user(display_name="\u041corgan.")
    with pytest.raises(AccountError, match="looks like “\u041corgan.”"):
        make_user(role=Role.MODERATOR, display_name="Morgan")
    assert not User.objects.filter(display_name="Morgan").exists()
    with pytest.raises(CommandError, match="looks like"):
        call_command(
            "create_account",
            "--username",
            "mo",
            "--password",
            "a-long-password-1",
            "--role",
            "supervisor",
            "--display-name",
            "MORGAN",
        )


def test_the_check_for_a_role_change_compares_her_name_with_everyone_elses(make_user):
    """What a supervisor's role change must ask before making a member staff."""
    candidate = make_user(display_name="Morgan")
    make_user(display_name="Morgan.")  # fine while both are members
    with pytest.raises(AccountError, match="looks like “Morgan.”"):
        check_display_name(candidate.display_name, role=Role.MODERATOR, exclude_user=candidate)
    assert (
        check_display_name(candidate.display_name, role=Role.MEMBER, exclude_user=candidate)
        == "Morgan"
    )


def test_an_existing_staff_member_keeps_her_own_name(moderator):
    assert check_display_name("Morgan", role=Role.MODERATOR, exclude_user=moderator) == "Morgan"


@pytest.mark.parametrize(
    "name", ["Former member 7", "former  MEMBER", "Formerrnember 12", "F0rmer member"]
)
def test_the_erased_accounts_pseudonym_is_reserved(name):
    with pytest.raises(AccountError, match="Former member"):
        check_display_name(name)


def test_a_member_cannot_block_anothers_erasure_by_taking_her_future_name(make_user, supervisor):
    member = make_user()
    with pytest.raises(AccountError):
        make_user(display_name=f"Former member {member.pk}")
    do_erase_account(member, acting_user=supervisor)
    member.refresh_from_db()
    assert member.display_name == f"Former member {member.pk}"


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        ("Morgan", "\u041corgan", True),
        ("Sam", "S.A.M", True),
        ("Cleo", "C1eo", True),
        ("Amara", "Amira", False),
        ("Bea", "Bee", False),
        ("Rowan", "Rowen", False),
    ],
)
def test_names_look_alike(a, b, alike):
    assert names_look_alike(a, b) is alike
