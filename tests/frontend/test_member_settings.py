"""Reading settings (/settings/, accounts.actions.do_set_collapse_topics) and the resources page."""

from __future__ import annotations

import pytest

from accounts.actions import AccountError, do_set_collapse_topics
from moderation.models import AuditEntry, Helpline

pytestmark = pytest.mark.django_db


def test_collapse_topics_are_validated_ordered_and_audited_without_the_topics(member):  # noqa: ANN001
    do_set_collapse_topics(member, ["abuse", "baby_loss", "abuse"], acting_user=member)
    member.refresh_from_db()
    assert member.collapse_topics == ["baby_loss", "abuse"]
    entry = AuditEntry.objects.get(action="account.collapse_topics_changed", target_user=member)
    assert entry.after == {"count": 2}
    assert "baby_loss" not in str(entry.before) + str(entry.after)
    with pytest.raises(AccountError):
        do_set_collapse_topics(member, ["ghosts"], acting_user=member)
    with pytest.raises(AccountError):
        do_set_collapse_topics(member, "baby_loss", acting_user=member)


def test_only_she_or_a_supervisor_changes_them(member, other_member, supervisor):  # noqa: ANN001
    with pytest.raises(AccountError):
        do_set_collapse_topics(member, ["medical"], acting_user=other_member)
    do_set_collapse_topics(member, ["medical"], acting_user=supervisor)
    member.refresh_from_db()
    assert member.collapse_topics == ["medical"]


def test_settings_page_saves_and_the_room_page_gets_them(client, member):  # noqa: ANN001
    client.force_login(member)
    assert client.get("/settings/").status_code == 200
    response = client.post("/settings/", {"collapse_topics": ["self_harm", "medical"]})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.collapse_topics == ["self_harm", "medical"]
    assert client.post("/settings/", {"collapse_topics": ["nope"]}).status_code == 400
    page = client.get("/rooms/newborn/").content.decode()
    assert '"collapseTopics": ["self_harm", "medical"]' in page


def test_resources_page_defaults_to_her_stage_and_filters(client, member):  # noqa: ANN001
    Helpline.objects.create(
        name="Bump Group",
        contact="0117 000 0000",
        when="Pregnancy group",
        region="Bristol",
        kind="group",
        stages=["pregnant"],
    )
    client.force_login(member)  # newborn
    page = client.get("/resources/").content.decode()
    assert "Samaritans" in page and "Bump Group" not in page
    page = client.get("/resources/?stage=pregnant&region=Bristol").content.decode()
    assert "Bump Group" in page and 'href="tel:01170000000"' in page
    client.logout()
    assert client.get("/resources/?stage=bogus&region=nowhere").status_code == 200
