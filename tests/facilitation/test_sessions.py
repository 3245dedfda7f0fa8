"""Scheduling facilitated sessions: who may, what is audited, what members see, and the HTTP
role checks on the supervisor pages and the facilitator API."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from chat.models import Room
from moderation.facilitation.actions import (
    FacilitationError,
    SessionFields,
    do_cancel_session,
    do_create_session,
    do_save_prompt_template,
    do_update_session,
)
from moderation.facilitation.models import FacilitatedSession, PromptRecord, PromptTemplate
from moderation.facilitation.runtime import load_library
from moderation.facilitation.selectors import upcoming_sessions, upcoming_sessions_by_room
from moderation.models import AuditEntry

pytestmark = pytest.mark.django_db


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return timezone.make_aware(datetime(y, m, d, h, mi))


@pytest.fixture
def room() -> Room:
    return Room.objects.get(slug="newborn")


def fields(room: Room, facilitators: list, **kw) -> SessionFields:
    start = kw.pop("starts_at", timezone.now() + timedelta(days=1))
    return SessionFields(
        room=room,
        title=kw.pop("title", "Sleep and night wakings"),
        focus=kw.pop("focus", "Sharing what helps with broken nights."),
        starts_at=start,
        ends_at=kw.pop("ends_at", start + timedelta(hours=1)),
        facilitators=facilitators,
        **kw,
    )


def test_a_supervisor_schedules_a_session_and_it_is_audited(supervisor, moderator, room):
    session = do_create_session(fields(room, [moderator]), acting_user=supervisor)
    assert list(session.facilitators.all()) == [moderator]
    entry = AuditEntry.objects.get(action="session.create")
    assert entry.actor == supervisor and entry.room == room
    assert entry.after["title"] == "Sleep and night wakings" and entry.after["facilitators"] == [
        moderator.pk
    ]


@pytest.mark.parametrize("who", ["member", "moderator"])
def test_only_supervisors_schedule_edit_or_cancel(who, request, supervisor, moderator, room):
    actor = request.getfixturevalue(who)
    with pytest.raises(FacilitationError) as refused:
        do_create_session(fields(room, [moderator]), acting_user=actor)
    assert refused.value.code == "forbidden"
    session = do_create_session(fields(room, [moderator]), acting_user=supervisor)
    with pytest.raises(FacilitationError):
        do_update_session(session.pk, fields(room, [moderator], title="Changed"), acting_user=actor)
    with pytest.raises(FacilitationError):
        do_cancel_session(session.pk, acting_user=actor)
    session.refresh_from_db()
    assert session.title == "Sleep and night wakings" and session.cancelled_at is None
    assert AuditEntry.objects.filter(action__startswith="session.").count() == 1


def test_facilitators_must_be_moderators_and_times_must_make_sense(
    supervisor, member, moderator, room
):
    with pytest.raises(FacilitationError, match="not a moderator"):
        do_create_session(fields(room, [member]), acting_user=supervisor)
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(FacilitationError, match="at most 4 hours"):
        do_create_session(
            fields(room, [moderator], starts_at=start, ends_at=start + timedelta(hours=9)),
            acting_user=supervisor,
        )
    assert not FacilitatedSession.objects.exists()


def test_update_records_before_and_after(supervisor, moderator, room):
    session = do_create_session(fields(room, [moderator]), acting_user=supervisor)
    do_update_session(
        session.pk, fields(room, [moderator, supervisor], title="Nights"), acting_user=supervisor
    )
    entry = AuditEntry.objects.get(action="session.update")
    assert entry.before["title"] == "Sleep and night wakings" and entry.after["title"] == "Nights"
    assert entry.after["facilitators"] == sorted([moderator.pk, supervisor.pk])


def test_weekly_sessions_keep_local_time_across_the_clock_change_and_run_through_holidays(
    supervisor, moderator, room
):
    # Tuesday 20 October 2026, 10am BST; the clocks go back on 25 October.
    session = do_create_session(
        fields(
            room,
            [moderator],
            starts_at=local(2026, 10, 20, 10),
            ends_at=local(2026, 10, 20, 11),
            weekly=True,
        ),
        acting_user=supervisor,
    )
    meetings = list(session.occurrences(after=local(2026, 10, 19, 0), before=local(2026, 11, 4, 0)))
    assert [timezone.localtime(o.starts_at).strftime("%a %d %H:%M") for o in meetings] == [
        "Tue 20 10:00",
        "Tue 27 10:00",
        "Tue 03 10:00",
    ]
    # Half term (week of 26 October) is not skipped unless a supervisor cancels it.
    do_cancel_session(
        session.pk, acting_user=supervisor, on_date=date(2026, 10, 27), reason="half term"
    )
    session = FacilitatedSession.objects.get(pk=session.pk)
    meetings = list(session.occurrences(after=local(2026, 10, 19, 0), before=local(2026, 11, 4, 0)))
    assert [o.local_date for o in meetings] == [date(2026, 10, 20), date(2026, 11, 3)]
    entry = AuditEntry.objects.get(action="session.cancel_occurrence")
    assert entry.after["date"] == "2026-10-27" and entry.reason == "half term"
    with pytest.raises(FacilitationError, match="does not meet"):
        do_cancel_session(session.pk, acting_user=supervisor, on_date=date(2026, 10, 28))


def test_members_see_upcoming_sessions_and_not_cancelled_ones(supervisor, moderator, room):
    soon = do_create_session(fields(room, [moderator], title="Soon"), acting_user=supervisor)
    later = do_create_session(
        fields(room, [moderator], title="Later", starts_at=timezone.now() + timedelta(days=3)),
        acting_user=supervisor,
    )
    assert [s["title"] for s in upcoming_sessions(room)] == ["Soon", "Later"]
    assert [s["title"] for s in upcoming_sessions_by_room()["newborn"]] == ["Soon", "Later"]
    do_cancel_session(soon.pk, acting_user=supervisor, reason="facilitator ill")
    assert [s["title"] for s in upcoming_sessions(room)] == ["Later"]
    assert AuditEntry.objects.filter(action="session.cancel").count() == 1
    assert later.pk


def test_prompt_texts_are_data_supervisors_edit_and_typos_are_refused_on_save(
    supervisor, moderator
):
    assert PromptTemplate.objects.filter(signal="opening").count() >= 3  # seeded by the migration
    with pytest.raises(FacilitationError, match="nmae"):
        do_save_prompt_template(
            template_id=None,
            signal="newcomer",
            topic="",
            text="Hi {nmae}!",
            position=0,
            is_active=True,
            acting_user=supervisor,
        )
    with pytest.raises(FacilitationError):
        do_save_prompt_template(
            template_id=None,
            signal="newcomer",
            topic="",
            text="Hi {name}!",
            position=0,
            is_active=True,
            acting_user=moderator,
        )
    for t in PromptTemplate.objects.filter(signal="newcomer"):
        do_save_prompt_template(
            template_id=t.pk,
            signal="newcomer",
            topic="",
            text=t.text,
            position=t.position,
            is_active=False,
            acting_user=supervisor,
        )
    do_save_prompt_template(
        template_id=None,
        signal="newcomer",
        topic="",
        text="Hello {name}, welcome in.",
        position=0,
        is_active=True,
        acting_user=supervisor,
    )
    assert load_library().variants("newcomer") == ("Hello {name}, welcome in.",)
    assert AuditEntry.objects.filter(action="facilitation.prompt_template_saved").count() >= 2


# --- HTTP ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "moderator"])
def test_supervisor_pages_refuse_everyone_else(who, request, client, moderator, room, supervisor):
    client.force_login(request.getfixturevalue(who))
    session = do_create_session(fields(room, [moderator]), acting_user=supervisor)
    assert client.get("/supervisor/sessions/").status_code == 403
    assert client.get("/supervisor/sessions/new/").status_code == 403
    assert client.post(f"/supervisor/sessions/{session.pk}/cancel/", {}).status_code == 403
    assert client.get("/supervisor/prompts/").status_code == 403
    session.refresh_from_db()
    assert session.cancelled_at is None


def test_a_supervisor_schedules_through_the_form(client, supervisor, moderator, room):
    client.force_login(supervisor)
    page = client.get("/supervisor/sessions/new/")
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    day = (timezone.localtime() + timedelta(days=2)).date()
    response = client.post(
        "/supervisor/sessions/new/",
        {
            "room": room.pk,
            "title": "Back to work",
            "focus": "Going back to work after maternity leave",
            "topic": "return-to-work",
            "date": day.isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
            "weekly": "on",
            "facilitators": [moderator.pk],
        },
    )
    assert response.status_code == 302
    session = FacilitatedSession.objects.get()
    assert timezone.localtime(session.starts_at).hour == 10 and session.weekly
    assert client.get("/supervisor/sessions/").status_code == 200
    bad = client.post(
        "/supervisor/sessions/new/",
        {
            "room": room.pk,
            "title": "x",
            "focus": "y",
            "date": day.isoformat(),
            "start_time": "11:00",
            "end_time": "10:00",
            "facilitators": [moderator.pk],
        },
    )
    assert bad.status_code == 400 and FacilitatedSession.objects.count() == 1


def test_members_see_a_rooms_sessions_on_the_room_list_and_the_room_page(
    client, member, supervisor, moderator, room
):
    """chat renders them through its `room.sessions` slot, which moderation fills."""
    do_create_session(
        fields(room, [moderator], title="Nights <b>together</b>"), acting_user=supervisor
    )
    client.force_login(member)
    for url in ("/rooms/", f"/rooms/{room.slug}/"):
        page = client.get(url).content.decode()
        assert "Facilitated session" in page and "Nights &lt;b&gt;together&lt;/b&gt;" in page, url


def test_sessions_api_lists_a_rooms_upcoming_sessions_for_members(
    client, member, pregnant_member, supervisor, moderator, room
):
    do_create_session(fields(room, [moderator], title="Nights"), acting_user=supervisor)
    client.force_login(member)
    data = client.get("/api/facilitation/sessions?room=newborn").json()
    assert [s["title"] for s in data["sessions"]] == ["Nights"]
    assert data["sessions"][0]["facilitators"] == ["Morgan"]
    client.force_login(pregnant_member)
    assert client.get("/api/facilitation/sessions?room=newborn").status_code == 403


def _shown_prompt(session: FacilitatedSession) -> PromptRecord:
    return PromptRecord.objects.create(
        session=session,
        occurrence_start=session.starts_at,
        t=0.0,
        signal="opening",
        text="Hello everyone, and welcome.",
        reason="session is starting",
        shown_at=timezone.now(),
    )


@pytest.mark.parametrize("who", ["member", "other_moderator"])
def test_only_a_facilitator_of_the_session_may_send_or_dismiss_its_prompts(
    who, request, client, make_user, moderator, supervisor, room
):
    from accounts.models import Role

    actor = (
        make_user(role=Role.MODERATOR)
        if who == "other_moderator"
        else request.getfixturevalue("member")
    )
    session = do_create_session(
        fields(room, [moderator], starts_at=timezone.now() - timedelta(minutes=1)),
        acting_user=supervisor,
    )
    prompt = _shown_prompt(session)
    client.force_login(actor)
    assert (
        client.post(
            f"/api/facilitation/prompts/{prompt.pk}/send", {}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.post(f"/api/facilitation/prompts/{prompt.pk}/dismiss").status_code == 403
    prompt.refresh_from_db()
    assert prompt.state == "shown"
    client.force_login(moderator)
    response = client.post(
        f"/api/facilitation/prompts/{prompt.pk}/send",
        {"text": "Hello all, welcome!"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["prompt"]["edited"] is True
    again = client.post(f"/api/facilitation/prompts/{prompt.pk}/dismiss")
    assert again.status_code == 409


def test_prompt_api_needs_the_csrf_token(moderator, supervisor, room):
    from django.test import Client

    session = do_create_session(
        fields(room, [moderator], starts_at=timezone.now() - timedelta(minutes=1)),
        acting_user=supervisor,
    )
    prompt = _shown_prompt(session)
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    assert client.post(f"/api/facilitation/prompts/{prompt.pk}/dismiss").status_code == 403
    prompt.refresh_from_db()
    assert prompt.state == "shown"
