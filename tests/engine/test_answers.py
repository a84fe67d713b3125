"""The one line for people (``vsb-adapter send --wait``, the bench) of each kind of answer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from adapter.engine.answers import summarize
from mappings import MESSAGE_TYPES, AnswerHead, Issue, Outcome, to_fhir_answer
from mappings.answers.eligibility import InsuranceStatus
from mappings.answers.increased_allowance import IncreasedAllowance
from mappings.answers.personal_share import PersonalShare

CREATED = datetime(2026, 11, 20, 10, 31, tzinfo=UTC)


def line(
    code: str,
    body: object = None,
    outcome: Outcome = Outcome.ACCEPTED,
    issues: tuple[Issue, ...] = (),
    reference: str | None = None,
) -> str:
    """The summary of the FHIR answer of an outcome of ``code`` with ``body``."""
    head = AnswerHead("ans-1", "evt-1", code, outcome, reference, issues, CREATED)
    fhir: dict[str, Any] = to_fhir_answer(head, MESSAGE_TYPES[code].answer, body)
    return summarize(fhir)


def test_insurance_status() -> None:
    """Affiliation and care fund, as before the benefits look-ups."""
    body = InsuranceStatus("affiliated", "180", "2026-01-01")
    assert line("insurance-status", body) == "accepted  affiliation=affiliated fund=180"


def test_insurance_status_without_fund() -> None:
    """A person who can still join has no fund."""
    body = InsuranceStatus("can-join", None, None)
    assert line("insurance-status", body, Outcome.IN_BERAAD) == (
        "in-beraad  affiliation=can-join fund=None"
    )


@pytest.mark.parametrize(("entitled", "word"), [(True, "entitled"), (False, "not-entitled")])
def test_increased_allowance(entitled: bool, word: str) -> None:
    """The status, without an affiliation the answer does not have."""
    body = IncreasedAllowance(entitled, date(2026, 1, 1))
    assert line("increased-allowance-status", body) == f"accepted  increased-allowance={word}"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [("17.55", "17.55"), ("35.00", "35.00"), ("17.50", "17.50"), ("0.00", "0.00")],
)
def test_personal_share(amount: str, shown: str) -> None:
    """The amount with its cents (the JSON number dropped them) and the increased allowance."""
    body = PersonalShare(Decimal(amount), True)
    assert line("personal-share", body) == (
        f"accepted  personal-share={shown} EUR  increased-allowance=entitled"
    )


def test_refused_look_up() -> None:
    """No body: the outcome and the central application's codes only."""
    issue = Issue("VSB-INSZ-01", "Unknown person.", None, "E")
    assert line("personal-share", None, Outcome.REFUSED, (issue,)) == (
        "refused  issues=VSB-INSZ-01"
    )


def test_application() -> None:
    """An application: its VSB reference."""
    assert line("reva-application", reference="VSB-2026-000042") == (
        "accepted  ref=VSB-2026-000042"
    )


def test_an_odd_amount_is_shown_as_it_came() -> None:
    """A hand-made answer with a value that is no number does not break the line."""
    benefit = {
        "type": {"coding": [{"code": "personal-share"}]},
        "allowedMoney": {"value": "lots", "currency": "EUR"},
    }
    fhir = {
        "entry": [
            {"resource": {"extension": []}},
            {"resource": {"insurance": [{"item": [{"benefit": [benefit]}]}]}},
        ]
    }
    assert summarize(fhir) == "?  personal-share=lots EUR"
