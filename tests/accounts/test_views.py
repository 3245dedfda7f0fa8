from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "owl-at-night",
    "display_name": "NightOwl",
    "stage": "newborn",
    "password": "tea-and-toast-2026",
    "adult": "on",
    "guidelines": "on",
}


def test_signup_stores_confirmations_with_timestamps_and_logs_in(client):
    response = client.post(reverse("signup"), SIGNUP)
    # Her recovery codes come first (tests/accounts/test_recovery_codes.py), then the rooms.
    assert response.status_code == 302 and response.url == reverse("recovery_codes")
    user = User.objects.get(username="owl-at-night")
    assert user.adult_confirmed_at is not None and user.guidelines_accepted_at is not None
    assert user.first_name == "" and user.email == ""
    page = client.get(reverse("rooms"))
    assert "Newborn (0–3 months)" in page.content.decode()


@pytest.mark.parametrize("missing", ["adult", "guidelines"])
def test_signup_requires_18_plus_and_guidelines(client, missing):
    data = {k: v for k, v in SIGNUP.items() if k != missing}
    response = client.post(reverse("signup"), data)
    assert response.status_code == 400
    assert not User.objects.exists()
    assert "This field is required" in response.content.decode()


def test_signup_refuses_a_taken_display_name(client, member):
    response = client.post(
        reverse("signup"), {**SIGNUP, "display_name": member.display_name.upper()}
    )
    assert response.status_code == 400
    assert "taken" in response.content.decode()


def test_login_and_logout(client, member):
    member.set_password("right-password-1")
    member.save()
    response = client.post(
        reverse("login"), {"username": member.username, "password": "right-password-1"}
    )
    assert response.status_code == 302
    assert client.get(reverse("rooms")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("rooms")).status_code == 302


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "/\\/evil.example"]
)
def test_login_does_not_redirect_off_site(client, member, next_url):
    response = client.post(
        f"{reverse('login')}?next={next_url}",
        {"username": member.username, "password": "a-long-test-password-1"},
    )
    assert response.status_code == 302 and response.url == reverse("rooms")


def test_login_returns_to_the_page_she_asked_for(client, member):
    response = client.post(
        f"{reverse('login')}?next=/rooms/newborn/",
        {"username": member.username, "password": "a-long-test-password-1"},
    )
    assert response.status_code == 302 and response.url == "/rooms/newborn/"


def test_failed_logins_are_rate_limited(client, member, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    member.set_password("right-password-1")
    member.save()
    for _ in range(3):
        assert (
            client.post(
                reverse("login"), {"username": member.username, "password": "wrong"}
            ).status_code
            == 400
        )
    blocked = client.post(
        reverse("login"), {"username": member.username, "password": "right-password-1"}
    )
    assert blocked.status_code == 429
    assert "Too many attempts from here; try again in 5 seconds." in blocked.content.decode()
    assert blocked["Retry-After"] == "5"


def test_suspended_account_cannot_log_in(client, member):
    from django.utils import timezone

    member.set_password("right-password-1")
    member.suspended_at = timezone.now()
    member.save()
    response = client.post(
        reverse("login"), {"username": member.username, "password": "right-password-1"}
    )
    assert response.status_code == 400
    assert "suspended" in response.content.decode()


def test_a_wrong_password_does_not_reveal_a_suspension(client, member, other_member):
    """Anyone who knows a username used to learn that it was suspended (issue 17, item 8)."""
    from django.utils import timezone

    member.suspended_at = timezone.now()
    member.save()
    suspended = client.post(
        reverse("login"), {"username": member.username, "password": "a-wrong-guess-1"}
    )
    ordinary = client.post(
        reverse("login"), {"username": other_member.username, "password": "a-wrong-guess-1"}
    )
    assert suspended.status_code == ordinary.status_code == 400
    page = suspended.content.decode()
    assert "suspended" not in page
    assert "That username and password don&#x27;t match." in page
    assert suspended.context["form"].errors == ordinary.context["form"].errors


def test_change_stage_opens_the_new_stage_room(client, member):
    client.force_login(member)
    assert client.get(reverse("room", args=["baby"])).status_code == 403
    response = client.post(reverse("change_stage"), {"stage": "baby", "confirm": "yes"})
    assert response.status_code == 302
    assert client.get(reverse("room", args=["baby"])).status_code == 200
    assert client.get(reverse("room", args=["newborn"])).status_code == 403


def test_forms_are_csrf_protected(member):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("login"), {"username": "a", "password": "b"}).status_code == 403
    assert strict.post(reverse("signup"), SIGNUP).status_code == 403
