"""Forms for the supervisor's session and prompt-text pages. They only parse and shape input; the
rules (who may, how long, who can facilitate) are enforced in actions.py."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone

from accounts.models import Role, User
from chat.models import Room
from moderation.facilitation.actions import SessionFields
from moderation.facilitation.library import PLACEHOLDERS, SIGNALS
from moderation.facilitation.models import FacilitatedSession


class _FacilitatorChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} ({obj.get_role_display().lower()})"


class SessionForm(forms.Form):
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_archived=False), empty_label=None)
    title = forms.CharField(max_length=120)
    focus = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A sentence or two, in members' words: it is shown to members and steers the prompts.",
    )
    topic = forms.SlugField(
        max_length=40,
        required=False,
        help_text="Optional prompt set for this kind of session, e.g. sleep, return-to-work, anxiety.",
    )
    date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label="Date (first session)"
    )
    start_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label="Starts at")
    end_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label="Ends at")
    weekly = forms.BooleanField(
        required=False, label="Repeat every week (including school holidays)"
    )
    repeat_until = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Repeat until (optional)",
        help_text="Leave empty to repeat until cancelled. Cancel single weeks from the session list.",
    )
    facilitators = _FacilitatorChoice(
        queryset=User.objects.filter(
            role__in=[Role.MODERATOR, Role.SUPERVISOR], suspended_at__isnull=True
        ).order_by("display_name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="Moderators who will run it; only they see the prompts.",
    )

    @classmethod
    def for_session(cls, session: FacilitatedSession) -> SessionForm:
        start = timezone.localtime(session.starts_at)
        end = timezone.localtime(session.ends_at)
        return cls(
            initial={
                "room": session.room,
                "title": session.title,
                "focus": session.focus,
                "topic": session.topic,
                "date": start.date(),
                "start_time": start.time().replace(second=0, microsecond=0),
                "end_time": end.time().replace(second=0, microsecond=0),
                "weekly": session.weekly,
                "repeat_until": session.repeat_until,
                "facilitators": list(session.facilitators.all()),
            }
        )

    def clean(self) -> dict:
        data = super().clean()
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day and start and end:
            data["starts_at"] = timezone.make_aware(datetime.combine(day, start))
            data["ends_at"] = timezone.make_aware(datetime.combine(day, end))
            if data["ends_at"] <= data["starts_at"]:
                self.add_error(
                    "end_time",
                    "The end must be after the start (sessions do not run past midnight).",
                )
        return data

    def fields_for_action(self) -> SessionFields:
        data = self.cleaned_data
        return SessionFields(
            room=data["room"],
            title=data["title"],
            focus=data["focus"],
            topic=data.get("topic") or "",
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            weekly=bool(data.get("weekly")),
            repeat_until=data.get("repeat_until"),
            facilitators=list(data["facilitators"]),
        )


class CancelForm(forms.Form):
    date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Only this date (leave empty to cancel every session in the series)",
    )
    reason = forms.CharField(max_length=300, required=False, label="Reason (for the audit log)")


class PromptTemplateForm(forms.Form):
    signal = forms.ChoiceField(choices=[(s, s.replace("_", " ")) for s in SIGNALS])
    topic = forms.SlugField(
        max_length=40,
        required=False,
        help_text="Empty: used in every session. A topic: replaces this signal's texts for sessions with that topic.",
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Placeholders: "
        + "; ".join(
            f"{s}: " + ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS[s])) for s in SIGNALS
        ),
    )
    position = forms.IntegerField(min_value=0, max_value=32000, initial=100)
    is_active = forms.BooleanField(required=False, initial=True, label="In use")
