"""Issue 21, smaller: what the pages say and where their controls are (the browser tests check the
layout; these check the markup every page is served with)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_stage_picker_has_no_silent_default(client) -> None:  # noqa: ANN001
    page = client.get(reverse("signup")).content.decode()
    select = re.search(r'<select name="stage".*?</select>', page, re.S).group(0)
    first = re.search(r"<option[^>]*>([^<]*)</option>", select)
    assert first.group(1) == "Choose one…" and 'value=""' in first.group(0)
    assert "selected" not in select.split("</option>")[1]
    answer = client.post(
        reverse("signup"),
        {
            "username": "owl-at-night",
            "display_name": "NightOwl",
            "password": "tea-and-toast-2026",
            "adult": "on",
            "guidelines": "on",
        },
    )
    assert answer.status_code == 400  # the form again, with its errors
    assert "Choose where you are now, so we can open the right room." in answer.content.decode()
    assert not User.objects.filter(username="owl-at-night").exists()


def test_quick_exit_is_inside_the_banner_landmark(member) -> None:  # noqa: ANN001
    page = logged_in(member).get(reverse("rooms")).content.decode()
    header = re.search(r'<header class="site-header">.*?</header>', page, re.S).group(0)
    assert 'id="quick-exit"' in header
    assert page.count('id="quick-exit"') == 1


def test_the_room_has_a_skip_link_to_the_message_box(member) -> None:  # noqa: ANN001
    page = logged_in(member).get(reverse("room", args=["newborn"])).content.decode()
    assert '<a class="skip-link" href="#composer-input">Skip to writing a message</a>' in page
    assert 'id="composer-input"' in page


def test_an_empty_room_is_not_shown_with_a_green_dot(member) -> None:  # noqa: ANN001
    page = logged_in(member).get(reverse("rooms")).content.decode()
    assert "0 online" not in page
    assert '<span class="room-online is-empty">Nobody here right now</span>' in page


def test_sessions_pages_have_the_supervisor_navigation(supervisor) -> None:  # noqa: ANN001
    client = logged_in(supervisor)
    for name, current in (
        ("facilitation_sessions", "Sessions"),
        ("facilitation_session_new", "Sessions"),
        ("facilitation_prompts", "Prompts"),
    ):
        page = client.get(reverse(name)).content.decode()
        nav = re.search(r'<nav class="sup-nav" aria-label="Supervision">.*?</nav>', page, re.S)
        assert nav, name
        marked = re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', nav.group(0))
        assert marked == [current], name


def test_the_help_page_does_not_promise_day_and_night_for_every_service(client) -> None:  # noqa: ANN001
    page = client.get(reverse("help")).content.decode()
    assert "finding things hard, day and night" not in page
    assert "each one below shows when it is open" in page
