from __future__ import annotations

from datetime import UTC

import pytest
from django.urls import reverse

from chat.actions import do_send_message
from chat.models import Room

pytestmark = pytest.mark.django_db


def test_room_list_shows_own_stage_room_first_and_other_stages_locked(client, member):
    client.force_login(member)
    rooms = client.get(reverse("rooms")).context["rooms"]
    assert rooms[0]["slug"] == "newborn"
    by_slug = {r["slug"]: r for r in rooms}
    assert by_slug["pregnancy"]["can_join"] is False
    assert by_slug["feeding"]["can_join"] is True


def test_room_page_needs_login(client):
    response = client.get(reverse("room", args=["newborn"]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_room_page_carries_config_for_the_client_without_inline_script(client, member):
    client.force_login(member)
    html = client.get(reverse("room", args=["newborn"])).content.decode()
    assert 'id="chat-config" type="application/json"' in html
    assert "/ws/rooms/newborn/" in html


def test_pages_send_a_content_security_policy(client, member):
    client.force_login(member)
    csp = client.get(reverse("rooms"))["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_history_api_pages_backwards_by_sequence_number(client, member):
    room = Room.objects.get(slug="newborn")
    for i in range(1, 8):
        do_send_message(author=member, room=room, client_id=f"api-{i:05d}", body=f"m{i}")
    client.force_login(member)
    first = client.get("/api/rooms/newborn/messages?limit=3").json()
    assert [m["seq"] for m in first["messages"]] == [5, 6, 7]
    second = client.get(f"/api/rooms/newborn/messages?before={first['next_before']}&limit=3").json()
    assert [m["seq"] for m in second["messages"]] == [2, 3, 4]
    third = client.get(f"/api/rooms/newborn/messages?before={second['next_before']}&limit=3").json()
    assert [m["seq"] for m in third["messages"]] == [1]
    assert third["next_before"] is None


@pytest.mark.parametrize("query", ["before=abc", "limit=0", "limit=1000", "before=-4"])
def test_history_api_validates_its_parameters(client, member, query):
    client.force_login(member)
    response = client.get(f"/api/rooms/newborn/messages?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation"


def test_history_api_refuses_anonymous_and_other_stages(client, member):
    assert client.get("/api/rooms/newborn/messages").status_code == 401
    client.force_login(member)
    assert client.get("/api/rooms/pregnancy/messages").status_code == 403
    assert client.get("/api/rooms/nope/messages").status_code == 404


def test_healthz_reports_database_and_backlog(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] is True
    assert "moderation_backlog" in body


def test_history_api_shares_the_read_budget_with_resume(client, member, settings):
    settings.CHAT_READ_RATE_LIMIT_COUNT = 3
    from datetime import datetime
    from unittest import mock

    client.force_login(member)
    # Inside one fixed 10 s window, whatever the wall clock says.
    with mock.patch(
        "chat.actions.timezone.now", return_value=datetime(2026, 12, 6, 12, 0, 1, tzinfo=UTC)
    ):
        answers = [client.get("/api/rooms/newborn/messages?limit=5") for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused["Retry-After"]) >= 1
