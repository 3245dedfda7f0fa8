"""Clear what moderation.selectors caches for the message path when its source rows change.

Signals rather than the actions alone, so that a change made anywhere (an action, the admin, a
data migration, a test) clears the cache; after commit, so a rolled-back change clears nothing
and a reader cannot cache the old value between the write and the commit."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from moderation.models import ModeratorDuty, RoomPolicy
from moderation.selectors import ON_DUTY_KEY, _thresholds_key


@receiver([post_save, post_delete], sender=ModeratorDuty, dispatch_uid="kindred-duty-cache")
def _duty_changed(**kwargs) -> None:  # noqa: ANN003
    cache.delete(ON_DUTY_KEY)
    transaction.on_commit(lambda: cache.delete(ON_DUTY_KEY))


@receiver([post_save, post_delete], sender=RoomPolicy, dispatch_uid="kindred-policy-cache")
def _policy_changed(instance: RoomPolicy, **kwargs) -> None:  # noqa: ANN003
    key = _thresholds_key(instance.room_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
