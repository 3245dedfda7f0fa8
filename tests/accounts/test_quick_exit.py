"""Quick exit ends the session on the server (issue 21): the beacon endpoint, its CSRF check, and
no-store on every signed-in page so Back cannot show a stored copy."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def _signed_in_csrf_client(user: User) -> tuple[Client, str]:
    """Signed in, with the token the page's Quick exit link carries for the beacon."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(reverse("rooms")).content.decode()
    found = re.search(r'data-end-session="/accounts/quick-exit/" data-csrf="([^"]+)"', page)
    assert found, "the Quick exit link must carry the beacon's endpoint and token"
    return client, found.group(1)


def test_quick_exit_beacon_ends_the_session(member):
    client, token = _signed_in_csrf_client(member)

    response = client.post(reverse("quick_exit"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 204
    assert response["Clear-Site-Data"] == '"cache"'
    # What Back would load now needs a fresh login.
    after = client.get(reverse("rooms"))
    assert after.status_code == 302 and after.url.startswith(reverse("login"))


def test_quick_exit_refuses_a_post_without_the_pages_token(member):
    client, _token = _signed_in_csrf_client(member)
    assert client.post(reverse("quick_exit")).status_code == 403
    # Another site cannot log her out: she is still signed in.
    assert client.get(reverse("rooms")).status_code == 200
    assert client.get(reverse("quick_exit")).status_code == 405


def test_quick_exit_when_already_logged_out_is_quiet(client):
    assert client.post(reverse("quick_exit")).status_code == 204


def test_signed_in_pages_are_not_stored_but_public_pages_may_be(client, member):
    assert "Cache-Control" not in client.get(reverse("help"))
    client.force_login(member)
    for name in ("rooms", "member_settings", "help", "unread_api"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"], name
    # A view's own choice stands (the data download sets its own).
    assert "no-store" in client.post(reverse("download_my_data"))["Cache-Control"]
