from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate

from accounts.actions import AccountError, check_display_name
from accounts.models import Stage, User
from accounts.ratelimit import (
    LoginRefusal,
    check_login_allowed,
    is_known_device,
    login_source_address,
    note_login_failure,
    note_login_success,
)


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
    # No silent default: the first option used to be "Pregnant", so a mother who scrolled past
    # the picker was put in the pregnancy room. She has to choose.
    stage = forms.ChoiceField(
        choices=[("", "Choose one…"), *Stage.choices],
        label="Where are you now?",
        error_messages={"required": "Choose where you are now, so we can open the right room."},
    )
    password = forms.CharField(
        min_length=8,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters.",
    )
    email = forms.EmailField(
        label="Email (optional)",
        required=False,
        max_length=254,
        help_text=(
            "Only to send you a link if you forget your password and lose your recovery codes. "
            "Leave it empty and we never ask again."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
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
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, request=None, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None
        self.refusal: LoginRefusal | None = None

    def clean(self) -> dict:
        data = super().clean()
        username = data.get("username", "")
        password = data.get("password", "")
        if not username or not password:
            return data
        address = login_source_address(self.request)
        self.refusal = check_login_allowed(
            username, address, known_device=is_known_device(self.request, username)
        )
        if self.refusal is not None:
            raise forms.ValidationError(self.refusal.message, code="rate_limited")
        # Only someone who knows the password learns that the account is suspended. The
        # suspended account's password is checked here instead of by authenticate(), which
        # refuses suspended accounts: either way one password hash is computed, so the time
        # taken does not tell a wrong guess on a suspended account from any other.
        suspended = User.objects.filter(username=username, suspended_at__isnull=False).first()
        if suspended is not None and suspended.check_password(password):
            raise forms.ValidationError("This account is suspended.", code="suspended")
        user = (
            None
            if suspended is not None
            else authenticate(self.request, username=username, password=password)
        )
        if user is None:
            note_login_failure(username, address)
            raise forms.ValidationError("That username and password don't match.", code="invalid")
        note_login_success(username, address)
        self.user = user
        return data


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices, label="Where are you now?")


class EraseAccountForm(forms.Form):
    """Erasing cannot be undone: ask for the password (someone else may be holding her phone)
    and a typed confirmation."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your password",
    )
    confirm = forms.CharField(
        label="Type ERASE to confirm",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

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


class RecoverWithCodeForm(forms.Form):
    """She forgot her password: her username, one recovery code, a new password. Throttled like
    the login form (accounts.ratelimit), since a code is a password she can use once."""

    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    code = forms.CharField(
        label="One of your recovery codes",
        max_length=40,
        help_text="Like abcd-efgh-jkmn-pqrs. Each code works once.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    new_password = forms.CharField(
        label="New password",
        min_length=8,
        help_text="At least 8 characters.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, request=None, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None
        self.refusal: LoginRefusal | None = None

    def clean(self) -> dict:
        from accounts.actions import do_recover_with_code

        data = super().clean()
        username = data.get("username", "")
        if not username or not data.get("code") or not data.get("new_password"):
            return data
        address = login_source_address(self.request)
        self.refusal = check_login_allowed(
            username, address, known_device=is_known_device(self.request, username)
        )
        if self.refusal is not None:
            raise forms.ValidationError(self.refusal.message, code="rate_limited")
        try:
            self.user = do_recover_with_code(
                username=username, code=data["code"], new_password=data["new_password"]
            )
        except AccountError as exc:
            if str(exc).startswith("New password"):
                raise forms.ValidationError(str(exc), code="weak_password") from exc
            note_login_failure(username, address)
            raise forms.ValidationError(str(exc), code="invalid") from exc
        note_login_success(username, address)
        return data


class NewRecoveryCodesForm(forms.Form):
    """Making new codes replaces the old ones: ask for her password (someone else may be holding
    her phone)."""

    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right.")
        return password
