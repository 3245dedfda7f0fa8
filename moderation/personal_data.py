"""The member data moderation holds, exported and erased for accounts' data rights
(accounts.personal_data; registered in ModerationConfig.ready; docs/data-protection.md).

Runs after chat's handler (order 20 > 10): her messages are already empty placeholders, still
authored by her, so the queue items about them are found through message__author."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts import personal_data
from accounts.personal_data import Erasure
from chat.models import Message
from moderation.models import (
    Flag,
    FlagState,
    ModeratorNote,
    Mute,
    Notice,
    Report,
    SecondReview,
)

MODELS = [
    "moderation.Assessment",
    "moderation.Flag",
    "moderation.Report",
    "moderation.SecondReview",
    "moderation.Notice",
    "moderation.ModeratorNote",
    "moderation.Mute",
]

# Models the personal-data check asks about that never hold what a member wrote.
WITHOUT_MEMBER_TEXT = {
    "moderation.AuditEntry": (
        "audit rows never hold a member's words or pseudonym, by design (append-only; "
        "tests/supervision/test_erasure.py::test_no_member_text_is_ever_written_to_audit_rows)"
    ),
    "moderation.ShadowAssessment": "a candidate model's scores and verdicts, no quoted words",
    "moderation.SafetyModelRelease": "a supervisor's release of a model version",
    "moderation.ModeratorPreference": "a moderator's own blur settings",
    "moderation.ConsoleConnection": "a moderator's open console socket",
    "moderation.FacilitatedSession": "a session a supervisor scheduled (title, focus, topic)",
    "moderation.SessionCancellation": "a supervisor's reason for cancelling a session",
    "moderation.PromptTemplate": "the prompt library supervisors edit",
}


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_member_data(user: Any, data: dict[str, Any]) -> None:
    """What moderators decided about each of her messages, the reports she made, the notices
    she was sent, her posting pauses, and moderators' notes about her (UK GDPR gives her a
    right to them)."""
    verdicts = {
        (f.message.room.slug, f.message.seq): {
            "category": f.category,
            "state": f.state,
            "resolution": f.resolution,
            "created_at": _when(f.created_at),
            "resolved_at": _when(f.resolved_at),
        }
        for f in Flag.objects.filter(message__author=user).select_related("message__room")
    }
    for message in data.get("messages", []):
        message["moderation"] = verdicts.get((message["room"], message["seq"]))
    data["reports_made"] = [
        {
            "room": r.flag.message.room.slug,
            "seq": r.flag.message.seq,
            "reason": r.reason,
            "created_at": _when(r.created_at),
        }
        for r in Report.objects.filter(reporter=user).select_related("flag__message__room")
    ]
    data["notices"] = [
        {"kind": n.kind, "title": n.title, "text": n.text, "created_at": _when(n.created_at)}
        for n in Notice.objects.filter(user=user)
    ]
    data["posting_pauses"] = [
        {
            "room": mu.room.slug,
            "until": _when(mu.until),
            "lifted_at": _when(mu.lifted_at),
            "created_at": _when(mu.created_at),
        }
        for mu in Mute.objects.filter(user=user).select_related("room")
    ]
    data["moderator_notes"] = [
        {"kind": n.kind, "text": n.text, "created_at": _when(n.created_at)}
        for n in ModeratorNote.objects.filter(member=user)
    ]


def erase_member_data(erasure: Erasure) -> None:
    """Queue items about her messages stay counted (statistics stay honest) but lose the words
    they quoted and the notes about them, and open ones are resolved as account_erased; what
    others reported about her messages and what she reported lose their reasons; notices to
    her and moderators' notes about her are deleted."""
    from moderation.actions import scrub_message_text

    user = erasure.user
    # Her messages' text is already gone (chat's handler); this removes its copies here.
    scrub_message_text(list(Message.objects.filter(author=user).values_list("pk", flat=True)))
    flags = Flag.objects.filter(message__author=user)
    flags.update(resolution_note="", supervisor_note="")
    flags.exclude(state=FlagState.RESOLVED).update(
        state=FlagState.RESOLVED,
        resolution="account_erased",
        resolved_at=timezone.now(),
        claimed_by=None,
    )
    SecondReview.objects.filter(flag__message__author=user).update(note="")
    Report.objects.filter(reporter=user).update(reason="")
    Notice.objects.filter(user=user).delete()
    ModeratorNote.objects.filter(member=user).delete()


def register() -> None:
    personal_data.register(
        "moderation",
        models=MODELS,
        export=export_member_data,
        erase=erase_member_data,
        order=20,
    )
    for label, why in WITHOUT_MEMBER_TEXT.items():
        personal_data.declare_without_member_text(label, why=why)
