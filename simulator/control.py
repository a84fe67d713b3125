"""The Python API of the simulator, for in-process tests and the CLI.

    with Simulator(SimulatorConfig(trusted_certs=[cert_pem])) as sim:
        client = zeep.Client(sim.wsdl_url)
        ...
        assert sim.record()[0].outcome == "accepted"

Every admin action has a method here; they act on the same parts as the admin API.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any

from simulator.admin_auth import check_exposure
from simulator.admission import Admission
from simulator.answers import Answer
from simulator.central import SessionsResult
from simulator.config import SimulatorConfig
from simulator.faults import DEFAULT_STALL_SECONDS, FaultKind, FaultPlan, Latency
from simulator.history import Application
from simulator.invoice_desk import parse_faults
from simulator.population import Affiliation, Person, mask_insz
from simulator.record import Call, overlaps
from simulator.runtime import Runtime
from simulator.server import SOAP_PATH, SimulatorHTTPServer
from simulator.state import PendingCase

log = logging.getLogger("simulator")


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


class Simulator:
    """A simulated central application serving HTTP from a daemon thread."""

    def __init__(self, config: SimulatorConfig | None = None, **overrides: Any):
        self.config = dataclasses.replace(config or SimulatorConfig(), **overrides)
        self.runtime = Runtime.build(self.config)
        self._server: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> str:
        """Bind, serve from a daemon thread, and return the base URL (``http://host:port``)."""
        if self._server is not None:
            return self.base_url
        check_exposure(self.config.host, self.config.admin_token)
        self.runtime.stopping.clear()
        server = SimulatorHTTPServer((self.config.host, self.config.port), self.runtime)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="vsb-simulator",
            daemon=True,
        )
        self._thread.start()
        if not len(self.runtime.app.trust):
            log.warning("no trusted certificates: every signed message will be refused")
        log.info("VSB simulator listening on %s", self.url)
        return self.base_url

    def stop(self) -> None:
        """Stop serving, cut stalled calls short and close every connection."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self.runtime.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None
        log.info("VSB simulator stopped")

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return self._server.base_url

    @property
    def url(self) -> str:
        """The SOAP endpoint."""
        return self.base_url + SOAP_PATH

    @property
    def wsdl_url(self) -> str:
        """Where the WSDL is served, its address pointing at this server."""
        return self.url + "?wsdl"

    @property
    def admin_url(self) -> str:
        """The admin API's prefix."""
        return self.base_url + "/admin/"

    # --- record ------------------------------------------------------------------------

    def record(self) -> list[Call]:
        """Every Submit call since start or the last reset, in arrival order."""
        return self.runtime.recorder.calls()

    def dossier_overlaps(self) -> list[tuple[Call, Call]]:
        """Pairs of recorded calls of one dossier that were in processing at the same time."""
        return overlaps(self.runtime.recorder.calls())

    def reset_record(self) -> None:
        """Forget the recorded calls."""
        self.runtime.recorder.reset()

    def reset(self) -> None:
        """Forget the record and all state (the reference counter keeps counting)."""
        self.runtime.recorder.reset()
        self.runtime.app.store.reset()

    # --- clock, faults, latency ---------------------------------------------------------

    def set_today(self, today: date | None) -> None:
        """Pin "today" (Europe/Brussels), or follow the clock again with ``None``."""
        self.runtime.clock.set_today(today)

    def today(self) -> date:
        """The simulated "today"."""
        return self.runtime.clock.today()

    def set_faults(
        self,
        kind: FaultKind | str | None,
        *,
        next: int | None = None,
        rate: float | None = None,
        stall_seconds: float = DEFAULT_STALL_SECONDS,
        operations: Iterable[str] = ("Submit",),
        seed: int | None = None,
    ) -> None:
        """Inject ``kind`` on the next ``next`` calls (default 1) or with probability ``rate``."""
        if kind is None:
            self.runtime.faults.set_plan(None)
            return
        plan = FaultPlan(
            kind=FaultKind(kind),
            next=next if next is not None or rate is not None else 1,
            rate=rate,
            stall_seconds=stall_seconds,
            operations=frozenset(operations),
            seed=seed,
        )
        self.runtime.faults.set_plan(plan)

    def clear_faults(self) -> None:
        """No more injected faults."""
        self.runtime.faults.set_plan(None)

    def set_invoice_faults(self, faults: list[dict[str, Any]]) -> None:
        """Fault these invoice lines or invoices (checked as ``POST /admin/invoice-faults``):
        ``[{"invoice", "line"?, "code", "level", "text"?}]``; an empty list clears them."""
        self.runtime.app.store.set_invoice_faults(parse_faults({"faults": faults}))

    def set_latency(self, latency_ms: float, jitter_ms: float = 0.0) -> None:
        """Every SOAP call takes ``latency_ms`` plus up to ``jitter_ms`` more."""
        self.runtime.faults.set_latency(Latency(latency_ms, jitter_ms))

    # --- population and facilities -------------------------------------------------------

    def set_person(
        self,
        insz: str,
        affiliation: Affiliation | str,
        care_fund: str | None = None,
        valid_from: date | None = None,
        *,
        increased_allowance_from: date | None = None,
        increased_allowance_to: date | None = None,
        daily_share: Decimal | str | None = None,
    ) -> None:
        """Add or replace a person of the population (checked as ``POST /admin/persons``)."""
        person = Person.from_json(
            {
                "affiliation": Affiliation(affiliation).value,
                "care_fund": care_fund,
                "valid_from": valid_from.isoformat() if valid_from else None,
                "increased_allowance_from": _iso(increased_allowance_from),
                "increased_allowance_to": _iso(increased_allowance_to),
                "daily_share": None if daily_share is None else str(daily_share),
            }
        )
        self.runtime.app.population.set(insz, person)
        log.info("person %s set to %s", mask_insz(insz), person.affiliation.value)

    def set_recognised_facilities(self, nihdi: Iterable[str] | None) -> None:
        """Recognise only these facilities (``None``: every facility)."""
        self.runtime.app.set_recognised_facilities(nihdi)

    # --- cases, applications, mailboxes --------------------------------------------------

    def pending(self) -> list[PendingCase]:
        """The cases "in beraad" waiting for a decision, oldest first."""
        return self.runtime.app.store.pending()

    def decide(
        self,
        message_id: str | None = None,
        *,
        vsb_reference: str | None = None,
        decision: str = "accept",
        code: str | None = None,
        text: str | None = None,
    ) -> Answer:
        """Decide a pending case; the decision lands in the facility's mailbox and is returned."""
        return self.runtime.app.decide(
            message_id=message_id,
            vsb_reference=vsb_reference,
            decision=decision,
            code=code,
            text=text,
        )

    def applications(self) -> list[Application]:
        """Every application received, with status and reference number."""
        return self.runtime.app.store.applications()

    def admissions(self) -> list[Admission]:
        """Every PVT admission received, with status and reference number."""
        return self.runtime.app.store.admissions()

    def history(self, vsb_reference: str) -> dict[str, Any]:
        """An application's or admission's stored history, as
        ``GET /admin/applications/<reference>``."""
        return self.runtime.app.history(vsb_reference)

    def record_sessions(self, vsb_reference: str, day: date, count: int) -> SessionsResult:
        """Feed the sessions ledger, as ``POST /admin/sessions``."""
        return self.runtime.app.record_sessions(vsb_reference, day, count)

    def mailbox(self, nihdi: str) -> list[Answer]:
        """A facility's unconfirmed later answers, oldest first."""
        return self.runtime.app.store.mailboxes().get(nihdi, [])

    @property
    def references_issued(self) -> int:
        """How many VSB reference numbers were handed out."""
        return self.runtime.app.store.references_issued
