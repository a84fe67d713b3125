"""The ``vsb-adapter`` command: run the daemon, check an installation, send events, support.

Exit codes: 0 success, 1 the operation failed, 2 bad usage or settings, 3 not found (the
message, event, dossier or batch a support command names is not in the store).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapter import crashpoints, dlq_commands, support_commands
from adapter.central import Probe, probe
from adapter.clock import SystemClock
from adapter.daemon import Daemon, broker_address, check_broker, topology_of
from adapter.devpki import demo_settings, existing_dev_pki
from adapter.errors import AdapterError
from adapter.keyfiles import check_broker_key, load_signer
from adapter.logs import configure_logging
from adapter.settings import Settings, load_settings
from adapter.signing import Signer
from adapter.status import Thresholds, store_summary
from adapter.store import (
    Sealer,
    Store,
    SupportError,
    create_store_engine,
    exposed_store_file,
    migrate,
    schema_revision,
)
from adapter.store.rekey import key_usage, rekey
from adapter.store.sealing import add_index_key, add_key, load_keyring, remove_key
from adapter.store.support import NotFound
from adapter.support import SupportDesk
from adapter.tls import describe
from mappings import check_event
from mappings.errors import InvalidEvent
from mappings.model import Facility
from monitoring.rules import DEFAULT_RUNBOOK_BASE, render_rules, runbook_base
from queues import AnswerWatcher, BrokerError, ConfirmedPublisher

_SKEW_WARN_SECONDS = 30.0
_SKEW_FAIL_SECONDS = 300.0
"""The simulator, like WS-Security practice, allows 5 minutes of skew (docs/sysadmin.md)."""

RABBITMQ_HELP = (
    "RabbitMQ is not reachable at {where}.\n"
    "The adapter needs a RabbitMQ 3.10+ broker. On Debian/Ubuntu:\n"
    "  sudo apt-get install rabbitmq-server && sudo systemctl start rabbitmq-server\n"
    "or, if it is installed but stopped:  sudo rabbitmq-server -detached\n"
    "or point broker.url (VSB_BROKER__URL) at another broker."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m adapter``."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config or os.environ.get("VSB_CONFIG") or None)
    except AdapterError as exc:
        print(f"vsb-adapter: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.monitoring.log_level, settings.monitoring.log_json)
    try:
        result: int = args.func(settings, args)
        return result
    except InvalidEvent as exc:
        print("vsb-adapter: the event is invalid:", file=sys.stderr)
        for issue in exc.issues:
            where = f" ({issue.expression})" if issue.expression else ""
            print(f"  {issue.code}: {issue.text}{where}", file=sys.stderr)
        return 1
    except NotFound as exc:
        print(f"vsb-adapter: {exc}", file=sys.stderr)
        return 3
    except (AdapterError, BrokerError, SupportError) as exc:
        print(f"vsb-adapter: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"vsb-adapter: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vsb-adapter", description=__doc__)
    parser.add_argument("-c", "--config", help="settings file (TOML); default $VSB_CONFIG")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, func: object, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    command("run", _run, "run the daemon until SIGTERM or Ctrl-C")
    demo = command("demo", _demo, "run the bundled simulator and the daemon on the defaults")
    demo.add_argument("--today", default="2026-11-20", help="the simulator's today")
    command("check", _check, "check settings, keystore, store, RabbitMQ and the central app")
    status = command(
        "status", _status, "messages per state, dead letters, dossiers, connectivity, certificate"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    alert_rules = command(
        "alert-rules", _alert_rules, "print the Prometheus alert rules with full runbook URLs"
    )
    alert_rules.add_argument(
        "--runbook-base",
        type=runbook_base,
        default=DEFAULT_RUNBOOK_BASE,
        help=f"URL of the published docs/ folder (default {DEFAULT_RUNBOOK_BASE})",
    )
    command("upgrade-store", _upgrade_store, "bring the store's schema up to date")
    command("migrate", _migrate_alias, "old name of upgrade-store (not the VSB migration)")
    migration = sub.add_parser(
        "migration",
        help="classify and send the files the VI approved before the switch-over",
        description=MIGRATION_HELP,
    )
    steps = migration.add_subparsers(required=True, metavar="STEP")
    for step, func, text in (
        ("plan", _migration_plan, "dry run: the class and reason of every file, invalid rows"),
        ("send", _migration_send, "publish the files' events (nothing twice; resumable)"),
        ("status", _migration_status, "which files are answered, and how"),
    ):
        p = steps.add_parser(step, help=text, description=text)
        p.set_defaults(func=func)
        p.add_argument("export", type=Path, help="the export: .jsonl (JSON lines) or .csv")
        if step != "send":
            p.add_argument("--json", action="store_true", help="machine-readable output")
    send_step = steps.choices["send"]
    send_step.add_argument("--wait", type=float, default=0, help="seconds to follow the answers")
    send_step.add_argument(
        "--skip-invalid", action="store_true", help="send the valid files despite invalid rows"
    )
    send = command("send", _send, "publish event files to the events exchange")
    send.add_argument("files", nargs="+", type=Path)
    send.add_argument("--wait", type=float, default=0, help="seconds to wait for the answers")
    send.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="publish even files the adapter's checks refuse (to see their refusal)",
    )
    validate = command(
        "validate", _validate, "check event files offline with the adapter's own checks"
    )
    validate.add_argument("files", nargs="+", type=Path)
    support_commands.register(command)
    dlq_commands.register(sub)
    batch = command("invoice-batch", _invoice_batch, "show an invoice batch as the ledger keeps it")
    batch.add_argument("batch_number")
    batch.add_argument("--json", action="store_true", help="machine-readable output")
    _store_key_commands(sub, command)
    _console_commands(sub, command)
    return parser


def _store_key_commands(sub: Any, command: Any) -> None:
    """The store's encryption at rest: keys, re-sealing, reading one event (audited)."""
    keys = sub.add_parser(
        "store-key",
        help="the keyring that encrypts the store's personal data (store.key_file)",
        description="create, list or remove the store's keys (docs/sysadmin.md)",
    )
    actions = keys.add_subparsers(required=True, metavar="ACTION")
    for action, func, text in (
        ("create", _store_key_create, "add a new key, current from now on (file created 600)"),
        ("list", _store_key_list, "the keys and how many stored rows each one seals"),
        ("remove", _store_key_remove, "drop an old key that no stored row needs any more"),
    ):
        p = actions.add_parser(action, help=text, description=text)
        p.set_defaults(func=func)
        if action == "remove":
            p.add_argument("key_id")
    command(
        "store-rekey",
        _store_rekey,
        "re-encrypt every stored row not under the current key (resumable, beside the daemon)",
    )
    support_commands.register_event(command)


# ---- daemon -------------------------------------------------------------------------------


def _run(settings: Settings, _args: argparse.Namespace) -> int:
    Daemon(settings).run_forever()
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from adapter.demo import run_demo  # the simulator is only needed here

    reason = check_broker(settings)
    if reason is not None:
        print(RABBITMQ_HELP.format(where=broker_address(settings).safe_url), file=sys.stderr)
        return 1
    return run_demo(settings, str(args.today))


def _check(settings: Settings, _args: argparse.Namespace) -> int:
    """Each line: OK/FAIL (or WARN) and what was checked; exit 1 if anything failed."""
    # Every failure is one line of this command's own; the libraries' log lines (pika logs
    # a refused connection with a traceback) would only bury it.
    logging.disable(logging.CRITICAL)
    try:
        results = _check_results(settings)
    finally:
        logging.disable(logging.NOTSET)
    for status, text in results:
        print(f"{status:<4} {text}")
    return 0 if all(status != "FAIL" for status, _ in results) else 1


def _status(settings: Settings, args: argparse.Namespace) -> int:
    """The store's figures, the dead letters by cause, and ``check``'s lines; exit 1 if a
    check failed."""
    summary = store_summary(_desk(settings), Thresholds.of(settings))
    logging.disable(logging.CRITICAL)  # as in check: one line per item, no library tracebacks
    try:
        checks = _check_results(settings)
        expiry = _certificate_expiry(settings)
    finally:
        logging.disable(logging.NOTSET)
    failed = any(status == "FAIL" for status, _ in checks)
    days = (expiry - SystemClock().now()).days if expiry is not None else None
    if args.json:
        shown = {
            **summary.as_json(),
            "certificate": None
            if expiry is None
            else {"not_after": expiry.isoformat(), "days_left": days},
            "checks": [{"status": status, "text": text} for status, text in checks],
            "ok": not failed,
        }
        print(json.dumps(shown, indent=2))
        return 1 if failed else 0
    for line in summary.lines():
        print(line)
    if expiry is not None:
        print(f"certificate valid until {expiry.date().isoformat()} ({days} days left)")
    for status, text in checks:
        print(f"{status:<4} {text}")
    return 1 if failed else 0


def _certificate_expiry(settings: Settings) -> datetime | None:
    """When the signing certificate expires (None if the keystore does not open)."""
    dev_pki = existing_dev_pki(Path(settings.signing.keystore))
    if dev_pki is not None and not settings.signing.passphrase_file:
        settings = demo_settings(settings, dev_pki)
    try:
        signer, _ = load_signer(settings.signing, os.environ)
    except AdapterError:
        return None  # check's own line says why
    return signer.certificate.not_valid_after_utc


def _check_results(settings: Settings) -> list[tuple[str, str]]:
    """(OK, WARN or FAIL, what) for every item ``check`` looks at."""
    results: list[tuple[str, str]] = [("OK", "settings are valid")]

    def result(ok: bool, text: str) -> None:
        results.append(("OK" if ok else "FAIL", text))

    dev_pki = existing_dev_pki(Path(settings.signing.keystore))
    if dev_pki is not None and not settings.signing.passphrase_file:
        settings = demo_settings(settings, dev_pki)
        results.append(
            ("WARN", f"signing with the development PKI in {dev_pki.keystore.parent} (the demo's)")
        )

    signer: Signer | None = None  # also the TLS client certificate, below
    try:
        # The daemon's own check and load: loose permissions FAIL as the daemon refuses them.
        signer, warnings = load_signer(settings.signing, os.environ)
        subject = signer.certificate.subject.rfc4514_string()
        not_after = signer.certificate.not_valid_after_utc
        days = (not_after - SystemClock().now()).days
        text = f"keystore opens: {subject}, valid until {not_after.date().isoformat()}"
        results.append(
            ("FAIL" if days < 0 else "WARN" if days < 30 else "OK", f"{text} ({days} days left)")
        )
        if warnings:
            results.extend(("WARN", warning) for warning in warnings)
        else:
            result(True, "keystore and passphrase file readable by their owner only")
    except AdapterError as exc:
        result(False, str(exc))
    try:
        revision = schema_revision(create_store_engine(settings.store.url, 1))
        if revision is None:
            # Not an error: the daemon creates the schema at its first start.
            results.append(("WARN", "store reachable, no schema yet: the daemon creates it"))
        else:
            result(True, f"store reachable, schema revision {revision}")
    except AdapterError as exc:
        result(False, str(exc))
    try:
        keyring, key_warnings = load_keyring(settings.store.key_file)
        result(
            True,
            f"store keyring {settings.store.key_file}: current key {keyring.current.key_id},"
            f" {len(keyring.keys)} key(s)",
        )
        results.extend(("WARN", warning) for warning in key_warnings)
    except AdapterError as exc:
        result(False, str(exc))
    exposed = exposed_store_file(settings.store.url)
    if exposed is not None:
        results.append(("WARN", exposed))
    results.extend(_broker_link(settings))
    reason = check_broker(settings)
    result(reason is None, reason or "RabbitMQ reachable, topology declared")
    results.append(describe(settings.central, signer))
    try:
        looked = probe(settings.central, signer)
    except AdapterError as exc:  # a ca_bundle or client certificate that cannot be read
        looked = Probe(str(exc))
    reason = looked.problem
    result(reason is None, reason or f"central application answers at {settings.central.url}")
    if looked.server_time is not None:
        results.append(_clock_skew(looked.server_time - SystemClock().now()))
    return results


def _clock_skew(offset: timedelta) -> tuple[str, str]:
    """This host's clock against the central application's (its HTTP ``Date``, to a second).

    WS-Security timestamps are judged on the receiver's clock: beyond a few minutes of skew
    every request is refused as expired or from the future.
    """
    seconds = offset.total_seconds()
    ahead = "behind" if seconds > 0 else "ahead of"
    text = f"clock: {abs(seconds):.0f} s {ahead} the central application's"
    if abs(seconds) > _SKEW_FAIL_SECONDS:
        return "FAIL", text + ": its WS-Security timestamp check will refuse our requests; fix NTP"
    if abs(seconds) > _SKEW_WARN_SECONDS:
        return "WARN", text + ": check NTP (chronyc tracking, timedatectl)"
    return "OK", text


def _broker_link(settings: Settings) -> list[tuple[str, str]]:
    """What protects the link to RabbitMQ, and the client key's permissions."""
    b = settings.broker
    if not b.url.startswith("amqps://"):
        return [("WARN" if b.allow_plain_amqp else "OK", "broker link: plain amqp:// (no TLS)")]
    parts = [f"CA {b.ca_bundle or 'the system store'}"]
    if b.client_certificate:
        parts.append(f"client certificate {b.client_certificate}")
    parts.append("EXTERNAL login" if b.external_auth else "password login")
    lines = [("OK", "broker link: TLS (amqps://), " + ", ".join(parts))]
    try:
        lines.extend(("WARN", warning) for warning in check_broker_key(b))
    except AdapterError as exc:
        lines.append(("FAIL", str(exc)))
    return lines


def _alert_rules(_settings: Settings, args: argparse.Namespace) -> int:
    """Print monitoring/alerts.yml with every runbook_url under ``--runbook-base``."""
    sys.stdout.write(render_rules(args.runbook_base))
    return 0


def _upgrade_store(settings: Settings, _args: argparse.Namespace) -> int:
    engine = create_store_engine(settings.store.url, 1)
    migrate(engine)
    print(f"store at schema revision {schema_revision(engine)}")
    return 0


def _migrate_alias(settings: Settings, args: argparse.Namespace) -> int:
    print(
        "vsb-adapter: `migrate` is now `upgrade-store` (the store's schema); the migration of"
        " VI-approved files is `vsb-adapter migration`",
        file=sys.stderr,
    )
    return _upgrade_store(settings, args)


# ---- the migration of VI-approved files ---------------------------------------------------

MIGRATION_HELP = (
    "The files the mutualities (VI) approved before the switch-over (PVT 1/4/2023, REVA"
    " 1/10/2023) go to the central application once: 'plan' classifies an export, 'send'"
    " publishes its events, 'status' follows their answers (docs/migration.md)."
)


def _migration_plan(settings: Settings, args: argparse.Namespace) -> int:
    from adapter.migration.command import print_plan
    from adapter.migration.plan import make_plan

    return print_plan(make_plan(args.export, _facility(settings)), sys.stdout, as_json=args.json)


def _migration_send(settings: Settings, args: argparse.Namespace) -> int:
    from adapter.migration.command import follow, print_plan, publish_missing, publisher_for
    from adapter.migration.plan import make_plan

    crashpoints.arm(settings.crash_point)
    plan = make_plan(args.export, _facility(settings))
    if plan.errors and not args.skip_invalid:
        print_plan(plan, sys.stdout)
        print("nothing sent: fix the rows above, or send with --skip-invalid", file=sys.stderr)
        return 1
    store = _migrated_store(settings)
    # The topology is declared first: the events wait in their queue if the daemon is down.
    publisher = ConfirmedPublisher(
        broker_address(settings), "vsb-adapter migration", on_connect=topology_of(settings).declare
    )
    try:
        publish_missing(
            plan, store, publisher_for(publisher, settings.broker.events_exchange), sys.stdout
        )
    finally:
        publisher.close()  # before following: an idle connection would miss its heartbeats
    code = follow(plan, store, sys.stdout, args.wait) if args.wait > 0 else 0
    return 1 if plan.errors else code


def _migration_status(settings: Settings, args: argparse.Namespace) -> int:
    from adapter.migration.command import print_status
    from adapter.migration.plan import make_plan

    plan = make_plan(args.export, _facility(settings))
    return print_status(plan, _migrated_store(settings), sys.stdout, as_json=args.json)


def _migrated_store(settings: Settings) -> Store:
    # Run before the daemon ever started (or while it starts), the store may have no schema
    # yet; migrating is idempotent and serialised with the daemon's own migration.
    engine = create_store_engine(settings.store.url, 2)
    migrate(engine)
    return Store(engine, sealer=_sealer(settings))


def _sealer(settings: Settings) -> Sealer:
    sealer, warnings = Sealer.from_file(settings.store.key_file)
    for warning in warnings:
        print(f"vsb-adapter: warning: {warning}", file=sys.stderr)
    return sealer


def _validate(settings: Settings, args: argparse.Namespace) -> int:
    """Each file: valid (with its event code) or every issue with its FHIRPath and rule.

    Offline: the checks ingest runs, for the facility of the settings; no broker, no store.
    The checks at storing time (a sequence number already used, an event id reused with
    another body) need the store and cannot be made here.
    """
    refused = 0
    for path in args.files:
        verdict = check_event(path.read_bytes(), _facility(settings))
        if verdict.message_type is not None:
            print(f"valid    {path}  {verdict.message_type.code}")
            continue
        refused += 1
        print(f"invalid  {path}")
        for issue in verdict.issues:
            where = issue.expression or "-"
            rule = issue.text.removeprefix(where).strip() if issue.expression else issue.text
            print(f"  {issue.code} at {where}\n      {rule}")
    return 1 if refused else 0


def _send(settings: Settings, args: argparse.Namespace) -> int:
    """Publish each file as one event; with --wait, print the answers as they come.

    Unless ``--no-validate``, every file is checked first and nothing is published if one
    of them is refused (the issues are printed as ``validate`` prints them).
    """
    if args.validate and _validate(settings, args) != 0:
        print("nothing sent: fix the files, or send them with --no-validate", file=sys.stderr)
        return 1
    address = broker_address(settings)
    events: list[tuple[str, bytes]] = []
    for path in args.files:
        body = path.read_bytes()
        try:
            event_id = str(json.loads(body).get("id") or path.name)
        except (ValueError, AttributeError):
            event_id = path.name
        events.append((event_id, body))
    with AnswerWatcher(address, settings.broker.answers_exchange) as watcher:
        publisher = ConfirmedPublisher(address, "vsb-adapter send")
        try:
            for event_id, body in events:
                publisher.publish(
                    settings.broker.events_exchange,
                    "event",
                    body,
                    message_id=event_id,
                    content_type="application/fhir+json",
                )
                print(f"sent    {event_id}")
        finally:
            publisher.close()
        if args.wait <= 0:
            return 0
        answers = watcher.collect([e for e, _ in events], args.wait)
    for answer in answers:
        print(f"answer  {answer.event_id}  {_summary(answer.body)}")
    missing = {e for e, _ in events} - {a.event_id for a in answers}
    for event_id in sorted(missing):
        print(f"no answer yet for {event_id}")
    return 0 if not missing else 1


def _summary(body: bytes) -> str:
    """outcome, reference and issue codes of a FHIR answer, for one line of output."""
    from adapter.engine.answers import summarize

    return summarize(json.loads(body))


# ---- support ------------------------------------------------------------------------------


def _desk(settings: Settings) -> SupportDesk:
    return support_commands.desk_of(settings)


def _facility(settings: Settings) -> Facility:
    return Facility(settings.facility.nihdi, settings.facility.hco)


def _invoice_batch(settings: Settings, args: argparse.Namespace) -> int:
    report = _desk(settings).invoice_batch(args.batch_number)
    b = report.batch
    if args.json:
        print(
            json.dumps(
                {
                    "batch_number": b.batch_number,
                    "care_fund": b.care_fund,
                    "invoice_type": b.invoice_type,
                    "billing_month": b.billing_month,
                    "invoice_date": b.invoice_date.isoformat(),
                    "state": b.state.value,
                    "tries": b.tries,
                    "message_id": b.message_id,
                    "updated_at": b.updated_at.isoformat(),
                    "invoices": report.invoices,
                    "lines": report.lines_by_outcome,
                    "held": list(report.held),
                }
            )
        )
        return 0
    lines = ", ".join(f"{n} {outcome}" for outcome, n in report.lines_by_outcome.items())
    print(
        f"batch {b.batch_number}: care fund {b.care_fund}, {b.invoice_type} {b.billing_month},"
        f" invoice date {b.invoice_date}, {b.state.value} (try {b.tries}, message"
        f" {b.message_id}, {b.updated_at:%Y-%m-%d %H:%M})"
    )
    print(f"{report.invoices} invoice(s); lines: {lines or 'none'}")
    for event_id in report.held:
        print(f"held correction of care fund {b.care_fund}: event {event_id}")
    return 0


# ---- encryption at rest -------------------------------------------------------------------


def _store_key_create(settings: Settings, _args: argparse.Namespace) -> int:
    key = add_key(settings.store.key_file)
    # The invoicing ledger's blind index needs its own secret; a keyring written before
    # release 0.3 gets it here once (it is never replaced: the index would be lost).
    indexed = add_index_key(settings.store.key_file)
    keyring, _ = load_keyring(settings.store.key_file)
    print(
        f"created key {key.key_id} in {settings.store.key_file} (current; {len(keyring.keys)}"
        " key(s))" + (", and the @index key of the invoicing ledger" if indexed else "") + "."
        " Reload every running instance (systemctl reload vsb-adapter), then run store-rekey"
    )
    return 0


def _store_key_list(settings: Settings, _args: argparse.Namespace) -> int:
    store = Store(create_store_engine(settings.store.url, 2), sealer=_sealer(settings))
    usage = key_usage(store)
    current = store.sealer.keyring.current.key_id
    for key in store.sealer.keyring.keys:
        role = "current" if key.key_id == current else "old"
        print(f"{key.key_id:<20} {role:<8} {usage.by_key.get(key.key_id, 0)} row(s)")
    print(f"{'(clear text)':<20} {'':<8} {usage.plain} row(s)")
    if usage.unknown:
        print(f"{'(unknown key)':<20} {'':<8} {usage.unknown} row(s): they cannot be opened")
    return 1 if usage.unknown else 0


def _store_key_remove(settings: Settings, args: argparse.Namespace) -> int:
    store = Store(create_store_engine(settings.store.url, 2), sealer=_sealer(settings))
    held = key_usage(store).by_key.get(args.key_id, 0)
    if held:
        print(
            f"vsb-adapter: {held} stored row(s) are still sealed under key {args.key_id};"
            " run store-rekey first",
            file=sys.stderr,
        )
        return 1
    remove_key(settings.store.key_file, args.key_id)
    print(f"removed key {args.key_id} from {settings.store.key_file}")
    return 0


def _store_rekey(settings: Settings, _args: argparse.Namespace) -> int:
    store = _migrated_store(settings)
    current = store.sealer.keyring.current.key_id

    def progress(done: int) -> None:
        print(f"re-encrypted {done} row(s) so far", file=sys.stderr)

    done = rekey(store, progress=progress)
    usage = key_usage(store)
    left = usage.plain + usage.unknown + sum(n for k, n in usage.by_key.items() if k != current)
    print(f"re-encrypted {done} row(s) under key {current}; {left} row(s) under other keys")
    return 0 if left == 0 else 1


# ---- web console --------------------------------------------------------------------------


def _console_commands(sub: Any, command: Any) -> None:
    """The web console (adapter.console) and its users."""
    from adapter.console.command import add_user_commands

    command("console", _console, "serve the web console for support staff (console.* settings)")
    add_user_commands(sub)


def _console(settings: Settings, _args: argparse.Namespace) -> int:
    from adapter.console.server import serve  # Flask is imported by this command only

    serve(settings, _desk(settings), on_ready=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
