"""Every supervisor page refuses members and moderators (403, logged) and sends anonymous
visitors to log in; supervisors get in."""

from __future__ import annotations

import logging

import pytest
from django.urls import URLPattern, get_resolver, reverse

from moderation.supervision import urls as supervision_urls

ARGS = {"message_id": 1, "flag_id": 1, "room_id": 1, "helpline_id": 1, "user_id": 1, "fmt": "csv"}
POST_ONLY = {
    "supervisor_review_flag",
    "supervisor_room_thresholds",
    "supervisor_helpline_verified",
    "supervisor_person_role",
    "supervisor_person_erase",
}


def _routes() -> list[tuple[str, str]]:
    out = []
    for pattern in supervision_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        kwargs = {
            k: v
            for k, v in ARGS.items()
            if f"<{k}>" in str(pattern.pattern) or f":{k}>" in str(pattern.pattern)
        }
        method = "post" if pattern.name in POST_ONLY else "get"
        out.append((pattern.name, reverse(pattern.name, kwargs=kwargs), method))
    return out


ROUTES = _routes()


def test_every_supervision_route_is_covered() -> None:
    assert {name for name, _, _ in ROUTES} == {p.name for p in supervision_urls.urlpatterns}
    assert len(ROUTES) >= 15
    # Included once, at the root (config/urls.py).
    assert get_resolver().resolve("/supervisor/").url_name == "supervisor_home"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["member", "moderator"])
@pytest.mark.parametrize(("name", "url", "method"), ROUTES, ids=[r[0] for r in ROUTES])
def test_members_and_moderators_are_refused(
    role, name, url, method, make_user, client_for, caplog
) -> None:  # noqa: ANN001
    user = make_user(role=role)
    client = client_for(user)
    with caplog.at_level(logging.WARNING, logger="kindred.access"):
        response = getattr(client, method)(url)
    assert response.status_code == 403
    assert "isn't available to you" in response.content.decode()
    assert any(url in r.getMessage() and f"role {role}" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url", "method"), ROUTES, ids=[r[0] for r in ROUTES])
def test_anonymous_visitors_are_sent_to_log_in(client, name, url, method) -> None:  # noqa: ANN001
    response = getattr(client, method)(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_suspended_supervisor_is_refused(supervisor, client_for) -> None:  # noqa: ANN001
    client = client_for(supervisor)
    supervisor.suspended_at = supervisor.date_joined
    supervisor.save(update_fields=["suspended_at"])
    assert client.get("/supervisor/audit/").status_code in (302, 403)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "url", "method"),
    [r for r in ROUTES if r[2] == "get"],
    ids=[r[0] for r in ROUTES if r[2] == "get"],
)
def test_supervisors_get_every_page(
    name, url, method, supervisor, client_for, make_message, newborn_room, member
) -> None:  # noqa: ANN001
    from moderation.models import Helpline

    make_message(newborn_room, member, "hello")  # message 1 may not be id 1 on PostgreSQL
    from chat.models import Message

    message = Message.objects.first()
    url = url.replace("/messages/1/", f"/messages/{message.pk}/")
    url = url.replace("/rooms/1/", f"/rooms/{newborn_room.pk}/")
    url = url.replace("/helplines/1/", f"/helplines/{Helpline.objects.first().pk}/")
    response = client_for(supervisor).get(url)
    assert response.status_code == 200, (url, response.status_code)
    if not response.streaming:
        body = response.content.decode()
        # Strict CSP: no inline script or style anywhere on these pages.
        assert "<script>" not in body and " style=" not in body and "<style" not in body
