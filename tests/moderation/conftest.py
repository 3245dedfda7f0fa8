"""Fixtures for moderation tests. ``tiny_detoxify`` builds a real Detoxify-format checkpoint once."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class TinyDetoxify:
    checkpoint: Path
    config_dir: Path
    root: Path


@pytest.fixture(scope="session")
def tiny_detoxify(tmp_path_factory: pytest.TempPathFactory) -> TinyDetoxify:
    from tests.moderation.tiny_checkpoint import build_tiny_checkpoint

    root = tmp_path_factory.mktemp("tiny_detoxify")
    checkpoint, config_dir = build_tiny_checkpoint(root)
    return TinyDetoxify(checkpoint=checkpoint, config_dir=config_dir, root=root)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hub offline mode plus a socket that refuses to connect: any download attempt fails loudly."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access attempted during an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def load_labelled(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
