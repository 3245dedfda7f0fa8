"""Where each app declares the personal data it holds, so that accounts can export and erase a
member's data without knowing the apps above it (docs/architecture.md, docs/data-protection.md).

An app registers in its ``AppConfig.ready``::

    from accounts import personal_data

    personal_data.register(
        "chat",
        models=["chat.Message", "chat.MessageRevision", ...],
        export=export_member_data,  # (user, data) -> None: adds its sections to data
        erase=erase_member_data,  # (erasure) -> dict | None: counts for the audit row
        order=10,
    )

``do_export_member_data`` and ``do_erase_account`` (accounts/actions.py) call the handlers in
``order`` (lowest first) inside one transaction. A model that holds text but no words of a
member is declared with ``declare_without_member_text(label, why=...)``.

The system check ``accounts.W010`` reports any model that could hold a member's text and is in
neither list: a free-text or JSON column on a model with a foreign key to the user, or to a
model that has one (a message, a queue item). It is a warning so that ``migrate`` and the dev
server still run while a new model is being written; CI fails on it
(tests/accounts/test_personal_data.py, and ``check --deploy --fail-level WARNING`` in
tests/test_deploy.py). So a new app cannot store member data that an erasure would leave
behind without someone deciding, in writing, what happens to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import checks
from django.db import models, transaction

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "Erasure",
    "Handler",
    "check_personal_data_registered",
    "declare_without_member_text",
    "erase_member_data",
    "export_member_data",
    "handlers",
    "register",
]


@dataclass(frozen=True)
class Erasure:
    """What an erase handler is told. ``user`` is her row, locked (select_for_update) and not yet
    renamed; ``old_display_name`` is the pseudonym to remove wherever it was copied,
    ``new_display_name`` the one that replaces it."""

    user: User
    acting_user: User | None
    old_display_name: str
    new_display_name: str


ExportHandler = Callable[["User", dict[str, Any]], None]
EraseHandler = Callable[[Erasure], "dict[str, int] | None"]


@dataclass(frozen=True)
class Handler:
    name: str
    models: tuple[str, ...]
    export: ExportHandler | None
    erase: EraseHandler | None
    order: int


@dataclass
class _Registry:
    handlers: dict[str, Handler] = field(default_factory=dict)
    without_member_text: dict[str, str] = field(default_factory=dict)


_registry = _Registry()


def register(
    name: str,
    *,
    models: list[str] | tuple[str, ...],
    export: ExportHandler | None = None,
    erase: EraseHandler | None = None,
    order: int = 100,
) -> Handler:
    """Declare that ``models`` (``"app_label.ModelName"``) hold a member's data and how it is
    exported and erased.

    ``export(user, data)`` adds the app's sections to the export dict (it may add keys to
    entries an earlier handler made, e.g. moderation's verdict on each of her messages).
    ``erase(erasure)`` removes her words from those models; it runs inside the erasure's
    transaction, pushes only with ``transaction.on_commit`` and may return counts for the
    ``account.erased`` audit row. Registering a name again replaces it (ready() may run twice
    in tests)."""
    if export is None and erase is None:
        raise ValueError(f"{name}: give an export or an erase handler (or both)")
    handler = Handler(name=name, models=tuple(models), export=export, erase=erase, order=order)
    _registry.handlers[name] = handler
    return handler


def declare_without_member_text(label: str, *, why: str) -> None:
    """Declare that a model the check would ask about holds no words of a member (staff text,
    machine state), and why, so it is kept as it is on erasure."""
    if not why.strip():
        raise ValueError(f"{label}: say why it holds no member text")
    _registry.without_member_text[label] = why


def handlers() -> list[Handler]:
    """The registered handlers in the order they run (``order``, then name)."""
    return sorted(_registry.handlers.values(), key=lambda h: (h.order, h.name))


def export_member_data(user: User, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every registered app's sections of her export added to ``data``, in handler order, read
    in one transaction."""
    data = {} if data is None else data
    with transaction.atomic():
        for handler in handlers():
            if handler.export is not None:
                handler.export(user, data)
    return data


def erase_member_data(erasure: Erasure) -> dict[str, int]:
    """Run every erase handler in order. Must be called inside the erasure's transaction (a
    handler that fails rolls back all of them). Returns the handlers' counts merged (numbers
    only: they go into the account.erased audit row)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("erase_member_data must run inside the erasure's transaction")
    counts: dict[str, int] = {}
    for handler in handlers():
        if handler.erase is not None:
            returned = handler.erase(erasure) or {}
            # The counts go into the append-only audit row, which must never hold her words.
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in returned.values()):
                raise TypeError(f"{handler.name}: an erase handler returns counts (int) only")
            counts.update(returned)
    return counts


# --- The check --------------------------------------------------------------------------------


def _free_text_columns(model: type[models.Model]) -> list[str]:
    """Columns that can hold words someone typed: text, JSON, and character fields without a
    fixed list of choices."""
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, (models.TextField, models.JSONField))
        or (isinstance(f, models.CharField) and not f.choices)
    ]


def _foreign_models(model: type[models.Model]) -> set[type[models.Model]]:
    return {
        f.related_model
        for f in model._meta.concrete_fields
        if f.is_relation and (f.many_to_one or f.one_to_one) and f.related_model is not None
    }


def models_that_may_hold_member_text(
    all_models: list[type[models.Model]] | None = None,
) -> list[type[models.Model]]:
    """Models with a free-text or JSON column and a foreign key to the user, or to a model that
    has one (her messages, the queue items about them…). The user model itself counts."""
    user_model = get_user_model()
    all_models = list(apps.get_models()) if all_models is None else all_models
    about_someone = {m for m in all_models if user_model in _foreign_models(m)}
    about_someone.add(user_model)
    return [
        m
        for m in all_models
        if _free_text_columns(m) and (m is user_model or (_foreign_models(m) & about_someone))
    ]


def check_personal_data_registered(
    app_configs: Any = None, all_models: list[type[models.Model]] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """accounts.W010: a model that may hold a member's text has no registered handler and is
    not declared free of member text."""
    declared = set(_registry.without_member_text)
    for handler in _registry.handlers.values():
        declared.update(handler.models)
    errors = []
    for model in models_that_may_hold_member_text(all_models):
        label = model._meta.label
        if label in declared:
            continue
        errors.append(
            checks.Warning(
                f"{label} may hold a member's words ({', '.join(_free_text_columns(model))}) "
                "but no app registered how they are exported and erased.",
                hint=(
                    "In its AppConfig.ready, call accounts.personal_data.register(…, "
                    f"models=['{label}'], export=…, erase=…) or, if it never holds what a "
                    f"member wrote, declare_without_member_text('{label}', why=…). "
                    "See docs/architecture.md."
                ),
                obj=model,
                id="accounts.W010",
            )
        )
    return errors
