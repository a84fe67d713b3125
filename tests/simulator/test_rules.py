"""The central application's rules as pure functions (no HTTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from simulator import rules
from simulator.answers import Outcome
from simulator.history import Application, Status, Stop
from simulator.message_parts import Header
from simulator.messages import InsuranceStatusRequest, RevaApplication, RevaStop
from simulator.population import (
    CARE_FUNDS,
    Affiliation,
    Person,
    birth_date,
    derived_person,
    insz_is_valid,
)
from simulator.rules import codes

from .conftest import AFFILIATED, CAN_JOIN, CANNOT_JOIN, UNKNOWN

HEADER = Header("m-1", None, "71000019997", "12345678", "D-1", 1)
MEMBER = Person(Affiliation.AFFILIATED, "180", date(2001, 10, 1))
JOINER = Person(Affiliation.CAN_JOIN)
OUTSIDER = Person(Affiliation.CANNOT_JOIN)
TODAY = date(2026, 3, 10)


def application(**changes: object) -> RevaApplication:
    base = RevaApplication(
        header=HEADER,
        insz=AFFILIATED,
        request_type="new",
        request_date=date(2026, 3, 1),
        start_date=date(2026, 3, 1),
        end_date=date(2031, 2, 28),
        migration=False,
        exception_request=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def error_codes(verdict: rules.Verdict) -> list[str]:
    return [error.code for error in verdict.errors]


class TestThirtyDayRule:
    def test_thirty_days_after_the_start_is_still_in_time(self) -> None:
        """An application received exactly 30 days after its start is accepted."""
        verdict = rules.judge_application(
            application(start_date=date(2026, 2, 8), end_date=date(2027, 1, 1)),
            MEMBER,
            TODAY,
            True,
        )
        assert verdict.outcome is Outcome.ACCEPTED

    def test_thirty_one_days_after_the_start_is_late(self) -> None:
        """An application received 31 days after its start is refused VSB-REVA-30D."""
        verdict = rules.judge_application(
            application(start_date=date(2026, 2, 7), end_date=date(2027, 1, 1)),
            MEMBER,
            TODAY,
            True,
        )
        assert verdict.outcome is Outcome.REFUSED
        assert error_codes(verdict) == [codes.LATE]
        assert verdict.errors[0].location == "/RevaApplication/StartDate"
        assert verdict.errors[0].level == "E"

    def test_migration_files_are_exempt(self) -> None:
        """A migration file that started years ago is still accepted."""
        verdict = rules.judge_application(
            application(
                start_date=date(2023, 5, 1),
                end_date=date(2028, 4, 30),
                migration=True,
                vi_approval_date=date(2023, 6, 1),
            ),
            MEMBER,
            TODAY,
            True,
        )
        assert verdict.outcome is Outcome.ACCEPTED

    def test_the_flag_alone_does_not_exempt(self) -> None:
        """Without the VI's approval date a migration file is refused, not spared."""
        verdict = rules.judge_application(
            application(start_date=date(2023, 5, 1), end_date=date(2028, 4, 30), migration=True),
            MEMBER,
            TODAY,
            True,
        )
        assert error_codes(verdict) == [codes.REVA_MIGRATION_NO_VI_APPROVAL]
        assert verdict.errors[0].location == "/RevaApplication/ViApprovalDate"

    def test_an_application_before_the_start_is_in_time(self) -> None:
        """An application sent before its start date is in time."""
        verdict = rules.judge_application(
            application(start_date=date(2026, 4, 1), end_date=date(2031, 3, 31)),
            MEMBER,
            TODAY,
            True,
        )
        assert verdict.outcome is Outcome.ACCEPTED


class TestPeriodLength:
    @pytest.mark.parametrize(
        ("request_type", "end", "accepted"),
        [
            ("diagnosis", date(2029, 2, 28), True),
            ("diagnosis", date(2029, 3, 1), False),
            ("new", date(2031, 2, 28), True),
            ("new", date(2031, 3, 1), False),
            ("restart", date(2031, 3, 1), False),
            ("extension", date(2031, 2, 28), True),
        ],
    )
    def test_period_limits_include_both_ends(
        self, request_type: str, end: date, accepted: bool
    ) -> None:
        """Diagnosis lasts at most 3 years and coordination 5, the start day included."""
        verdict = rules.judge_application(
            application(request_type=request_type, end_date=end), MEMBER, TODAY, True
        )
        assert (verdict.outcome is Outcome.ACCEPTED) is accepted
        if not accepted:
            assert error_codes(verdict) == [codes.PERIOD_TOO_LONG]
            assert verdict.errors[0].location == "/RevaApplication/EndDate"

    def test_end_before_start_is_refused(self) -> None:
        """An end date before the start date is refused VSB-REVA-END."""
        verdict = rules.judge_application(
            application(end_date=date(2026, 2, 1)), MEMBER, TODAY, True
        )
        assert error_codes(verdict) == [codes.END_BEFORE_START]

    def test_leap_day_start(self) -> None:
        """A period starting on 29 February ends on 28 February of the last year."""
        assert rules.last_day_of_period(date(2024, 2, 29), 3) == date(2027, 2, 28)
        assert rules.last_day_of_period(date(2024, 1, 1), 3) == date(2026, 12, 31)


class TestAffiliation:
    def test_look_up_is_accepted_in_all_three_states(self) -> None:
        """A look-up is accepted and carries affiliated / can-join / cannot-join."""
        for person, expected, fund in [
            (MEMBER, "affiliated", "180"),
            (JOINER, "can-join", None),
            (OUTSIDER, "cannot-join", None),
        ]:
            request = InsuranceStatusRequest(HEADER, AFFILIATED, TODAY)
            verdict = rules.judge_status_request(request, person, True)
            assert verdict.outcome is Outcome.ACCEPTED
            assert verdict.insurance_status is not None
            assert verdict.insurance_status.affiliation == expected
            assert verdict.insurance_status.care_fund == fund

    def test_look_up_before_the_affiliation_says_can_join(self) -> None:
        """On a reference date before the affiliation started, the person could only join."""
        late_member = Person(Affiliation.AFFILIATED, "280", date(2026, 1, 1))
        request = InsuranceStatusRequest(HEADER, AFFILIATED, date(2025, 12, 31))
        status = rules.judge_status_request(request, late_member, True).insurance_status
        assert status is not None
        assert status.affiliation == "can-join"

    def test_cannot_join_refuses_the_application(self) -> None:
        """A user who cannot join is refused VSB-AFF-02."""
        verdict = rules.judge_application(application(insz=CANNOT_JOIN), OUTSIDER, TODAY, True)
        assert verdict.outcome is Outcome.REFUSED
        assert error_codes(verdict) == [codes.CANNOT_JOIN]

    def test_can_join_puts_the_application_in_beraad(self) -> None:
        """A user who can still join gets "in beraad" with VSB-AFF-01."""
        verdict = rules.judge_application(application(insz=CAN_JOIN), JOINER, TODAY, True)
        assert verdict.outcome is Outcome.IN_BERAAD
        assert error_codes(verdict) == [codes.CAN_JOIN]

    def test_unknown_person_is_affiliated_with_a_derived_fund(self) -> None:
        """An INSZ not in the population is affiliated with CARE_FUNDS[insz % 6]."""
        person = derived_person(UNKNOWN)
        assert person.affiliation is Affiliation.AFFILIATED
        assert person.care_fund == CARE_FUNDS[int(UNKNOWN) % 6]

    def test_insz_check_digits(self) -> None:
        """Check digits are checked: births before and from 2000, BIS numbers."""
        assert insz_is_valid(AFFILIATED)
        assert insz_is_valid(CAN_JOIN)  # born 2012: check over "2" + 9 digits
        assert insz_is_valid(CANNOT_JOIN)  # a BIS number (month + 40)
        assert not insz_is_valid("85073003329")

    def test_wrong_check_digits_are_refused(self) -> None:
        """An INSZ with wrong check digits is refused VSB-INSZ-01."""
        verdict = rules.judge_application(application(insz="85073003329"), MEMBER, TODAY, True)
        assert error_codes(verdict) == [codes.INVALID_INSZ]


class TestReview:
    def test_exception_request_is_in_beraad(self) -> None:
        """A request for exception is checked a priori: "in beraad" with VSB-REVA-EXC."""
        verdict = rules.judge_application(application(exception_request=True), MEMBER, TODAY, True)
        assert verdict.outcome is Outcome.IN_BERAAD
        assert error_codes(verdict) == [codes.EXCEPTION_REQUEST]

    def test_refusal_wins_over_review(self) -> None:
        """A late exception request is refused, not put in beraad."""
        verdict = rules.judge_application(
            application(exception_request=True, start_date=date(2025, 1, 1)), MEMBER, TODAY, True
        )
        assert verdict.outcome is Outcome.REFUSED

    def test_unrecognised_facility_is_refused(self) -> None:
        """A facility outside the recognised set is refused VSB-FAC-01."""
        verdict = rules.judge_application(application(), MEMBER, TODAY, False)
        assert error_codes(verdict) == [codes.UNKNOWN_FACILITY]


def history(**changes: object) -> Application:
    """An accepted application 2026-03-01 .. 2031-02-28 of AFFILIATED, as the store keeps it."""
    base = Application(
        message_id="app-1",
        insz=AFFILIATED,
        nihdi="71000019997",
        dossier_id="D-1",
        request_type="new",
        request_date=date(2026, 3, 1),
        initial_start_date=date(2026, 3, 1),
        start_date=date(2026, 3, 1),
        end_date=date(2031, 2, 28),
        migration=False,
        status=Status.ACCEPTED,
        vsb_reference="VSB-2026-000001",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class TestStop:
    def stop(self, **changes: object) -> RevaStop:
        base = RevaStop(HEADER, "VSB-2026-000001", AFFILIATED, date(2026, 6, 30), "early")
        return replace(base, **changes)  # type: ignore[arg-type]

    def test_stop_of_an_accepted_application_is_accepted(self) -> None:
        """A stop inside the period of an accepted application is accepted."""
        verdict = rules.judge_stop(self.stop(), history(), TODAY, True)
        assert verdict.outcome is Outcome.ACCEPTED

    @pytest.mark.parametrize(
        "facts",
        [None, history(status=Status.REFUSED), history(insz=UNKNOWN)],
        ids=["unknown reference", "not accepted", "other person"],
    )
    def test_stop_needs_an_accepted_application_of_the_same_person(
        self, facts: Application | None
    ) -> None:
        """Without an accepted application of the same user the stop is refused VSB-MOD-REF."""
        verdict = rules.judge_stop(self.stop(), facts, TODAY, True)
        assert error_codes(verdict) == [codes.BAD_REFERENCE]

    def test_stop_before_the_start_is_refused(self) -> None:
        """A stop date before the application's start is refused VSB-STOP-DATE."""
        verdict = rules.judge_stop(self.stop(stop_date=date(2026, 2, 28)), history(), TODAY, True)
        assert error_codes(verdict) == [codes.BAD_STOP_DATE]

    def test_second_stop_is_refused_unless_it_replaces_the_first(self) -> None:
        """An application stops once; a corrected stop replacing the first is accepted."""
        stopped = history(stop=Stop(date(2026, 6, 30), "early", "stop-1"))
        assert error_codes(rules.judge_stop(self.stop(), stopped, TODAY, True)) == [
            codes.ALREADY_STOPPED
        ]
        corrected = self.stop(header=replace(HEADER, replaces_message_id="stop-1"))
        assert rules.judge_stop(corrected, stopped, TODAY, True).outcome is Outcome.ACCEPTED


class TestCalendar:
    """Periods count both ends; a day missing in the target month moves to the next 1st."""

    @pytest.mark.parametrize(
        ("start", "months", "last_day"),
        [
            (date(2024, 1, 1), 6, date(2024, 6, 30)),
            (date(2026, 4, 1), 6, date(2026, 9, 30)),
            (date(2026, 8, 28), 6, date(2027, 2, 27)),
            (date(2026, 8, 29), 6, date(2027, 2, 28)),
            (date(2026, 8, 31), 6, date(2027, 2, 28)),
            (date(2027, 8, 31), 6, date(2028, 2, 29)),
            (date(2026, 12, 31), 2, date(2027, 2, 28)),
            (date(2026, 7, 15), 6, date(2027, 1, 14)),
        ],
    )
    def test_last_day_of_months(self, start: date, months: int, last_day: date) -> None:
        """Six months from 1 January end on 30 June; from 31 August on the last of February."""
        assert rules.last_day_of_months(start, months) == last_day

    @pytest.mark.parametrize(
        ("start", "years", "last_day"),
        [
            (date(2024, 1, 1), 3, date(2026, 12, 31)),
            (date(2026, 3, 1), 3, date(2029, 2, 28)),
            (date(2024, 2, 29), 3, date(2027, 2, 28)),
            (date(2024, 2, 29), 4, date(2028, 2, 28)),
            (date(2026, 9, 1), 5, date(2031, 8, 31)),
        ],
    )
    def test_last_day_of_period(self, start: date, years: int, last_day: date) -> None:
        """A three-year period from 1 January 2024 ends on 31 December 2026."""
        assert rules.last_day_of_period(start, years) == last_day


class TestBirthDate:
    """The birth date an INSZ or BIS number encodes (the quota depends on the age)."""

    @pytest.mark.parametrize(
        ("insz", "born"),
        [
            (AFFILIATED, date(1985, 7, 30)),
            (CAN_JOIN, date(2012, 3, 15)),
            ("08022900119", date(2008, 2, 29)),
            ("10251500160", date(2010, 5, 15)),
            ("10451500106", date(2010, 5, 15)),
            (CANNOT_JOIN, date(1990, 1, 17)),
            ("10400000133", None),
            ("00000000196", None),
            ("85073003329", None),
        ],
        ids=[
            "1900s",
            "2000s (check over 2 + digits)",
            "29 February",
            "BIS + 20",
            "BIS + 40",
            "BIS + 40 of the examples",
            "BIS without birth date",
            "INSZ without birth date",
            "wrong check digits",
        ],
    )
    def test_birth_date(self, insz: str, born: date | None) -> None:
        """The century follows the check digits; month 20/40 offsets are BIS numbers."""
        assert birth_date(insz) == born
