"""The mute check before every send (moderation.selectors.active_mute) runs its own SQL: it must
agree with the clock, lifting and the room, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.actions import check_send_message
from chat.errors import ChatError
from chat.models import Room
from moderation.models import Mute
from moderation.selectors import active_mute

pytestmark = pytest.mark.django_db


def test_a_mute_holds_until_its_end_in_its_own_room_only(member, moderator) -> None:
    room, other_room = Room.objects.get(slug="newborn"), Room.objects.get(slug="feeding")
    assert active_mute(member, room) is None
    now = timezone.now()
    Mute.objects.create(
        user=member, room=room, until=now - timedelta(seconds=1), created_by=moderator
    )  # over
    assert active_mute(member, room) is None
    soon = Mute.objects.create(
        user=member, room=room, until=now + timedelta(minutes=5), created_by=moderator
    )
    later = Mute.objects.create(
        user=member, room=room, until=now + timedelta(hours=2), created_by=moderator
    )
    assert active_mute(member, room) == later  # the one that ends last
    assert active_mute(member, other_room) is None
    later.lifted_at = now
    later.save()
    assert active_mute(member, room) == soon
    soon.lifted_at = now
    soon.save()
    assert active_mute(member, room) is None


def test_a_muted_member_is_told_until_when_and_a_resend_of_what_she_sent_before_is_still_acknowledged(
    member, moderator
) -> None:
    room = Room.objects.get(slug="newborn")
    sent, created = check_send_message(
        author=member, room=room, client_id="before-mute-1", body="hello all"
    )
    assert created
    until = timezone.now() + timedelta(minutes=30)
    Mute.objects.create(user=member, room=room, until=until, created_by=moderator)
    with pytest.raises(ChatError) as err:
        check_send_message(author=member, room=room, client_id="after-mute-1", body="hello?")
    assert err.value.code == "muted"
    again, created = check_send_message(
        author=member, room=room, client_id="before-mute-1", body="hello all"
    )
    assert (again.pk, created) == (sent.pk, False)
