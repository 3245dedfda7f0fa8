"""`purge_expired` removes exactly the message text past the retention period: not newer text,
not text still under review, and it keeps anonymous counts for analytics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from chat.models import Message, MessageRevision
from moderation.actions import do_purge_expired
from moderation.models import AuditEntry, DailyCount, Flag, Report


@pytest.fixture
def old_and_new(member, other_member, moderator, newborn_room, make_message, make_flag):  # noqa: ANN001, ANN201
    now = timezone.now()
    old = now - timedelta(days=400)
    plain = make_message(newborn_room, member, "old and ordinary words", created_at=old)
    MessageRevision.objects.create(
        message=plain, revision=0, body="old first draft", replaced_at=old
    )
    under_review = make_message(
        newborn_room,
        other_member,
        "old words still under review",
        created_at=old + timedelta(minutes=1),
    )
    open_flag = make_flag(under_review, state="open")
    resolved = make_message(
        newborn_room,
        other_member,
        "old words already judged",
        created_at=old + timedelta(minutes=2),
        state="hidden",
    )
    resolved_flag = make_flag(
        resolved,
        state="resolved",
        resolution="hidden",
        resolved_by=moderator,
        resolved_at=old + timedelta(hours=1),
        first_action_at=old + timedelta(minutes=5),
    )
    Report.objects.create(
        flag=resolved_flag, reporter=member, reason="she said old words already judged"
    )
    just_inside = make_message(
        newborn_room,
        member,
        "kept: just inside the period",
        created_at=now - timedelta(days=365) + timedelta(hours=1),
    )
    just_outside = make_message(
        newborn_room,
        member,
        "gone: just outside the period",
        created_at=now - timedelta(days=365) - timedelta(hours=1),
    )
    recent = make_message(newborn_room, member, "recent words", created_at=now - timedelta(days=3))
    return {
        "plain": plain,
        "under_review": under_review,
        "open_flag": open_flag,
        "resolved": resolved,
        "resolved_flag": resolved_flag,
        "just_inside": just_inside,
        "just_outside": just_outside,
        "recent": recent,
        "old_day": timezone.localtime(old).date(),
    }


def _reload(m: Message) -> Message:
    return Message.objects.get(pk=m.pk)


@pytest.mark.django_db
def test_purge_removes_exactly_the_expired_text(
    old_and_new, member, other_member, newborn_room, settings
) -> None:  # noqa: ANN001
    settings.MESSAGE_RETENTION_DAYS = 365
    call_command("purge_expired", stdout=open("/dev/null", "w"))  # noqa: SIM115
    d = old_and_new

    for gone in (d["plain"], d["resolved"], d["just_outside"]):
        m = _reload(gone)
        assert (m.body, m.html, m.author_id) == ("", "", None), gone.body
    assert not MessageRevision.objects.filter(message=d["plain"]).exists()
    # The resolved queue item stays for analytics, without the words it quoted.
    flag = Flag.objects.get(pk=d["resolved_flag"].pk)
    assert (flag.category, flag.resolution, flag.first_action_at) == (
        "toxic",
        "hidden",
        d["resolved_flag"].first_action_at,
    )
    assert all("span" not in r for r in flag.reasons) and flag.reasons[0]["rule"] == "abuse.insult"
    assert Report.objects.get(flag=flag).reason == ""
    assert _reload(d["resolved"]).state == "hidden"

    # Kept: under review, and everything newer than the period.
    kept = _reload(d["under_review"])
    assert (kept.body, kept.author_id) == ("old words still under review", other_member.pk)
    assert "span" in Flag.objects.get(pk=d["open_flag"].pk).reasons[0]
    for newer in (d["just_inside"], d["recent"]):
        assert _reload(newer).body == newer.body and _reload(newer).author_id == member.pk

    # Anonymous counts kept: two purged that day, by two members (counted while all three
    # messages of the day still had their authors), one of them flagged and hidden.
    count = DailyCount.objects.get(day=d["old_day"], room=newborn_room)
    assert (count.messages, count.authors, count.flagged, count.hidden) == (2, 2, 1, 1)
    entry = AuditEntry.objects.get(action="retention.purged")
    assert (
        entry.actor is None
        and entry.after["messages"] == 3
        and entry.after["kept_under_review"] == 1
    )


@pytest.mark.django_db
def test_purge_is_idempotent_and_takes_items_once_resolved(old_and_new, newborn_room) -> None:  # noqa: ANN001
    d = old_and_new
    first = do_purge_expired(retention_days=365)
    again = do_purge_expired(retention_days=365)
    assert (first.messages, again.messages) == (3, 0)
    assert AuditEntry.objects.filter(action="retention.purged").count() == 1

    Flag.objects.filter(pk=d["open_flag"].pk).update(
        state="resolved", resolution="dismissed", resolved_at=timezone.now()
    )
    later = do_purge_expired(retention_days=365)
    assert later.messages == 1
    assert _reload(d["under_review"]).body == ""
    count = DailyCount.objects.get(day=d["old_day"], room=newborn_room)
    assert (count.messages, count.authors, count.flagged) == (3, 2, 2)


@pytest.mark.django_db
def test_dry_run_changes_nothing(old_and_new) -> None:  # noqa: ANN001
    result = do_purge_expired(retention_days=365, dry_run=True)
    assert result.messages == 3
    assert _reload(old_and_new["plain"]).body == "old and ordinary words"
    assert (
        not DailyCount.objects.exists()
        and not AuditEntry.objects.filter(action="retention.purged").exists()
    )


@pytest.mark.django_db
def test_analytics_keep_counting_purged_days(old_and_new, supervisor, newborn_room) -> None:  # noqa: ANN001
    from moderation.supervision.selectors import DateRange, _room_activity

    day = old_and_new["old_day"]
    before = next(r for r in _room_activity(DateRange(day, day)) if r["room"] == newborn_room)
    do_purge_expired(retention_days=365)
    after = next(r for r in _room_activity(DateRange(day, day)) if r["room"] == newborn_room)
    assert before["messages"] == after["messages"] == 3
    assert before["posters_per_day"] == after["posters_per_day"] == 2


@pytest.mark.django_db
def test_retention_must_be_positive() -> None:
    with pytest.raises(ValueError):
        do_purge_expired(retention_days=0)
