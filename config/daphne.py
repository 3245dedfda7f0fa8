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
  same bytes to each open socket, sending at once when nothing is queued before them.

Ordering is kept: a socket's earlier frames were written synchronously into Twisted's buffer by
the normal ASGI path, and a direct send only bypasses that buffer when it is empty.
"""

from __future__ import annotations

from typing import Any

from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol
from daphne.server import Server
from twisted.internet import reactor

from chat.fanout import DIRECT_SEND as EXTENSION


def prepare(text: str) -> PreparedMessage:
    """A server-to-client text frame, framed once for any number of sockets."""
    return PreparedMessage(text.encode("utf-8"), False, False, True)


class DirectSend:
    """Scope extension for one WebSocket connection: `send(prepared)`, `send_text(text)` and
    `prepare(text)`. The sends return False, having sent nothing, when the socket is not open:
    the caller then uses the ordinary ASGI path, which knows what to do with a closing socket."""

    __slots__ = ("_protocol", "_server")
    prepare = staticmethod(prepare)

    def __init__(self, server: Server, protocol: WebSocketProtocol) -> None:
        self._server = server
        self._protocol = protocol

    def send(self, prepared: PreparedMessage) -> bool:
        protocol = self._protocol
        if protocol.state != WebSocketProtocol.STATE_OPEN:
            return False
        if protocol._perMessageCompress is not None or protocol.send_queue:
            protocol.sendPreparedMessage(prepared)  # compression negotiated, or frames queued
        else:
            _write(protocol.transport, prepared.payloadHybi)
        return True

    def send_text(self, text: str) -> bool:
        return self.send(prepare(text))


def _write(transport: Any, data: bytes) -> None:
    """Twisted's `write`, but try the socket first when its buffer is empty.

    `FileDescriptor.write` always buffers and registers the socket for writing; the data goes
    out on the next loop turn and the socket is unregistered again: two epoll changes and a loop
    turn per frame. Sending at once does the same work in one system call. Whatever the kernel
    does not take (a slow phone) is buffered exactly as before. Transports that are not plain
    TCP (TLS) just use `write`."""
    try:
        idle = (transport.connected and not transport.disconnecting and not transport._tempDataLen
                and transport.offset == len(transport.dataBuffer))
        write_some = transport.writeSomeData
    except AttributeError:
        idle = False
    if idle:
        sent = write_some(data)
        if isinstance(sent, int) and sent >= 0:
            if sent == len(data):
                return
            data = data[sent:]
        # Connection lost: `write` below buffers it and Twisted notices the loss as usual.
    transport.write(data)


class KindredServer(Server):
    APPLICATION_EVERY = 5  # of Daphne's 1 s ticks
    TIMEOUT_EVERY = 3  # of Daphne's 2 s ticks
    _app_ticks = 0
    _timeout_ticks = 0

    def create_application(self, protocol, scope):  # noqa: ANN001, ANN201
        if scope.get("type") == "websocket" and isinstance(protocol, WebSocketProtocol):
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), EXTENSION: DirectSend(self, protocol)}}
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
