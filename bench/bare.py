"""The bare pipeline: the ceiling the adapter is measured against.

consume (pika, manual ack, prefetch) → read_envelope + build_message (map, XSD) → XAdES sign →
zeep Submit → parse the answer, build the FHIR answer → publish it (mandatory, confirmed) → ack.
No store, no ordering, no retries: the same libraries and the same calls as the adapter's
``Sender``, with the same concurrency (worker threads, one zeep client each).

Threads: the main thread owns the pika connection (consume, publish, ack); ``--concurrency``
workers take deliveries from a queue, do map/sign/SOAP, and hand the result back to the main
thread with ``connection.add_callback_threadsafe`` (pika is not thread-safe).

The only state: the VSB reference number of each dossier's accepted application, in memory,
because a stop must name it (the adapter keeps it in its store).

    python -m bench.bare --events-queue Q --answers-exchange X --central-url URL \\
        --keystore P12 --passphrase-file FILE --answer-certificate PEM [--concurrency 32]
        [--prefetch 200]

Prints ``ready`` on stdout once consuming; stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import functools
import logging
import queue
import signal
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika

from adapter.central import ZeepCentral
from adapter.engine.answers import from_central
from adapter.errors import PermanentDeliveryError, TransientDeliveryError
from adapter.settings import CentralSettings
from adapter.signing import Signer
from adapter.store import AnswerSource
from mappings import MESSAGE_TYPES, build_message, parse_answer, read_envelope
from mappings.model import Facility, MessageContext
from tests.support.processes import RABBITMQ_URL

log = logging.getLogger("bench.bare")
FACILITY = Facility("71012314001", "40012345")


class BarePipeline:
    """Consume → map → sign → SOAP → publish → ack, with ``concurrency`` workers."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._signer = Signer.from_keystore(
            args.keystore, Path(args.passphrase_file).read_bytes().rstrip(b"\r\n")
        )
        self._central = ZeepCentral(
            CentralSettings(
                url=args.central_url,
                ca_bundle=args.ca_bundle,
                timeout_seconds=30,
                answer_certificate=args.answer_certificate,
            ),
            self._signer,
        )
        self._references: dict[str, str] = {}
        self._references_lock = threading.Lock()
        self._work: queue.Queue[tuple[int, bytes] | None] = queue.Queue()
        self._stopping = threading.Event()
        self.failures = 0

    def run(self) -> None:
        """Consume until SIGTERM."""
        params = pika.URLParameters(self._args.broker_url)
        params.heartbeat = 30
        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_qos(prefetch_count=self._args.prefetch)

        def on_message(_ch: Any, method: Any, _properties: Any, body: bytes) -> None:
            self._work.put((method.delivery_tag, body))

        def finish(tag: int, answer: Any) -> None:
            if answer is not None:
                channel.basic_publish(
                    self._args.answers_exchange,
                    f"answer.{answer.event_code}.{answer.outcome.value}",
                    answer.body.encode(),
                    pika.BasicProperties(
                        delivery_mode=pika.DeliveryMode.Persistent,
                        content_type="application/fhir+json",
                        message_id=answer.answer_id,
                        correlation_id=answer.event_id,
                    ),
                    mandatory=True,
                )
                channel.basic_ack(tag)
            else:
                channel.basic_nack(tag, requeue=True)

        def worker() -> None:
            while True:
                item = self._work.get()
                if item is None:
                    return
                tag, body = item
                try:
                    answer = self._process(body)
                except (TransientDeliveryError, PermanentDeliveryError) as exc:
                    self.failures += 1
                    log.warning("failed: %s", exc)
                    answer = None
                connection.add_callback_threadsafe(functools.partial(finish, tag, answer))

        workers = [
            threading.Thread(target=worker, name=f"bare-{n}", daemon=True)
            for n in range(self._args.concurrency)
        ]
        for thread in workers:
            thread.start()
        channel.basic_consume(self._args.events_queue, on_message)
        print("ready", flush=True)
        while not self._stopping.is_set():
            connection.process_data_events(time_limit=0.2)
        for _ in workers:
            self._work.put(None)
        connection.close()

    def stop(self) -> None:
        """Stop consuming (from a signal handler)."""
        self._stopping.set()

    def _process(self, body: bytes) -> Any:
        envelope = read_envelope(body)
        dossier = envelope.dossier_id or ""
        with self._references_lock:
            reference = self._references.get(dossier)
        context = MessageContext(
            message_id=str(uuid.uuid4()),
            created_at=datetime.now(UTC),
            facility=FACILITY,
            # A stop must name its application; before the answer is known (never in the
            # bench's traffic) a made-up one gets a refusal, which is still an answer.
            vsb_reference=reference or "VSB-0000-000000",
        )
        signed = self._signer.sign(build_message(envelope, context))
        answer = parse_answer(self._central.submit(signed))
        message_type = MESSAGE_TYPES[envelope.event_code or ""]
        if message_type.role.opens and answer.vsb_reference:
            with self._references_lock:
                self._references[dossier] = answer.vsb_reference
        return from_central(
            answer, message_type, event_id=envelope.event_id, source=AnswerSource.SYNC
        )


def main(argv: list[str] | None = None) -> int:
    """Run the bare pipeline until SIGTERM."""
    p = argparse.ArgumentParser(prog="bench.bare", description=__doc__.split("\n\n")[0])
    p.add_argument("--broker-url", default=RABBITMQ_URL)
    p.add_argument("--events-queue", required=True)
    p.add_argument("--answers-exchange", required=True)
    p.add_argument("--central-url", required=True)
    p.add_argument("--ca-bundle", default="", help="CA of the central's TLS certificate (PEM)")
    p.add_argument("--keystore", required=True)
    p.add_argument("--passphrase-file", required=True)
    p.add_argument("--answer-certificate", required=True, help="central signing cert (PEM)")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--prefetch", type=int, default=200)
    args = p.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    pipeline = BarePipeline(args)
    signal.signal(signal.SIGTERM, lambda *_: pipeline.stop())
    signal.signal(signal.SIGINT, lambda *_: pipeline.stop())
    pipeline.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
