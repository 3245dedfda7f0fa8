"""chat knows nothing of moderation, and accounts knows nothing of either (docs/architecture.md):
the apps above plug into the extension points below them (chat.gate, chat.signals,
chat.room_frames, chat.page_context, accounts.audit, accounts.personal_data) instead. This walks the syntax tree of every Python file under chat/, so an import hidden inside
a function, a `TYPE_CHECKING` block or an `importlib.import_module("moderation…")` fails too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHAT = ROOT / "chat"
ACCOUNTS = ROOT / "accounts"
# The package above chat: moderation and the apps inside it (facilitation, check-ins, practice).
ABOVE_CHAT = "moderation"
ABOVE_ACCOUNTS = ("chat", "moderation")
IMPORT_FUNCTIONS = {"__import__", "import_module"}


def _is_above(module: str | None, above: tuple[str, ...] = (ABOVE_CHAT,)) -> bool:
    return module is not None and any(
        module == package or module.startswith(package + ".") for package in above
    )


def _imported_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        # A relative import (`from . import x`) stays inside chat; an absolute one may not.
        return [node.module] if node.level == 0 and node.module else []
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        first = node.args[0]
        if name in IMPORT_FUNCTIONS and isinstance(first, ast.Constant):
            return [first.value] if isinstance(first.value, str) else []
    return []


def upward_imports(source: str, filename: str, above: tuple[str, ...] = (ABOVE_CHAT,)) -> list[str]:
    tree = ast.parse(source, filename=filename)
    return [
        f"{filename}:{node.lineno} imports {name}"
        for node in ast.walk(tree)
        for name in _imported_names(node)
        if _is_above(name, above)
    ]


def test_no_module_under_chat_imports_moderation():
    files = sorted(CHAT.rglob("*.py"))
    assert CHAT / "consumers.py" in files and CHAT / "notifications" / "actions.py" in files
    offending = [
        line
        for path in files
        for line in upward_imports(
            path.read_text(encoding="utf-8"), str(path.relative_to(CHAT.parent))
        )
    ]
    assert offending == [], "chat must not import moderation:\n" + "\n".join(offending)


def test_no_module_under_accounts_imports_chat_or_moderation():
    files = sorted(ACCOUNTS.rglob("*.py"))
    assert ACCOUNTS / "actions.py" in files and ACCOUNTS / "models.py" in files
    offending = [
        line
        for path in files
        for line in upward_imports(
            path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), ABOVE_ACCOUNTS
        )
    ]
    assert offending == [], "accounts must not import the apps above it:\n" + "\n".join(offending)


def test_the_walk_finds_imports_wherever_they_hide():
    source = (
        "import importlib\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from moderation.models import Helpline\n"
        "def f():\n"
        "    from moderation.actions import do_report_message\n"
        "    import moderation.checkins.selectors\n"
        "    importlib.import_module('moderation.care')\n"
        "    from . import gate\n"
        "import moderationish\n"
        "from chat import room_frames\n"
    )
    found = upward_imports(source, "chat/sample.py")
    assert [line.split(" imports ")[1] for line in found] == [
        "moderation.models",
        "moderation.actions",
        "moderation.checkins.selectors",
        "moderation.care",
    ]


def test_no_chat_table_points_into_moderation():
    """Nor does the schema: a foreign key from a chat table to a moderation one would make chat's
    migrations need moderation's. A card a moderator shares is a generic reference (chat.Message.card)."""
    from django.apps import apps

    upward = [
        f"{model.__name__}.{field.name} -> {field.related_model._meta.label}"
        for model in apps.get_app_config("chat").get_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and not field.auto_created  # moderation's keys to chat show up here as reverse relations
        and field.related_model is not None
        and field.related_model._meta.app_config.name.startswith(ABOVE_CHAT)
    ]
    assert upward == []


def test_chat_pages_load_no_tag_library_from_moderation():
    """chat's pages (frontend/templates/chat/) get moderation's fragments through slots
    (chat.page_context.register_slot), not by loading its template tags."""
    import re

    from django.template import engines

    libraries = engines["django"].engine.libraries  # name -> module path
    pages = sorted((ROOT / "frontend" / "templates" / "chat").glob("*.html"))
    assert pages
    loaded = {
        f"{page.name} loads {name} ({libraries.get(name, 'builtin')})"
        for page in pages
        for load in re.findall(r"{%\s*load\s+([^%]+?)\s*%}", page.read_text(encoding="utf-8"))
        for name in load.split()
    }
    assert loaded and not [line for line in loaded if f"({ABOVE_CHAT}." in line], sorted(loaded)
