"""The mailbox poller: answers it cannot use are left unconfirmed, reported once, never spun on."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from lxml import etree

from adapter.engine.mailbox import MailboxPoller
from adapter.store import Store
from adapter.testing import FixedClock, ScriptedCentral
from monitoring import Metrics

VSB = "urn:vsb-adapter:vsb:1"


def stray(n: int) -> etree._Element:
    """A readable answer for a message this adapter never sent."""
    return etree.fromstring(
        f'<Answer xmlns="{VSB}"><AnswerId>A-{n}</AnswerId><InReplyTo>nobody-{n}</InReplyTo>'
        "<CreatedAt>2026-11-20T10:00:00+01:00</CreatedAt><Outcome>accepted</Outcome></Answer>"
    )


class TestUnusableAnswers:
    """Answers the poller cannot use stay in the mailbox without flooding log or CPU."""

    def test_a_full_batch_of_unusable_answers_is_reported_once_and_not_polled_again_at_once(
        self, store: Store, caplog: pytest.LogCaptureFixture
    ) -> None:
        """poll_once counts only answers it kept, so the loop waits; each is logged once."""
        central = ScriptedCentral()
        central.mailbox = [stray(n) for n in range(3)] + [
            etree.fromstring(f"<Answer xmlns='{VSB}'/>")
        ]
        poller = MailboxPoller(
            store,
            central,
            "71012314001",
            FixedClock(datetime(2026, 11, 20, tzinfo=UTC)),
            Metrics(),
            on_stored=lambda: None,
            batch=4,
        )
        with caplog.at_level(logging.ERROR, logger="adapter.engine.mailbox"):
            assert poller.poll_once() == 0
            assert poller.poll_once() == 0
        assert len(caplog.records) == 4, [r.getMessage() for r in caplog.records]
        assert central.confirmed == []
        assert len(central.mailbox) == 4
