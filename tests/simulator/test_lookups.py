"""The increased-allowance and personal-share look-ups over HTTP, at the increased
allowance's first and last day, and the population fields behind them (admin API)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import requests
from lxml import etree

from simulator import Simulator
from simulator.contract import DEFAULT_XSD
from simulator.rules import codes

from .builders_pvt import (
    IA_2023,
    IA_OPEN,
    OWN_SHARE,
    increased_allowance_request,
    personal_share_request,
)
from .conftest import AFFILIATED, CANNOT_JOIN, NIHDI, NS, UNKNOWN, SoapClient, admin
from .scenario import OTHER_NIHDI, Signer

SCHEMA = etree.XMLSchema(etree.parse(str(DEFAULT_XSD)))


@dataclass(frozen=True)
class LookUpRow:
    """A look-up and what its answer carries: the body's children in order, or errors."""

    id: str
    kind: str
    insz: str
    day: str
    body: tuple[tuple[str, str], ...] = ()
    """(element, text) of the answer's IncreasedAllowance / PersonalShare, in order."""
    errors: tuple[str, ...] = ()
    nihdi: str = NIHDI


def entitled(since: str, until: str | None = None) -> tuple[tuple[str, str], ...]:
    """IncreasedAllowance: entitled from ``since`` (to ``until``)."""
    span = (("ValidFrom", since),) + ((("ValidTo", until),) if until else ())
    return (("Entitled", "true"), *span)


NOT_ENTITLED = (("Entitled", "false"),)


def share(amount: str, increased: bool, since: str | None = None) -> tuple[tuple[str, str], ...]:
    """PersonalShare: the daily amount, the increased allowance, from when."""
    flag = ("IncreasedAllowance", "true" if increased else "false")
    return (("DailyAmount", amount), flag) + ((("ValidFrom", since),) if since else ())


IA = "IncreasedAllowanceRequest"
PS = "PersonalShareRequest"

ROWS = [
    LookUpRow("allowance: the day before it starts", IA, IA_2023, "2022-12-31", NOT_ENTITLED),
    LookUpRow(
        "allowance: its first day", IA, IA_2023, "2023-01-01", entitled("2023-01-01", "2023-12-31")
    ),
    LookUpRow(
        "allowance: its last day", IA, IA_2023, "2023-12-31", entitled("2023-01-01", "2023-12-31")
    ),
    LookUpRow("allowance: the day after it ended", IA, IA_2023, "2024-01-01", NOT_ENTITLED),
    LookUpRow("allowance without end: the day before", IA, IA_OPEN, "2022-06-30", NOT_ENTITLED),
    LookUpRow(
        "allowance without end: its first day", IA, IA_OPEN, "2022-07-01", entitled("2022-07-01")
    ),
    LookUpRow(
        "allowance without end: years later", IA, IA_OPEN, "2031-01-01", entitled("2022-07-01")
    ),
    LookUpRow("allowance: a listed person without", IA, AFFILIATED, "2026-03-10", NOT_ENTITLED),
    LookUpRow("allowance: a derived person", IA, UNKNOWN, "2026-03-10", NOT_ENTITLED),
    LookUpRow("allowance: whatever the affiliation", IA, CANNOT_JOIN, "2026-03-10", NOT_ENTITLED),
    LookUpRow("allowance: INSZ-01", IA, "85073003329", "2026-03-10", errors=(codes.INVALID_INSZ,)),
    LookUpRow(
        "allowance: FAC-01",
        IA,
        AFFILIATED,
        "2026-03-10",
        errors=(codes.UNKNOWN_FACILITY,),
        nihdi=OTHER_NIHDI,
    ),
    LookUpRow(
        "share: the day before the allowance", PS, IA_2023, "2022-12-31", share("35.00", False)
    ),
    LookUpRow(
        "share: the allowance's first day",
        PS,
        IA_2023,
        "2023-01-01",
        share("28.00", True, "2023-01-01"),
    ),
    LookUpRow(
        "share: the allowance's last day",
        PS,
        IA_2023,
        "2023-12-31",
        share("28.00", True, "2023-01-01"),
    ),
    LookUpRow(
        "share: the day after the allowance ended",
        PS,
        IA_2023,
        "2024-01-01",
        share("35.00", False, "2024-01-01"),
    ),
    LookUpRow(
        "share: the allowance without end",
        PS,
        IA_OPEN,
        "2022-07-01",
        share("28.00", True, "2022-07-01"),
    ),
    LookUpRow("share: the person's own amount", PS, OWN_SHARE, "2026-03-10", share("31.45", False)),
    LookUpRow("share: without allowance", PS, AFFILIATED, "2026-03-10", share("35.00", False)),
    LookUpRow("share: INSZ-01", PS, "85073003329", "2026-03-10", errors=(codes.INVALID_INSZ,)),
    LookUpRow(
        "share: FAC-01",
        PS,
        AFFILIATED,
        "2026-03-10",
        errors=(codes.UNKNOWN_FACILITY,),
        nihdi=OTHER_NIHDI,
    ),
]

BODY = {IA: "IncreasedAllowance", PS: "PersonalShare"}


def body(reply_answer: etree._Element, kind: str) -> list[tuple[str, str]]:
    """The (name, text) children of the answer's body, in document order."""
    node = reply_answer.find(f"v:{BODY[kind]}", NS)
    assert node is not None
    return [(etree.QName(child).localname, child.text or "") for child in node]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_look_up(fresh_simulator: Simulator, signed: Signer, row: LookUpRow) -> None:
    """Accepted with the body in the XSD's order (a valid answer), or refused by identity."""
    fresh_simulator.set_recognised_facilities([NIHDI])
    client = SoapClient(fresh_simulator.url, keep_alive=False)
    build = increased_allowance_request if row.kind == IA else personal_share_request
    answer = client.submit(signed(build(row.insz, row.day, nihdi=row.nihdi))).answer
    assert SCHEMA.validate(copy.deepcopy(answer)), SCHEMA.error_log
    codes_found = [code.text for code in answer.findall("v:Error/v:Code", NS)]
    if row.errors:
        assert answer.findtext("v:Outcome", namespaces=NS) == "refused"
        assert codes_found == list(row.errors)
        assert answer.find(f"v:{BODY[row.kind]}", NS) is None
        return
    assert answer.findtext("v:Outcome", namespaces=NS) == "accepted"
    assert codes_found == []
    assert answer.findtext("v:VsbReference", namespaces=NS) is None
    assert body(answer, row.kind) == list(row.body)


def admin_status(simulator: Simulator, method: str, action: str, body: Any) -> requests.Response:
    """An admin call whose status the test looks at."""
    return requests.request(method, simulator.admin_url + action, json=body, timeout=5)


class TestPopulationFields:
    """The increased allowance and the daily share are set through the admin API."""

    def test_set_through_post_persons(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """A person set with an allowance and an own share is answered with them at once."""
        person = {
            "affiliation": "affiliated",
            "care_fund": "480",
            "increased_allowance_from": "2026-01-01",
            "increased_allowance_to": "2026-06-30",
            "daily_share": 12.5,
        }
        admin(simulator, "POST", "persons", {UNKNOWN: person})
        shown = admin(simulator, "GET", "persons")["persons"][UNKNOWN]
        assert shown["increased_allowance_to"] == "2026-06-30"
        assert shown["daily_share"] == "12.50"
        reply = client.submit(signed(personal_share_request(UNKNOWN, "2026-03-10")))
        assert body(reply.answer, PS) == list(share("12.50", True, "2026-01-01"))

    def test_change_one_person(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """POST persons/<insz> changes only the fields given; GET persons/<insz> shows it."""
        before = admin(simulator, "GET", f"persons/{UNKNOWN}")
        assert (before["listed"], before["person"]["increased_allowance_from"]) == (False, None)
        changed = admin(
            simulator, "POST", f"persons/{UNKNOWN}", {"increased_allowance_from": "2026-03-10"}
        )
        assert changed["listed"] is True
        assert changed["person"]["care_fund"] == before["person"]["care_fund"]
        reply = client.submit(signed(increased_allowance_request(UNKNOWN, "2026-03-10")))
        assert body(reply.answer, IA) == list(entitled("2026-03-10"))
        admin(simulator, "POST", f"persons/{UNKNOWN}", {"increased_allowance_from": None})
        reply = client.submit(signed(increased_allowance_request(UNKNOWN, "2026-03-10")))
        assert body(reply.answer, IA) == list(NOT_ENTITLED)

    def test_the_python_api(self, simulator: Simulator, client: SoapClient, signed: Signer) -> None:
        """``Simulator.set_person`` takes the same fields."""
        simulator.set_person(
            UNKNOWN, "affiliated", "280", increased_allowance_from=date(2025, 1, 1), daily_share="9"
        )
        reply = client.submit(signed(personal_share_request(UNKNOWN, "2026-03-10")))
        assert body(reply.answer, PS) == list(share("9.00", True, "2025-01-01"))

    @pytest.mark.parametrize(
        ("fields", "complaint"),
        [
            ({"increased_allowance_to": "2026-01-01"}, "needs an increased_allowance_from"),
            (
                {"increased_allowance_from": "2026-01-02", "increased_allowance_to": "2026-01-01"},
                "before increased_allowance_from",
            ),
            ({"increased_allowance_from": "1 January"}, "increased_allowance_from must be a date"),
            ({"daily_share": "12.345"}, "at most 2 decimals"),
            ({"daily_share": -1}, "daily_share"),
            ({"daily_share": "abc"}, "daily_share"),
            ({"daily_share": True}, "daily_share"),
            ({"daily_share": "NaN"}, "daily_share"),
            ({"daily_share": "10000"}, "9999.99"),
            ({"increased_allowance": "2026-01-01"}, "unknown person field"),
        ],
        ids=[
            "to without from",
            "to before from",
            "not a date",
            "three decimals",
            "negative",
            "not a number",
            "a boolean",
            "NaN",
            "too large",
            "unknown field",
        ],
    )
    def test_bad_fields_are_400(
        self, simulator: Simulator, fields: dict[str, Any], complaint: str
    ) -> None:
        """A bad value is a 400 naming the problem, on both calls; nothing is set."""
        person = {"affiliation": "affiliated", "care_fund": "180"} | fields
        response = admin_status(simulator, "POST", "persons", {UNKNOWN: person})
        assert response.status_code == 400
        assert complaint in response.json()["error"]
        assert UNKNOWN in response.json()["error"]
        response = admin_status(simulator, "POST", f"persons/{UNKNOWN}", fields)
        assert response.status_code == 400
        assert complaint in response.json()["error"]
        assert admin(simulator, "GET", f"persons/{UNKNOWN}")["listed"] is False

    def test_all_or_none(self, simulator: Simulator) -> None:
        """One bad person among several: none is set."""
        good = {"affiliation": "can-join"}
        bad = {"affiliation": "affiliated", "care_fund": "180", "daily_share": "x"}
        response = admin_status(simulator, "POST", "persons", {UNKNOWN: good, AFFILIATED: bad})
        assert response.status_code == 400
        assert admin(simulator, "GET", f"persons/{UNKNOWN}")["listed"] is False

    @pytest.mark.parametrize("method", ["GET", "POST"])
    def test_a_bad_insz_is_400(self, simulator: Simulator, method: str) -> None:
        """The one-person calls take an 11-digit INSZ only."""
        response = admin_status(simulator, method, "persons/1234", {})
        assert response.status_code == 400
        assert "11 digits" in response.json()["error"]
