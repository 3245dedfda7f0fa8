"""How Kindred's long-running processes (the web server and the moderation worker) use Python's
cyclic garbage collector.

Memory is freed by reference counting the moment nothing uses it; the cyclic collector only
exists to find groups of objects that refer to each other. With Python's default thresholds
(700, 10, 10) it runs very often, and a full collection walks every object the process holds: in
a web process with 5,000 open sockets that is millions of objects and 0.2–0.6 s of the one
event-loop thread, during which no message is delivered. In a 5,000-socket reconnect storm on
our 2-core machine that was 13–16 % of the process's CPU, and most of the CPU of the same sockets
sitting idle (docs/performance.md). So, once everything the process loads at start is loaded:

- `gc.freeze()` moves it (Django, Twisted, the classifier) out of the collector's sight for good:
  it lives as long as the process, so walking it again and again finds nothing;
- `GC_THRESHOLDS` (default 50,000 / 20 / 100) makes young collections rarer and full ones about
  a hundred times rarer. Each young collection stays short (it only walks what was allocated
  since the last one), and cycles still get collected, later.

`GC_THRESHOLDS=700,10,10` restores Python's defaults.
"""

from __future__ import annotations

import gc
import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def settle_long_running_heap() -> None:
    """Call once, after the process has loaded what it keeps for its lifetime."""
    gc.collect()
    gc.freeze()
    thresholds = tuple(settings.GC_THRESHOLDS)
    gc.set_threshold(*thresholds)
    logger.debug(
        "garbage collector: %d objects frozen, thresholds %s", gc.get_freeze_count(), thresholds
    )
