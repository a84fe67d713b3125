"""A simulator of the VSB central care-fund application (see ``docs/simulator.md``).

It serves the project's WSDL over SOAP, checks XAdES signatures and the VSB schema, applies
the domain rules with a settable "today", answers idempotently by message id, keeps a
mailbox of later answers, and injects latency and faults on request. It shares no code with
the adapter: only the contract files (XSD, WSDL).
"""

from __future__ import annotations

from simulator.config import SimulatorConfig
from simulator.control import Simulator
from simulator.faults import FaultKind, FaultPlan

__all__ = ["FaultKind", "FaultPlan", "Simulator", "SimulatorConfig"]
