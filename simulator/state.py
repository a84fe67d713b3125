"""What the central application remembers: answers by message id, REVA applications (each
with its history, ``simulator.history``) and PVT admissions (``simulator.admission``) and
their reference numbers (one counter for both), cases "in beraad", and each facility's
mailbox of later answers.

Every method takes the store's lock; a caller that needs several steps to be atomic (check
for a duplicate, judge, record the effect) holds ``store.lock`` around them (it is
re-entrant). Nothing slow ever runs under it. State lives in memory only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from simulator.admission import Admission
from simulator.answers import Answer, Error
from simulator.errors import UnknownCase
from simulator.history import Application, Status
from simulator.invoice_ledger import FacilityLedger
from simulator.messages import ModificationRequest, RevaApplication
from simulator.pvt_messages import PvtAdmission
from simulator.rules.invoicing import Fault


@dataclass(frozen=True)
class PendingCase:
    """A request answered "in beraad", waiting for an admin decision."""

    message_id: str
    kind: str
    nihdi: str
    insz: str
    dossier_id: str | None
    received_on: date
    reasons: tuple[str, ...]
    vsb_reference: str | None = None
    modification: ModificationRequest | None = None
    """A modification in beraad, recorded as it was judged if the decision accepts it."""

    @classmethod
    def for_request(
        cls,
        request: RevaApplication | PvtAdmission | ModificationRequest,
        today: date,
        reasons: tuple[Error, ...],
    ) -> PendingCase:
        """The case of a request answered "in beraad" today for these reasons."""
        modification = None if isinstance(request, RevaApplication | PvtAdmission) else request
        return cls(
            message_id=request.header.message_id,
            kind=type(request).__name__,
            nihdi=request.header.nihdi,
            insz=request.insz,
            dossier_id=request.header.dossier_id,
            received_on=today,
            reasons=tuple(error.code for error in reasons),
            vsb_reference=None if modification is None else modification.vsb_reference,
            modification=modification,
        )

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "message_id": self.message_id,
            "kind": self.kind,
            "nihdi": self.nihdi,
            "insz": self.insz,
            "dossier_id": self.dossier_id,
            "received_on": self.received_on.isoformat(),
            "reasons": list(self.reasons),
            "vsb_reference": self.vsb_reference,
        }


@dataclass
class _Data:
    answers: dict[str, Answer] = field(default_factory=dict)
    applications: dict[str, Application] = field(default_factory=dict)
    by_reference: dict[str, str] = field(default_factory=dict)
    admissions: dict[str, Admission] = field(default_factory=dict)
    admission_references: dict[str, str] = field(default_factory=dict)
    pending: dict[str, PendingCase] = field(default_factory=dict)
    mailboxes: dict[str, dict[str, Answer]] = field(default_factory=dict)
    invoice_ledgers: dict[str, FacilityLedger] = field(default_factory=dict)
    invoice_faults: tuple[Fault, ...] = ()


class Store:
    """The central application's memory; see the module docstring for the locking rule."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._data = _Data()
        # Never reset, so a reference number is never handed out twice in one process.
        self._references = 0

    def reset(self) -> None:
        """Forget every answer, application, case, mailbox, invoicing ledger and configured
        invoice fault (the reference counter stays)."""
        with self.lock:
            self._data = _Data()

    # --- idempotency -------------------------------------------------------------------

    def answer_for(self, message_id: str) -> Answer | None:
        """The first answer given to this message id, if it was answered before."""
        with self.lock:
            return self._data.answers.get(message_id)

    def remember_answer(self, message_id: str, answer: Answer) -> None:
        """Keep the answer to a message id, to give it again for a repeated id."""
        with self.lock:
            self._data.answers.setdefault(message_id, answer)

    # --- references and applications ----------------------------------------------------

    def next_reference(self, year: int) -> str:
        """A new, unique VSB reference number, e.g. ``VSB-2026-000001``."""
        with self.lock:
            self._references += 1
            return f"VSB-{year}-{self._references:06d}"

    @property
    def references_issued(self) -> int:
        """How many reference numbers were handed out since start."""
        with self.lock:
            return self._references

    def add_application(self, application: Application) -> None:
        """Record a received application (and its reference, if it has one)."""
        with self.lock:
            self._data.applications[application.message_id] = application
            if application.vsb_reference is not None:
                self._data.by_reference[application.vsb_reference] = application.message_id

    def accept_application(self, message_id: str, reference: str) -> None:
        """Mark an application accepted under a reference number."""
        with self.lock:
            application = self._data.applications[message_id]
            application.status = Status.ACCEPTED
            application.vsb_reference = reference
            self._data.by_reference[reference] = message_id

    def refuse_application(self, message_id: str) -> None:
        """Mark an application refused."""
        with self.lock:
            self._data.applications[message_id].status = Status.REFUSED

    def application(self, message_id: str) -> Application:
        """The application received under this message id (the live record, under the lock)."""
        with self.lock:
            return self._data.applications[message_id]

    def application_by_reference(self, reference: str) -> Application | None:
        """The application with this reference number (the live record, under the lock)."""
        with self.lock:
            message_id = self._data.by_reference.get(reference)
            return None if message_id is None else self._data.applications[message_id]

    def applications(self) -> list[Application]:
        """Every application, in the order received."""
        with self.lock:
            return list(self._data.applications.values())

    # --- PVT admissions ---------------------------------------------------------------

    def add_admission(self, admission: Admission) -> None:
        """Record a received PVT admission (and its reference, if it has one)."""
        with self.lock:
            self._data.admissions[admission.message_id] = admission
            if admission.vsb_reference is not None:
                self._data.admission_references[admission.vsb_reference] = admission.message_id

    def accept_admission(self, message_id: str, reference: str) -> Admission:
        """Mark an admission accepted under a reference number; the live record."""
        with self.lock:
            admission = self._data.admissions[message_id]
            admission.status = Status.ACCEPTED
            admission.vsb_reference = reference
            self._data.admission_references[reference] = message_id
            return admission

    def refuse_admission(self, message_id: str) -> None:
        """Mark an admission refused."""
        with self.lock:
            self._data.admissions[message_id].status = Status.REFUSED

    def admission_by_reference(self, reference: str) -> Admission | None:
        """The admission with this reference number (the live record, under the lock)."""
        with self.lock:
            message_id = self._data.admission_references.get(reference)
            return None if message_id is None else self._data.admissions[message_id]

    def admissions(self) -> list[Admission]:
        """Every PVT admission, in the order received."""
        with self.lock:
            return list(self._data.admissions.values())

    # --- cases in beraad ---------------------------------------------------------------

    def add_pending(self, case: PendingCase) -> None:
        """Put a case on the list of cases waiting for a decision."""
        with self.lock:
            self._data.pending[case.message_id] = case

    def take_pending(self, message_id: str | None, vsb_reference: str | None) -> PendingCase:
        """Remove and return the pending case named by message id or reference number."""
        with self.lock:
            for key, case in self._data.pending.items():
                if (message_id is not None and key == message_id) or (
                    vsb_reference is not None and case.vsb_reference == vsb_reference
                ):
                    del self._data.pending[key]
                    return case
        raise UnknownCase("no pending case with that message id or reference")

    def pending(self) -> list[PendingCase]:
        """The cases waiting for a decision, oldest first."""
        with self.lock:
            return list(self._data.pending.values())

    # --- mailboxes ---------------------------------------------------------------------

    # --- invoicing -----------------------------------------------------------------------

    def invoice_ledger(self, nihdi: str) -> FacilityLedger:
        """A facility's invoicing ledger (the live record, under the lock), new if none."""
        with self.lock:
            return self._data.invoice_ledgers.setdefault(nihdi, FacilityLedger())

    def invoice_ledgers(self) -> list[tuple[str, FacilityLedger]]:
        """Every facility's invoicing ledger, by NIHDI number."""
        with self.lock:
            return list(self._data.invoice_ledgers.items())

    @property
    def invoice_faults(self) -> tuple[Fault, ...]:
        """The faults configured for invoice lines and invoices (tests, demos)."""
        with self.lock:
            return self._data.invoice_faults

    def set_invoice_faults(self, faults: list[Fault]) -> None:
        """Replace the configured invoice faults."""
        with self.lock:
            self._data.invoice_faults = tuple(faults)

    def deliver(self, nihdi: str, answer: Answer) -> None:
        """Put a later answer in a facility's mailbox."""
        with self.lock:
            self._data.mailboxes.setdefault(nihdi, {})[answer.answer_id] = answer

    def fetch(self, nihdi: str, limit: int) -> list[Answer]:
        """Up to ``limit`` unconfirmed answers of a facility, oldest first; they stay there."""
        with self.lock:
            return list(self._data.mailboxes.get(nihdi, {}).values())[:limit]

    def confirm(self, nihdi: str, answer_ids: list[str]) -> int:
        """Remove confirmed answers from a facility's mailbox; return how many were removed."""
        with self.lock:
            box = self._data.mailboxes.get(nihdi, {})
            return sum(1 for answer_id in set(answer_ids) if box.pop(answer_id, None) is not None)

    def mailboxes(self) -> dict[str, list[Answer]]:
        """Every facility's unconfirmed answers."""
        with self.lock:
            return {nihdi: list(box.values()) for nihdi, box in self._data.mailboxes.items()}
