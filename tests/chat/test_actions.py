from __future__ import annotations

import threading

import pytest
from django.db import connection

from chat.actions import check_send_message, do_send_message
from chat.errors import ChatError
from chat.models import Message, Room

pytestmark = pytest.mark.django_db


def test_sequence_numbers_are_per_room_and_start_at_one(member):
    newborn = Room.objects.get(slug="newborn")
    feeding = Room.objects.get(slug="feeding")
    a = do_send_message(author=member, room=newborn, client_id="seq-000001", body="one")
    b = do_send_message(author=member, room=feeding, client_id="seq-000002", body="two")
    c = do_send_message(author=member, room=newborn, client_id="seq-000003", body="three")
    assert (a.seq, b.seq, c.seq) == (1, 1, 2)


def test_body_is_trimmed_and_control_characters_dropped(member):
    room = Room.objects.get(slug="newborn")
    message, created = check_send_message(
        author=member, room=room, client_id="trim-00001", body="  hi\x00 there \n\n\n\n\nbye  "
    )
    assert created
    assert message.body == "hi there\n\n\nbye"


def test_member_cannot_post_into_another_stage_room(member):
    room = Room.objects.get(slug="pregnancy")
    with pytest.raises(ChatError) as exc:
        check_send_message(author=member, room=room, client_id="forb-00001", body="hello")
    assert exc.value.code == "forbidden"
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_get_gap_free_unique_sequence_numbers(make_user, settings):
    settings.CHAT_RATE_LIMIT_COUNT = 1000
    room = Room.objects.get(slug="newborn")
    authors = [make_user() for _ in range(4)]
    errors: list[BaseException] = []

    def sender(author, n):  # noqa: ANN001
        try:
            for i in range(15):
                check_send_message(
                    author=author, room=room, client_id=f"conc-{n}-{i:04d}", body=f"{n}:{i}"
                )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, args=(a, n)) for n, a in enumerate(authors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = sorted(Message.objects.filter(room=room).values_list("seq", flat=True))
    assert seqs == list(range(1, 61))
    assert Room.objects.get(pk=room.pk).last_seq == 60
