"""Process-local fan-out for room sockets: one channel-layer subscription per group per process.

Without this, every socket in a room is its own member of the room's channel-layer group: a
message to a room of n is n channel-layer messages (deep-copied by the in-memory layer,
serialised n times by Redis), n consumer wake-ups and n handler calls, one after the other on
the event loop. Here each web process subscribes once to each group any of its sockets needs
(room, user, login session) and writes an event to its local sockets in one pass; a message's
frame for ordinary viewers is rendered once when it is stored (chat.actions.do_send_message), so
for most sockets delivery is just writing the same text to the transport — the pattern of
`websockets.broadcast()`. Moderators, the author and members with a mute/block list still get
their own rendering through the consumer's handler.

Events carry the group they were sent to (`chat.events.GROUP_KEY`, stamped by `send_event`),
which is how the hub finds the local sockets for an event arriving on its one channel.

New messages leave the hub in sequence order per room. Each message is pushed after its own
transaction commits, so two messages stored a moment apart (by two threads or two web
processes) can reach the channel layer in the opposite order; without this every member would
see a gap, ask to resume, and get the message twice. A message that arrives ahead of a missing
one waits for it for at most `CHAT_ORDER_WAIT_SECONDS`; after that it goes out anyway (a push
really was lost, e.g. Redis restarting) and clients resume from their last seq as before. Every
seq is pushed, held and removed messages included (chat.selectors.redact_for), so a gap is
always either a crossing or a loss.

The hub also does, once per process, what every socket used to do on every ping:
- refreshes its groups (group_add is idempotent) so that a Redis restart, which forgets every
  group, is healed within one heartbeat; the client sees a seq gap and resumes;
- marks its sockets' presence rows as seen, in a few UPDATE statements instead of one per ping.

And it keeps each room's recent history as a join serialises it (`RecentHistory`), so that a
reconnect storm reads it once per room and process instead of once per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from chat.events import GROUP_KEY

logger = logging.getLogger(__name__)

PRESENCE_CHUNK = 500
# ASGI scope extension offered by Kindred's Daphne (config/daphne.py): frame a message once and
# write the same bytes to each socket. Absent under other servers and in tests' communicators.
DIRECT_SEND = "kindred.direct_send"


class Subscriber(Protocol):
    channel_name: str
    direct_send: Any  # the scope's DIRECT_SEND extension, or None

    async def deliver(self, event: dict[str, Any]) -> None: ...

    async def base_send(self, message: dict[str, Any]) -> None: ...

    def plain_viewer_other_than(self, author_id: int | None) -> bool: ...

    def presence_channel(self) -> str | None: ...


class Hub:
    def __init__(self, layer) -> None:  # noqa: ANN001
        self.layer = layer
        self.channel: str | None = None
        self.subscribers: dict[str, set[Subscriber]] = {}
        self._pending: dict[str, asyncio.Future] = {}
        self._tasks: list[asyncio.Task] = []
        self._start_lock = asyncio.Lock()
        self._beats = 0
        self.delivered = 0
        self._order = RoomOrder()
        self._order_timers: dict[str, asyncio.TimerHandle] = {}
        self._dispatching = asyncio.Lock()  # the reader and an order timeout deliver one at a time
        self.history = RecentHistory(ttl=settings.CHAT_HISTORY_CACHE_SECONDS)

    # --- subscriptions ----------------------------------------------------------------------

    async def _start(self) -> None:
        async with self._start_lock:
            if self.channel is not None:
                return
            # The layer's default prefix: channels_redis reads all of a process's channels with that
            # prefix through one shared blocking pop, and a channel with another prefix would
            # wait behind it.
            self.channel = await self.layer.new_channel()
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._read()), loop.create_task(self._heartbeat())]

    async def subscribe(self, group: str, subscriber: Subscriber) -> None:
        """Add a local socket to `group`. Raises if the channel layer is unreachable."""
        if self.channel is None:
            await self._start()
        while group in self._pending:  # someone is adding or discarding this group right now
            await asyncio.shield(self._pending[group])
        subs = self.subscribers.get(group)
        if subs is not None:
            subs.add(subscriber)
            return
        done = asyncio.get_running_loop().create_future()
        self._pending[group] = done
        try:
            await self.layer.group_add(group, self.channel)
            self.subscribers.setdefault(group, set()).add(subscriber)
        finally:
            del self._pending[group]
            done.set_result(None)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a socket. Empty groups are left to the heartbeat, which discards them."""
        for subs in self.subscribers.values():
            subs.discard(subscriber)

    # --- delivery ---------------------------------------------------------------------------

    async def _read(self) -> None:
        backoff = 0.1
        while True:
            try:
                event = await self._receive()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                # Redis restarting: keep trying; clients resume from their last seq.
                logger.warning(
                    "fan-out hub could not read from the channel layer; retrying in %.1f s", backoff
                )
                # Events may be lost until the heartbeat has re-added our groups.
                self.history.suspend(2 * settings.CHAT_HUB_HEARTBEAT_SECONDS)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            await self.dispatch(event)
            _raise_if_cancel_was_swallowed()

    async def _receive(self) -> dict[str, Any]:
        """`layer.receive`, in a task of its own so that cancelling the hub always ends it.

        Python 3.11's `asyncio.wait_for` swallows a cancellation that lands while the future it
        waits for is finishing (redis-py writes every command through one), and channels_redis then
        blocks on Redis again, forever: a hub cancelled at shutdown would never finish. So we keep
        cancelling the receive until it has really stopped."""
        receive = asyncio.ensure_future(self.layer.receive(self.channel))
        try:
            return await asyncio.shield(receive)
        except asyncio.CancelledError:
            while not receive.done():
                receive.cancel()
                await asyncio.wait([receive], timeout=0.5)
            raise

    async def dispatch(self, event: dict[str, Any]) -> None:
        group = event.get(GROUP_KEY, "")
        if group.startswith("room-") and event.get("type") not in HISTORY_NEUTRAL_EVENTS:
            self.history.changed(group)
        async with self._dispatching:
            if event.get("type") == "chat.message" and group.startswith("room-"):
                ready = self._order.arrive(group, event)
                if self._order.waiting(group):
                    self._arm_order_timer(group)
                for ev in ready:
                    await self._dispatch_now(group, ev)
                return
            await self._dispatch_now(group, event)

    def _arm_order_timer(self, group: str) -> None:
        if group not in self._order_timers:
            self._order_timers[group] = asyncio.get_running_loop().call_later(
                settings.CHAT_ORDER_WAIT_SECONDS, self._order_timeout, group
            )

    def _order_timeout(self, group: str) -> None:
        self._order_timers.pop(group, None)
        task = asyncio.ensure_future(self._release(group))
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    async def _release(self, group: str) -> None:
        """The missing message did not come: send what waited, in order; clients resume the gap."""
        async with self._dispatching:
            for ev in self._order.give_up(group):
                await self._dispatch_now(group, ev)

    async def _dispatch_now(self, group: str, event: dict[str, Any]) -> None:
        subs = self.subscribers.get(group)
        if not subs:
            return
        public = event.get("public_frame")
        if public is not None and event["type"] == "chat.message":
            await self._broadcast(event, public, list(subs))
            self.delivered += len(subs)
            return
        for subscriber in list(subs):
            try:
                await subscriber.deliver(event)
            except Exception:  # noqa: BLE001
                # One socket's failure (closing, a bug in a handler) never stops the others.
                logger.exception("delivering %s to a socket failed", event.get("type"))
        self.delivered += len(subs)

    async def _broadcast(self, event: dict[str, Any], public: str, subs: list) -> None:
        """A new message: the same text to every ordinary viewer, written straight to the socket;
        the author, moderators and members with a mute/block list go through their handler."""
        author_id = (event["message"].get("author") or {}).get("id")
        frame = {"type": "websocket.send", "text": public}
        prepared = None
        for subscriber in subs:
            try:
                if subscriber.plain_viewer_other_than(author_id):
                    direct = subscriber.direct_send
                    if direct is not None:
                        if prepared is None:
                            prepared = direct.prepare(public)  # framed once for all of them
                        if direct.closing:
                            continue  # its client resumes when it comes back
                        if direct.backlog() > settings.CHAT_MAX_SOCKET_BACKLOG_BYTES:
                            logger.warning("dropping a socket %d bytes behind", direct.backlog())
                            direct.drop()  # a frozen client must not hold the process's memory
                            continue
                        if direct.send(prepared):
                            continue
                    await subscriber.base_send(frame)
                else:
                    await subscriber.deliver(event)
            except Exception:  # noqa: BLE001
                logger.exception("delivering a message to a socket failed")

    # --- once per process, instead of once per socket ---------------------------------------

    async def _heartbeat(self) -> None:
        interval = settings.CHAT_HUB_HEARTBEAT_SECONDS
        while True:
            await asyncio.sleep(interval)
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                logger.exception("fan-out hub heartbeat failed; retrying on the next one")
            _raise_if_cancel_was_swallowed()

    async def beat(self) -> None:
        self._beats += 1
        # Groups nobody here needs any more.
        for group in [g for g, subs in self.subscribers.items() if not subs]:
            if self.subscribers.get(group) or group in self._pending:
                continue
            done = asyncio.get_running_loop().create_future()
            self._pending[group] = done
            del self.subscribers[group]
            self._order.forget(group)
            self.history.changed(group)  # its events stop reaching us
            timer = self._order_timers.pop(group, None)
            if timer is not None:
                timer.cancel()
            try:
                with contextlib.suppress(Exception):
                    await self.layer.group_discard(group, self.channel)
            finally:
                del self._pending[group]
                done.set_result(None)
        # Re-add the rest (heals a Redis restart). Room groups every beat; the many per-user and
        # per-session groups every third beat.
        for group in list(self.subscribers):
            if group.startswith("room-") or self._beats % 3 == 0:
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception:  # noqa: BLE001
                    logger.warning(
                        "channel layer unavailable on heartbeat; will retry on the next one"
                    )
                    break
        await self._touch_presence()

    async def _touch_presence(self) -> None:
        channels = sorted(
            {
                name
                for subs in self.subscribers.values()
                for s in subs
                if (name := s.presence_channel())
            }
        )
        if channels:
            from channels.db import database_sync_to_async

            from chat.actions import do_touch_presence_many

            for i in range(0, len(channels), PRESENCE_CHUNK):
                await database_sync_to_async(do_touch_presence_many, thread_sensitive=False)(
                    channel_names=channels[i : i + PRESENCE_CHUNK]
                )

    def close(self) -> None:
        for timer in self._order_timers.values():
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()


# Room events that change no stored message.
HISTORY_NEUTRAL_EVENTS = frozenset({"chat.typing", "chat.presence_change"})


class RecentHistory:
    """Each room's last messages as a join sends them (`chat.consumers._join`: serialised in
    full, before each viewer's redaction), kept by the process's hub for the joins that follow.
    A deploy or a network blip has thousands of phones rejoining the same few rooms at once;
    reading and serialising the same 50 messages, their quotes and reactions for each of them
    was the largest part of a join's database work.

    An entry is used only while it is certainly current:
    - it was stored at the room's `last_seq`, and the joining socket reads `last_seq` again as
      it joins: a new message means a new read;
    - every room event that can change a stored message (an edit, a deletion, a moderator
      hiding or restoring, a reaction, a new message) reaches this hub, since it is subscribed
      to the room for the sockets it serves, and drops the entry. A read that was under way when
      such an event arrived is not stored (the generation moved). The socket that joins on an
      entry was subscribed before looking, so a change committed just before its join reaches it
      as an event, as it reaches everyone already in the room;
    - when the hub stops following the room (no local sockets), or its channel-layer connection
      failed (events may have been lost), entries are dropped; after a failure none is stored for
      two heartbeat intervals, by which time the heartbeat has re-added the hub's groups;
    - an entry lives at most `CHAT_HISTORY_CACHE_SECONDS` (10 s): a change that announces itself
      to nobody (a member changing her pseudonym) or an event the channel layer dropped under
      overload is seen by new joiners at most that late.
    """

    def __init__(self, *, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, int, list[dict[str, Any]]]] = {}
        self._generation: dict[str, int] = {}
        self._suspended_until = 0.0
        self.hits = 0

    def token(self, group: str) -> int:
        return self._generation.get(group, 0)

    def peek(self, group: str) -> tuple[int, list[dict[str, Any]]] | None:
        """(last_seq, messages) for a join to use if the room's last_seq is still that."""
        entry = self._entries.get(group)
        if entry is None:
            return None
        stored_at, last_seq, messages = entry
        if time.monotonic() - stored_at > self.ttl:
            del self._entries[group]
            return None
        return last_seq, messages

    def put(self, group: str, token: int, last_seq: int, messages: list[dict[str, Any]]) -> None:
        """Store what a join read at `last_seq`, unless the room changed since `token` was taken."""
        if (
            self.ttl <= 0
            or token != self._generation.get(group, 0)
            or time.monotonic() < self._suspended_until
        ):
            return
        self._entries[group] = (time.monotonic(), last_seq, messages)

    def changed(self, group: str) -> None:
        self._generation[group] = self._generation.get(group, 0) + 1
        self._entries.pop(group, None)

    def suspend(self, seconds: float) -> None:
        for group in list(self._generation) + list(self._entries):
            self.changed(group)
        self._suspended_until = time.monotonic() + seconds


class RoomOrder:
    """Per room: the next seq to send, and messages that arrived ahead of it."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._ahead: dict[str, dict[int, dict[str, Any]]] = {}

    def arrive(self, group: str, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The events to send now, in order (possibly none: this one waits for an earlier seq)."""
        seq = event["message"]["seq"]
        expected = self._next.get(group)
        if expected is not None and seq > expected:
            self._ahead.setdefault(group, {})[seq] = event
            return []
        if expected is not None and seq < expected:
            return [event]  # late, after we gave up waiting for it: clients place it by seq
        out = [event]
        self._next[group] = seq + 1
        ahead = self._ahead.get(group)
        while ahead and self._next[group] in ahead:
            out.append(ahead.pop(self._next[group]))
            self._next[group] += 1
        if ahead is not None and not ahead:
            del self._ahead[group]
        return out

    def waiting(self, group: str) -> bool:
        return bool(self._ahead.get(group))

    def give_up(self, group: str) -> list[dict[str, Any]]:
        ahead = self._ahead.pop(group, {})
        out = [ahead[seq] for seq in sorted(ahead)]
        if out:
            self._next[group] = out[-1]["message"]["seq"] + 1
        return out

    def forget(self, group: str) -> None:
        self._next.pop(group, None)
        self._ahead.pop(group, None)


def _raise_if_cancel_was_swallowed() -> None:
    """A cancellation Python 3.11's wait_for swallowed (see Hub._receive) still shows as
    `cancelling()`: honour it at the next safe point instead of looping on forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


# One hub per event loop and channel layer (tests run many loops and swap layers).
_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, Hub]] = (
    weakref.WeakKeyDictionary()
)


def get_hub(layer=None) -> Hub:  # noqa: ANN001
    layer = layer or get_channel_layer()
    loop = asyncio.get_running_loop()
    per_loop = _hubs.setdefault(loop, {})
    hub = per_loop.get(id(layer))
    if hub is None or hub.layer is not layer:
        hub = per_loop[id(layer)] = Hub(layer)
    return hub
