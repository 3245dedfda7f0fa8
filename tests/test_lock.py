"""requirements.lock is what `make setup` installs: it must satisfy every range in pyproject.toml
(a range changed without `make lock` fails here, not on the next fresh machine), pin each
package with hashes, and leave PyTorch and the CUDA packages to the Makefile's CPU wheel."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from requirements.lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    text = (REPO / "requirements.lock").read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = re.match(r"([A-Za-z0-9_.\-\[\]]+)==([^\s\\;]+)", block)
        if head:
            name = canonicalize_name(head.group(1).split("[")[0])
            pins[name] = (head.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r)
        for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]
    ]


def test_the_lock_satisfies_every_range_in_pyproject() -> None:
    pins = _pins()
    torch_version = re.search(r"^TORCH_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    unmet = []
    for req in _declared():
        name = canonicalize_name(req.name)
        if name == "torch":
            version = torch_version.group(1)
        elif name in pins:
            version = pins[name][0]
        else:
            unmet.append(f"{req}: not in requirements.lock")
            continue
        if not req.specifier.contains(version, prereleases=True):
            unmet.append(f"{req}: the lock has {version}")
    assert unmet == [], "run `make lock` (README, Dependencies)"


def test_every_pin_has_a_hash_and_no_cuda_package_is_locked() -> None:
    pins = _pins()
    assert len(pins) > 50
    assert [name for name, (_, hashes) in pins.items() if not hashes] == []
    gpu = [n for n in pins if n == "torch" or n.startswith(("nvidia-", "triton", "cuda-"))]
    assert gpu == []


def test_the_wire_stack_is_capped_at_the_tested_minor_versions() -> None:
    """config/daphne.py and config/wire.py lean on these packages' insides."""
    declared = {canonicalize_name(r.name): r for r in _declared()}
    pins = _pins()
    for name in ("daphne", "autobahn", "twisted", "channels"):
        spec = declared[name].specifier
        assert any(s.operator == "<" for s in spec), f"{name} has no cap"
        assert spec.contains(pins[name][0])
