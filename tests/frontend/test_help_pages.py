"""The help and privacy pages, and the tel:/sms: links built from helpline contacts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontend.selectors import contact_href
from moderation.models import Helpline


@pytest.mark.parametrize(
    ("contact", "href"),
    [
        ("999", "tel:999"),
        ("116 123", "tel:116123"),
        ("0808 1961 776", "tel:08081961776"),
        ("+44 (0)20 7946 0000", "tel:+442079460000"),
        ("Text SHOUT to 85258", "sms:85258?body=SHOUT"),
        ("text shout to 85258", "sms:85258?body=SHOUT"),
        ("Ask your health visitor", None),
        ("12", None),
        ("44+12345", None),
        ("", None),
    ],
)
def test_contact_href(contact: str, href: str | None) -> None:
    assert contact_href(contact) == href


@pytest.mark.django_db
def test_help_page_works_logged_out_and_lists_regional_lines(client) -> None:  # noqa: ANN001
    Helpline.objects.create(
        name="Local perinatal team", contact="0113 000 0000", when="Leeds mums", region="leeds"
    )
    response = client.get(reverse("help"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "If you or your baby are in danger, call 999 now." in body
    assert 'href="tel:116123"' in body
    assert "Local perinatal team" not in body  # another region's service


@pytest.mark.django_db
def test_privacy_page_works_logged_out(client) -> None:  # noqa: ANN001
    response = client.get(reverse("privacy"))
    assert response.status_code == 200
    assert "How long we keep it" in response.content.decode()
