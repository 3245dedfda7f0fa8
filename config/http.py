"""Django's HTTP handler for Kindred's ASGI application: each request's thread closes its
database connections when the response is done.

Under ASGI, Django runs each request's synchronous code in a thread of its own that ends with
the request (asgiref's `ThreadSensitiveContext`). A database connection that thread opened is
kept for reuse (`CONN_MAX_AGE`) by a thread that no longer exists: it stays open until Python's
cyclic garbage collector frees the thread's connection wrapper, which refers to itself. With
the web process's rarer collections (`config/gcpolicy.py`), a burst of page loads used up
PostgreSQL's connection limit ("sorry, too many clients already") before that happened. Django's
own advice is that persistent connections do not carry over between ASGI requests; so the
request's thread closes them itself, at `request_finished`, which Django sends from that thread.

WebSocket consumers are not affected: their database calls run on long-lived pool threads,
whose connections are reused as `CONN_MAX_AGE` intends.

The handler also refuses a request whose Content-Type names a charset other than UTF-8 (issue 17,
item 3). Django decodes form fields, and even the query string, with any codec Python knows that
the client names: `multipart/form-data; charset=unicode_escape` turns the bytes ``\\ud800`` into a
lone surrogate, which no form check expects and which made the sign-up page's re-render fail
with a 500. Kindred's pages are UTF-8 and browsers submit forms in the page's encoding.
"""

from __future__ import annotations

import codecs
import contextvars

from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished
from django.db import connections
from django.http import HttpResponseBadRequest

_REQUEST_THREAD = contextvars.ContextVar("kindred_asgi_request_thread", default=False)


class KindredASGIHandler(ASGIHandler):
    async def handle(self, scope, receive, send) -> None:  # noqa: ANN001
        token = _REQUEST_THREAD.set(True)  # copied into the request's thread by sync_to_async
        try:
            await super().handle(scope, receive, send)
        finally:
            _REQUEST_THREAD.reset(token)

    def create_request(self, scope, body_file):  # noqa: ANN001, ANN201
        request, error = super().create_request(scope, body_file)
        if request is not None and not _utf8(request.encoding):
            return None, HttpResponseBadRequest(
                "Kindred reads requests in UTF-8 only.", content_type="text/plain; charset=utf-8"
            )
        return request, error


def _utf8(charset: str | None) -> bool:
    """None is Django's default (UTF-8); ASCII is a subset of it."""
    return charset is None or codecs.lookup(charset).name in ("utf-8", "ascii")


def close_request_thread_connections(**kwargs) -> None:  # noqa: ANN003
    """Only for requests served by KindredASGIHandler: the test client runs requests on the
    test's own thread and connection, which must stay open."""
    if _REQUEST_THREAD.get():
        connections.close_all()


request_finished.connect(
    close_request_thread_connections, dispatch_uid="kindred-close-request-thread-connections"
)
