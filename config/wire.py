"""Writing WebSocket frames straight to Daphne's sockets (the `kindred.direct_send` scope
extension that `config.daphne.KindredServer` offers; see there for why).

Ordering is kept: a socket's earlier frames were written synchronously into Twisted's buffer by
the normal ASGI path, and a direct send only bypasses that buffer when it is empty.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from typing import Any

from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol


def prepare(text: str) -> PreparedMessage:
    """A server-to-client text frame, framed once for any number of sockets."""
    return PreparedMessage(text.encode("utf-8"), False, False, True)


class DirectSend:
    """Scope extension for one WebSocket connection: `send(prepared)`, `send_text(text)` and
    `prepare(text)`. The sends return False, having sent nothing, when the socket is not open:
    the caller then uses the ordinary ASGI path while the handshake is still under way, and drops
    the frame once the socket is ``closing`` (Daphne would raise autobahn's ``Disconnected``)."""

    __slots__ = ("_protocol",)
    prepare = staticmethod(prepare)

    def answer_repeats(self, frame: str, answer: str) -> None:
        """From now on, answer a client message with exactly this text by sending `answer`, below
        ASGI but after autobahn has parsed it (`config.daphne.KindredWebSocketProtocol`): for a frame the application has just
        handled and whose repeat it would only answer the same way (a keep-alive ping whose
        read position has not moved). Any other frame still reaches the application; a new
        call replaces the old pair. Ignored by protocols that do not support it."""
        if hasattr(self._protocol, "repeat_frame"):
            self._protocol.repeat_frame = frame.encode("utf-8")
            self._protocol.repeat_answer = prepare(answer)

    def __init__(self, protocol: WebSocketProtocol) -> None:
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

    def backlog(self) -> int:
        """Bytes written to this socket that the client has not taken yet (Twisted's buffer);
        0 for transports that do not say (TLS, tests)."""
        transport = self._protocol.transport
        try:
            return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
        except (AttributeError, TypeError):
            return 0

    def drop(self) -> None:
        """Abort the connection now and free its buffers: for a client so far behind that even
        a Close frame would sit unread behind the rest. The client reconnects and resumes.
        Shortly after, the freed buffers are handed back to the operating system
        (`release_freed_memory`), so that a flood leaves the process no bigger than before."""
        self._protocol.dropConnection(abort=True)
        from twisted.internet import reactor

        reactor.callLater(0.5, release_freed_memory)

    @property
    def closing(self) -> bool:
        """True once the closing handshake has begun or the connection is gone: nothing more can
        be sent (autobahn raises ``Disconnected``); the client resumes from its last seq."""
        return self._protocol.state in (
            WebSocketProtocol.STATE_CLOSING,
            WebSocketProtocol.STATE_CLOSED,
        )


def _write(transport: Any, data: bytes) -> None:
    """Twisted's `write`, but try the socket first when its buffer is empty.

    `FileDescriptor.write` always buffers and registers the socket for writing; the data goes
    out on the next loop turn and the socket is unregistered again: two epoll changes and a loop
    turn per frame. Sending at once does the same work in one system call. Whatever the kernel
    does not take (a slow phone) is buffered exactly as before. Transports that are not plain
    TCP (TLS) just use `write`."""
    try:
        idle = (
            transport.connected
            and not transport.disconnecting
            and not transport._tempDataLen
            and transport.offset == len(transport.dataBuffer)
        )
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


def _malloc_trim():  # noqa: ANN202
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None


_trim = _malloc_trim()
_last_trim = 0.0
TRIM_AT_MOST_EVERY = 2.0  # seconds; a trim walks the heap (a few ms)


def release_freed_memory() -> bool:
    """Give memory that Python has freed back to the operating system (glibc's `malloc_trim`).

    A dropped socket's backlog is megabytes of frames in Twisted's buffer; freed, they stay in
    the C heap's free lists, so the process's RSS stays at its peak after the socket is gone. At
    most once per TRIM_AT_MOST_EVERY seconds; a no-op where the C library has no such call."""
    global _last_trim
    now = time.monotonic()
    if _trim is None or now - _last_trim < TRIM_AT_MOST_EVERY:
        return False
    _last_trim = now
    _trim(0)
    return True
