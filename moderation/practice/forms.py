"""Supervisors' training forms: validation only; writes are in moderation.practice.actions."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from moderation.practice.models import PracticeAction, RiskFamily, Scenario, ScenarioKind

REASON_HELP = "For the audit log. Say why; please don't quote members."
ACTION_CHOICES = PracticeAction.choices


class PassMarkForm(forms.Form):
    pass_accuracy_pct = forms.IntegerField(
        min_value=50, max_value=100, label="Overall accuracy needed (%)"
    )
    all_risk_correct = forms.BooleanField(
        required=False, label="Every risk scenario escalated correctly"
    )
    risk_within_target = forms.BooleanField(
        required=False, label="Every risk decision within the 5-minute target"
    )
    min_scenarios = forms.IntegerField(min_value=1, max_value=500, label="Scenarios to complete")
    queue_size = forms.IntegerField(
        min_value=1, max_value=20, label="Practice items in her queue at once"
    )
    reason = forms.CharField(required=False, max_length=500, help_text=REASON_HELP)


class SignOffForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Your review of her record (kept with the sign-off)",
    )


class RefresherForm(forms.Form):
    scenarios = forms.ModelMultipleChoiceField(
        queryset=Scenario.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        label="Scenarios to practise again",
    )
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why (she sees this)",
    )
    due_by = forms.DateField(
        required=False, label="Due by", widget=forms.DateInput(attrs={"type": "date"})
    )


def _lines(text: str) -> list[tuple[str, str]]:
    """'Name: words' per line → [(name, words)]."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, words = line.partition(":")
        if not sep or not name.strip() or not words.strip():
            raise forms.ValidationError(f"Line {n}: write it as “Name: what she wrote”.")
        out.append((name.strip()[:30], words.strip()))
    return out


def _dump_lines(items: list[dict[str, Any]], a: str, b: str) -> str:
    return "\n".join(f"{i.get(a, '')}: {i.get(b, '')}" for i in items)


class ScenarioForm(forms.Form):
    title = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=ScenarioKind.choices, label="What it trains")
    risk_family = forms.ChoiceField(choices=RiskFamily.choices, required=False)
    category = forms.ChoiceField(
        choices=[
            ("risk", "Risk"),
            ("toxic", "Hurtful"),
            ("insensitive", "Insensitive"),
            ("distress", "Distress"),
            ("none", "Other"),
        ],
        label="Queue category",
    )
    priority = forms.ChoiceField(
        choices=[(p, p.capitalize()) for p in ("urgent", "high", "normal", "low")]
    )
    escalated = forms.BooleanField(required=False, label="Pinned as risk (urgent)")
    room_name = forms.CharField(max_length=60, label="Room")
    author_name = forms.CharField(max_length=30, label="Made-up author's name")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="The flagged message")
    held = forms.BooleanField(required=False, label="Held for review")
    before = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Conversation before (one “Name: message” per line)",
    )
    after = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Conversation after (one “Name: message” per line)",
    )
    reports = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Member reports (one “Name: reason” per line)",
    )
    reasons = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why it was flagged (JSON, as the real queue shows it)",
        help_text='e.g. [{"rule": "abuse.insult", "span": "lazy cow"}] or [{"rule": "member.report"}]',
    )
    expected = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Expected actions (one set per line, actions separated by “+”; any line is right)",
        help_text="Actions: " + ", ".join(PracticeAction.values) + ". e.g. “hide + warn”.",
    )
    acceptable = forms.MultipleChoiceField(
        choices=ACTION_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Also acceptable beside them",
    )
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why (what a supervisor would say; shown after her decision)",
    )
    is_active = forms.BooleanField(required=False, label="In use")
    position = forms.IntegerField(min_value=0, max_value=100000, initial=0)
    reason = forms.CharField(required=False, max_length=500, help_text=REASON_HELP)

    @classmethod
    def initial_for(cls, scenario: Scenario) -> dict[str, Any]:
        return {
            **{
                f: getattr(scenario, f)
                for f in (
                    "title",
                    "kind",
                    "risk_family",
                    "category",
                    "priority",
                    "escalated",
                    "room_name",
                    "author_name",
                    "body",
                    "held",
                    "acceptable",
                    "explanation",
                    "is_active",
                    "position",
                )
            },
            "before": _dump_lines(scenario.before, "author", "text"),
            "after": _dump_lines(scenario.after, "author", "text"),
            "reports": _dump_lines(scenario.reports, "by", "reason"),
            "reasons": json.dumps(scenario.reasons, ensure_ascii=False),
            "expected": "\n".join(" + ".join(o) for o in scenario.expected),
        }

    def clean_before(self) -> list[dict[str, str]]:
        return [{"author": a, "text": t} for a, t in _lines(self.cleaned_data["before"])]

    def clean_after(self) -> list[dict[str, str]]:
        return [{"author": a, "text": t} for a, t in _lines(self.cleaned_data["after"])]

    def clean_reports(self) -> list[dict[str, str]]:
        return [{"by": a, "reason": t} for a, t in _lines(self.cleaned_data["reports"])]

    def clean_reasons(self) -> list[Any]:
        text = self.cleaned_data["reasons"].strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError("Not valid JSON.") from exc
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise forms.ValidationError("Give a list of reasons, each in {…}.")
        return value

    def clean_expected(self) -> list[list[str]]:
        options = []
        for n, line in enumerate(self.cleaned_data["expected"].splitlines(), start=1):
            if not line.strip():
                continue
            actions = [a.strip().lower() for a in line.split("+") if a.strip()]
            unknown = [a for a in actions if a not in PracticeAction.values]
            if unknown:
                raise forms.ValidationError(f"Line {n}: unknown action {', '.join(unknown)}.")
            options.append(actions)
        if not options:
            raise forms.ValidationError("Give at least one set of expected actions.")
        return options

    def scenario_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("reason", None)
        data["risk_family"] = data.get("risk_family") or ""
        data["sources"] = sorted(
            {
                "report"
                if r.get("rule") == "member.report"
                else "model"
                if "score" in r
                else "rule"
                for r in data["reasons"]
            }
        ) or ["rule"]
        return data
