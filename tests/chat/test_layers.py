"""The production channel layer against the real Redis: a storm of pushes larger than the
connection pool waits for connections instead of failing (issue #17: hundreds of
`MaxConnectionsError` tracebacks and `server_error` answers in a 300-socket storm)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from channels_redis.core import RedisChannelLayer as PlainRedisChannelLayer
from redis.exceptions import MaxConnectionsError

from chat.layers import RedisChannelLayer

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("KINDRED_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def _layer(cls, url: str, pool: int):  # noqa: ANN001, ANN202
    return cls(
        hosts=[{"address": url, "max_connections": pool}],
        prefix=f"kindred-test-{uuid.uuid4().hex[:8]}",
    )


async def _storm(layer, pushes: int) -> list[BaseException | None]:  # noqa: ANN001
    await layer.group_add("room-storm", "socket.listener")
    results = await asyncio.gather(
        *(layer.group_send("room-storm", {"type": "chat.typing", "n": n}) for n in range(pushes)),
        return_exceptions=True,
    )
    await layer.flush()
    return results


async def test_a_push_storm_bigger_than_the_pool_waits_and_every_push_goes(redis_url: str) -> None:
    results = await _storm(_layer(RedisChannelLayer, redis_url, pool=4), 300)
    assert [r for r in results if r is not None] == []


async def test_the_plain_pool_fails_the_same_storm(redis_url: str) -> None:
    """What the test above guards against: channels_redis's own pool raises at once."""
    results = await _storm(_layer(PlainRedisChannelLayer, redis_url, pool=4), 300)
    assert any(isinstance(r, MaxConnectionsError) for r in results)
