"""Injected faults and simulated latency.

A fault plan names one fault kind and when it strikes: on the ``next`` N calls, or on each
call with probability ``rate``. Only the operations listed in ``operations`` are affected
(Submit by default). Latency applies to every SOAP call and is slept outside any lock.
"""

from __future__ import annotations

import enum
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from simulator.errors import AdminInputError

OPERATIONS: Final = frozenset({"Submit", "FetchAnswers", "ConfirmAnswers"})
DEFAULT_STALL_SECONDS: Final = 30.0


class FaultKind(enum.Enum):
    """What goes wrong."""

    HTTP500 = "http500"
    """A plain HTTP 500 without a SOAP body; nothing applied."""
    SOAP_SERVER_FAULT = "soap-server-fault"
    """A soap:Server fault (HTTP 500); nothing applied."""
    TIMEOUT = "timeout"
    """Nothing applied; stall, then a soap:Server fault for a client that is still waiting."""
    DROP = "drop"
    """Nothing applied; the connection is closed without any response."""
    APPLY_THEN_TIMEOUT = "apply-then-timeout"
    """The request is applied (state changes), then the real answer comes after the stall."""
    APPLY_THEN_DROP = "apply-then-drop"
    """The request is applied, then the connection is closed without any response."""
    APPLY_THEN_GARBAGE = "apply-then-garbage"
    """The request is applied, then HTTP 200 with an HTML page instead of the answer."""
    APPLY_THEN_EMPTY = "apply-then-empty"
    """The request is applied, then HTTP 200 with an empty body."""
    APPLY_THEN_ENTITIES = "apply-then-entities"
    """The request is applied, then HTTP 200 with a "billion laughs" entity bomb."""

    @property
    def applies(self) -> bool:
        """Whether the request takes effect despite the fault."""
        return self in _APPLYING

    @property
    def replaces_answer(self) -> bool:
        """Whether an HTTP 200 with an unreadable body comes instead of the answer."""
        return self in _UNREADABLE


_UNREADABLE: Final = frozenset(
    {FaultKind.APPLY_THEN_GARBAGE, FaultKind.APPLY_THEN_EMPTY, FaultKind.APPLY_THEN_ENTITIES}
)
_APPLYING: Final = _UNREADABLE | {FaultKind.APPLY_THEN_TIMEOUT, FaultKind.APPLY_THEN_DROP}
UNREADABLE_BODIES: Final = {
    FaultKind.APPLY_THEN_GARBAGE: (
        b"<html><body><h1>Maintenance</h1><p>Back soon.</p></body></html>\n",
        "text/html",
    ),
    FaultKind.APPLY_THEN_EMPTY: (b"", "text/xml; charset=utf-8"),
    FaultKind.APPLY_THEN_ENTITIES: (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
            for n in range(1, 10)
        )
        + b"]>\n<lolz>&lol9;</lolz>\n",
        "text/xml; charset=utf-8",
    ),
}
"""The body and content type each unreadable-answer fault sends with HTTP 200."""


@dataclass(frozen=True)
class FaultPlan:
    """One fault kind and when it strikes."""

    kind: FaultKind
    next: int | None = None
    rate: float | None = None
    stall_seconds: float = DEFAULT_STALL_SECONDS
    operations: frozenset[str] = frozenset({"Submit"})
    seed: int | None = None

    def __post_init__(self) -> None:
        if (self.next is None) == (self.rate is None):
            raise AdminInputError("a fault plan needs exactly one of 'next' and 'rate'")
        if self.next is not None and self.next < 0:
            raise AdminInputError("'next' must be 0 or more")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise AdminInputError("'rate' must be between 0 and 1")
        if self.stall_seconds < 0:
            raise AdminInputError("'stall_seconds' must be 0 or more")
        unknown = self.operations - OPERATIONS
        if unknown:
            raise AdminInputError(f"unknown operations: {', '.join(sorted(unknown))}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultPlan | None:
        """Read a plan from the admin JSON; ``{"kind": null}`` (or no kind) means no faults."""
        if data.get("kind") is None:
            return None
        try:
            kind = FaultKind(data["kind"])
        except ValueError as exc:
            allowed = ", ".join(k.value for k in FaultKind)
            raise AdminInputError(f"kind must be one of: {allowed}") from exc
        next_calls = data.get("next")
        rate = data.get("rate")
        operations = data.get("operations", ["Submit"])
        try:
            return cls(
                kind=kind,
                next=int(next_calls) if next_calls is not None else (1 if rate is None else None),
                rate=float(rate) if rate is not None else None,
                stall_seconds=float(data.get("stall_seconds", DEFAULT_STALL_SECONDS)),
                operations=frozenset(_strings(operations)),
                seed=int(data["seed"]) if data.get("seed") is not None else None,
            )
        except (TypeError, ValueError) as exc:
            raise AdminInputError(f"bad fault plan: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "kind": self.kind.value,
            "next": self.next,
            "rate": self.rate,
            "stall_seconds": self.stall_seconds,
            "operations": sorted(self.operations),
            "seed": self.seed,
        }


def _strings(values: Any) -> Iterable[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise AdminInputError("'operations' must be a list of operation names")
    return values


@dataclass(frozen=True)
class Injection:
    """A fault drawn for one call."""

    kind: FaultKind
    stall_seconds: float


@dataclass(frozen=True)
class Latency:
    """Simulated processing time: ``latency_ms`` plus a uniform 0..``jitter_ms`` extra."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise AdminInputError("latency_ms and jitter_ms must be 0 or more")


class FaultInjector:
    """Decides, call by call, whether a fault strikes and how long to wait first."""

    def __init__(self, plan: FaultPlan | None = None, latency: Latency | None = None):
        self._lock = threading.Lock()
        self._plan: FaultPlan | None = None
        self._remaining = 0
        self._random = random.Random()
        self._latency = latency or Latency()
        self.set_plan(plan)

    def set_plan(self, plan: FaultPlan | None) -> None:
        """Replace the fault plan (``None``: no faults)."""
        with self._lock:
            self._plan = plan
            self._remaining = plan.next if plan is not None and plan.next is not None else 0
            self._random = random.Random(plan.seed if plan is not None else None)

    def plan(self) -> dict[str, Any] | None:
        """The current plan with ``remaining`` calls for a ``next`` plan, as JSON."""
        with self._lock:
            if self._plan is None:
                return None
            shown = self._plan.to_json()
            if self._plan.next is not None:
                shown["remaining"] = self._remaining
            return shown

    def set_latency(self, latency: Latency) -> None:
        """Replace the simulated latency."""
        with self._lock:
            self._latency = latency

    def latency(self) -> Latency:
        """The current simulated latency."""
        with self._lock:
            return self._latency

    def delay_seconds(self) -> float:
        """How long this call should take before it is processed."""
        with self._lock:
            latency = self._latency
            jitter = self._random.uniform(0.0, latency.jitter_ms) if latency.jitter_ms else 0.0
        return (latency.latency_ms + jitter) / 1000.0

    def draw(self, operation: str) -> Injection | None:
        """The fault for this call of ``operation``, if one strikes."""
        with self._lock:
            plan = self._plan
            if plan is None or operation not in plan.operations:
                return None
            if plan.next is not None:
                if self._remaining <= 0:
                    return None
                self._remaining -= 1
            elif plan.rate is None or self._random.random() >= plan.rate:
                return None
            return Injection(plan.kind, plan.stall_seconds)
