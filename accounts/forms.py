from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate

from accounts.actions import AccountError, check_display_name
from accounts.models import Stage, User
from accounts.ratelimit import clear_login_failures, is_login_blocked, note_login_failure


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        help_text="Private: only you use it to log in. Please don't use your real name.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(
        min_length=3,
        max_length=30,
        help_text="What others in the rooms see (3–30 characters). A nickname, not your real name.",
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    stage = forms.ChoiceField(choices=Stage.choices, label="Where are you now?")
    password = forms.CharField(
        min_length=8, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters.",
    )
    adult = forms.BooleanField(label="I am 18 or over")
    guidelines = forms.BooleanField(label="I agree to the community guidelines")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken; please choose another.")
        return username

    def clean_display_name(self) -> str:
        try:
            return check_display_name(self.cleaned_data["display_name"])
        except AccountError as exc:
            raise forms.ValidationError(str(exc)) from exc


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"})
    )
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args, request=None, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None

    def _ip(self) -> str:
        return (self.request.META.get("REMOTE_ADDR") if self.request else "") or "unknown"

    def clean(self) -> dict:
        data = super().clean()
        username = data.get("username", "")
        password = data.get("password", "")
        if not username or not password:
            return data
        if is_login_blocked(username, self._ip()):
            raise forms.ValidationError(
                "Too many failed attempts. Please wait 15 minutes and try again.", code="rate_limited"
            )
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            note_login_failure(username, self._ip())
            suspended = User.objects.filter(username=username, suspended_at__isnull=False).exists()
            if suspended:
                raise forms.ValidationError("This account is suspended.", code="suspended")
            raise forms.ValidationError("That username and password don't match.", code="invalid")
        clear_login_failures(username)
        self.user = user
        return data


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices, label="Where are you now?")


class EraseAccountForm(forms.Form):
    """Erasing cannot be undone: ask for the password (someone else may be holding her phone)
    and a typed confirmation."""

    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}), label="Your password")
    confirm = forms.CharField(label="Type ERASE to confirm", max_length=10,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}))

    def __init__(self, *args, user: User, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right.")
        return password

    def clean_confirm(self) -> str:
        if self.cleaned_data["confirm"].strip().upper() != "ERASE":
            raise forms.ValidationError("Type ERASE to confirm.")
        return "ERASE"
