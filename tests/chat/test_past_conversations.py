"""Changing stage keeps her past conversations (issue 21): the stage room she leaves becomes read
only up to when she left; she cannot post there or see anything newer; the stage page says what
changes and asks before it changes anything."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.actions import do_change_stage
from chat import actions
from chat.errors import ChatError
from chat.models import Membership, Room
from moderation.models import AuditEntry

pytestmark = pytest.mark.django_db


def say(user, room, text, *, note=""):  # noqa: ANN001, ANN201
    message, _ = actions.check_send_message(
        author=user,
        room=room,
        client_id=f"c{abs(hash((user.pk, text))) % 10**12:012d}",
        body=text,
        content_note=note or None,
    )
    return message


@pytest.fixture
def supported_then_moved(member, other_member, newborn_room, client):  # noqa: ANN001, ANN201
    """Amara disclosed in the newborn room, Bea answered; then Amara moved to the baby stage and
    Bea wrote again."""
    say(member, newborn_room, "I cried the whole night and I don't know why")
    say(other_member, newborn_room, "You're not alone, I had weeks like that")
    client.force_login(member)
    response = client.post(reverse("change_stage"), {"stage": "baby", "confirm": "yes"})
    assert response.status_code == 302
    say(other_member, newborn_room, "A new conversation for newborn mums only")
    return client


def test_the_stage_page_says_what_changes_and_changes_nothing_before_she_confirms(client, member):  # noqa: ANN001
    client.force_login(member)
    page = client.get(reverse("change_stage")).content.decode()
    assert "You keep reading your past conversations in your old stage room" in page
    response = client.post(reverse("change_stage"), {"stage": "baby"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Change your stage to Baby (3–12 months)?" in text
    assert "Your past conversations there stay for you to read" in text
    assert "Newborn (0–3 months)" in text
    member.refresh_from_db()
    assert member.stage == "newborn"
    assert not AuditEntry.objects.filter(action="account.stage_changed").exists()


def test_she_reads_her_past_conversation_but_nothing_newer(supported_then_moved, member):  # noqa: ANN001
    client = supported_then_moved
    page = client.get(reverse("room", args=["newborn"]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "You changed your stage to Baby (3–12 months)" in text
    assert "I cried the whole night" in text
    assert "You&#x27;re not alone, I had weeks like that" in text
    assert "A new conversation for newborn mums only" not in text
    assert 'id="composer"' not in text  # nothing to post with

    # The history API answers the same, capped where she left.
    api = client.get(reverse("history_api", args=["newborn"])).json()
    bodies = [m["body"] for m in api["messages"]]
    assert bodies[-1] == "You're not alone, I had weeks like that"
    assert "A new conversation for newborn mums only" not in bodies

    rooms = client.get(reverse("rooms")).content.decode()
    assert "Your past conversations: read only" in rooms
    assert 'href="/rooms/newborn/"' in rooms


def test_she_cannot_post_in_the_room_she_left(supported_then_moved, member, newborn_room):  # noqa: ANN001
    member.refresh_from_db()
    with pytest.raises(ChatError) as refused:
        say(member, newborn_room, "Can I still write here?")
    assert refused.value.code == "forbidden"


def test_coming_back_to_the_stage_makes_the_room_hers_again(supported_then_moved, member):  # noqa: ANN001
    membership = Membership.objects.get(user=member, room__slug="newborn")
    assert membership.read_only_until_seq is not None
    member.refresh_from_db()
    do_change_stage(member, "newborn", acting_user=member)
    membership.refresh_from_db()
    assert membership.read_only_until_seq is None
    assert supported_then_moved.get(reverse("room", args=["newborn"])).status_code == 200
    # And the baby room, never joined, has nothing to keep.
    assert not Membership.objects.filter(user=member, room__slug="baby").exists()


def test_a_room_she_never_joined_stays_closed(client, pregnant_member):  # noqa: ANN001
    client.force_login(pregnant_member)
    assert client.get(reverse("room", args=["newborn"])).status_code == 403
    assert client.get(reverse("history_api", args=["newborn"])).status_code == 403
    assert Room.objects.filter(slug="newborn").exists()


def test_folded_notes_stay_folded_on_the_past_page(member, other_member, newborn_room, client):  # noqa: ANN001
    say(member, newborn_room, "Hello everyone")
    say(other_member, newborn_room, "The forceps delivery still haunts me", note="birth_trauma")
    do_change_stage(member, "baby", acting_user=member)
    client.force_login(member)
    text = client.get(reverse("room", args=["newborn"])).content.decode()
    assert '<details class="cn-fold">' in text
    assert "Content note: Birth trauma. Tap to read" in text
