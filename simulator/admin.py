"""The admin JSON API under ``/admin/``: inspect and steer a running simulator.

It is a test tool: it shows personal data (INSZ) and has no authentication, so the
simulator listens on 127.0.0.1 by default. The simulator's own log masks INSZ numbers.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote

from simulator.errors import AdminInputError, UnknownCase
from simulator.faults import FaultPlan, Latency
from simulator.invoice_desk import parse_faults
from simulator.population import Person, check_insz_key, mask_insz
from simulator.record import overlaps
from simulator.runtime import Runtime

log = logging.getLogger("simulator.admin")

Json = dict[str, Any]


@dataclass(frozen=True)
class AdminResponse:
    """An admin API answer: HTTP status and JSON body."""

    status: int
    body: Json

    def encoded(self) -> bytes:
        """The body as UTF-8 JSON."""
        return json.dumps(self.body, indent=2, sort_keys=True).encode("utf-8")


def _date_or_none(value: Any, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise AdminInputError(f"{name} must be a date YYYY-MM-DD or null") from exc


def _optional_str(body: Json, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise AdminInputError(f"{name} must be a string")
    return value


class AdminApi:
    """Routes admin requests to the runtime's parts."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self._routes: dict[tuple[str, str], Callable[[Json], Json]] = {
            ("GET", "health"): self.health,
            ("GET", "record"): self.record,
            ("GET", "overlaps"): self.overlaps,
            ("POST", "reset-record"): self.reset_record,
            ("POST", "reset"): self.reset,
            ("GET", "today"): self.today,
            ("POST", "today"): self.set_today,
            ("GET", "faults"): self.faults,
            ("POST", "faults"): self.set_faults,
            ("POST", "latency"): self.set_latency,
            ("GET", "persons"): self.persons,
            ("POST", "persons"): self.set_persons,
            ("POST", "facilities"): self.set_facilities,
            ("GET", "pending"): self.pending,
            ("POST", "decide"): self.decide,
            ("GET", "state"): self.state,
            ("GET", "mailbox"): self.mailbox,
            ("POST", "sessions"): self.sessions,
            ("GET", "invoice-faults"): self.invoice_faults,
            ("POST", "invoice-faults"): self.set_invoice_faults,
            ("GET", "batches"): self.batches,
        }
        # Actions on one item, named by the path's last part: /admin/<action>/<key>.
        self._items: dict[tuple[str, str], Callable[[str, Json], Json]] = {
            ("GET", "applications"): self.application,
            ("GET", "invoices"): self.invoice,
            ("GET", "persons"): self.person,
            ("POST", "persons"): self.change_person,
        }

    def handle(self, method: str, name: str, raw_body: bytes) -> AdminResponse:
        """Answer ``method /admin/<name>`` with a JSON body."""
        route = self._route(method, name)
        if route is None:
            known = sorted(
                {n for (_, n) in self._routes} | {f"{n}/<key>" for (_, n) in self._items}
            )
            return AdminResponse(404, {"error": f"no such admin action; known: {known}"})
        try:
            body = json.loads(raw_body) if raw_body.strip() else {}
            if not isinstance(body, dict):
                raise AdminInputError("the body must be a JSON object")
            return AdminResponse(200, route(body))
        except json.JSONDecodeError as exc:
            return AdminResponse(400, {"error": f"not JSON: {exc}"})
        except AdminInputError as exc:
            return AdminResponse(400, {"error": str(exc)})
        except UnknownCase as exc:
            return AdminResponse(404, {"error": str(exc)})

    def _route(self, method: str, name: str) -> Callable[[Json], Json] | None:
        route = self._routes.get((method, name))
        if route is not None:
            return route
        action, _, key = name.partition("/")
        item = self._items.get((method, action)) if key else None
        return None if item is None else functools.partial(item, unquote(key))

    # --- the actions (each takes the JSON body and returns the JSON answer) -------------

    def health(self, _: Json) -> Json:
        """Liveness and a few numbers."""
        app = self.runtime.app
        return {
            "status": "ok",
            "today": app.clock.today().isoformat(),
            "today_pinned": app.clock.pinned,
            "trusted_certs": len(app.trust),
            "references_issued": app.store.references_issued,
        }

    def record(self, _: Json) -> Json:
        """Every Submit call since the last reset."""
        return {"calls": [call.to_json() for call in self.runtime.recorder.calls()]}

    def overlaps(self, _: Json) -> Json:
        """Pairs of calls of one dossier that were in processing at the same time."""
        pairs = overlaps(self.runtime.recorder.calls())
        return {"overlaps": [[first.to_json(), second.to_json()] for first, second in pairs]}

    def reset_record(self, _: Json) -> Json:
        """Forget the recorded calls."""
        self.runtime.recorder.reset()
        return {"ok": True}

    def reset(self, _: Json) -> Json:
        """Forget the record and all state (answers, applications, cases, mailboxes)."""
        self.runtime.recorder.reset()
        self.runtime.app.store.reset()
        return {"ok": True}

    def today(self, _: Json) -> Json:
        """The simulated "today"."""
        clock = self.runtime.clock
        return {"date": clock.today().isoformat(), "pinned": clock.pinned}

    def set_today(self, body: Json) -> Json:
        """Pin "today" with ``{"date": "YYYY-MM-DD"}``; ``{"date": null}`` follows the clock."""
        self.runtime.clock.set_today(_date_or_none(body.get("date"), "date"))
        return self.today(body)

    def faults(self, _: Json) -> Json:
        """The fault plan and latency in force."""
        latency = self.runtime.faults.latency()
        return {
            "plan": self.runtime.faults.plan(),
            "latency": {"latency_ms": latency.latency_ms, "jitter_ms": latency.jitter_ms},
        }

    def set_faults(self, body: Json) -> Json:
        """Replace the fault plan; ``{"kind": null}`` switches faults off."""
        self.runtime.faults.set_plan(FaultPlan.from_json(body))
        return self.faults(body)

    def set_latency(self, body: Json) -> Json:
        """Set ``latency_ms`` and ``jitter_ms``."""
        try:
            latency = Latency(float(body.get("latency_ms", 0)), float(body.get("jitter_ms", 0)))
        except (TypeError, ValueError) as exc:
            raise AdminInputError("latency_ms and jitter_ms must be numbers") from exc
        self.runtime.faults.set_latency(latency)
        return self.faults(body)

    def persons(self, _: Json) -> Json:
        """The persons listed explicitly (unknown INSZ numbers are derived, not listed)."""
        listed = self.runtime.app.population.listed()
        return {"persons": {insz: person.to_json() for insz, person in listed.items()}}

    def set_persons(self, body: Json) -> Json:
        """Add or replace persons: ``{insz: {affiliation, care_fund?, valid_from?,
        increased_allowance_from?, increased_allowance_to?, daily_share?}}``; all or none
        (every person is checked before any is set)."""
        people = {}
        for insz, data in body.items():
            check_insz_key(insz)
            try:
                people[insz] = Person.from_json(data)
            except AdminInputError as exc:
                raise AdminInputError(f"person {insz}: {exc}") from exc
        for insz, person in people.items():
            self.runtime.app.population.set(insz, person)
            log.info("person %s set to %s", mask_insz(insz), person.affiliation.value)
        return {"ok": True, "set": len(people)}

    def person(self, insz: str, _: Json) -> Json:
        """One person as the rules see them (listed, or derived from the number)."""
        check_insz_key(insz)
        population = self.runtime.app.population
        return {
            "insz": insz,
            "listed": population.is_listed(insz),
            "person": population.find(insz).to_json(),
        }

    def change_person(self, insz: str, body: Json) -> Json:
        """Change some fields of one person (listed or derived), e.g. only the increased
        allowance: the body's fields replace those of the person as found; the result is
        checked as a whole and listed from now on."""
        check_insz_key(insz)
        population = self.runtime.app.population
        person = Person.from_json(population.find(insz).to_json() | body)
        population.set(insz, person)
        log.info("person %s changed: %s", mask_insz(insz), ", ".join(sorted(body)))
        return self.person(insz, body)

    def set_facilities(self, body: Json) -> Json:
        """Limit recognised facilities: ``{"nihdi": [...]}``; ``{"nihdi": null}`` recognises all."""
        nihdi = body.get("nihdi")
        if nihdi is not None and (
            not isinstance(nihdi, list) or not all(isinstance(n, str) for n in nihdi)
        ):
            raise AdminInputError("nihdi must be a list of strings or null")
        self.runtime.app.set_recognised_facilities(nihdi)
        recognised = self.runtime.app.recognised_facilities()
        return {"recognised_facilities": None if recognised is None else sorted(recognised)}

    def pending(self, _: Json) -> Json:
        """The cases "in beraad" waiting for a decision, oldest first."""
        return {"pending": [case.to_json() for case in self.runtime.app.store.pending()]}

    def decide(self, body: Json) -> Json:
        """Decide a pending case; the decision goes to the facility's mailbox."""
        decision = body.get("decision")
        if not isinstance(decision, str):
            raise AdminInputError("decision must be 'accept' or 'refuse'")
        answer = self.runtime.app.decide(
            message_id=_optional_str(body, "message_id"),
            vsb_reference=_optional_str(body, "vsb_reference"),
            decision=decision,
            code=_optional_str(body, "code"),
            text=_optional_str(body, "text"),
        )
        return {"answer": answer.to_json()}

    def state(self, _: Json) -> Json:
        """Every REVA application and PVT admission with its status and reference number."""
        app = self.runtime.app
        recognised = app.recognised_facilities()
        return {
            "applications": [a.to_json() for a in app.store.applications()],
            "admissions": [a.to_json() for a in app.store.admissions()],
            "references_issued": app.store.references_issued,
            "recognised_facilities": None if recognised is None else sorted(recognised),
        }

    def sessions(self, body: Json) -> Json:
        """Feed the sessions ledger: ``{"vsb_reference", "date": "YYYY-MM-DD", "count": N}``."""
        reference = _optional_str(body, "vsb_reference")
        day = _date_or_none(body.get("date"), "date")
        count = body.get("count")
        if reference is None or day is None:
            raise AdminInputError("vsb_reference and date are required")
        if not isinstance(count, int) or isinstance(count, bool):
            raise AdminInputError("count must be a positive whole number")
        return self.runtime.app.record_sessions(reference, day, count).to_json()

    def application(self, vsb_reference: str, _: Json) -> Json:
        """One application's or PVT admission's stored history (INSZ masked), by its VSB
        reference."""
        return self.runtime.app.history(vsb_reference)

    def mailbox(self, _: Json) -> Json:
        """Every facility's unconfirmed later answers."""
        boxes = self.runtime.app.store.mailboxes()
        return {
            "mailboxes": {
                nihdi: [answer.to_json() for answer in answers] for nihdi, answers in boxes.items()
            }
        }

    def invoice_faults(self, _: Json) -> Json:
        """The invoice faults configured (cleared by reset)."""
        return {"faults": self.runtime.app.invoicing.fault_list()}

    def set_invoice_faults(self, body: Json) -> Json:
        """Replace the invoice faults: ``{"faults": [{"invoice", "line"?, "code", "level",
        "text"?}]}``; a fault with a line is level R, without one F or B."""
        self.runtime.app.store.set_invoice_faults(parse_faults(body))
        return self.invoice_faults(body)

    def batches(self, _: Json) -> Json:
        """Every invoice batch taken in: number, care fund, month, state."""
        return {"batches": self.runtime.app.invoicing.batches()}

    def invoice(self, number: str, _: Json) -> Json:
        """One accepted invoice or credit note with its lines' states (INSZ masked)."""
        return self.runtime.app.invoicing.invoice(number)
