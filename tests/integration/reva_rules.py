"""The REVA rules as data: one row per rule and boundary, to read beside DOMAIN.md.

Each ``Rule`` is a story of one person: steps on given days ("today" at the simulated
central application), each an event sent on RabbitMQ (or sessions entered in the ledger that
invoicing will feed), and the answer it must get. ``test_reva_rules.py`` runs every row end
to end: RabbitMQ → adapter → SOAP → simulator → answer on RabbitMQ.

Boundaries come in threes, the day before, of and after the limit; the expected codes are
the simulator's (docs/simulator.md) or the adapter's own (docs/events.md). Dates are
written out so that each row can be checked by hand.

Notation: ``A(...)`` the application (dossier 1 unless ``dossier=2``), ``on(day, event,
outcome, code)`` a later step, ``sessions(day, n, outcome)`` sessions in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tests.support import reva
from tests.support.reva import insz

ADULT = insz(date(1980, 5, 17), 101)
BORN_2008_03_01 = insz(date(2008, 3, 1), 103)  # 18 on 2026-03-01
BORN_2008_03_02 = insz(date(2008, 3, 2), 105)  # 17 on 2026-03-01, 18 the day after


def d(text: str) -> date:
    return date.fromisoformat(text)


@dataclass(frozen=True)
class Step:
    """One thing that happens on ``today``, and what it must come to."""

    today: date
    event: dict[str, Any] | None
    outcome: str
    code: str | None = None
    sessions: int = 0
    dossier: int = 1
    person: str | None = None
    """Someone else than the row's person sends it (the row's person by default)."""

    @property
    def label(self) -> str:
        what = f"{self.sessions} sessions" if self.event is None else _code(self.event)
        return f"{self.today} {what} -> {self.outcome} {self.code or ''}".strip()


@dataclass(frozen=True)
class Rule:
    """A rule of DOMAIN.md at one boundary: the person, the steps, the expected answers."""

    name: str
    domain: str
    steps: tuple[Step, ...]
    person: str = ADULT


def _code(event: dict[str, Any]) -> str:
    header = event["entry"][0]["resource"]
    return str(header["eventCoding"]["code"])


def A(
    received: str,
    start: str,
    end: str,
    *,
    request_type: str = "diagnosis",
    created: str | None = None,
    previous: str | None = None,
    dossier: int = 1,
    outcome: str = "accepted",
    code: str | None = None,
) -> Step:
    """The application, received on ``received``; ``previous="@1"``: dossier 1's reference."""
    event = reva.application(
        d(start),
        d(end),
        request_type=request_type,
        created=d(created or received),
        previous_reference=previous,
    )
    return Step(d(received), event, outcome, code, dossier=dossier)


def on(
    today: str, event: dict[str, Any], outcome: str = "accepted", code: str | None = None
) -> Step:
    """A modification received on ``today``."""
    return Step(d(today), event, outcome, code)


def sessions(today: str, count: int, outcome: str = "accepted", dossier: int = 1) -> Step:
    """``count`` invoiced sessions dated ``today`` in the ledger of dossier's application."""
    code = "VSB-REVA-QUOTA" if outcome == "refused" else None
    return Step(d(today), None, outcome, code, sessions=count, dossier=dossier)


def _three(
    name: str,
    domain: str,
    setup: tuple[Step, ...],
    cases: list[tuple[str, Step]],
    person: str = ADULT,
) -> list[Rule]:
    return [Rule(f"{name}: {case}", domain, (*setup, step), person) for case, step in cases]


# ---- change of the start date -----------------------------------------------------------

START_CHANGE = "DOMAIN.md REVA modifications, 'Change start date'"
_BEFORE_START = (A("2026-02-20", "2026-03-01", "2029-02-28"),)  # R = 2026-02-20 < S0
_AFTER_START = (A("2026-03-20", "2026-03-01", "2029-02-28"),)  # R = 2026-03-20 >= S0
START_RULES = [
    *_three(
        "sent before the start: new start at most 30 days before the initial start",
        START_CHANGE,
        _BEFORE_START,
        [
            (
                "S0-31",
                on("2026-03-10", reva.start_change(d("2026-01-29")), "refused", "VSB-START-EARLY"),
            ),
            ("S0-30", on("2026-03-10", reva.start_change(d("2026-01-30")))),
            ("S0-29", on("2026-03-10", reva.start_change(d("2026-01-31")))),
        ],
    ),
    *_three(
        "sent before the start: the change at most 60 days after the initial start",
        START_CHANGE,
        _BEFORE_START,
        [
            ("S0+59", on("2026-04-29", reva.start_change(d("2026-02-15")))),
            ("S0+60", on("2026-04-30", reva.start_change(d("2026-02-15")))),
            (
                "S0+61",
                on("2026-05-01", reva.start_change(d("2026-02-15")), "refused", "VSB-START-LATE"),
            ),
        ],
    ),
    *_three(
        "sent after the start: new start at most 30 days before the request date",
        START_CHANGE,
        _AFTER_START,
        [
            (
                "R-31",
                on("2026-03-25", reva.start_change(d("2026-02-17")), "refused", "VSB-START-EARLY"),
            ),
            ("R-30", on("2026-03-25", reva.start_change(d("2026-02-18")))),
            ("R-29", on("2026-03-25", reva.start_change(d("2026-02-19")))),
        ],
    ),
    *_three(
        "sent after the start: the change at most 60 days after the request date",
        START_CHANGE,
        _AFTER_START,
        [
            ("R+59", on("2026-05-18", reva.start_change(d("2026-03-05")))),
            ("R+60", on("2026-05-19", reva.start_change(d("2026-03-05")))),
            (
                "R+61",
                on("2026-05-20", reva.start_change(d("2026-03-05")), "refused", "VSB-START-LATE"),
            ),
        ],
    ),
    *_three(
        "the new start not after the end date",
        START_CHANGE,
        (A("2026-03-01", "2026-03-01", "2026-03-31"),),
        [
            ("end-1", on("2026-03-10", reva.start_change(d("2026-03-30")))),
            ("end", on("2026-03-10", reva.start_change(d("2026-03-31")))),
            (
                "end+1",
                on("2026-03-10", reva.start_change(d("2026-04-01")), "refused", "VSB-START-END"),
            ),
        ],
    ),
]

# ---- extension ----------------------------------------------------------------------------

EXTENSION = "DOMAIN.md REVA modifications, 'Extension'"
_HALF_YEAR = (A("2026-01-01", "2026-01-01", "2026-06-30"),)
EXTENSION_RULES = [
    *_three(
        "only once the approved period's end date has passed",
        EXTENSION,
        _HALF_YEAR,
        [
            (
                "end-1",
                on(
                    "2026-06-29",
                    reva.extension(d("2026-07-01"), d("2027-06-30")),
                    "refused",
                    "VSB-EXT-RUNNING",
                ),
            ),
            (
                "end",
                on(
                    "2026-06-30",
                    reva.extension(d("2026-07-01"), d("2027-06-30")),
                    "refused",
                    "VSB-EXT-RUNNING",
                ),
            ),
            ("end+1", on("2026-07-01", reva.extension(d("2026-07-01"), d("2027-06-30")))),
        ],
    ),
    *_three(
        "rehabilitation goes on without a break",
        EXTENSION,
        _HALF_YEAR,
        [
            (
                "starts on the end date",
                on(
                    "2026-07-05",
                    reva.extension(d("2026-06-30"), d("2027-06-30")),
                    "refused",
                    "VSB-EXT-BREAK",
                ),
            ),
            (
                "starts the day after",
                on("2026-07-05", reva.extension(d("2026-07-01"), d("2027-06-30"))),
            ),
            (
                "a day's break",
                on(
                    "2026-07-05",
                    reva.extension(d("2026-07-02"), d("2027-06-30")),
                    "refused",
                    "VSB-EXT-BREAK",
                ),
            ),
        ],
    ),
    *_three(
        "a diagnosis never beyond three years from its first start",
        EXTENSION,
        (A("2026-03-01", "2026-03-01", "2026-12-31"),),
        [
            ("3 years - 1 day", on("2027-01-05", reva.extension(d("2027-01-01"), d("2029-02-27")))),
            ("3 years", on("2027-01-05", reva.extension(d("2027-01-01"), d("2029-02-28")))),
            (
                "3 years + 1 day",
                on(
                    "2027-01-05",
                    reva.extension(d("2027-01-01"), d("2029-03-01")),
                    "refused",
                    "VSB-EXT-MAX",
                ),
            ),
        ],
    ),
    *_three(
        "the three-year maximum is extended by the length of an interruption (30 days)",
        "DOMAIN.md REVA modifications, 'Interruption'",
        (
            A("2026-03-01", "2026-03-01", "2026-12-31"),
            on("2026-05-04", reva.interruption(d("2026-04-01"), d("2026-04-30"))),
        ),
        [
            ("+29 days", on("2027-01-05", reva.extension(d("2027-01-01"), d("2029-03-29")))),
            ("+30 days", on("2027-01-05", reva.extension(d("2027-01-01"), d("2029-03-30")))),
            (
                "+31 days",
                on(
                    "2027-01-05",
                    reva.extension(d("2027-01-01"), d("2029-03-31")),
                    "refused",
                    "VSB-EXT-MAX",
                ),
            ),
        ],
    ),
    *_three(
        "coordination sessions get a new five-year period",
        EXTENSION,
        (A("2026-01-01", "2026-01-01", "2030-12-31", request_type="new"),),
        [
            ("5 years - 1 day", on("2031-01-02", reva.extension(d("2031-01-01"), d("2035-12-30")))),
            ("5 years", on("2031-01-02", reva.extension(d("2031-01-01"), d("2035-12-31")))),
            (
                "5 years + 1 day",
                on(
                    "2031-01-02",
                    reva.extension(d("2031-01-01"), d("2036-01-01")),
                    "refused",
                    "VSB-EXT-PERIOD",
                ),
            ),
        ],
    ),
    Rule(
        "cancelling an extension restores the end date before it",
        EXTENSION,
        (
            *_HALF_YEAR,
            on("2026-07-02", reva.extension(d("2026-07-01"), d("2027-06-30"))),
            on("2026-07-03", reva.extension_cancel(d("2026-07-02")), "refused", "VSB-EXT-NONE"),
            on("2026-07-03", reva.extension_cancel(d("2026-07-01"))),
            # the period ends on 2026-06-30 again: an extension from 2026-07-01 continues it
            on("2026-07-04", reva.extension(d("2026-07-01"), d("2027-03-31"))),
        ),
    ),
]

# ---- interruption -------------------------------------------------------------------------

INTERRUPTION = "DOMAIN.md REVA modifications, 'Interruption'"
_THREE_YEARS = (A("2026-01-01", "2026-01-01", "2028-12-31"),)
INTERRUPTION_RULES = [
    *_three(
        "at most six months",
        INTERRUPTION,
        _THREE_YEARS,
        [
            (
                "6 months - 1 day",
                on("2026-04-02", reva.interruption(d("2026-04-01"), d("2026-09-29"))),
            ),
            ("6 months", on("2026-04-02", reva.interruption(d("2026-04-01"), d("2026-09-30")))),
            (
                "6 months + 1 day",
                on(
                    "2026-04-02",
                    reva.interruption(d("2026-04-01"), d("2026-10-01")),
                    "refused",
                    "VSB-INT-LONG",
                ),
            ),
        ],
    ),
    *_three(
        "at most six months, also when the end is only expected",
        INTERRUPTION,
        _THREE_YEARS,
        [
            (
                "6 months - 1 day",
                on("2026-04-02", reva.interruption(d("2026-04-01"), expected_end=d("2026-09-29"))),
            ),
            (
                "6 months",
                on("2026-04-02", reva.interruption(d("2026-04-01"), expected_end=d("2026-09-30"))),
            ),
            (
                "6 months + 1 day",
                on(
                    "2026-04-02",
                    reva.interruption(d("2026-04-01"), expected_end=d("2026-10-01")),
                    "refused",
                    "VSB-INT-LONG",
                ),
            ),
        ],
    ),
    *_three(
        "at most six months, also when changed",
        INTERRUPTION,
        (
            *_THREE_YEARS,
            on("2026-04-02", reva.interruption(d("2026-04-01"), expected_end=d("2026-06-30"))),
        ),
        [
            (
                "6 months - 1 day",
                on(
                    "2026-07-01",
                    reva.interruption_change(d("2026-04-01"), d("2026-04-01"), d("2026-09-29")),
                ),
            ),
            (
                "6 months",
                on(
                    "2026-07-01",
                    reva.interruption_change(d("2026-04-01"), d("2026-04-01"), d("2026-09-30")),
                ),
            ),
            (
                "6 months + 1 day",
                on(
                    "2026-07-01",
                    reva.interruption_change(d("2026-04-01"), d("2026-04-01"), d("2026-10-01")),
                    "refused",
                    "VSB-INT-LONG",
                ),
            ),
        ],
    ),
    *_three(
        "only while the period runs",
        INTERRUPTION,
        _THREE_YEARS,
        [
            (
                "start - 1",
                on(
                    "2026-04-02",
                    reva.interruption(d("2025-12-31"), d("2026-01-31")),
                    "refused",
                    "VSB-INT-PERIOD",
                ),
            ),
            ("start", on("2026-04-02", reva.interruption(d("2026-01-01"), d("2026-01-31")))),
            ("start + 1", on("2026-04-02", reva.interruption(d("2026-01-02"), d("2026-01-31")))),
        ],
    ),
    *_three(
        "no two interruptions on one day",
        INTERRUPTION,
        (*_THREE_YEARS, on("2026-04-02", reva.interruption(d("2026-04-01"), d("2026-04-30")))),
        [
            (
                "starts the day before its end",
                on(
                    "2026-05-02",
                    reva.interruption(d("2026-04-29"), d("2026-05-10")),
                    "refused",
                    "VSB-INT-OVERLAP",
                ),
            ),
            (
                "starts on its end",
                on(
                    "2026-05-02",
                    reva.interruption(d("2026-04-30"), d("2026-05-10")),
                    "refused",
                    "VSB-INT-OVERLAP",
                ),
            ),
            (
                "starts the day after",
                on("2026-05-02", reva.interruption(d("2026-05-01"), d("2026-05-10"))),
            ),
        ],
    ),
    Rule(
        "an interruption is changed or cancelled by its start, once",
        INTERRUPTION,
        (
            *_THREE_YEARS,
            on("2026-04-02", reva.interruption(d("2026-04-01"), expected_end=d("2026-06-30"))),
            on(
                "2026-04-03",
                reva.interruption_change(d("2026-04-02"), d("2026-04-01"), d("2026-05-15")),
                "refused",
                "VSB-INT-NONE",
            ),
            on(
                "2026-05-16",
                reva.interruption_change(d("2026-04-01"), d("2026-04-01"), d("2026-05-15")),
            ),
            on("2026-05-17", reva.interruption_cancel(d("2026-04-01"))),
            on("2026-05-18", reva.interruption_cancel(d("2026-04-01")), "refused", "VSB-INT-NONE"),
        ),
    ),
    Rule(
        "resumed without a new request while the approved period runs",
        INTERRUPTION,
        (
            *_THREE_YEARS,
            on("2026-04-02", reva.interruption(d("2026-04-01"), d("2026-04-30"))),
            on("2026-05-04", reva.medical_report_change()),
        ),
    ),
]

# ---- stop, cancel and what must come before -------------------------------------------------

STOP = "DOMAIN.md REVA modifications, 'Stop'"
STOP_RULES = [
    Rule(
        "cancelling a stop restores the period (no late change after it)",
        STOP,
        (
            *_THREE_YEARS,
            on("2026-05-01", reva.stop(d("2026-05-01"))),
            on("2026-05-03", reva.stop_cancel()),
            on("2026-05-20", reva.data_change()),  # D+19 of a stop that no longer stands
            on("2026-05-21", reva.stop_cancel(), "refused", "VSB-STOP-NONE"),
        ),
    ),
    Rule(
        "a cancelled application accepts nothing more",
        "DOMAIN.md REVA modifications, 'Cancel'",
        (
            *_THREE_YEARS,
            on("2026-01-10", reva.cancel()),
            on("2026-01-11", reva.document(), "refused", "application-closed"),
        ),
    ),
    Rule(
        "a modification needs an accepted application: refused with the application's errors",
        "DOMAIN.md REVA modifications (a modification of an accepted application)",
        (
            A("2026-01-01", "2026-01-01", "2028-12-31", outcome="refused", code="VSB-AFF-02"),
            on("2026-01-10", reva.data_change(), "refused", "application-refused"),
        ),
        person="90411706253",  # not affiliated, cannot join (simulator population)
    ),
    Rule(
        "a modification needs an accepted application of the same person",
        "DOMAIN.md REVA modifications (a modification of an accepted application)",
        (
            *_THREE_YEARS,
            Step(d("2026-01-10"), reva.data_change(), "refused", "VSB-MOD-REF", person=ADULT),
        ),
    ),
    Rule(
        "a modification needs an application in its dossier",
        "DOMAIN.md REVA modifications (a modification of an accepted application)",
        (on("2026-01-10", reva.data_change(), "refused", "no-accepted-application"),),
    ),
    Rule(
        "change data: at least one value (refused at ingest)",
        "DOMAIN.md REVA modifications, 'Change data'",
        (
            *_THREE_YEARS,
            on("2026-01-10", reva.data_change(empty=True), "invalid", "nothing-to-change"),
        ),
    ),
]

# ---- km allowance ---------------------------------------------------------------------------

KM = "DOMAIN.md REVA applications, 'Transport', and modifications, 'Km allowance'"
KM_RULES = [
    Rule(
        "an accepted km allowance can be changed, stopped and its stop cancelled",
        KM,
        (
            *_THREE_YEARS,
            on("2026-01-10", reva.km_change(), "refused", "VSB-KM-NONE"),
            on("2026-01-11", reva.km_request()),
            on("2026-01-12", reva.km_request(), "refused", "VSB-KM-EXISTS"),
            on("2026-01-13", reva.km_change()),
            on("2026-01-14", reva.km_stop_cancel(), "refused", "VSB-KM-NOT-STOPPED"),
            on("2026-01-15", reva.km_stop(d("2026-01-15"))),
            on("2026-01-16", reva.km_stop(d("2026-01-16")), "refused", "VSB-KM-STOPPED"),
            on("2026-01-17", reva.km_stop_cancel()),
        ),
    ),
]

# ---- late changes ---------------------------------------------------------------------------

LATE = "DOMAIN.md REVA modifications, 'Late changes'"
LATE_RULES = [
    *_three(
        "after the end date: within 5 days processed, later in beraad",
        LATE,
        _HALF_YEAR,
        [
            ("D+4", on("2026-07-04", reva.data_change())),
            ("D+5", on("2026-07-05", reva.data_change())),
            ("D+6", on("2026-07-06", reva.data_change(), "in-beraad", "VSB-MOD-LATE")),
        ],
    ),
    *_three(
        "after a stop: within 5 days processed, later in beraad",
        LATE,
        (*_THREE_YEARS, on("2026-05-01", reva.stop(d("2026-05-01")))),
        [
            ("D+4", on("2026-05-05", reva.medical_report_change())),
            ("D+5", on("2026-05-06", reva.medical_report_change())),
            ("D+6", on("2026-05-07", reva.medical_report_change(), "in-beraad", "VSB-MOD-LATE")),
        ],
    ),
    *_three(
        "after the sessions were used up: within 5 days processed, later in beraad",
        LATE,
        (*_THREE_YEARS, sessions("2026-02-10", 16)),
        [
            ("D+4", on("2026-02-14", reva.km_request())),
            ("D+5", on("2026-02-15", reva.km_request())),
            ("D+6", on("2026-02-16", reva.km_request(), "in-beraad", "VSB-MOD-LATE")),
        ],
    ),
    *_three(
        "an additional report and an extension are processed however late",
        LATE,
        _HALF_YEAR,
        [
            ("document D+30", on("2026-07-30", reva.document())),
            ("extension D+30", on("2026-07-30", reva.extension(d("2026-07-01"), d("2027-06-30")))),
            (
                "interruption D+30",
                on(
                    "2026-07-30",
                    reva.interruption(d("2026-06-01"), d("2026-06-10")),
                    "in-beraad",
                    "VSB-MOD-LATE",
                ),
            ),
        ],
    ),
]

# ---- quotas ---------------------------------------------------------------------------------

QUOTA = "DOMAIN.md REVA applications, 'Diagnosis' and 'New request'"
_DIAGNOSIS_2026 = A("2026-03-01", "2026-03-01", "2029-02-28")
QUOTA_RULES = [
    Rule(
        "diagnosis from 18: 16 sessions (18 on the start date)",
        QUOTA,
        (
            _DIAGNOSIS_2026,
            sessions("2026-03-10", 15),
            sessions("2026-03-11", 1),
            sessions("2026-03-12", 1, "refused"),
        ),
        person=BORN_2008_03_01,
    ),
    Rule(
        "diagnosis under 18: 32 sessions (18 the day after the start)",
        QUOTA,
        (
            _DIAGNOSIS_2026,
            sessions("2026-03-10", 31),
            sessions("2026-03-11", 1),
            sessions("2026-03-12", 1, "refused"),
        ),
        person=BORN_2008_03_02,
    ),
    Rule(
        "coordination: 70 sessions per five-year period",
        QUOTA,
        (
            A("2026-01-01", "2026-01-01", "2030-12-31", request_type="new"),
            sessions("2026-03-10", 69),
            sessions("2026-03-11", 1),
            sessions("2026-03-12", 1, "refused"),
        ),
    ),
]

# ---- change of facility ---------------------------------------------------------------------

FACILITY_CHANGE = "DOMAIN.md REVA applications, 'Diagnosis' and 'Restart' (change of facility)"
_EARLIER = (A("2026-01-01", "2026-01-01", "2028-12-31"), sessions("2026-03-10", 10))
FACILITY_RULES = [
    *_three(
        "the end date carries over",
        FACILITY_CHANGE,
        _EARLIER,
        [
            ("end - 1", A("2026-06-01", "2026-06-01", "2028-12-30", previous="@1", dossier=2)),
            ("end", A("2026-06-01", "2026-06-01", "2028-12-31", previous="@1", dossier=2)),
            (
                "end + 1",
                A(
                    "2026-06-01",
                    "2026-06-01",
                    "2029-01-01",
                    previous="@1",
                    dossier=2,
                    outcome="refused",
                    code="VSB-REVA-PREV-END",
                ),
            ),
        ],
    ),
    Rule(
        "the used sessions carry over (10 of 16 used before)",
        FACILITY_CHANGE,
        (
            *_EARLIER,
            A("2026-06-01", "2026-06-01", "2028-12-31", previous="@1", dossier=2),
            sessions("2026-06-10", 6, dossier=2),
            sessions("2026-06-11", 1, "refused", dossier=2),
        ),
    ),
    Rule(
        "the earlier application must be an accepted one of the same person",
        FACILITY_CHANGE,
        (
            A(
                "2026-06-01",
                "2026-06-01",
                "2028-12-31",
                previous="VSB-2026-999999",
                outcome="refused",
                code="VSB-REVA-PREV",
            ),
        ),
    ),
]

RULES: list[Rule] = [
    *START_RULES,
    *EXTENSION_RULES,
    *INTERRUPTION_RULES,
    *STOP_RULES,
    *KM_RULES,
    *LATE_RULES,
    *QUOTA_RULES,
    *FACILITY_RULES,
]
"""Every row, in the order of DOMAIN.md's sections."""
