"""The one place that pushes to sockets. Pushes happen only after the transaction that caused
them commits, so nobody ever sees something that was rolled back."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

MODERATORS_GROUP = "moderators"
# Every event carries the group it was sent to: a web process subscribes to a group once for all
# its sockets (chat.fanout) and finds the local sockets for an event by this key.
GROUP_KEY = "_group"


def room_group(room_id: int) -> str:
    return f"room-{room_id}"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def session_group(session_key: str) -> str:
    """Every socket opened with one login session, so logging out closes exactly those."""
    import hashlib

    return "session-" + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def stamped(group: str, event: dict[str, Any]) -> dict[str, Any]:
    return {**event, GROUP_KEY: group}


# Set by `deferring_pushes` while a socket's database work runs in a worker thread: committed
# pushes are handed back to the event loop instead of blocking that thread on it.
_deferred: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar(
    "kindred_deferred_pushes", default=None
)


def _send_now(group: str, event: dict[str, Any]) -> None:
    deferred = _deferred.get()
    if deferred is not None:
        deferred.append((group, event))
        return
    async_to_sync(_push)(group, event)


def send_event_on_commit(group: str, event: dict[str, Any]) -> None:
    """Queue `event` for `group` once the current transaction commits (immediately if none)."""
    transaction.on_commit(lambda: _send_now(group, event))


async def send_event_now(group: str, event: dict[str, Any]) -> bool:
    """From async code, for things that are not stored (typing): push at once. Such a push is a
    hint nobody waits on: when the channel layer cannot take it (Redis restarting, its
    connections all busy in a storm) it is dropped with one log line, never an error to the
    member who sent it. Returns whether it went."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        await layer.group_send(group, stamped(group, event))
    except Exception as exc:  # noqa: BLE001
        logger.warning(
            "%s to %s dropped: channel layer unavailable (%s)", event.get("type"), group, exc
        )
        return False
    return True


def _collecting(
    pending: list[tuple[str, dict[str, Any]]], fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    token = _deferred.set(pending)
    try:
        return fn(*args, **kwargs)
    finally:
        _deferred.reset(token)


def deferring_pushes(
    to_async: Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]], fn: Callable[..., Any]
):
    """`fn` for async callers, run in a thread by `to_async` (e.g. Channels'
    `database_sync_to_async`), with the pushes its transactions commit sent afterwards from the
    event loop (awaiting the channel layer there) instead of from the thread through
    `async_to_sync`, which held the thread until the busy loop got round to them. They still go
    only after commit (on_commit hooks collect them), in order, and before the caller's next step
    (a socket's ack follows its room push). They go even if `fn` raises after committing them."""
    in_thread = to_async(_collecting)

    async def call(*args: Any, **kwargs: Any) -> Any:
        pending: list[tuple[str, dict[str, Any]]] = []
        try:
            return await in_thread(pending, fn, *args, **kwargs)
        finally:
            for group, event in pending:
                await _push(group, event)

    call.func = fn  # the plain function, for in-process measurements (bench/sendprof.py)
    return call


async def _push(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(group, stamped(group, event))
    except Exception:  # noqa: BLE001
        # The row is committed; clients recover it by resuming from their last sequence number.
        # A push failure (Redis restarting) must never turn a stored message into an error.
        logger.exception("push to %s failed; clients will catch up on resume", group)
