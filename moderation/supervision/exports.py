"""Streamed CSV and JSON exports of message logs and the audit log.

Rows come from `QuerySet.iterator(chunk_size=…)` (a server-side cursor on PostgreSQL, fetchmany
on SQLite) and leave as they are read, a batch at a time, so a year of messages never sits in
memory. Under ASGI (Daphne) a synchronous iterator would be collected into a list by Django
before sending (StreamingHttpResponse.__aiter__), so there each batch is produced in the
database thread by `sync_to_async` and handed over as an async iterator instead.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import ObjectDoesNotExist
from django.core.handlers.asgi import ASGIRequest
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

CHUNK_SIZE = 1000  # rows per database fetch
ROWS_PER_WRITE = 200  # rows per network write

MESSAGE_FIELDS = [
    "id",
    "created_at",
    "room",
    "seq",
    "author_id",
    "author",
    "state",
    "text",
    "content_note",
    "edited_at",
    "earlier_versions",
    "flag_category",
    "flag_priority",
    "flag_state",
    "flag_resolution",
    "flag_resolved_by",
    "flag_resolved_at",
    "flag_reports",
]
AUDIT_FIELDS = [
    "id",
    "created_at",
    "action",
    "actor_id",
    "actor",
    "target_user_id",
    "target_user",
    "room",
    "message_id",
    "before",
    "after",
    "reason",
]


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def message_record(m: Any) -> dict[str, Any]:
    try:
        flag = m.flag
    except ObjectDoesNotExist:  # never flagged
        flag = None
    return {
        "id": m.pk,
        "created_at": _when(m.created_at),
        "room": m.room.slug,
        "seq": m.seq,
        "author_id": m.author_id,
        "author": m.author.display_name if m.author else None,
        "state": m.state,
        "text": m.body,
        "content_note": m.content_note,
        "edited_at": _when(m.edited_at),
        "earlier_versions": [
            {"revision": r.revision, "text": r.body, "replaced_at": _when(r.replaced_at)}
            for r in m.revisions.all()
        ],
        "flag_category": flag.category if flag else None,
        "flag_priority": flag.get_priority_display().lower() if flag else None,
        "flag_state": flag.state if flag else None,
        "flag_resolution": flag.resolution if flag else None,
        "flag_resolved_by": flag.resolved_by.display_name if flag and flag.resolved_by else None,
        "flag_resolved_at": _when(flag.resolved_at) if flag else None,
        "flag_reports": flag.report_count if flag else 0,
    }


def audit_record(e: Any) -> dict[str, Any]:
    return {
        "id": e.pk,
        "created_at": _when(e.created_at),
        "action": e.action,
        "actor_id": e.actor_id,
        "actor": e.actor.display_name if e.actor else None,
        "target_user_id": e.target_user_id,
        "target_user": e.target_user.display_name if e.target_user else None,
        "room": e.room.slug if e.room else None,
        "message_id": e.message_id,
        "before": e.before,
        "after": e.after,
        "reason": e.reason,
    }


def records(qs: QuerySet, to_record: Any) -> Iterator[dict[str, Any]]:
    for row in qs.iterator(chunk_size=CHUNK_SIZE):
        yield to_record(row)


class _Echo:
    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters a cell shows as nothing, which a spreadsheet may trim or skip before it decides that
# a cell is a formula: controls (Cc), format characters such as zero-width spaces, joiners,
# direction marks and the BOM (Cf), spaces and separators (Z*), and marks with nothing to sit on
# (Mn, Me: variation selectors, the combining grapheme joiner).
_BLANK_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
# Letters that render blank (Unicode's default-ignorable fillers) and the braille blank.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula: it starts with = + - @ (or their
    fullwidth and small forms), tab or CR, also behind any run of blank or invisible characters."""
    if text.startswith(_FORMULA_START):
        return True
    for char in text:
        if char in _BLANK_LETTERS or unicodedata.category(char) in _BLANK_CATEGORIES:
            continue
        return unicodedata.normalize("NFKC", char).startswith(_FORMULA_START)
    return False


def _cell(value: Any) -> Any:
    """Spreadsheet-safe: a member who writes "=HYPERLINK(…)", or hides it behind a zero-width
    space, must not get a formula run on a supervisor's machine (CSV injection); such a cell gets
    a leading apostrophe, which spreadsheets read as "this is text". Nested values are JSON."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    if isinstance(value, str) and _looks_like_formula(value):
        return "'" + value
    return value


def csv_chunks(fields: list[str], rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    writer = csv.writer(_Echo())
    buffer = ["\ufeff" + writer.writerow(fields)]  # BOM: spreadsheets then read UTF-8 correctly
    for row in rows:
        buffer.append(writer.writerow([_cell(row[f]) for f in fields]))
        if len(buffer) >= ROWS_PER_WRITE:
            yield "".join(buffer).encode()
            buffer = []
    if buffer:
        yield "".join(buffer).encode()


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """One JSON array, written element by element."""
    buffer = ["["]
    first = True
    for row in rows:
        buffer.append(
            ("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False, cls=DjangoJSONEncoder)
        )
        first = False
        if len(buffer) >= ROWS_PER_WRITE:
            yield "".join(buffer).encode()
            buffer = []
    buffer.append("\n]\n")
    yield "".join(buffer).encode()


async def _in_db_thread(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Pull each chunk in Django's database thread (thread_sensitive), so the open cursor stays
    on the connection that opened it, and hand it to the event loop."""
    done = object()
    iterator = iter(chunks)
    while True:
        chunk = await sync_to_async(next, thread_sensitive=True)(iterator, done)
        if chunk is done:
            return
        yield chunk


def streaming_response(
    request: HttpRequest, chunks: Iterator[bytes], *, content_type: str, filename: str
) -> StreamingHttpResponse:
    content = _in_db_thread(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
