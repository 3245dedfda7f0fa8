"""What mothers do to messages and to each other: replies, reactions, edits, deletes, reports,
content notes, mute and block — as seen through the room socket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat.models import Message, MessageRevision, Room
from moderation.models import Flag
from tests.conftest import open_socket, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def join(user, slug="newborn"):  # noqa: ANN001, ANN201
    comm = await open_socket(user, f"/ws/rooms/{slug}/")
    assert (await comm.connect())[0]
    joined = await receive_until(comm, "room.joined")
    return comm, joined


async def say(comm, body, cid, **extra):  # noqa: ANN001, ANN003, ANN201
    await comm.send_json_to({"type": "message.send", "client_id": cid, "body": body, **extra})
    return (await receive_until(comm, "message.ack"))["message"]


async def test_reply_quotes_the_original(member, other_member):
    a, _ = await join(member)
    b, _ = await join(other_member)
    first = await say(a, "Does anyone else dread bedtime?", "reply-0001")
    reply = await say(b, "Every single night", "reply-0002", reply_to=first["seq"])
    assert reply["reply_to"] == {
        "seq": first["seq"],
        "author_id": member.pk,
        "author": "Amara",
        "excerpt": "Does anyone else dread bedtime?",
        "state": "visible",
    }
    await b.send_json_to(
        {"type": "message.send", "client_id": "reply-0003", "body": "x", "reply_to": 9999}
    )
    assert (await receive_until(b, "error"))["field"] == "reply_to"
    await a.disconnect()
    await b.disconnect()


async def test_support_reactions_show_counts_and_who_live(member, other_member):
    a, _ = await join(member)
    b, _ = await join(other_member)
    msg = await say(a, "Had a really hard day", "react-0001")
    await b.send_json_to({"type": "reaction.toggle", "seq": msg["seq"], "kind": "hug"})
    update = await receive_until(a, "message.updated")
    assert update["message"]["reactions"] == {"hug": {"count": 1, "by": ["Bea"]}}
    await b.send_json_to({"type": "reaction.toggle", "seq": msg["seq"], "kind": "hug"})
    update = await receive_until(a, "message.updated")
    assert update["message"]["reactions"] == {}
    await b.send_json_to({"type": "reaction.toggle", "seq": msg["seq"], "kind": "like"})
    assert (await receive_until(b, "error"))["code"] == "validation"
    await a.disconnect()
    await b.disconnect()


async def test_edit_within_the_window_shows_edited_and_keeps_the_original(member, other_member):
    a, _ = await join(member)
    b, _ = await join(other_member)
    msg = await say(a, "I feel so lonly", "edit-00001")
    await a.send_json_to({"type": "message.edit", "seq": msg["seq"], "body": "I feel so lonely"})
    update = await receive_until(b, "message.updated")
    assert update["message"]["body"] == "I feel so lonely" and update["message"]["edited"] is True
    revision = await database_sync_to_async(MessageRevision.objects.get)()
    assert revision.body == "I feel so lonly"
    await b.send_json_to({"type": "message.edit", "seq": msg["seq"], "body": "not mine"})
    assert (await receive_until(b, "error"))["code"] == "forbidden"
    await database_sync_to_async(Message.objects.filter(pk=msg["id"]).update)(
        created_at=timezone.now() - timedelta(hours=1)
    )
    await a.send_json_to({"type": "message.edit", "seq": msg["seq"], "body": "too late"})
    assert "minutes" in (await receive_until(a, "error"))["message"]
    await a.disconnect()
    await b.disconnect()


async def test_an_edit_that_shows_risk_gets_a_support_card(member):
    a, _ = await join(member)
    msg = await say(a, "bad night", "edit-risk1")
    await a.send_json_to(
        {"type": "message.edit", "seq": msg["seq"], "body": "bad night, I want to kill myself"}
    )
    card = await receive_until(a, "support.card")
    assert card["helplines"]
    await a.disconnect()


async def test_delete_shows_deleted_to_everyone_but_keeps_text_for_supervisors(
    member, other_member
):
    a, _ = await join(member)
    b, _ = await join(other_member)
    msg = await say(a, "overshared, sorry", "del-000001")
    await a.send_json_to({"type": "message.delete", "seq": msg["seq"]})
    update = await receive_until(b, "message.updated")
    assert update["message"]["state"] == "deleted" and update["message"]["body"] == ""
    stored = await database_sync_to_async(Message.objects.get)(pk=msg["id"])
    assert stored.body == "overshared, sorry"
    await a.disconnect()
    await b.disconnect()


async def test_report_from_the_message_feeds_the_queue(member, other_member):
    a, _ = await join(member)
    b, _ = await join(other_member)
    msg = await say(a, "you should have tried harder to breastfeed", "rep-000001")
    await b.send_json_to({"type": "message.report", "seq": msg["seq"], "reason": "judgemental"})
    ack = await receive_until(b, "report.received")
    assert ack["seq"] == msg["seq"]
    flag = await database_sync_to_async(Flag.objects.get)(message_id=msg["id"])
    assert flag.report_count == 1
    await a.send_json_to({"type": "message.report", "seq": msg["seq"]})
    assert "own message" in (await receive_until(a, "error"))["message"]
    await a.disconnect()
    await b.disconnect()


async def test_mute_hides_their_messages_for_you_only(member, other_member, make_user):
    third = await database_sync_to_async(make_user)(display_name="Cara")
    a, _ = await join(member)
    b, _ = await join(other_member)
    c, _ = await join(third)
    await b.send_json_to({"type": "member.filter", "user_id": member.pk, "kind": "mute"})
    await receive_until(b, "member.filter.saved")
    await say(a, "unpopular opinion incoming", "mute-00001")
    for_bea = await receive_until(b, "message.new")
    assert for_bea["message"]["body"] == "" and for_bea["message"]["hidden_for_you"] is True
    for_cara = await receive_until(c, "message.new")
    assert for_cara["message"]["body"] == "unpopular opinion incoming"
    for comm in (a, b, c):
        await comm.disconnect()


async def test_block_also_hides_your_presence_from_them(member, other_member):
    a, _ = await join(member)
    await a.send_json_to({"type": "member.filter", "user_id": other_member.pk, "kind": "block"})
    await receive_until(a, "member.filter.saved")
    b, joined = await join(other_member)
    assert [u["display_name"] for u in joined["present"]] == ["Bea"]
    await a.disconnect()
    await b.disconnect()


async def test_moderators_cannot_be_muted(member, moderator):
    a, _ = await join(member)
    await a.send_json_to({"type": "member.filter", "user_id": moderator.pk, "kind": "mute"})
    assert (await receive_until(a, "error"))["code"] == "forbidden"
    await a.disconnect()


async def test_content_notes_and_rooms_that_require_them(member):
    await database_sync_to_async(Room.objects.filter(slug="birth-experiences").update)(
        required_content_notes=["birth_trauma", "baby_loss"]
    )
    a, _ = await join(member, "birth-experiences")
    await a.send_json_to(
        {
            "type": "message.send",
            "client_id": "note-00001",
            "body": "I had an emergency c-section and a haemorrhage",
        }
    )
    error = await receive_until(a, "error")
    assert error["code"] == "content_note_required" and error["topic"] == "birth_trauma"
    msg = await say(
        a,
        "I had an emergency c-section and a haemorrhage",
        "note-00001",
        content_note="birth_trauma",
    )
    assert msg["content_note"] == "birth_trauma"
    await a.send_json_to(
        {"type": "message.send", "client_id": "note-00002", "body": "hi", "content_note": "spiders"}
    )
    assert (await receive_until(a, "error"))["field"] == "content_note"
    await a.disconnect()


async def test_unread_counts_for_other_rooms(member, other_member, client):
    a, _ = await join(member, "feeding")
    await a.send_json_to({"type": "ping", "read_seq": 0})
    await receive_until(a, "pong")
    b, _ = await join(other_member, "feeding")
    for i in range(3):
        await say(b, f"feeding news {i}", f"unread-{i:04d}")
    await database_sync_to_async(client.force_login)(member)
    data = (await database_sync_to_async(client.get)("/api/rooms/unread")).json()
    assert {"room": "feeding", "name": "Feeding", "unread": 3} in data["rooms"]
    assert all(set(r) == {"room", "name", "unread"} for r in data["rooms"])  # never message text
    await a.disconnect()
    await b.disconnect()


async def test_moderator_drops_a_resource_card_into_the_conversation(member, moderator):
    from moderation.models import Helpline

    pandas = await database_sync_to_async(Helpline.objects.get)(name="PANDAS Foundation")
    a, _ = await join(member)
    m, _ = await join(moderator)
    await m.send_json_to(
        {"type": "resource.share", "resource_id": pandas.pk, "client_id": "res-000001"}
    )
    await receive_until(m, "resource.shared")
    card = await receive_until(a, "message.new")
    assert card["message"]["resource"]["name"] == "PANDAS Foundation"
    assert card["message"]["resource"]["contact"] == "0808 1961 776"
    await a.send_json_to(
        {"type": "resource.share", "resource_id": pandas.pk, "client_id": "res-000002"}
    )
    assert (await receive_until(a, "error"))["code"] == "forbidden"
    await a.disconnect()
    await m.disconnect()


def test_resources_directory_filters_by_stage_and_region(client):
    from moderation.models import Helpline

    Helpline.objects.create(
        name="Leeds perinatal team",
        contact="0113 000 0000",
        when="Local NHS perinatal mental health",
        region="Leeds",
        kind="service",
        stages=["pregnant", "newborn", "baby"],
    )
    Helpline.objects.create(
        name="Toddler group",
        contact="-",
        when="Weekly",
        region="York",
        kind="group",
        stages=["toddler"],
    )
    names = lambda q: [r["name"] for r in client.get(f"/api/resources?{q}").json()["resources"]]  # noqa: E731
    assert "Leeds perinatal team" in names("stage=newborn&region=Leeds")
    assert "Leeds perinatal team" not in names("stage=toddler&region=Leeds")
    assert "Toddler group" not in names("stage=toddler&region=Leeds")
    assert "Samaritans" in names("stage=toddler&region=Leeds")


async def test_muted_words_stay_hidden_in_history_and_in_quotes(
    member, other_member, make_user, client
):
    third = await database_sync_to_async(make_user)(display_name="Cara")
    a, _ = await join(member)
    c, _ = await join(third)
    b, _ = await join(other_member)
    await b.send_json_to({"type": "member.filter", "user_id": member.pk, "kind": "mute"})
    await receive_until(b, "member.filter.saved")
    said = await say(a, "something Bea would rather not read", "mq-000001")
    await say(c, "I hear you", "mq-000002", reply_to=said["seq"])
    quoted = await receive_until(b, "message.new")
    while quoted["message"]["author"]["display_name"] != "Cara":
        quoted = await receive_until(b, "message.new")
    assert quoted["message"]["body"] == "I hear you"
    assert quoted["message"]["reply_to"]["excerpt"] == ""
    await database_sync_to_async(client.force_login)(other_member)
    history = (await database_sync_to_async(client.get)("/api/rooms/newborn/messages")).json()[
        "messages"
    ]
    texts = " ".join(m["body"] + ((m.get("reply_to") or {}).get("excerpt") or "") for m in history)
    assert "rather not read" not in texts
    for comm in (a, b, c):
        await comm.disconnect()
