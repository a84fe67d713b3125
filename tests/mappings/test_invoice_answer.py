"""Answers to an invoice batch: the acknowledgement read, combined with what the adapter held
or refused, and rendered as one ClaimResponse per invoice.

The central application's answers are made by the simulator's own serialiser (the shapes it
really sends), then read through ``parse_answer`` (vsb-1.0.xsd) like every answer.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from mappings import AnswerHead, AnswerKind, Issue, Outcome, parse_answer, to_fhir_answer
from mappings.answers.common import PATIENT
from mappings.answers.invoice_batch import (
    AdapterVerdict,
    BatchAcknowledgement,
    BatchOutcome,
    InvoiceError,
    InvoiceStatus,
    SentInvoice,
    Stage,
    combine,
    locate,
)
from mappings.answers.invoice_response import INVOICE_BATCH
from mappings.invoice_batch import Invoice, InvoiceKind, InvoiceLine, LineKind
from mappings.vocabulary import (
    DECISION_SYSTEM,
    ERROR_LEVEL_EXTENSION,
    ERROR_LOCATION_EXTENSION,
    EVENT_ID_SYSTEM,
    INVOICE_ACKNOWLEDGEMENT_EXTENSION,
    INVOICE_BATCH_SYSTEM,
    INVOICE_NUMBER_SYSTEM,
    INVOICE_OUTCOME_EXTENSION,
    OUTCOME_EXTENSION,
    VSB_ERROR_SYSTEM,
)
from simulator import answers as central
from tests.support.fhir import parse_r4

CREATED = datetime(2026, 11, 20, 10, 31, tzinfo=UTC)
BATCH = "202611"
# Three invoices of a service line and its personal share each, one of four lines.
SENT = (
    SentInvoice("F-1", (1, 2)),
    SentInvoice("F/2026/2", (1, 2, 3, 4)),
    SentInvoice("F-3", (1, 2)),
)


def vsb_answer(
    outcome: central.Outcome,
    ack: central.InvoiceAcknowledgement | None,
    errors: tuple[central.Error, ...] = (),
) -> etree._Element:
    """The simulator's vsb:Answer, read back as the adapter reads every answer."""
    made = central.Answer("ans-1", "msg-1", CREATED, outcome, body=ack, errors=errors)
    return parse_answer(made.to_element()).element


def technical(code: str, errors: tuple[central.Error, ...] = ()) -> BatchAcknowledgement:
    """The Submit's acknowledgement: 931000 in beraad, 920999 refused."""
    outcome = central.Outcome.IN_BERAAD if code == "931000" else central.Outcome.REFUSED
    ack = central.InvoiceAcknowledgement("technical", code, BATCH)
    return INVOICE_BATCH.read(vsb_answer(outcome, ack, errors))


F_ERROR = central.Error("VSB-INV-INSZ", "the INSZ is unknown", "Invoice[F-1]", "F")
R_ERROR = central.Error("VSB-LINE-CODE", "unknown service code", "Invoice[F/2026/2]/Line[3]", "R")


def content_accepted() -> BatchAcknowledgement:
    """931000 after the content: F-1 refused (F), line 3 of F/2026/2 and its share refused (R)."""
    ack = central.InvoiceAcknowledgement(
        "content",
        "931000",
        BATCH,
        8,
        2,
        (
            central.InvoiceResult("F-1", False),
            central.InvoiceResult("F/2026/2", True, (3, 4)),
            central.InvoiceResult("F-3", True),
        ),
    )
    return INVOICE_BATCH.read(vsb_answer(central.Outcome.ACCEPTED, ack, (F_ERROR, R_ERROR)))


def content_refused() -> BatchAcknowledgement:
    """920099: a B error of the batch, and one naming an invoice."""
    ack = central.InvoiceAcknowledgement("content", "920099", BATCH, 8, 0)
    errors = (
        central.Error("VSB-INV-DATE", "the invoice date is after today", None, "B"),
        central.Error("CONF-B", "configured fault", "Invoice[F-3]", "B"),
    )
    return INVOICE_BATCH.read(vsb_answer(central.Outcome.REFUSED, ack, errors))


def head(outcome: Outcome, issues: tuple[Issue, ...] = ()) -> AnswerHead:
    """The head of the batch event's answer."""
    return AnswerHead("ans-1", "evt-batch", "invoice-batch", outcome, None, issues, CREATED)


def fhir(outcome: Outcome, body: BatchOutcome | None) -> dict[str, Any]:
    """The answer Bundle, checked to be FHIR R4."""
    bundle = to_fhir_answer(head(outcome), INVOICE_BATCH, body)
    parse_r4(bundle)
    return bundle


def responses(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each focus ClaimResponse by the invoice number it answers (or the event id)."""
    by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    found = {}
    for focus in bundle["entry"][0]["resource"]["focus"]:
        resource = by_url[focus["reference"]]
        assert resource["resourceType"] == "ClaimResponse"
        found[resource["request"]["identifier"]["value"]] = resource
    return found


def extension(resource: dict[str, Any], url: str) -> dict[str, Any]:
    """The one extension ``url`` of ``resource``."""
    (found,) = [x for x in resource.get("extension", []) if x["url"] == url]
    return found


def decisions(resource: dict[str, Any], lines: int) -> dict[int, str]:
    """The decision (MyCareNet decision value) of lines 1..``lines``: a listed item's own,
    else the invoice's, which stands for every line not listed."""
    own = resource["adjudication"][0]["category"]["coding"][0]["code"]
    listed = {
        item["itemSequence"]: item["adjudication"][0]["category"]["coding"][0]["code"]
        for item in resource.get("item", [])
    }
    return {line: listed.get(line, own) for line in range(1, lines + 1)}


def errors(resource: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    """Each error as (code, level, line)."""
    return [
        (
            error["code"]["coding"][0]["code"],
            extension(error, ERROR_LEVEL_EXTENSION)["valueCode"],
            error.get("itemSequence"),
        )
        for error in resource.get("error", [])
    ]


class TestRead:
    """Each shape of the central application's answers to a batch."""

    def test_technical_acceptance(self) -> None:
        """931000 at Submit: in beraad, the technical stage, no invoice results yet."""
        ack = technical("931000")
        assert (ack.outcome, ack.stage, ack.code, ack.batch_number) == (
            Outcome.IN_BERAAD,
            Stage.TECHNICAL,
            "931000",
            BATCH,
        )
        assert (ack.invoices, ack.errors, ack.refused_whole) == ((), (), False)

    def test_technical_refusal(self) -> None:
        """920999 at Submit: refused whole, its B error without a location is the batch's."""
        error = central.Error("VSB-INV-MONTH-TAKEN", "this care fund has a batch", None, "B")
        ack = technical("920999", (error,))
        assert (ack.outcome, ack.code, ack.refused_whole) == (Outcome.REFUSED, "920999", True)
        assert ack.errors == (
            InvoiceError("VSB-INV-MONTH-TAKEN", "B", "this care fund has a batch", None, None),
        )

    def test_content_accepted_with_f_and_r_errors(self) -> None:
        """931000 after the content: the counts, every invoice's result, errors located."""
        ack = content_accepted()
        assert (ack.stage, ack.code, ack.lines, ack.non_blocking_errors) == (
            Stage.CONTENT,
            "931000",
            8,
            2,
        )
        assert [(r.number, r.accepted, r.refused_lines) for r in ack.invoices] == [
            ("F-1", False, ()),
            ("F/2026/2", True, (3, 4)),
            ("F-3", True, ()),
        ]
        assert [(e.code, e.level, e.invoice, e.line) for e in ack.errors] == [
            ("VSB-INV-INSZ", "F", "F-1", None),
            ("VSB-LINE-CODE", "R", "F/2026/2", 3),
        ]

    def test_content_refused(self) -> None:
        """920099: refused whole, no invoice results, the B errors read."""
        ack = content_refused()
        assert (ack.outcome, ack.code, ack.refused_whole, ack.invoices) == (
            Outcome.REFUSED,
            "920099",
            True,
            (),
        )
        assert [(e.code, e.level, e.invoice) for e in ack.errors] == [
            ("VSB-INV-DATE", "B", None),
            ("CONF-B", "B", "F-3"),
        ]


class TestLocate:
    """An error's Location names its invoice and line, or nothing (a batch error)."""

    @pytest.mark.parametrize(
        ("location", "expected"),
        [
            ("Invoice[F-1]", ("F-1", None)),
            ("Invoice[F-1]/Line[2]", ("F-1", 2)),
            ("Invoice[F/2026/7]/Line[12]", ("F/2026/7", 12)),
            ("/InvoiceBatch/Invoice[F-1]/Line[2]", ("F-1", 2)),
            ("Invoice[F-1]/Line[2]/ServiceCode", ("F-1", 2)),
            ("Invoice[F-1]/Line[x]", ("F-1", None)),
            ("Invoice[F-1]/Line[0]", ("F-1", None)),
            ("Invoice[F-1]/Line[2147483647]", ("F-1", 2147483647)),
            ("Invoice[F-1]/Line[2147483648]", ("F-1", None)),
            ("Invoice[F-1]/Line[99999999999999999999]", ("F-1", None)),
            ("Invoice[]", (None, None)),
            ("invoice[F-1]", (None, None)),
            ("Line[2]", (None, None)),
            ("/InvoiceBatch/InvoiceDate", (None, None)),
            ("", (None, None)),
            (None, (None, None)),
        ],
    )
    def test_location(self, location: str | None, expected: tuple[str | None, int | None]) -> None:
        """Only ``Invoice[<number>]`` (optionally ``/Line[<n>]``, n within FHIR) is attributed."""
        assert locate(location) == expected


class TestCombine:
    """The acknowledgement combined with the invoices sent and those the adapter kept back."""

    def test_content_accepted(self) -> None:
        """F refuses its invoice, R its line (and the share the result names), the rest pass."""
        outcome = combine(BATCH, content_accepted(), SENT)
        first, second, third = outcome.invoices
        assert (first.status, first.refused_lines) == (InvoiceStatus.REFUSED, frozenset({1, 2}))
        assert [e.code for e in first.errors] == ["VSB-INV-INSZ"]
        assert (second.status, second.refused_lines) == (InvoiceStatus.ACCEPTED, frozenset({3, 4}))
        assert [(e.code, e.line) for e in second.errors] == [("VSB-LINE-CODE", 3)]
        assert (third.status, third.refused_lines, third.errors) == (
            InvoiceStatus.ACCEPTED,
            frozenset(),
            (),
        )
        assert outcome.batch_errors == ()

    def test_r_error_refuses_its_line_even_unlisted(self) -> None:
        """An R error refuses the line it names even when the result does not list it."""
        ack = central.InvoiceAcknowledgement(
            "content", "931000", BATCH, 8, 1, (central.InvoiceResult("F-3", True),)
        )
        error = central.Error("VSB-LINE-CODE", "unknown", "Invoice[F-3]/Line[1]", "R")
        read = INVOICE_BATCH.read(vsb_answer(central.Outcome.ACCEPTED, ack, (error,)))
        (third,) = combine(BATCH, read, (SENT[2],)).invoices
        assert (third.status, third.refused_lines) == (InvoiceStatus.ACCEPTED, frozenset({1}))

    def test_refused_whole(self) -> None:
        """920099: every invoice refused with the batch, every line; B errors the batch's."""
        outcome = combine(BATCH, content_refused(), SENT)
        assert [(i.status, i.with_batch, i.refused_lines) for i in outcome.invoices] == [
            (InvoiceStatus.REFUSED, True, frozenset(s.lines)) for s in SENT
        ]
        assert [e.code for e in outcome.batch_errors] == ["VSB-INV-DATE", "CONF-B"]
        assert all(i.errors == () for i in outcome.invoices)

    def test_technical_stages(self) -> None:
        """931000 at Submit leaves every invoice pending; 920999 refuses every one."""
        taken = combine(BATCH, technical("931000"), SENT)
        assert {i.status for i in taken.invoices} == {InvoiceStatus.PENDING}
        refused = combine(BATCH, technical("920999"), SENT)
        assert {i.status for i in refused.invoices} == {InvoiceStatus.REFUSED}

    def test_adapter_outcomes(self) -> None:
        """Held and refused-by-adapter invoices follow the sent ones, with their issues."""
        held_issue = Issue("correction-held", "waits for its credit note", "Claim.related[0]", "F")
        refused_issue = Issue("care-fund-mismatch", "another care fund", "Claim.insurer", "F")
        outcome = combine(
            BATCH,
            content_accepted(),
            SENT,
            (
                AdapterVerdict("F-9", InvoiceStatus.HELD, (1, 2), (held_issue,)),
                AdapterVerdict("F-10", InvoiceStatus.REFUSED_BY_ADAPTER, (1, 2), (refused_issue,)),
            ),
        )
        held, refused = outcome.invoices[3:]
        assert (held.number, held.status, held.refused_lines) == (
            "F-9",
            InvoiceStatus.HELD,
            frozenset(),
        )
        assert [(e.code, e.level, e.location) for e in held.errors] == [
            ("correction-held", "F", "Claim.related[0]")
        ]
        assert (refused.number, refused.status, refused.refused_lines) == (
            "F-10",
            InvoiceStatus.REFUSED_BY_ADAPTER,
            frozenset({1, 2}),
        )

    @pytest.mark.parametrize(
        ("status", "expression", "level", "expected"),
        [
            (InvoiceStatus.REFUSED_BY_ADAPTER, "Claim.item[0]", "E", ("F", 11)),
            (InvoiceStatus.REFUSED_BY_ADAPTER, "Claim.item[2].extension('x')", "E", ("F", 13)),
            (InvoiceStatus.REFUSED_BY_ADAPTER, "Claim.item[3]", "E", ("F", None)),
            (InvoiceStatus.REFUSED_BY_ADAPTER, "Claim.identifier[0]", "B", ("B", None)),
            (InvoiceStatus.REFUSED_BY_ADAPTER, None, "E", ("F", None)),
            (InvoiceStatus.HELD, "Claim.item[1]", "E", ("E", 12)),
        ],
    )
    def test_adapter_issue_level_and_line(
        self,
        status: InvoiceStatus,
        expression: str | None,
        level: str,
        expected: tuple[str, int | None],
    ) -> None:
        """A plain issue refusing an invoice is an F; ``Claim.item[i]`` is its i-th line."""
        issue = Issue("invoice-credit-unknown-line", "credits no accepted line", expression, level)
        verdict = AdapterVerdict("F-9", status, (11, 12, 13), (issue,))
        (outcome,) = combine(BATCH, None, (), (verdict,)).invoices
        assert [(e.level, e.line) for e in outcome.errors] == [expected]

    def test_nothing_sent(self) -> None:
        """Every invoice held: no acknowledgement, the adapter's outcomes only."""
        verdict = AdapterVerdict("F-9", InvoiceStatus.HELD, (1, 2))
        outcome = combine(BATCH, None, (), (verdict,))
        assert [(i.number, i.status) for i in outcome.invoices] == [("F-9", InvoiceStatus.HELD)]

    def test_repeated_number_counts_once(self) -> None:
        """An invoice named twice (sent and by the adapter) has one outcome, the first."""
        verdict = AdapterVerdict("F-1", InvoiceStatus.HELD, (1, 2))
        outcome = combine(BATCH, technical("931000"), SENT[:1] * 2, (verdict,))
        assert [(i.number, i.status) for i in outcome.invoices] == [("F-1", InvoiceStatus.PENDING)]

    def test_adapter_judges_only_held_or_refused(self) -> None:
        """An adapter verdict claiming acceptance is a programming error."""
        with pytest.raises(ValueError, match="accepted"):
            combine(BATCH, None, (), (AdapterVerdict("F-1", InvoiceStatus.ACCEPTED, (1,)),))


class TestRender:
    """One message Bundle per batch, one ClaimResponse per invoice, valid FHIR R4."""

    def test_content_accepted(self) -> None:
        """Each invoice's outcome, each line's decision, errors with line and level."""
        bundle = fhir(Outcome.ACCEPTED, combine(BATCH, content_accepted(), SENT))
        header = bundle["entry"][0]["resource"]
        assert extension(header, OUTCOME_EXTENSION)["valueCode"] == "accepted"
        assert header["response"] == {"identifier": "evt-batch", "code": "ok"}
        found = responses(bundle)
        assert list(found) == ["F-1", "F/2026/2", "F-3"]
        refused, partial, complete = found.values()
        assert [r["outcome"] for r in found.values()] == ["error", "partial", "complete"]
        assert [extension(r, INVOICE_OUTCOME_EXTENSION)["valueCode"] for r in found.values()] == [
            "refused",
            "accepted",
            "accepted",
        ]
        assert decisions(refused, 2) == {1: "refusal", 2: "refusal"}
        assert decisions(partial, 4) == {1: "agreement", 2: "agreement", 3: "refusal", 4: "refusal"}
        assert decisions(complete, 2) == {1: "agreement", 2: "agreement"}
        assert errors(refused) == [("VSB-INV-INSZ", "F", None)]
        assert errors(partial) == [("VSB-LINE-CODE", "R", 3)]
        assert "error" not in complete
        (error,) = partial["error"]
        assert error["code"]["coding"][0]["system"] == VSB_ERROR_SYSTEM
        location = extension(error, ERROR_LOCATION_EXTENSION)["valueString"]
        assert location == "Invoice[F/2026/2]/Line[3]"

    def test_every_response_carries_batch_and_acknowledgement(self) -> None:
        """Batch number, acknowledgement code and counts, use claim, no personal data."""
        found = responses(fhir(Outcome.ACCEPTED, combine(BATCH, content_accepted(), SENT)))
        for number, resource in found.items():
            assert resource["use"] == "claim"
            assert resource["patient"] == PATIENT
            assert resource["request"]["identifier"] == {
                "system": INVOICE_NUMBER_SYSTEM,
                "value": number,
            }
            assert extension(resource, INVOICE_BATCH_SYSTEM)["valueString"] == BATCH
            parts = extension(resource, INVOICE_ACKNOWLEDGEMENT_EXTENSION)["extension"]
            assert parts == [
                {"url": "stage", "valueCode": "content"},
                {"url": "code", "valueCode": "931000"},
                {"url": "lines", "valueUnsignedInt": 8},
                {"url": "non-blocking-errors", "valueUnsignedInt": 2},
            ]
            header_decision = resource["adjudication"][0]["category"]["coding"][0]
            assert header_decision["system"] == DECISION_SYSTEM

    def test_refused_whole(self) -> None:
        """920099: every invoice an error, every line refused, the B errors on each."""
        found = responses(fhir(Outcome.REFUSED, combine(BATCH, content_refused(), SENT)))
        for resource in found.values():
            assert resource["outcome"] == "error"
            assert set(decisions(resource, 2).values()) == {"refusal"}
            assert errors(resource) == [("VSB-INV-DATE", "B", None), ("CONF-B", "B", None)]
            assert resource["disposition"].startswith("Refused with the whole batch")

    def test_technical_in_beraad(self) -> None:
        """931000 at Submit: published like any in-beraad answer, every invoice queued."""
        bundle = fhir(Outcome.IN_BERAAD, combine(BATCH, technical("931000"), SENT))
        assert extension(bundle["entry"][0]["resource"], OUTCOME_EXTENSION)["valueCode"] == (
            "in-beraad"
        )
        for resource in responses(bundle).values():
            assert resource["outcome"] == "queued"
            assert extension(resource, INVOICE_OUTCOME_EXTENSION)["valueCode"] == "pending"
            assert "item" not in resource

    def test_technical_refusal(self) -> None:
        """920999: every invoice refused, the B error on each."""
        error = central.Error("VSB-INV-BATCH-NUMBER", "used before", None, "B")
        body = combine(BATCH, technical("920999", (error,)), SENT)
        for resource in responses(fhir(Outcome.REFUSED, body)).values():
            assert resource["outcome"] == "error"
            assert errors(resource) == [("VSB-INV-BATCH-NUMBER", "B", None)]

    def test_held_and_refused_by_adapter(self) -> None:
        """Held: queued, no lines decided; refused by the adapter: every line refused."""
        issue = Issue("correction-held", "waits for its credit note", None, "F")
        body = combine(
            BATCH,
            technical("931000"),
            SENT[:1],
            (
                AdapterVerdict("F-9", InvoiceStatus.HELD, (1, 2), (issue,)),
                AdapterVerdict("F-10", InvoiceStatus.REFUSED_BY_ADAPTER, (1, 2)),
            ),
        )
        found = responses(fhir(Outcome.IN_BERAAD, body))
        held, refused = found["F-9"], found["F-10"]
        assert (held["outcome"], "item" in held) == ("queued", False)
        assert extension(held, INVOICE_OUTCOME_EXTENSION)["valueCode"] == "held"
        assert errors(held) == [("correction-held", "F", None)]
        assert held["disposition"].startswith("Held by the adapter")
        assert refused["outcome"] == "error"
        assert extension(refused, INVOICE_OUTCOME_EXTENSION)["valueCode"] == "refused-by-adapter"
        assert decisions(refused, 2) == {1: "refusal", 2: "refusal"}

    def test_adapter_answer_without_body(self) -> None:
        """The adapter's own answer about the batch event: one ClaimResponse, its issues."""
        issue = Issue("month-taken", "this care fund has a batch for this month", None, "B")
        bundle = to_fhir_answer(head(Outcome.REFUSED, (issue,)), INVOICE_BATCH, None)
        parse_r4(bundle)
        (resource,) = responses(bundle).values()
        assert resource["request"]["identifier"] == {
            "system": EVENT_ID_SYSTEM,
            "value": "evt-batch",
        }
        assert (resource["outcome"], errors(resource)) == ("error", [("month-taken", "B", None)])

    def test_same_body_same_json(self) -> None:
        """Republished, the answer is byte-identical (fullUrls derive from the answer id)."""
        body = combine(BATCH, content_accepted(), SENT)
        first, second = (json.dumps(fhir(Outcome.ACCEPTED, body)) for _ in range(2))
        assert first == second

    def test_bare_acknowledgement_is_refused(self) -> None:
        """Rendering what ``read`` gave, not combined, is a programming error, said so."""
        kind: AnswerKind[Any] = INVOICE_BATCH  # as the engine holds every message type's kind
        with pytest.raises(TypeError, match="combine"):
            to_fhir_answer(head(Outcome.ACCEPTED), kind, content_accepted())

    def test_sent_invoice_of_the_batch_model(self) -> None:
        """A batch model's invoice is sent with its line numbers, in its order."""
        lines = tuple(
            InvoiceLine(number, kind, code, date(2026, 11, 2), Decimal(amount), for_line)
            for number, kind, code, amount, for_line in (
                (2, LineKind.SERVICE, "771011", "86.50", None),
                (1, LineKind.PERSONAL_SHARE, "779990", "5.00", 2),
            )
        )
        invoice = Invoice("F-1", InvoiceKind.INVOICE, "85073003328", "VSB-2026-000042", lines)
        assert SentInvoice.of(invoice) == SentInvoice("F-1", (2, 1))


class TestHostile:
    """Odd answers are classified, never raised, and still render valid FHIR."""

    def test_unknown_location_is_a_batch_error(self) -> None:
        """A location in no known format is shown on every invoice, without a line."""
        error = central.Error("X-1", "somewhere", "Batch/Somewhere[1]", "F")
        ack = central.InvoiceAcknowledgement(
            "content",
            "931000",
            BATCH,
            8,
            1,
            tuple(central.InvoiceResult(s.number, True) for s in SENT),
        )
        read = INVOICE_BATCH.read(vsb_answer(central.Outcome.ACCEPTED, ack, (error,)))
        body = combine(BATCH, read, SENT)
        assert [e.code for e in body.batch_errors] == ["X-1"]
        for resource in responses(fhir(Outcome.ACCEPTED, body)).values():
            assert resource["outcome"] == "complete"
            assert errors(resource) == [("X-1", "F", None)]

    def test_invoice_not_in_batch(self) -> None:
        """An error and a result naming an invoice not sent: a batch error, no ClaimResponse."""
        error = central.Error("X-2", "who", "Invoice[NOT-SENT]/Line[1]", "R")
        ack = central.InvoiceAcknowledgement(
            "content", "931000", BATCH, 8, 1, (central.InvoiceResult("NOT-SENT", False),)
        )
        read = INVOICE_BATCH.read(vsb_answer(central.Outcome.ACCEPTED, ack, (error,)))
        body = combine(BATCH, read, SENT)
        assert [e.invoice for e in body.batch_errors] == ["NOT-SENT"]
        found = responses(fhir(Outcome.ACCEPTED, body))
        assert list(found) == [s.number for s in SENT]
        # The central application named none of the sent invoices: no outcome given.
        assert {extension(r, INVOICE_OUTCOME_EXTENSION)["valueCode"] for r in found.values()} == {
            "pending"
        }

    def test_line_not_in_invoice(self) -> None:
        """An error and a refused line naming a line the invoice lacks: no itemSequence."""
        error = central.Error("X-3", "which", "Invoice[F-3]/Line[7]", "R")
        ack = central.InvoiceAcknowledgement(
            "content", "931000", BATCH, 2, 1, (central.InvoiceResult("F-3", True, (7,)),)
        )
        read = INVOICE_BATCH.read(vsb_answer(central.Outcome.ACCEPTED, ack, (error,)))
        (resource,) = responses(fhir(Outcome.ACCEPTED, combine(BATCH, read, SENT[2:]))).values()
        assert resource["outcome"] == "complete"
        assert errors(resource) == [("X-3", "R", None)]
        assert extension(resource["error"][0], ERROR_LOCATION_EXTENSION)["valueString"] == (
            "Invoice[F-3]/Line[7]"
        )

    def test_huge_counts(self) -> None:
        """Counts and line numbers beyond FHIR (or beyond what Python reads) are dropped."""
        huge = "9" * 5000
        xml = f"""<Answer xmlns="urn:vsb-adapter:vsb:1">
          <AnswerId>ans-1</AnswerId><InReplyTo>msg-1</InReplyTo>
          <CreatedAt>2026-11-20T10:31:00Z</CreatedAt><Outcome>accepted</Outcome>
          <InvoiceAcknowledgement><Stage>content</Stage><Code>931000</Code>
            <BatchNumber>{BATCH}</BatchNumber><Lines>{huge}</Lines>
            <NonBlockingErrors>2147483648</NonBlockingErrors>
            <Invoice><InvoiceNumber>F-3</InvoiceNumber><Outcome>accepted</Outcome>
              <RefusedLine>{huge}</RefusedLine><RefusedLine>2</RefusedLine></Invoice>
          </InvoiceAcknowledgement>
          <Error><Code>X-4</Code><Level>R</Level><Text>far</Text>
            <Location>Invoice[F-3]/Line[{huge}]</Location></Error>
        </Answer>"""
        read = INVOICE_BATCH.read(parse_answer(etree.fromstring(xml.encode())).element)
        assert (read.lines, read.non_blocking_errors) == (None, None)
        assert read.invoices[0].refused_lines == (2,)
        assert (read.errors[0].invoice, read.errors[0].line) == ("F-3", None)
        (resource,) = responses(fhir(Outcome.ACCEPTED, combine(BATCH, read, SENT[2:]))).values()
        assert decisions(resource, 2) == {1: "agreement", 2: "refusal"}
        parts = extension(resource, INVOICE_ACKNOWLEDGEMENT_EXTENSION)["extension"]
        assert [p["url"] for p in parts] == ["stage", "code"]
