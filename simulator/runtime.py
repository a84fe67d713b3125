"""The parts of a running simulator, built once from its configuration and shared by the
HTTP handler, the admin API and the Python API."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from simulator.central import CentralApplication
from simulator.clock import Clock, system_now
from simulator.config import SimulatorConfig
from simulator.contract import Contract
from simulator.faults import FaultInjector, Latency
from simulator.population import Population
from simulator.record import Recorder
from simulator.signature import TrustStore, load_certificates
from simulator.wssecurity import AnswerSigner


@dataclass
class Runtime:
    """The simulator's live parts."""

    config: SimulatorConfig
    app: CentralApplication
    faults: FaultInjector
    recorder: Recorder = field(default_factory=Recorder)
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set on stop, so stalled calls give up at once."""
    answer_signer: AnswerSigner | None = None
    """Signs SOAP responses when the configuration names a key and certificate."""

    def now(self) -> datetime:
        """The real instant (the injectable clock, not the pinned day): for Timestamps."""
        return (self.config.clock or system_now)()

    @property
    def clock(self) -> Clock:
        """The clock whose "today" the rules use."""
        return self.app.clock

    @classmethod
    def build(cls, config: SimulatorConfig) -> Runtime:
        """Load the contract, certificates and population, and wire the parts together."""
        app = CentralApplication(
            contract=Contract(config.xsd_path, config.wsdl_path),
            trust=TrustStore(load_certificates(config.trusted_certs)),
            population=Population.load(config.population),
            clock=Clock(config.clock, config.today),
            recognised_facilities=config.recognised_facilities,
        )
        faults = FaultInjector(config.faults, Latency(config.latency_ms, config.jitter_ms))
        signer = None
        if config.sign_key is not None and config.sign_cert is not None:
            signer = AnswerSigner.load(
                config.sign_key, config.sign_cert, config.wssecurity_skew_seconds
            )
        return cls(config=config, app=app, faults=faults, answer_signer=signer)
