"""Forms for the supervisor pages: filters (GET) and configuration (POST). Validation only; the
writes are in moderation.actions."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from accounts.models import Role, Stage
from chat.models import MessageState, Room, RoomKind
from moderation.models import Category, FlagState, Helpline, RoomPolicy
from moderation.supervision.selectors import DateRange, find_person

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
REASON_HELP = "For the audit log. Say why; please don't quote members."


class DateInput(forms.DateInput):
    input_type = "date"


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=DateInput)
    end = forms.DateField(required=False, label="To", widget=DateInput)

    def __init__(self, *args, default_days: int | None = DEFAULT_RANGE_DAYS, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.default_days = default_days

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError("The end date is before the start date.")
        if start and end and (end - start).days >= MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_RANGE_DAYS} days.")
        return data

    def period(self) -> DateRange | None:
        """The chosen range; the default when the form is empty or invalid."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        start: date | None = data.get("start")
        end: date | None = data.get("end")
        if not start and not end:
            return (
                DateRange.last_days(self.default_days, today=today) if self.default_days else None
            )
        end = end or today
        start = start or end - timedelta(days=(self.default_days or DEFAULT_RANGE_DAYS) - 1)
        return DateRange(start, end)


def _room_choices() -> list[tuple[str, str]]:
    return [
        ("", "All rooms"),
        *[(r.slug, r.name) for r in Room.objects.order_by("position", "name")],
    ]


class PersonField(forms.CharField):
    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(required=False, max_length=150, **kwargs)

    def clean(self, value):  # noqa: ANN001, ANN201
        value = super().clean(value)
        if not value:
            return None
        person = find_person(value)
        if person is None:
            raise forms.ValidationError("Nobody has that display name or login name.")
        return person


class AuditFilterForm(PeriodForm):
    actor = PersonField(label="Who did it", help_text="Display name or login name")
    target = PersonField(label="About member", help_text="Display name or login name")
    room = forms.ChoiceField(required=False, label="Room")
    action = forms.ChoiceField(required=False, label="Action")

    def __init__(self, *args, actions: list[str] = (), **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, default_days=None, **kwargs)
        self.fields["room"].choices = _room_choices()
        groups = sorted({a.split(".")[0] + "." for a in actions})
        self.fields["action"].choices = [
            ("", "All actions"),
            *[(g, f"{g}*") for g in groups],
            *[(a, a) for a in actions],
        ]

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "actor": data.get("actor"),
            "target": data.get("target"),
            "room": Room.objects.filter(slug=data.get("room")).first()
            if data.get("room")
            else None,
            "action": data.get("action", ""),
            "period": self.period(),
        }


class MessageFilterForm(PeriodForm):
    room = forms.ChoiceField(required=False, label="Room")
    member = PersonField(label="Member", help_text="Display name or login name")
    category = forms.ChoiceField(
        required=False,
        label="Category",
        choices=[("", "Any"), *[(c.value, c.label) for c in Category if c != Category.NONE]],
    )
    flag_state = forms.ChoiceField(
        required=False,
        label="Queue item",
        choices=[("", "Any"), ("none", "Never flagged"), *FlagState.choices],
    )
    state = forms.ChoiceField(
        required=False, label="Message state", choices=[("", "Any"), *MessageState.choices]
    )
    edited = forms.BooleanField(required=False, label="Edited messages only")
    q = forms.CharField(required=False, max_length=200, label="Text contains")

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, default_days=None, **kwargs)
        self.fields["room"].choices = _room_choices()

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "room": Room.objects.filter(slug=data.get("room")).first()
            if data.get("room")
            else None,
            "author": data.get("member"),
            "category": data.get("category", ""),
            "flag_state": data.get("flag_state", ""),
            "state": data.get("state", ""),
            "edited": bool(data.get("edited")),
            "text": (data.get("q") or "").strip(),
            "period": self.period(),
        }


class RoomForm(forms.ModelForm):
    reason = forms.CharField(required=False, max_length=500, help_text=REASON_HELP)

    class Meta:
        model = Room
        fields = [
            "slug",
            "name",
            "kind",
            "stage",
            "description",
            "house_rules",
            "position",
            "is_archived",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "house_rules": forms.Textarea(attrs={"rows": 5}),
        }
        labels = {
            "slug": "Web address (slug)",
            "is_archived": "Archived (closed to new messages and joins)",
        }

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("", "None (topic room)"), *Stage.choices]
        self.fields["kind"].choices = RoomKind.choices
        if self.instance.pk:
            self.fields["slug"].disabled = True  # links and sockets use it

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind") == RoomKind.STAGE and not data.get("stage"):
            self.add_error("stage", "A stage room needs a stage.")
        return data


class ThresholdForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500, help_text=REASON_HELP)

    LABELS = {
        "toxicity_flag": "Flag at toxicity",
        "insult_flag": "Flag at insult",
        "identity_attack_flag": "Flag at identity attack",
        "severe_toxicity_hold": "Hold at severe toxicity",
        "threat_hold": "Hold at threat",
        "insensitive_priority_toxicity": "Raise insensitive items' priority at toxicity",
    }

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        # Shown on the same page as RoomForm, which also has a "reason": ids of their own, so each
        # label points at its own field (field names, and so the POST, are unchanged).
        kwargs.setdefault("auto_id", "id_thresholds_%s")
        super().__init__(*args, **kwargs)
        for name in RoomPolicy.THRESHOLD_FIELDS:
            self.fields[name] = forms.FloatField(
                min_value=0.0,
                max_value=1.01,
                label=self.LABELS.get(name, name),
                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
                help_text="0–1; 1.01 switches it off",
            )
        self.order_fields([*RoomPolicy.THRESHOLD_FIELDS, "reason"])

    def values(self) -> dict[str, float]:
        return {name: self.cleaned_data[name] for name in RoomPolicy.THRESHOLD_FIELDS}


class HelplineForm(forms.ModelForm):
    url = forms.URLField(required=False, assume_scheme="https", label="Website")
    stages = forms.TypedMultipleChoiceField(
        choices=Stage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked if it is for every stage.",
    )
    reason = forms.CharField(
        required=False, max_length=500, help_text="For the audit log (optional)."
    )

    class Meta:
        model = Helpline
        fields = [
            "name",
            "kind",
            "contact",
            "when",
            "hours",
            "url",
            "region",
            "stages",
            "show_on_support_card",
            "position",
            "is_active",
        ]
        labels = {
            "when": "When to use it",
            "url": "Website",
            "is_active": "Shown to members",
            "show_on_support_card": "On the support card",
        }


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label="Role")
    reason = forms.CharField(required=False, max_length=500, help_text=REASON_HELP)


class SecondReviewForm(forms.Form):
    agrees = forms.TypedChoiceField(
        choices=[
            ("yes", "I would have decided the same"),
            ("no", "I would have decided differently"),
        ],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        label="Your view",
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Note for the moderator's supervision (optional)",
    )


class EraseOnRequestForm(forms.Form):
    confirm = forms.CharField(label="Type ERASE to confirm", max_length=10)
    reason = forms.CharField(
        max_length=500, help_text="How the request reached us (no member text)."
    )

    def clean_confirm(self) -> str:
        if self.cleaned_data["confirm"].strip() != "ERASE":
            raise forms.ValidationError("Type ERASE in capitals to confirm.")
        return "ERASE"


class SafetyModelForm(forms.Form):
    """Start a shadow run, promote or reject: which version, and why (kept in the audit log)."""

    ACTIONS = ("shadow", "promote", "reject")
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    version = forms.CharField(max_length=64)
    reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you saw in the comparison. Kept in the audit log.",
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data.get("reason", "").split())
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in reason):
            raise forms.ValidationError(
                "The reason contains characters that can't be stored; please retype it."
            )
        return reason
