"""``manage.py facilitation_replay``: JSON Lines in, one JSON line per prompt out, clean errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from .conftest import TRANSCRIPTS

ROOT = Path(__file__).resolve().parents[2]
# The command assesses members' messages as the live room does, so it reads which safety model is
# live (a supervisor's choice, kept in the database).
pytestmark = pytest.mark.django_db


def run(*args: str, stdin: str | None = None, monkeypatch=None) -> list[dict]:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    call_command("facilitation_replay", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_replays_a_file_with_the_real_models() -> None:
    lines = run(str(TRANSCRIPTS / "drifting.jsonl"))

    # The member who cried on her first day back is assessed as distressed, as she would be live,
    # so the facilitator is offered a private check-in first; the drift prompt still comes (later,
    # as the engine spaces its prompts out).
    signals = [(p["t"], p["signal"]) for p in lines]
    assert signals[:2] == [(0, "opening"), (180, "check_in")]
    assert "drift" in [s for _, s in signals]
    assert lines[-1]["signal"] == "closing"
    assert all(set(p) <= {"t", "signal", "text", "reason", "target"} for p in lines)


def test_reads_standard_input(monkeypatch) -> None:
    transcript = "\n".join(
        [
            json.dumps(
                {"session": {"focus": "Feeding", "duration_minutes": 20, "next_session": "Friday"}}
            ),
            json.dumps(
                {"t": 30, "author": "Priya", "role": "member", "text": "Hi all", "newcomer": True}
            ),
            json.dumps({"t": 60, "event": "flag", "author": "Priya", "category": "distress"}),
        ]
    )
    lines = run(
        "-", "--no-embeddings", "--stop-at-last-event", stdin=transcript, monkeypatch=monkeypatch
    )

    assert [(p["t"], p["signal"], p.get("target")) for p in lines] == [
        (0, "opening", None),
        (30, "newcomer", "Priya"),
        (60, "check_in", "Priya"),
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ['{"session": {"focus": "Sleep"}}', '{"t": 10, "author": "Jo", "role": "member"'],
            "line 2: invalid JSON",
        ),
        (['{"focus": "Sleep"}'], "line 1: the first line must be"),
        (
            [
                '{"session": {"focus": "Sleep"}}',
                "",
                '{"t": 5, "author": "Jo", "role": "boss", "text": "hi"}',
            ],
            'line 3: "role"',
        ),
        (
            [
                '{"session": {"focus": "Sleep"}}',
                '{"t": 50, "event": "tick"}',
                '{"t": 40, "event": "tick"}',
            ],
            'line 3: "t" goes backwards',
        ),
        (['{"session": {"focus": "Sleep"}}', '{"t": 5, "event": "nap"}'], "line 2: unknown event"),
        (['{"session": {"focus": "Sleep", "duration_minutes": 0}}'], "line 1: duration_minutes"),
        (
            ['{"session": {"focus": "Sleep"}}', '{"t": 5, "event": "flag", "author": "Jo"}'],
            'line 2: missing "category"',
        ),
    ],
)
def test_bad_input_names_the_line(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("facilitation_replay", str(path), "--no-embeddings")


def test_bad_input_exits_non_zero_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"session": {"focus": "Sleep"}}\n{"t": "soon", "event": "tick"}\n')

    result = subprocess.run(
        [sys.executable, "manage.py", "facilitation_replay", str(path), "--no-embeddings"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert 'line 2: "t" has the wrong type' in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_missing_file_is_a_clean_error() -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("facilitation_replay", "/nonexistent/session.jsonl")
