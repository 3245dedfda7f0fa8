"""Kindred's Daphne: fewer per-connection sweeps, a direct send for the fan-out hub, and
repeated keep-alive pings answered below ASGI.

All three exist because of measurements in docs/performance.md:

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

- Thousands of idle phones each send a keep-alive ping every 25 s. Through ASGI each one is
  Daphne's queue, a wake-up of the socket's application task, Channels' dispatch, the consumer's
  parse and its pong. Once the room consumer has handled a ping, a repeat of exactly the same
  message (same read position, so nothing to write) is answered here with the same pong
  (`DirectSend.answer_repeats`); every other message still goes to the consumer. The repeat is
  recognised only in `onMessage`, i.e. after autobahn's own frame parser has framed, unmasked and
  validated it: the WebSocket framing of this security boundary is autobahn's alone. (An earlier
  shortcut recognised the masked bytes on the wire before autobahn and could be fooled by a
  control frame split across reads; it was removed, see issue 17.)

And one option differs from Daphne's: a client that breaks the protocol (an unmasked frame,
reserved bits, a bad opcode, invalid UTF-8) gets a Close frame with RFC 6455's status code (1002,
1007) before the connection ends, as RFC 6455 §7.1.7 asks, instead of a dropped TCP connection
(autobahn's `failByDrop=False`). A client that does not answer the Close is dropped after
autobahn's close-handshake timeout.
"""

from __future__ import annotations

import time

from autobahn.websocket.protocol import WebSocketProtocol
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol as DaphneWebSocketProtocol
from twisted.internet import reactor

from chat.fanout import DIRECT_SEND
from config.wire import DirectSend


class KindredWebSocketProtocol(DaphneWebSocketProtocol):
    """Daphne's WebSocket protocol, answering a repeat of the message the application registered
    (`DirectSend.answer_repeats`) without going through ASGI, once autobahn has parsed it."""

    repeat_frame: bytes | None = None
    repeat_answer = None

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        """Autobahn's Twisted adapter, minus its debug log line: it formats that line's arguments
        (`hltype`, a coloured qualified name, 45-60 µs here) on every read even when debug
        logging is off, a large part of what an idle socket's keep-alive costs (docs/performance.md,
        "What an idle member costs"). The bytes go to autobahn's own parser unchanged: the
        framing is still autobahn's alone."""
        self._dataReceived(data)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803 - autobahn's names
        if (
            not isBinary
            and payload == self.repeat_frame
            and not self.muted
            and DirectSend(self).send(self.repeat_answer)
        ):
            self.last_ping = time.time()  # what Daphne's own onMessage records for its keep-alive
            return
        super().onMessage(payload, isBinary)


class KindredServer(Server):
    APPLICATION_EVERY = 5  # of Daphne's 1 s ticks
    TIMEOUT_EVERY = 3  # of Daphne's 2 s ticks
    _app_ticks = 0
    _timeout_ticks = 0

    # Daphne's run() creates the WebSocket factory; every socket it builds uses our protocol.
    @property
    def ws_factory(self):  # noqa: ANN201
        return self._ws_factory

    @ws_factory.setter
    def ws_factory(self, factory) -> None:  # noqa: ANN001
        factory.protocol = KindredWebSocketProtocol
        factory.setProtocolOptions(failByDrop=False)  # a Close frame with the reason, then the drop
        self._ws_factory = factory

    def create_application(self, protocol, scope):  # noqa: ANN001, ANN201
        if scope.get("type") == "websocket" and isinstance(protocol, WebSocketProtocol):
            scope = {
                **scope,
                "extensions": {
                    **(scope.get("extensions") or {}),
                    DIRECT_SEND: DirectSend(protocol),
                },
            }
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
