"""A socket's database work runs in a worker thread; the pushes it commits are sent afterwards
from the event loop (chat.events.deferring_pushes), never from the thread, and still only after
commit: what a member notices is that a stored message reaches the room, and a rolled-back one
never does."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from chat import events
from chat.events import deferring_pushes, send_event_on_commit

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(fn):  # noqa: ANN001, ANN202
    async def call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return await asyncio.to_thread(fn, *args, **kwargs)

    return call


@pytest.fixture
def no_thread_pushes(monkeypatch):  # noqa: ANN001, ANN201
    def refuse(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("a push was sent from the database thread")

    monkeypatch.setattr(events, "async_to_sync", refuse)


async def _received(channel: str, n: int) -> list[dict]:
    layer = get_channel_layer()
    return [await asyncio.wait_for(layer.receive(channel), 2) for _ in range(n)]


async def test_committed_pushes_arrive_in_order_after_the_call(no_thread_pushes) -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("room-deferred", channel)

    def work(n: int) -> str:
        for i in range(n):
            with transaction.atomic():
                send_event_on_commit("room-deferred", {"type": "chat.test", "i": i})
        return "stored"

    assert await deferring_pushes(_in_thread, work)(3) == "stored"
    assert [e["i"] for e in await _received(channel, 3)] == [0, 1, 2]


async def test_a_rolled_back_push_is_never_sent_and_a_committed_one_is_sent_despite_a_later_error(
    no_thread_pushes,
) -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("room-deferred-2", channel)

    def work() -> None:
        with transaction.atomic():
            send_event_on_commit("room-deferred-2", {"type": "chat.test", "i": "committed"})
        try:
            with transaction.atomic():
                send_event_on_commit("room-deferred-2", {"type": "chat.test", "i": "rolled back"})
                raise ValueError("validation failed")
        except ValueError:
            pass
        raise RuntimeError("after the commit")

    with pytest.raises(RuntimeError):
        await deferring_pushes(_in_thread, work)()
    assert [e["i"] for e in await _received(channel, 1)] == ["committed"]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.3)


def test_outside_a_socket_call_pushes_still_go_at_commit(settings) -> None:
    """HTTP views and the worker are not socket calls: their pushes go at commit, as before."""
    sent = []
    original = events.async_to_sync

    def record(fn):  # noqa: ANN001, ANN202
        def call(group, event):  # noqa: ANN001, ANN202
            sent.append(group)
            return original(fn)(group, event)

        return call

    events.async_to_sync, saved = record, events.async_to_sync
    try:
        with transaction.atomic():
            send_event_on_commit("room-http", {"type": "chat.test"})
            assert sent == []
        assert sent == ["room-http"]
    finally:
        events.async_to_sync = saved
