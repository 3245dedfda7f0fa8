"""Page loads never leave database or Redis connections behind in the web server
(config/http.py): a burst of them once used up PostgreSQL's connection limit, and every page then
failed with a server error until the garbage collector caught up."""

from __future__ import annotations

import os
import urllib.request

import pytest

from tests.reliability.conftest import Stack

pytestmark = pytest.mark.integration


def _server_connections(stack: Stack) -> int:
    if stack.database_url.startswith("sqlite"):
        path = os.path.realpath(stack.database_url.removeprefix("sqlite:///"))
        fd_dir = f"/proc/{stack.server.proc.pid}/fd"
        targets = []
        for fd in os.listdir(fd_dir):
            try:
                targets.append(os.readlink(f"{fd_dir}/{fd}"))
            except OSError:
                continue
        return sum(1 for t in targets if t == path)
    return stack.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )[0][0]


def _redis_clients(stack: Stack) -> int:
    import redis

    client = redis.Redis.from_url(stack.redis.url)
    try:
        return len(client.client_list()) - 1  # not this one
    finally:
        client.close()


def test_a_burst_of_page_loads_leaves_no_connections_open(stack: Stack) -> None:
    cookie = stack.cookie("rel09")
    pages = ["/rooms/", "/rooms/newborn/", "/healthz", "/moderation/"]
    before, redis_before = _server_connections(stack), _redis_clients(stack)
    statuses = []
    for i in range(150):  # more than PostgreSQL's default limit of 100 connections
        req = urllib.request.Request(
            f"{stack.server.url}{pages[i % len(pages)]}", headers={"Cookie": cookie}
        )
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                statuses.append(resp.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
    after, redis_after = _server_connections(stack), _redis_clients(stack)
    assert set(statuses) <= {200, 403}, {
        s: statuses.count(s) for s in set(statuses)
    }  # 403: a member at /moderation/
    assert after <= before + 4, (before, after)
    assert redis_after <= redis_before + 4, (redis_before, redis_after)
