"""Fixtures of the mapping tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mappings.helpers import example


@pytest.fixture
def application() -> dict[str, Any]:
    """The accepted diagnosis application example (02)."""
    return example("02-reva-application-diagnosis")


@pytest.fixture
def stop() -> dict[str, Any]:
    """The stop example (03)."""
    return example("03-reva-stop")


@pytest.fixture
def look_up() -> dict[str, Any]:
    """The insurance status example (01)."""
    return example("01-insurance-status")
