"""The simulated population: who is affiliated with which care fund (zorgkas), who has the
increased allowance (verhoogde tegemoetkoming) and when, and any personal daily share
that overrides the documented amounts.

Loaded from a JSON file (``population.json`` beside this module by default) and changeable
through the admin API. A person the file does not know is *affiliated*, with a care fund
derived from the number itself: ``CARE_FUNDS[int(insz) % 6]``, valid from 1 October 2001
(the start of the Flemish care insurance), so any date of interest lies inside it, and has
no increased allowance.
"""

from __future__ import annotations

import enum
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from simulator.errors import AdminInputError

CARE_FUNDS: Final = ("180", "280", "380", "480", "580", "680")
"""The six care funds: CM, Neutrale, Solidaris, Liberale, Onafhankelijke (Helan), Vlaamse."""

UNKNOWN_VALID_FROM: Final = date(2001, 10, 1)
MAX_DAILY_SHARE: Final = Decimal("9999.99")
"""The largest daily share the admin API takes: a guard against typos, not a tariff."""
FIELDS: Final = frozenset(
    {
        "affiliation",
        "care_fund",
        "valid_from",
        "increased_allowance_from",
        "increased_allowance_to",
        "daily_share",
        "label",
    }
)
"""The keys a person's JSON may carry (``label`` is a comment, kept nowhere)."""
DEFAULT_POPULATION: Final = Path(__file__).resolve().parent / "population.json"


class Affiliation(enum.Enum):
    """A person's VSB affiliation state."""

    AFFILIATED = "affiliated"
    CAN_JOIN = "can-join"
    """Not affiliated, but may still join (Walloon, Brussels, foreign users)."""
    CANNOT_JOIN = "cannot-join"
    """Not affiliated and may not join (non-recognised asylum seekers, struck off)."""


def _day(data: Mapping[str, Any], name: str) -> date | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise AdminInputError(f"{name} must be a date YYYY-MM-DD or null") from exc


def _amount(value: Any) -> Decimal | None:
    # A string ("26.10") or a JSON number; bool is an int in Python but no amount.
    if value is None:
        return None
    problem = "daily_share must be an amount in euro (at most 2 decimals, 0 .. 9999.99) or null"
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise AdminInputError(problem)
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise AdminInputError(problem) from exc
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int) or exponent < -2:
        raise AdminInputError(problem)
    if not Decimal(0) <= amount <= MAX_DAILY_SHARE:
        raise AdminInputError(problem)
    return amount


@dataclass(frozen=True)
class Person:
    """One person's insurance situation as the central application knows it."""

    affiliation: Affiliation
    care_fund: str | None = None
    valid_from: date | None = None
    increased_allowance_from: date | None = None
    """The first day of the increased allowance; ``None``: the person has none."""
    increased_allowance_to: date | None = None
    """Its last day (included); ``None`` with a first day: no end known."""
    daily_share: Decimal | None = None
    """A personal daily share in place of the documented amounts (``rules.lookup``)."""

    def increased_allowance_on(self, day: date) -> bool:
        """Whether the person has the increased allowance on ``day`` (both ends included)."""
        start, end = self.increased_allowance_from, self.increased_allowance_to
        return start is not None and start <= day and (end is None or day <= end)

    def to_json(self) -> dict[str, Any]:
        """The JSON shape used by the population file and the admin API."""
        return {
            "affiliation": self.affiliation.value,
            "care_fund": self.care_fund,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "increased_allowance_from": _iso(self.increased_allowance_from),
            "increased_allowance_to": _iso(self.increased_allowance_to),
            "daily_share": None if self.daily_share is None else f"{self.daily_share:.2f}",
        }

    @classmethod
    def from_json(cls, data: Any) -> Person:
        """Read a person from the JSON shape; raise ``AdminInputError`` on a bad value."""
        if not isinstance(data, Mapping):
            raise AdminInputError("a person must be a JSON object")
        unknown = sorted(set(data) - FIELDS)
        if unknown:
            known = ", ".join(sorted(FIELDS))
            raise AdminInputError(f"unknown person field(s) {unknown}; known: {known}")
        try:
            affiliation = Affiliation(data.get("affiliation"))
        except ValueError as exc:
            allowed = ", ".join(a.value for a in Affiliation)
            raise AdminInputError(f"affiliation must be one of: {allowed}") from exc
        allowance_from = _day(data, "increased_allowance_from")
        allowance_to = _day(data, "increased_allowance_to")
        if allowance_to is not None and allowance_from is None:
            raise AdminInputError("increased_allowance_to needs an increased_allowance_from")
        if allowance_from and allowance_to and allowance_to < allowance_from:
            raise AdminInputError("increased_allowance_to is before increased_allowance_from")
        extras = (allowance_from, allowance_to, _amount(data.get("daily_share")))
        if affiliation is not Affiliation.AFFILIATED:
            return cls(affiliation, None, None, *extras)
        care_fund = data.get("care_fund")
        if care_fund not in CARE_FUNDS:
            raise AdminInputError(f"care_fund must be one of: {', '.join(CARE_FUNDS)}")
        valid_from = data.get("valid_from")
        try:
            since = date.fromisoformat(valid_from) if valid_from else UNKNOWN_VALID_FROM
        except (TypeError, ValueError) as exc:
            raise AdminInputError("valid_from must be a date YYYY-MM-DD") from exc
        return cls(affiliation, str(care_fund), since, *extras)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def insz_is_valid(insz: str) -> bool:
    """Whether an INSZ or BIS number has correct check digits.

    check = 97 - (first 9 digits mod 97); for births from 2000 on over "2" + the 9 digits.
    BIS numbers (month + 20 or + 40) use the same check.
    """
    if len(insz) != 11 or not insz.isdigit():
        return False
    body, check = insz[:9], int(insz[9:])
    return check in (97 - int(body) % 97, 97 - int("2" + body) % 97)


def birth_date(insz: str) -> date | None:
    """The birth date an INSZ or BIS number encodes, ``None`` when it encodes none.

    The number starts with YYMMDD; the check digits tell the century (over "2" + the first 9
    digits: born from 2000 on). A BIS number has 20 (sex unknown) or 40 (sex known) added to
    the month. Month or day 00, as given to people whose birth date is unknown, or any other
    impossible date, gives ``None``.
    """
    if not insz_is_valid(insz):
        return None
    body = insz[:9]
    century = 2000 if int(insz[9:]) == 97 - int("2" + body) % 97 else 1900
    month = int(insz[2:4])
    if month > 40:
        month -= 40
    elif month > 20:
        month -= 20
    try:
        return date(century + int(insz[:2]), month, int(insz[4:6]))
    except ValueError:
        return None


def derived_person(insz: str) -> Person:
    """The person assumed for an INSZ the population does not list."""
    return Person(
        Affiliation.AFFILIATED, CARE_FUNDS[int(insz) % len(CARE_FUNDS)], UNKNOWN_VALID_FROM
    )


def check_insz_key(insz: str) -> None:
    """Raise ``AdminInputError`` unless ``insz`` is 11 digits (check digits are not checked:
    a person with wrong ones can be listed, to test VSB-INSZ-01)."""
    if len(insz) != 11 or not insz.isdigit():
        raise AdminInputError(f"an INSZ is 11 digits, not {insz!r}")


def mask_insz(insz: str) -> str:
    """An INSZ fit for a log line: only the last two digits stay visible."""
    return "*" * max(len(insz) - 2, 0) + insz[-2:]


def mask_numbers(text: str) -> str:
    """Free text (a schema error, say) with every run of 6+ digits masked: it may hold an INSZ."""
    return re.sub(r"\d{6,}", lambda found: mask_insz(found.group()), text)


class Population:
    """The persons the simulator knows, safe to read and change from several threads."""

    def __init__(self, persons: Mapping[str, Person] | None = None):
        self._persons: dict[str, Person] = dict(persons or {})
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> Population:
        """Read a population file: ``{"persons": {insz: {affiliation, care_fund, valid_from}}}``."""
        document = json.loads(path.read_text(encoding="utf-8"))
        persons = document.get("persons", {}) if isinstance(document, dict) else {}
        if not isinstance(persons, dict):
            raise AdminInputError(f"{path}: 'persons' must be an object")
        return cls({insz: Person.from_json(data) for insz, data in persons.items()})

    def find(self, insz: str) -> Person:
        """The person with this INSZ, or the derived default for an unknown number."""
        with self._lock:
            person = self._persons.get(insz)
        return person if person is not None else derived_person(insz)

    def set(self, insz: str, person: Person) -> None:
        """Add or replace one person."""
        check_insz_key(insz)
        with self._lock:
            self._persons[insz] = person

    def is_listed(self, insz: str) -> bool:
        """Whether the person is listed (not derived from the number)."""
        with self._lock:
            return insz in self._persons

    def listed(self) -> dict[str, Person]:
        """A copy of the persons listed explicitly (not the derived ones)."""
        with self._lock:
            return dict(self._persons)
