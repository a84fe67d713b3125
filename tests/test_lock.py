"""The hashed locks (requirements/*.lock) stay true to pyproject.toml's ranges."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^ ;\\]+)")


def pins(lock: str) -> dict[str, str]:
    """The pinned version of every package of a lock file, by canonical name."""
    found: dict[str, str] = {}
    for line in (ROOT / "requirements" / lock).read_text().splitlines():
        match = _PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def requirements(*extras: str) -> list[Requirement]:
    """The project's direct requirements, with the given extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in extras:
        declared += project["optional-dependencies"][extra]
    return [Requirement(text) for text in declared]


class TestLocks:
    """Every direct dependency is in its lock, at a version its range allows, with hashes."""

    @pytest.mark.parametrize(
        ("lock", "extras"), [("runtime.lock", ("postgres",)), ("dev.lock", ("postgres", "dev"))]
    )
    def test_every_requirement_is_pinned_within_its_range(
        self, lock: str, extras: tuple[str, ...]
    ) -> None:
        """A range changed in pyproject.toml without `make lock` fails here."""
        pinned = pins(lock)
        for requirement in requirements(*extras):
            name = canonicalize_name(requirement.name)
            assert name in pinned, f"{requirement.name} is missing from {lock}: run make lock"
            assert requirement.specifier.contains(pinned[name], prereleases=True), (
                f"{lock} pins {requirement.name}=={pinned[name]}, outside {requirement.specifier}"
            )

    @pytest.mark.parametrize("lock", ["runtime.lock", "dev.lock"])
    def test_every_pin_has_a_hash(self, lock: str) -> None:
        """pip's --require-hashes refuses a lock with one pin without its hash."""
        text = (ROOT / "requirements" / lock).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[-1])
        pinned = [block for block in blocks if _PIN.match(block)]
        assert pinned, f"{lock} pins nothing"
        for block in pinned:
            assert "--hash=sha256:" in block, f"{block.splitlines()[0]} has no hash"

    def test_the_runtime_lock_is_the_dev_lock_for_what_both_have(self) -> None:
        """The tests run the versions that production installs."""
        runtime, dev = pins("runtime.lock"), pins("dev.lock")
        differ = {name: (v, dev.get(name)) for name, v in runtime.items() if dev.get(name) != v}
        assert differ == {}
