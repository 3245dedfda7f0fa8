"""The in-memory channel layer (the embedded single-process default), with its housekeeping
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

CLEAN_EVERY_SECONDS = 1.0


class InMemoryChannelLayer(_InMemoryChannelLayer):
    _last_clean = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_clean < CLEAN_EVERY_SECONDS:
            return
        self._last_clean = now
        super()._clean_expired()
