"""Recovery codes (issue 21): shown once at sign-up, downloadable, stored hashed, single use,
replaced from Settings; the recovery-code login sets a new password. And the optional email's
reset link."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.core import mail
from django.urls import reverse

from accounts.actions import (
    AccountError,
    do_export_member_data,
    do_issue_recovery_codes,
    do_recover_with_code,
)
from accounts.models import RecoveryCode, User
from moderation.models import AuditEntry

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "wren-at-dawn",
    "display_name": "Wren",
    "stage": "newborn",
    "password": "tea-and-toast-2026",
    "adult": "on",
    "guidelines": "on",
}
CODE_RE = re.compile(r"\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b")


def test_sign_up_shows_ten_codes_once_with_a_download_and_keeps_only_hashes(client):
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 302 and response.url == reverse("recovery_codes")
    page = client.get(reverse("recovery_codes")).content.decode()
    codes = CODE_RE.findall(page.split('id="recovery-codes"')[1].split("</ol>")[0])
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "this is the only time they are shown" in page
    download = re.search(r'id="download-codes" href="data:text/plain;charset=utf-8,([^"]+)"', page)
    assert download and all(c in unquote(download.group(1)) for c in codes)
    user = User.objects.get(username="wren-at-dawn")
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in stored)
    # Once: a reload shows how many are left, not the codes.
    again = client.get(reverse("recovery_codes")).content.decode()
    assert not CODE_RE.search(again)
    assert 'id="codes-left">10<' in again
    audit = AuditEntry.objects.get(action="account.recovery_codes_issued", target_user=user)
    assert audit.after["count"] == 10 and not any(c in str(audit.after) for c in codes)


def test_a_code_sets_a_new_password_once_and_ends_her_other_sessions(client, member):
    codes = do_issue_recovery_codes(member, acting_user=member)
    other_device = client.__class__()
    other_device.force_login(member)
    response = client.post(
        reverse("recover_with_code"),
        {"username": member.username, "code": codes[3].upper(), "new_password": "moonlit-kettle-7"},
    )
    assert response.status_code == 302 and response.url == reverse("rooms")
    assert "You have 9 recovery codes left" in client.get(reverse("rooms")).content.decode()
    member.refresh_from_db()
    assert member.check_password("moonlit-kettle-7")
    assert other_device.get(reverse("rooms")).status_code == 302  # logged out there
    audit = AuditEntry.objects.get(action="account.recovered_with_code", target_user=member)
    assert audit.after == {"codes_left": 9}
    # Single use.
    with pytest.raises(AccountError):
        do_recover_with_code(username=member.username, code=codes[3], new_password="x-another-9")
    # The others still work, hyphens or not.
    do_recover_with_code(
        username=member.username, code=codes[4].replace("-", " "), new_password="third-pass-word-5"
    )


def test_wrong_code_or_username_says_the_same_and_is_throttled(client, member, other_member):
    do_issue_recovery_codes(member, acting_user=member)
    codes_of_other = do_issue_recovery_codes(other_member, acting_user=other_member)
    wrong = {"username": member.username, "code": codes_of_other[0], "new_password": "x-pass-123"}
    nobody = {"username": "nobody-here", "code": codes_of_other[0], "new_password": "x-pass-123"}
    a = client.post(reverse("recover_with_code"), wrong)
    b = client.post(reverse("recover_with_code"), nobody)
    assert a.status_code == b.status_code == 400
    assert "That username and recovery code don&#x27;t match." in a.content.decode()
    assert a.context["form"].errors == b.context["form"].errors
    for _ in range(12):
        last = client.post(reverse("recover_with_code"), wrong)
    assert last.status_code == 429 and int(last["Retry-After"]) >= 1
    member.refresh_from_db()
    assert not member.check_password("x-pass-123")


def test_new_codes_from_settings_need_her_password_and_replace_the_old(client, member):
    old = do_issue_recovery_codes(member, acting_user=member)
    client.force_login(member)
    assert (
        'href="/accounts/recovery-codes/"'
        in client.get(reverse("member_settings")).content.decode()
    )
    refused = client.post(reverse("recovery_codes"), {"password": "not-hers"})
    assert refused.status_code == 400
    assert RecoveryCode.objects.filter(user=member, used_at__isnull=True).count() == 10
    response = client.post(reverse("recovery_codes"), {"password": "a-long-test-password-1"})
    assert response.status_code == 302
    page = client.get(reverse("recovery_codes")).content.decode()
    new = CODE_RE.findall(page.split('id="recovery-codes"')[1].split("</ol>")[0])
    assert len(new) == 10 and not set(new) & set(old)
    with pytest.raises(AccountError):
        do_recover_with_code(username=member.username, code=old[0], new_password="x-pass-1234")


def test_export_lists_code_dates_never_codes_and_erasure_removes_them(member, supervisor):
    from accounts.actions import do_erase_account

    codes = do_issue_recovery_codes(member, acting_user=member)
    data = do_export_member_data(member, acting_user=member)
    assert len(data["recovery_codes"]) == 10
    assert not any(c in str(data) for c in codes)
    assert data["account"]["email"] == ""
    do_erase_account(member, acting_user=member)
    assert not RecoveryCode.objects.filter(user_id=member.pk).exists()


def test_optional_email_gets_a_discreet_reset_link(client):
    client.post(reverse("signup"), {**SIGNUP, "email": "wren@example.org"})
    client.post(reverse("logout"))
    user = User.objects.get(username="wren-at-dawn")
    assert user.email == "wren@example.org"
    response = client.post(reverse("password_reset"), {"email": "wren@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "Your password reset link"
    assert "Kindred" not in sent.subject + sent.body and "mum" not in sent.body.lower()
    link = re.search(r"http://testserver(/accounts/password-reset/\S+/)", sent.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "fresh-morning-42", "new_password2": "fresh-morning-42"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fresh-morning-42")


def test_the_pages_say_what_happens_if_she_forgets(client):
    signup = client.get(reverse("signup")).content.decode()
    assert "If you forget your password:" in signup and "Email (optional)" in signup
    login = client.get(reverse("login")).content.decode()
    assert 'href="/accounts/recover/"' in login
