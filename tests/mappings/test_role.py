"""Roles and orderings: the policies the engine asks instead of branching on a type's name."""

from __future__ import annotations

import pytest

from mappings import Application, ApplicationChange, Issue, Outcome, read_envelope
from mappings.ordering import BY_CARE_FUND, BY_DOSSIER, UNORDERED
from mappings.role import CLOSES, LOOKUP, MODIFIES, OPENS, Role
from mappings.vocabulary import CARE_FUND_SYSTEM
from tests.mappings.helpers import example, raw, resource

REFUSAL = Issue("VSB-AFF-02", "cannot join", None)
ACCEPTED = Application(Outcome.ACCEPTED, "VSB-1", (), closed=False)
REFUSED = Application(Outcome.REFUSED, None, (REFUSAL,), closed=False)
IN_BERAAD = Application(Outcome.IN_BERAAD, None, (), closed=False)
CLOSED = Application(Outcome.ACCEPTED, "VSB-1", (), closed=True)


class TestRefusal:
    """What each role needs of the dossier's application before its message is sent."""

    @pytest.mark.parametrize(
        ("role", "application", "codes"),
        [
            (LOOKUP, None, []),
            (OPENS, None, []),
            (OPENS, REFUSED, []),
            (MODIFIES, ACCEPTED, []),
            (MODIFIES, None, ["no-accepted-application"]),
            (MODIFIES, IN_BERAAD, ["no-accepted-application"]),
            (MODIFIES, REFUSED, ["application-refused", "VSB-AFF-02"]),
            (MODIFIES, CLOSED, ["application-closed"]),
            (CLOSES, ACCEPTED, []),
            (CLOSES, CLOSED, ["application-closed"]),
        ],
    )
    def test_refusals(self, role: Role, application: Application | None, codes: list[str]) -> None:
        """A modification needs an accepted, open application; the others need nothing."""
        assert [issue.code for issue in role.refusal(application)] == codes


class TestChange:
    """What each role's answer does to the dossier's application."""

    def test_an_application_opens_with_every_outcome(self) -> None:
        """Its answer, whatever the outcome, is the dossier's application."""
        for outcome in (Outcome.ACCEPTED, Outcome.IN_BERAAD, Outcome.REFUSED):
            change = OPENS.change(outcome, "VSB-1", (REFUSAL,))
            assert change == ApplicationChange(outcome, "VSB-1", (REFUSAL,))

    def test_a_closing_message_closes_only_when_accepted(self) -> None:
        """A refused or pending cancel leaves the application as it was."""
        assert CLOSES.change(Outcome.ACCEPTED, None, ()) == ApplicationChange(close=True)
        assert CLOSES.change(Outcome.REFUSED, None, (REFUSAL,)) is None
        assert CLOSES.change(Outcome.IN_BERAAD, None, ()) is None

    def test_look_ups_and_modifications_change_nothing(self) -> None:
        """Their answers are theirs alone."""
        assert LOOKUP.change(Outcome.ACCEPTED, None, ()) is None
        assert MODIFIES.change(Outcome.ACCEPTED, "VSB-1", ()) is None


class TestOrderingKeys:
    """The ordering key comes from the event, as its message type says."""

    def test_by_dossier_and_unordered_use_the_dossier(self) -> None:
        """Applications, modifications and look-ups number their events in the dossier."""
        envelope = read_envelope(raw(example("03-reva-stop")))
        assert BY_DOSSIER.key(envelope) == "dossier:REVA-2026-0042"
        assert UNORDERED.key(envelope) == "dossier:REVA-2026-0042"
        assert (BY_DOSSIER.waits, UNORDERED.waits) == (True, False)

    def test_by_care_fund_reads_the_claims_insurer(self) -> None:
        """Invoice batches are ordered per care fund, named by the focus Claim's insurer."""
        document = example("03-reva-stop")
        claim = resource(document, "Claim")
        claim["insurer"] = {"identifier": {"system": CARE_FUND_SYSTEM, "value": "380"}}
        assert BY_CARE_FUND.key(read_envelope(raw(document))) == "care-fund:380"
        claim["insurer"] = {"identifier": {"system": "urn:other", "value": "380"}}
        assert BY_CARE_FUND.key(read_envelope(raw(document))) is None
        del claim["insurer"]
        assert BY_CARE_FUND.key(read_envelope(raw(document))) is None
