"""Kindred's channel layers.

The Redis layer (production) waits for a free connection instead of failing. channels_redis
builds a plain `redis.asyncio.ConnectionPool` (100 connections), which raises
`MaxConnectionsError` at once when every connection is busy: in a join storm (hundreds of
sockets subscribing at the same moment) that became hundreds of tracebacks and `server_error`
answers. A blocking pool of the same size queues the excess for up to
`REDIS_POOL_WAIT_SECONDS` instead; joins in a storm are a little slower, none fails.

The in-memory channel layer (the embedded single-process default), with its housekeeping
bounded.

Channels' InMemoryChannelLayer walks every channel and every group membership looking for
expired entries on *every* send to a group and every receive. With thousands of sockets connected
that walk, not the delivery, was the cost of each message and each join (a join storm became
quadratic). Expiry is measured in minutes (messages, 60 s) and a day (group memberships), so
walking at most once a second loses nothing.
"""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer as _InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer as _RedisChannelLayer
from redis.asyncio import BlockingConnectionPool

CLEAN_EVERY_SECONDS = 1.0


class InMemoryChannelLayer(_InMemoryChannelLayer):
    _last_clean = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_clean < CLEAN_EVERY_SECONDS:
            return
        self._last_clean = now
        super()._clean_expired()


class RedisChannelLayer(_RedisChannelLayer):
    """channels_redis's layer over a blocking connection pool. A host given as a dict with an
    ``address`` may also set ``max_connections`` (default 100, channels_redis's) and
    ``pool_wait_seconds`` (how long a call waits for a free connection before it fails)."""

    def create_pool(self, index: int):  # noqa: ANN201
        host = dict(self.hosts[index])
        address = host.pop("address", None)
        if address is None:  # sentinels or explicit pools: channels_redis's own
            return super().create_pool(index)
        wait = host.pop("pool_wait_seconds", 10)
        host.setdefault("max_connections", 100)
        return BlockingConnectionPool.from_url(address, timeout=wait, **host)
