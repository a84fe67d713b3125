"""The central application's rules as pure functions (no HTTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from simulator import rules
from simulator.answers import Outcome
from simulator.messages import Header, InsuranceStatusRequest, RevaApplication, RevaStop
from simulator.population import (
    CARE_FUNDS,
    Affiliation,
    Person,
    derived_person,
    insz_is_valid,
)

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


def codes(verdict: rules.Verdict) -> list[str]:
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
        assert codes(verdict) == [rules.LATE]
        assert verdict.errors[0].location == "/RevaApplication/StartDate"
        assert verdict.errors[0].level == "E"

    def test_migration_files_are_exempt(self) -> None:
        """A migration file that started years ago is still accepted."""
        verdict = rules.judge_application(
            application(start_date=date(2023, 5, 1), end_date=date(2028, 4, 30), migration=True),
            MEMBER,
            TODAY,
            True,
        )
        assert verdict.outcome is Outcome.ACCEPTED

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
            assert codes(verdict) == [rules.PERIOD_TOO_LONG]
            assert verdict.errors[0].location == "/RevaApplication/EndDate"

    def test_end_before_start_is_refused(self) -> None:
        """An end date before the start date is refused VSB-REVA-END."""
        verdict = rules.judge_application(
            application(end_date=date(2026, 2, 1)), MEMBER, TODAY, True
        )
        assert codes(verdict) == [rules.END_BEFORE_START]

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
        assert codes(verdict) == [rules.CANNOT_JOIN]

    def test_can_join_puts_the_application_in_beraad(self) -> None:
        """A user who can still join gets "in beraad" with VSB-AFF-01."""
        verdict = rules.judge_application(application(insz=CAN_JOIN), JOINER, TODAY, True)
        assert verdict.outcome is Outcome.IN_BERAAD
        assert codes(verdict) == [rules.CAN_JOIN]

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
        assert codes(verdict) == [rules.INVALID_INSZ]


class TestReview:
    def test_exception_request_is_in_beraad(self) -> None:
        """A request for exception is checked a priori: "in beraad" with VSB-REVA-EXC."""
        verdict = rules.judge_application(application(exception_request=True), MEMBER, TODAY, True)
        assert verdict.outcome is Outcome.IN_BERAAD
        assert codes(verdict) == [rules.EXCEPTION_REQUEST]

    def test_refusal_wins_over_review(self) -> None:
        """A late exception request is refused, not put in beraad."""
        verdict = rules.judge_application(
            application(exception_request=True, start_date=date(2025, 1, 1)), MEMBER, TODAY, True
        )
        assert verdict.outcome is Outcome.REFUSED

    def test_unrecognised_facility_is_refused(self) -> None:
        """A facility outside the recognised set is refused VSB-FAC-01."""
        verdict = rules.judge_application(application(), MEMBER, TODAY, False)
        assert codes(verdict) == [rules.UNKNOWN_FACILITY]


class TestStop:
    FACTS = rules.ApplicationFacts(AFFILIATED, date(2026, 3, 1), date(2031, 2, 28), True)

    def stop(self, **changes: object) -> RevaStop:
        base = RevaStop(HEADER, "VSB-2026-000001", AFFILIATED, date(2026, 6, 30), "early")
        return replace(base, **changes)  # type: ignore[arg-type]

    def test_stop_of_an_accepted_application_is_accepted(self) -> None:
        """A stop inside the period of an accepted application is accepted."""
        assert rules.judge_stop(self.stop(), self.FACTS, True).outcome is Outcome.ACCEPTED

    @pytest.mark.parametrize(
        "facts",
        [
            None,
            rules.ApplicationFacts(AFFILIATED, date(2026, 3, 1), date(2031, 2, 28), False),
            rules.ApplicationFacts(UNKNOWN, date(2026, 3, 1), date(2031, 2, 28), True),
        ],
        ids=["unknown reference", "not accepted", "other person"],
    )
    def test_stop_needs_an_accepted_application_of_the_same_person(
        self, facts: rules.ApplicationFacts | None
    ) -> None:
        """Without an accepted application of the same user the stop is refused VSB-MOD-REF."""
        verdict = rules.judge_stop(self.stop(), facts, True)
        assert codes(verdict) == [rules.BAD_REFERENCE]

    def test_stop_before_the_start_is_refused(self) -> None:
        """A stop date before the application's start is refused VSB-STOP-DATE."""
        verdict = rules.judge_stop(self.stop(stop_date=date(2026, 2, 28)), self.FACTS, True)
        assert codes(verdict) == [rules.BAD_STOP_DATE]

    def test_second_stop_is_refused_unless_it_replaces_the_first(self) -> None:
        """An application stops once; a corrected stop replacing the first is accepted."""
        stopped = replace(self.FACTS, stop_message_id="stop-1")
        assert codes(rules.judge_stop(self.stop(), stopped, True)) == [rules.ALREADY_STOPPED]
        corrected = self.stop(header=replace(HEADER, replaces_message_id="stop-1"))
        assert rules.judge_stop(corrected, stopped, True).outcome is Outcome.ACCEPTED
