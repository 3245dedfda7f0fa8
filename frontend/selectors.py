"""Reads for the member pages that are not chat: the help page's helplines.

`help_page_helplines` applies the same region rule as
`moderation.selectors.support_card_helplines` (national entries plus her region's) but lists every
active service, not only those chosen for the support card, and adds what a page can show and a
frame does not carry: the date a person last checked the number, and a tappable link.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from moderation.models import Helpline

_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{1,24}$")
_TEXT_TO = re.compile(r"^text\s+([A-Za-z0-9]{1,20})\s+to\s+(\+?[0-9][0-9 ]{1,15})$", re.IGNORECASE)


def contact_href(contact: str) -> str | None:
    """A tel: or sms: link for a helpline's free-text contact, or None when it is neither.

    "116 123" → tel:116123; "Text SHOUT to 85258" → sms:85258?body=SHOUT. Kept in step with
    frontend/static/frontend/helplines.js (the support card builds its links in the browser).
    """
    text = (contact or "").strip()
    sms = _TEXT_TO.match(text)
    if sms:
        number = re.sub(r"[^0-9+]", "", sms.group(2))
        return f"sms:{number}?body={sms.group(1).upper()}"
    if _PHONE.match(text):
        # "+44 (0)20…": the bracketed trunk zero is not dialled from abroad, nor needed at home.
        digits = re.sub(r"[^0-9+]", "", text.replace("(0)", ""))
        if "+" in digits[1:] or len(digits.lstrip("+")) < 3:
            return None
        return f"tel:{digits}"
    return None


def help_page_helplines(region: str = "") -> list[dict[str, Any]]:
    rows = Helpline.objects.filter(is_active=True)
    rows = rows.filter(region__in=["", region]) if region else rows.filter(region="")
    lines: list[dict[str, Any]] = []
    for h in rows:
        href = contact_href(h.contact)
        lines.append(
            {
                "name": h.name,
                "contact": h.contact,
                "when": h.when,
                "hours": h.hours,
                "url": h.url if h.url.startswith(("https://", "http://")) else "",
                "href": href,
                "is_sms": bool(href and href.startswith("sms:")),
                "last_verified": h.last_verified if isinstance(h.last_verified, date) else None,
            }
        )
    return lines


def resource_regions() -> list[str]:
    """The areas that have services of their own, for the resources page's filter."""
    rows = (
        Helpline.objects.filter(is_active=True).exclude(region="").values_list("region", flat=True)
    )
    return sorted(set(rows))
