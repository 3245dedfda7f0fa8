"""Kindred's Daphne: fewer per-connection sweeps, and a direct send for the fan-out hub.

Both exist because of measurements in docs/performance.md:

- Daphne walks every open connection once a second (finished applications) and every two
  seconds (timeouts and keep-alive pings). With thousands of idle phones those sweeps were a
  large part of the idle CPU. Here they run every 5 and 6 seconds: a closed socket's resources
  are released up to 5 s later, and a keep-alive ping or timeout acts up to 6 s later, on 30 s
  intervals.

- A message to a room of n goes to n sockets. Through ASGI each of those is the session
  middleware's `send`, Daphne's `handle_reply`, autobahn's `sendMessage` (framing the same text
  again, formatting a debug log line that is then dropped) and Twisted's write buffer (register
  the socket for writing, wait for the next loop turn, send, unregister): about 100 µs of the one
  event-loop thread per delivery on our 2-core machine, and the last member of a room of 500
  waited for all of it. The `kindred.direct_send` ASGI scope extension lets the hub frame a
  message once (autobahn's own `prepareMessage`, the library's broadcast API) and hand the
  same bytes to each open socket, sending at once when nothing is queued before them (`config/wire.py`).
"""

from __future__ import annotations

from autobahn.websocket.protocol import WebSocketProtocol
from daphne.server import Server
from twisted.internet import reactor

from chat.fanout import DIRECT_SEND
from config.wire import DirectSend


class KindredServer(Server):
    APPLICATION_EVERY = 5  # of Daphne's 1 s ticks
    TIMEOUT_EVERY = 3  # of Daphne's 2 s ticks
    _app_ticks = 0
    _timeout_ticks = 0

    def create_application(self, protocol, scope):  # noqa: ANN001, ANN201
        if scope.get("type") == "websocket" and isinstance(protocol, WebSocketProtocol):
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), DIRECT_SEND: DirectSend(protocol)}}
        return super().create_application(protocol, scope)

    def application_checker(self) -> None:
        self._app_ticks += 1
        if self._app_ticks % self.APPLICATION_EVERY == 0:
            super().application_checker()  # does the sweep and schedules the next tick
        else:
            reactor.callLater(1, self.application_checker)

    def timeout_checker(self) -> None:
        self._timeout_ticks += 1
        if self._timeout_ticks % self.TIMEOUT_EVERY == 0:
            super().timeout_checker()
        else:
            reactor.callLater(2, self.timeout_checker)
