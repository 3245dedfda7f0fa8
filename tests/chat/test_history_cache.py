"""A room's recent history is read once per web process for a burst of joins
(chat.fanout.RecentHistory), and what a member sees on joining is never older than the room."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import actions
from chat.events import room_group
from chat.fanout import RecentHistory, get_hub
from chat.models import Message, MessageState, Room
from moderation import actions as moderation_actions
from tests.conftest import open_socket, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def join(user, slug: str = "newborn"):  # noqa: ANN001, ANN201
    comm = await open_socket(user, f"/ws/rooms/{slug}/")
    connected, _ = await comm.connect()
    assert connected
    return comm, await receive_until(comm, "room.joined")


def bodies(joined: dict) -> list[str]:
    return [m["body"] for m in joined["messages"]]


async def send(user, body: str, cid: str):  # noqa: ANN001, ANN201
    room = await database_sync_to_async(Room.objects.get)(slug="newborn")
    message, _ = await database_sync_to_async(actions.check_send_message)(
        author=user, room=room, client_id=cid, body=body
    )
    return message


async def test_joins_after_the_first_reuse_its_history_and_a_new_message_is_never_missed(
    member, other_member, make_user
):
    await send(member, "Anyone else up for the 3am feed?", "hist-0001")
    first, joined_a = await join(member)
    hub = get_hub(get_channel_layer())
    assert bodies(joined_a) == ["Anyone else up for the 3am feed?"]
    second, joined_b = await join(other_member)
    assert bodies(joined_b) == bodies(joined_a) and hub.history.hits == 1
    await send(member, "Me, with a cold cup of tea", "hist-0002")
    await receive_until(second, "message.new")  # the room moved on
    third, joined_c = await join(await database_sync_to_async(make_user)(display_name="Cleo"))
    assert bodies(joined_c) == ["Anyone else up for the 3am feed?", "Me, with a cold cup of tea"]
    assert joined_c["last_seq"] == 2 and hub.history.hits == 1  # read again, not reused
    for comm in (first, second, third):
        await comm.disconnect()


async def test_a_message_hidden_edited_or_reacted_to_after_a_join_is_seen_that_way_by_the_next_joiner(
    member, other_member, moderator, make_user
):
    hurtful = await send(other_member, "Formula is just lazy parenting", "hist-0101")
    kind = await send(member, "Night three, still no sleep", "hist-0102")
    watcher, _ = await join(member)  # fills the process's copy of the history
    room = await database_sync_to_async(Room.objects.get)(slug="newborn")

    # A moderator hides one message; the member already in the room sees the update …
    flag = await database_sync_to_async(moderation_actions.do_report_message)(
        reporter=member, message=hurtful, reason="judgemental"
    )
    await database_sync_to_async(moderation_actions.do_claim_flag)(
        flag_id=flag.pk, acting_user=moderator
    )
    await database_sync_to_async(moderation_actions.do_hide_message)(
        flag_id=flag.pk, acting_user=moderator
    )
    update = await receive_until(watcher, "message.updated")
    assert update["message"]["body"] == ""
    # … and so does the next member to join, from her history.
    late, joined = await join(await database_sync_to_async(make_user)(display_name="Dani"))
    hidden = next(m for m in joined["messages"] if m["seq"] == hurtful.seq)
    assert hidden["state"] == MessageState.HIDDEN and hidden["body"] == ""

    await database_sync_to_async(actions.check_edit_message)(
        user=member, room=room, seq=kind.seq, body="Night three, finally slept 4 hours"
    )
    await receive_until(watcher, "message.updated")
    await database_sync_to_async(actions.check_toggle_reaction)(
        user=other_member, room=room, seq=kind.seq, kind=next(iter(_reaction_kinds()))
    )
    await receive_until(watcher, "message.updated")
    later, joined = await join(await database_sync_to_async(make_user)(display_name="Esme"))
    mine = next(m for m in joined["messages"] if m["seq"] == kind.seq)
    assert mine["body"] == "Night three, finally slept 4 hours" and mine["edited"] is True
    assert sum(r["count"] for r in mine["reactions"].values()) == 1
    for comm in (watcher, late, later):
        await comm.disconnect()


def _reaction_kinds():  # noqa: ANN202
    from chat.models import ReactionKind

    return ReactionKind.values


def test_an_entry_is_kept_only_while_certainly_current(monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("chat.fanout.time.monotonic", lambda: clock[0])
    history = RecentHistory(ttl=10)
    group, messages = room_group(1), [{"seq": 1, "body": "hi"}]
    history.put(group, history.token(group), 1, messages)
    assert history.peek(group) == (1, messages)
    clock[0] += 10.5  # too old
    assert history.peek(group) is None

    token = history.token(group)  # a read starts …
    history.changed(group)  # … an edit arrives while it runs …
    history.put(group, token, 1, messages)  # … so what it read is not kept
    assert history.peek(group) is None
    history.put(group, history.token(group), 1, messages)
    history.changed(group)
    assert history.peek(group) is None

    history.suspend(40)  # the channel layer failed: events may have been lost
    history.put(group, history.token(group), 1, messages)
    assert history.peek(group) is None
    clock[0] += 41
    history.put(group, history.token(group), 1, messages)
    assert history.peek(group) == (1, messages)
    assert RecentHistory(ttl=0).peek(group) is None


async def test_a_room_the_process_stops_following_forgets_its_history(member) -> None:
    comm, _ = await join(member)
    hub = get_hub(get_channel_layer())
    group = room_group((await database_sync_to_async(Room.objects.get)(slug="newborn")).pk)
    assert hub.history.peek(group) is not None
    await comm.disconnect()
    await hub.beat()  # nobody here is in the room any more: the hub leaves its group
    assert hub.history.peek(group) is None
    assert await database_sync_to_async(Message.objects.count)() == 0


def test_a_join_never_uses_a_history_filed_under_an_older_last_seq(member, other_member) -> None:
    """Even before the hub has heard of a new message (its event still on the way), the join's own
    read of last_seq refuses the older copy."""
    from chat.consumers import _join

    room = Room.objects.get(slug="newborn")
    actions.check_send_message(author=member, room=room, client_id="hist-0201", body="first")
    fresh = _join.func(member, room, "test.hist.1")
    assert fresh["history_read_at"] == 1 and [m["body"] for m in fresh["messages"]] == ["first"]
    reused = _join.func(other_member, room, "test.hist.2", (1, fresh["messages"]))
    assert reused["history_read_at"] is None and reused["messages"] is fresh["messages"]
    actions.check_send_message(author=member, room=room, client_id="hist-0202", body="second")
    again = _join.func(other_member, room, "test.hist.3", (1, fresh["messages"]))
    assert again["history_read_at"] == 2 and [m["body"] for m in again["messages"]] == [
        "first",
        "second",
    ]
    assert again["last_seq"] == 2
