"""Signed answers end to end: the daemon believes only answers signed by the central
application's configured certificate (real keys, the simulator over HTTP)."""

from __future__ import annotations

from collections.abc import Callable

from adapter.devpki import DevPki, issue
from adapter.store import Support
from simulator import Simulator
from simulator.wssecurity import AnswerSigner
from tests.conftest import FACILITY_NIHDI
from tests.support import events
from tests.support.rig import Harness, outcome, wait_for

Start = Callable[..., Harness]


def untrusted(harness: Harness, reason: str) -> float:
    """How many answers the daemon refused for ``reason``."""
    value = harness.daemon.metrics.registry.get_sample_value(
        "vsb_central_answers_untrusted_total", {"reason": reason}
    )
    return value or 0.0


def another_signer(pki: DevPki) -> AnswerSigner:
    """A signer with a certificate from the same CA that is not central.answer_certificate."""
    cert, key = issue(pki, "an impostor", unit="VSB")
    return AnswerSigner(key, cert, 300)


def test_an_answer_signed_by_another_key_is_resent_until_signed_right(
    start_adapter: Start, sqlite_url: str, simulator: Simulator, pki: DevPki
) -> None:
    """Not recorded, resent with the same message id, accepted once signed correctly."""
    right = simulator.runtime.answer_signer
    simulator.runtime.answer_signer = another_signer(pki)
    adapter = start_adapter(sqlite_url)
    adapter.send(events.application("s-1", "D-SIG", 1))
    assert wait_for(lambda: len(simulator.record()) >= 2)
    [message_id] = {call.message_id for call in simulator.record()}
    support = Support(adapter.daemon.store)
    assert [m.state for m in support.dossier("dossier:D-SIG")] != ["answered"]
    assert support.dead_letters() == []
    assert untrusted(adapter, "unknown_certificate") >= 2
    simulator.runtime.answer_signer = right
    answers = adapter.answers(["s-1"])
    assert [outcome(a) for a in answers["s-1"]] == ["accepted"]
    calls = simulator.record()
    assert {call.message_id for call in calls} == {message_id}
    assert [call.duplicate for call in calls][1:] == [True] * (len(calls) - 1)
    assert simulator.references_issued == 1


def test_an_unsigned_answer_is_not_believed(
    start_adapter: Start, sqlite_url: str, simulator: Simulator
) -> None:
    """A simulator that does not sign: counted as unsigned, resent, then accepted."""
    right = simulator.runtime.answer_signer
    simulator.runtime.answer_signer = None
    adapter = start_adapter(sqlite_url)
    adapter.send(events.application("s-2", "D-UNS", 1))
    assert wait_for(lambda: untrusted(adapter, "unsigned") >= 2)
    assert Support(adapter.daemon.store).dead_letters() == []
    simulator.runtime.answer_signer = right
    answers = adapter.answers(["s-2"])
    assert [outcome(a) for a in answers["s-2"]] == ["accepted"]
    assert len({call.message_id for call in simulator.record()}) == 1


def test_an_untrusted_mailbox_is_fetched_again(
    start_adapter: Start, sqlite_url: str, simulator: Simulator, pki: DevPki
) -> None:
    """A later answer fetched unsigned-by-the-right-key is not recorded; the next good
    poll brings it."""
    adapter = start_adapter(sqlite_url)
    adapter.send(events.application("s-3", "D-MB", 1, insz=events.CAN_JOIN))
    first = adapter.answers(["s-3"], final=False)
    assert [outcome(a) for a in first["s-3"]] == ["in-beraad"]
    right = simulator.runtime.answer_signer
    simulator.runtime.answer_signer = another_signer(pki)
    [call] = simulator.record()
    simulator.decide(str(call.message_id))
    assert wait_for(lambda: untrusted(adapter, "unknown_certificate") >= 2)
    assert simulator.mailbox(FACILITY_NIHDI), "nothing confirmed while untrusted"
    simulator.runtime.answer_signer = right
    final = adapter.answers(["s-3"])
    assert [outcome(a) for a in final["s-3"]][-1] in {"accepted", "refused"}
