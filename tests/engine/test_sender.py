"""The sender classifies failures: retry later, give up, or answer; never lose the message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from adapter.devpki import DevPki
from adapter.engine.breaker import BreakerState, CircuitBreaker
from adapter.engine.ingest import Ingest
from adapter.engine.sender import Sender
from adapter.errors import PermanentDeliveryError, TransientDeliveryError
from adapter.settings import DeliverySettings
from adapter.signing import Signer
from adapter.store import AnswerSource, Store, Support
from adapter.testing import FixedClock, ScriptedCentral
from mappings import Facility, Outcome
from monitoring import Metrics
from queues import Delivery
from tests.support import events

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
FACILITY = Facility("71012314001", "40012345")
VSB = "urn:vsb-adapter:vsb:1"


def answer_to(message: etree._Element, outcome: str = "accepted") -> etree._Element:
    """A vsb:Answer to ``message`` as the central application would write it."""
    message_id = message.findtext(f"{{{VSB}}}Header/{{{VSB}}}MessageId")
    return etree.fromstring(
        f'<Answer xmlns="{VSB}"><AnswerId>A-{message_id}</AnswerId>'
        f"<InReplyTo>{message_id}</InReplyTo><CreatedAt>2026-11-20T10:00:00+01:00</CreatedAt>"
        f"<Outcome>{outcome}</Outcome><VsbReference>VSB-1</VsbReference></Answer>"
    )


class Rig:
    def __init__(
        self, store: Store, central: ScriptedCentral, signer: Signer, **delivery: float
    ) -> None:
        self.store = store
        self.central = central
        self.clock = FixedClock(T0)
        self.breaker = CircuitBreaker(3, 60, self.clock)
        settings = DeliverySettings(quick_tries=2, max_attempts=3, max_age_seconds=3600)
        metrics = Metrics()
        self.ingest = Ingest(store, FACILITY, self.clock, metrics)
        self.sender = Sender(
            store, central, signer, FACILITY, self.clock, metrics, self.breaker, settings
        )

    def send_event(self, body: bytes) -> None:
        self.ingest([Delivery(body=body, redelivered=False, message_id=None)])

    def send_due(self) -> bool:
        due = self.store.due(self.clock.now(), 1)
        if not due:
            return False
        claim = self.store.claim(due[0], "test", self.clock.now(), timedelta(seconds=60))
        assert claim is not None
        self.sender.send(claim)
        return True

    def states(self) -> list[str]:
        return [m.state for m in Support(self.store).dossier("dossier:D")]


@pytest.fixture
def signer(pki: DevPki) -> Signer:
    return Signer.from_keystore(pki.keystore, b"dev-only")


def test_an_answer_finishes_the_message(store: Store, signer: Signer) -> None:
    """A signed message goes out once and its answer makes it done."""
    rig = Rig(store, ScriptedCentral([answer_to]), signer)
    rig.send_event(events.application("e1", "D", 1))
    assert rig.send_due()
    assert rig.states() == ["done"]
    [sent] = rig.central.submitted
    assert sent.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None


def test_quick_tries_absorb_a_short_hiccup(store: Store, signer: Signer) -> None:
    """One transient failure inside the quick tries leaves no trace but the answer."""
    rig = Rig(store, ScriptedCentral([TransientDeliveryError("reset"), answer_to]), signer)
    rig.send_event(events.application("e1", "D", 1))
    rig.send_due()
    assert rig.states() == ["done"]
    ids = {m.findtext(f"{{{VSB}}}Header/{{{VSB}}}MessageId") for m in rig.central.submitted}
    assert len(ids) == 1, "every try carries the same message id"


def test_a_longer_failure_becomes_a_stored_retry(store: Store, signer: Signer) -> None:
    """After the quick tries the message waits, pending, for a later attempt."""
    rig = Rig(store, ScriptedCentral([TransientDeliveryError("down")] * 2), signer)
    rig.send_event(events.application("e1", "D", 1))
    rig.send_due()
    [view] = Support(store).dossier("dossier:D")
    assert (view.state, view.attempts, view.last_error) == ("pending", 1, "down")
    assert store.due(rig.clock.now(), 10) == []
    rig.clock.advance(60)
    assert store.due(rig.clock.now(), 10) != []


def test_attempts_run_out_into_a_dead_letter(store: Store, signer: Signer) -> None:
    """When the attempt cap is reached the message becomes a dead letter naming why."""
    rig = Rig(store, ScriptedCentral([TransientDeliveryError("down")] * 6), signer)
    rig.send_event(events.application("e1", "D", 1))
    for _ in range(3):
        rig.send_due()
        rig.clock.advance(120)
        rig.breaker.success()  # keep the breaker out of this test
    [dead] = Support(store).dead_letters()
    assert "gave up after 3 attempts" in (dead.last_error or "")


def test_age_runs_out_into_a_dead_letter(store: Store, signer: Signer) -> None:
    """A message failing for longer than the age cap becomes a dead letter."""
    rig = Rig(store, ScriptedCentral([TransientDeliveryError("down")] * 4), signer)
    rig.send_event(events.application("e1", "D", 1))
    rig.send_due()
    rig.breaker.success()
    rig.clock.advance(7200)
    rig.send_due()
    [dead] = Support(store).dead_letters()
    assert "failing for too long" in (dead.last_error or "")


def test_an_attempt_during_an_outage_is_not_counted(store: Store, signer: Signer) -> None:
    """Failures that open the breaker give the attempt back."""
    rig = Rig(store, ScriptedCentral([TransientDeliveryError("down")] * 2), signer)
    rig.breaker.failure()
    rig.breaker.failure()
    rig.send_event(events.application("e1", "D", 1))
    rig.send_due()
    assert rig.breaker.state is BreakerState.OPEN
    [view] = Support(store).dossier("dossier:D")
    assert (view.state, view.attempts) == ("pending", 0)


def test_a_permanent_failure_is_a_dead_letter_at_once(store: Store, signer: Signer) -> None:
    """A soap:Client fault is not retried."""
    rig = Rig(
        store, ScriptedCentral([PermanentDeliveryError("SOAP fault Client: signature")]), signer
    )
    rig.send_event(events.application("e1", "D", 1))
    rig.send_event(events.stop("e2", "D", 2))
    rig.send_due()
    assert rig.states() == ["dead", "pending"]
    assert len(rig.central.submitted) == 1


STRAY = (
    f'<Answer xmlns="{VSB}"><AnswerId>A-x</AnswerId><InReplyTo>someone-else</InReplyTo>'
    "<CreatedAt>2026-11-20T10:00:00+01:00</CreatedAt><Outcome>accepted</Outcome></Answer>"
)
NOT_AN_ANSWER = f'<Answer xmlns="{VSB}"><Outcome>accepted</Outcome></Answer>'


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (STRAY, "it answers another message"),
        (NOT_AN_ANSWER, "does not match vsb-1.0.xsd"),
        ("<Other/>", "expected a vsb:Answer"),
    ],
)
def test_an_answer_that_cannot_be_read_leaves_the_message_in_doubt(
    store: Store, signer: Signer, reply: str, cause: str
) -> None:
    """An unreadable answer is no decision: resent with its id until the caps, then dead."""
    rig = Rig(store, ScriptedCentral([etree.fromstring(reply)] * 6), signer)
    rig.send_event(events.application("e1", "D", 1))
    rig.send_due()
    [view] = Support(store).dossier("dossier:D")
    assert (view.state, view.attempts) == ("pending", 1)
    assert cause in (view.last_error or "")
    for _ in range(2):
        rig.clock.advance(120)
        rig.send_due()
    [dead] = Support(store).dead_letters()
    assert "gave up after 3 attempts: unreadable answer" in (dead.last_error or "")
    ids = {m.findtext(f"{{{VSB}}}Header/{{{VSB}}}MessageId") for m in rig.central.submitted}
    assert (len(rig.central.submitted), len(ids)) == (3, 1), "one send per attempt, one id"
    assert rig.breaker.state is BreakerState.CLOSED, "an answer, if unreadable, is no outage"


def test_a_stop_without_an_application_is_refused_here(store: Store, signer: Signer) -> None:
    """A modification in a dossier with no accepted application is refused without sending."""
    rig = Rig(store, ScriptedCentral([]), signer)
    rig.send_event(events.stop("e1", "D", 1))
    rig.send_due()
    assert rig.states() == ["done"]
    [answer] = [a for a in store.unpublished_answers(10) if a.event_id == "e1"]
    assert (answer.outcome, answer.source) == (Outcome.REFUSED, AnswerSource.ADAPTER)
    assert "no-accepted-application" in [issue.code for issue in answer.issues]
