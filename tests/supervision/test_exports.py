"""Message and audit exports stream: rows are read from the database a chunk at a time and sent
as they are read, the export is audited before the first byte, and the content is right."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from chat.models import Message, MessageRevision
from chat.rendering import render_body
from moderation.models import AuditEntry
from moderation.supervision import exports

N = 5000


def _bulk_messages(room, author, n: int) -> None:  # noqa: ANN001
    now = timezone.now()
    start = room.last_seq
    Message.objects.bulk_create(
        [
            Message(
                room=room,
                seq=start + i + 1,
                author=author,
                client_id=uuid.uuid4().hex,
                body=f"message number {i}",
                html=render_body(f"message number {i}"),
                created_at=now,
                assessment_state="done",
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    room.last_seq = start + n
    room.save(update_fields=["last_seq"])


@pytest.fixture
def count_rows_read(monkeypatch):  # noqa: ANN001, ANN201
    """How many Message rows the ORM has built so far."""
    calls = {"n": 0}
    original = Message.from_db.__func__

    def counting(cls, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls["n"] += 1
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Message, "from_db", classmethod(counting))
    return calls


@pytest.mark.django_db
def test_message_export_streams_lazily_and_is_audited_first(
    supervisor, member, newborn_room, client_for, count_rows_read
) -> None:  # noqa: ANN001
    _bulk_messages(newborn_room, member, N)
    count_rows_read["n"] = 0

    response = client_for(supervisor).get("/supervisor/messages/export.csv?room=newborn")

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    # Audited before a single row was read or sent.
    entry = AuditEntry.objects.get(action="export.messages")
    assert entry.actor == supervisor and entry.room == newborn_room
    assert entry.after["format"] == "csv" and entry.after["filters"]["room"] == "newborn"
    assert count_rows_read["n"] == 0

    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert first.decode("utf-8-sig").startswith("id,created_at,room,seq")
    # The first chunk left after one database fetch, not after all 5,000 rows.
    assert 0 < count_rows_read["n"] <= exports.CHUNK_SIZE < N

    rest = b"".join(chunks)
    rows = list(csv.DictReader(io.StringIO((first + rest).decode("utf-8-sig"))))
    assert len(rows) == N
    assert {r["text"] for r in rows} == {f"message number {i}" for i in range(N)}
    assert count_rows_read["n"] == N


@pytest.mark.django_db
def test_json_export_has_revisions_and_what_happened(
    supervisor, member, newborn_room, client_for, make_message, make_flag, moderator
) -> None:  # noqa: ANN001
    m = make_message(newborn_room, member, "second try", state="hidden")
    m.edited_at, m.revision = timezone.now(), 1
    m.save()
    MessageRevision.objects.create(
        message=m, revision=0, body="first try", replaced_at=timezone.now()
    )
    make_flag(
        m, state="resolved", resolution="hidden", resolved_by=moderator, resolved_at=timezone.now()
    )
    make_message(newborn_room, member, '=HYPERLINK("http://evil.example","click")')

    response = client_for(supervisor).get("/supervisor/messages/export.json")
    data = json.loads(b"".join(response.streaming_content))
    by_text = {row["text"]: row for row in data}
    row = by_text["second try"]
    assert row["earlier_versions"][0]["text"] == "first try"
    assert (row["state"], row["flag_resolution"], row["flag_resolved_by"]) == (
        "hidden",
        "hidden",
        "Morgan",
    )
    assert AuditEntry.objects.get(action="export.messages").after["format"] == "json"

    csv_text = b"".join(
        client_for(supervisor).get("/supervisor/messages/export.csv").streaming_content
    ).decode("utf-8-sig")
    # A formula typed by a member is written so spreadsheets show it as text.
    assert "'=HYPERLINK" in csv_text


@pytest.mark.django_db
def test_text_search_is_not_copied_into_the_audit_row(
    supervisor, member, newborn_room, client_for, make_message
) -> None:  # noqa: ANN001
    make_message(newborn_room, member, "I feel so alone tonight")
    response = client_for(supervisor).get("/supervisor/messages/export.csv?q=alone+tonight")
    assert "I feel so alone tonight" in b"".join(response.streaming_content).decode()
    entry = AuditEntry.objects.get(action="export.messages")
    assert entry.after["filters"] == {"text_search": True}
    assert "alone" not in json.dumps(entry.after)


@pytest.mark.django_db
def test_audit_export_filters_and_streams(supervisor, moderator, member, client_for) -> None:  # noqa: ANN001
    from moderation.actions import do_add_moderator_note

    do_add_moderator_note(member=member, acting_user=moderator, text="checked in")
    response = client_for(supervisor).get(
        f"/supervisor/audit/export.json?actor={moderator.display_name}"
    )
    assert isinstance(response, StreamingHttpResponse)
    data = json.loads(b"".join(response.streaming_content))
    assert [row["action"] for row in data] == ["member.note_added"]
    assert data[0]["target_user"] == member.display_name
    exported = AuditEntry.objects.get(action="export.audit")
    assert exported.after["filters"]["actor"] == moderator.pk


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_is_an_async_stream(supervisor, member, newborn_room) -> None:  # noqa: ANN001
    """Daphne serves through ASGI, where Django would collect a synchronous iterator into a list
    before sending. The export hands ASGI an async iterator that fetches chunk by chunk."""
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    await sync_to_async(_bulk_messages)(newborn_room, member, N)
    client = AsyncClient()
    await client.aforce_login(supervisor, backend="accounts.backends.KindredBackend")
    response = await client.get("/supervisor/messages/export.csv")
    assert response.is_async
    chunks = response.streaming_content.__aiter__()
    first = await chunks.__anext__()
    assert first.decode("utf-8-sig").startswith("id,")
    rest = [chunk async for chunk in chunks]
    assert len(rest) >= 2  # several network writes, not one list
    lines = (first + b"".join(rest)).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == N + 1
    # The chunks ran in the database thread; close its connection as the server does after a
    # response, so the test database can be dropped.
    from django.db import connections

    await sync_to_async(connections.close_all, thread_sensitive=True)()


def _csv_cell(text: str) -> str:
    """What a spreadsheet receives for a message with this text."""
    raw = b"".join(exports.csv_chunks(["text"], [{"text": text}])).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(raw, newline="")))[1][0]


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        " =1+1",  # a space first: some spreadsheets trim it and run the rest
        "\u200b=7+7",  # zero-width space (format character)
        "\ufeff=1+1",  # byte-order mark
        "\u2060\u200d@SUM(A1)",  # word joiner, zero-width joiner
        "\u00a0+1",  # no-break space
        "\u3000=1+1",  # ideographic space
        "\x00\x1f=1+1",  # control characters
        "\n=1+1",
        " \u200b \u202e-2+3",  # a mix, with a right-to-left override
        "\ufe0f=1+1",  # a variation selector: shows as nothing on its own
        "\u3164=1+1",  # Hangul filler: a letter that renders blank
        "\uff1d1+1",  # fullwidth equals sign
    ],
)
def test_a_formula_behind_blank_or_invisible_characters_is_written_as_text(text: str) -> None:
    assert _csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["hello =1+1", " hello", "\u200bhi", "1-2", "", "\u200b", "a@b.example"]
)
def test_ordinary_text_is_written_as_it_is(text: str) -> None:
    assert _csv_cell(text) == text
