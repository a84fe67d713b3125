"""``vsb-adapter dlq list|show|requeue|purge``: the broker's dead-letter queue from the CLI.

Reading is free and changes nothing (masked bodies; ``--unmask`` is audited). ``requeue``
and ``purge`` ask ``--actor`` and ``--reason`` and write one audit line per message before
acting on it (docs/support.md, "The RabbitMQ dead-letter queue").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from adapter.daemon import broker_address
from adapter.dlq import DeadDelivery, DeadLetterQueue
from adapter.settings import Settings
from adapter.store.support import NotFound
from adapter.support import masked
from adapter.support_commands import desk_of, os_user

Command = Callable[..., Any]


def register(sub: Any) -> None:
    """Add ``dlq`` and its actions to the top-level subparsers ``sub``."""
    dlq = sub.add_parser(
        "dlq",
        help="the broker's dead-letter queue: deliveries the adapter could not store",
        description="list, show, requeue or purge broker.dead_letter_queue (docs/support.md)",
    )
    actions = dlq.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the messages, head first, with their reason")
    listing.set_defaults(func=_list)
    listing.add_argument("--limit", type=int, default=100)
    show = actions.add_parser("show", help="one message: reason, headers, body (masked)")
    show.set_defaults(func=_show)
    show.add_argument("which", help="its event id, or its position in `dlq list`")
    show.add_argument("--unmask", action="store_true", help="the body in full (audited)")
    show.add_argument("--actor", help="who reads the personal data, for the audit log")
    show.add_argument("--reason", help="why it is read, for the audit log")
    for p in (listing, show):
        p.add_argument("--json", action="store_true", help="machine-readable output")
    for name, func, text in (
        ("requeue", _requeue, "publish to the events exchange again, then take off the queue"),
        ("purge", _purge, "take off the queue for good"),
    ):
        p = actions.add_parser(name, help=text, description=text)
        p.set_defaults(func=func)
        p.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
        p.add_argument("--all", action="store_true", help="every message in the queue")
        p.add_argument("--actor", required=True, help="who does this, for the audit log")
        p.add_argument("--reason", required=True, help="why, for the audit log")


def _queue(settings: Settings) -> DeadLetterQueue:
    b = settings.broker
    return DeadLetterQueue(broker_address(settings), b.dead_letter_queue, b.events_exchange)


def _shown(d: DeadDelivery, body: str | None = None) -> dict[str, object]:
    found: dict[str, object] = {
        "position": d.position,
        "event_id": d.event_id,
        "reason": d.reason,
        "deaths": d.deaths,
        "size": d.size,
    }
    if body is not None:
        found["body"] = body
    return found


def _list(settings: Settings, args: argparse.Namespace) -> int:
    found = _queue(settings).look(args.limit)
    if args.json:
        print(json.dumps([_shown(d) for d in found], indent=2))
        return 0
    for d in found:
        print(f"#{d.position:<4} {d.event_id or '(no id)'}  {d.size} bytes  {d.reason}")
    print(f"{len(found)} message(s) in {settings.broker.dead_letter_queue}")
    return 0


def _show(settings: Settings, args: argparse.Namespace) -> int:
    if not args.unmask and (args.actor or args.reason):
        print("vsb-adapter: --actor and --reason go with --unmask", file=sys.stderr)
        return 2
    found = [d for d in _queue(settings).look() if _named(d, args.which)]
    if not found:
        raise NotFound(f"no message {args.which} in {settings.broker.dead_letter_queue}")
    delivery = found[0]
    text = delivery.body.decode("utf-8", "replace")
    if args.unmask:
        desk_of(settings).audit_action(
            args.actor or "",
            "dlq-unmask",
            delivery.event_id or f"dlq #{delivery.position}",
            args.reason or "",
            os_user=os_user(),
        )
    else:
        text = masked(text)
    if args.json:
        print(json.dumps(_shown(delivery, text), indent=2))
        return 0
    print(
        f"#{delivery.position}  {delivery.event_id or '(no id)'}  {delivery.size} bytes"
        f"  dead-lettered {delivery.deaths or 1} time(s)\nreason: {delivery.reason}"
    )
    print("" if args.unmask else "(masked; --unmask --actor NAME --reason TEXT shows it in full)")
    print(text)
    return 0


def _named(delivery: DeadDelivery, which: str) -> bool:
    return delivery.event_id == which or (which.isdigit() and delivery.position == int(which))


def _requeue(settings: Settings, args: argparse.Namespace) -> int:
    return _act(settings, args, "dlq-requeue", "requeued")


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    return _act(settings, args, "dlq-purge", "purged")


def _act(settings: Settings, args: argparse.Namespace, action: str, verb: str) -> int:
    if bool(args.event_ids) == bool(args.all):
        print("vsb-adapter: name the EVENT_IDs, or --all (not both)", file=sys.stderr)
        return 2
    desk, queue = desk_of(settings), _queue(settings)
    wanted = set(args.event_ids)

    def picked(delivery: DeadDelivery) -> bool:
        if not args.all and delivery.event_id not in wanted:
            return False
        # Audited before it is done: an interruption leaves a line too many, never one short.
        desk.audit_action(
            args.actor,
            action,
            delivery.event_id or f"dlq #{delivery.position}",
            args.reason,
            os_user=os_user(),
            detail={"reason_recorded": delivery.reason, "size": delivery.size},
        )
        return True

    taken = queue.requeue(picked) if action == "dlq-requeue" else queue.purge(picked)
    for delivery in taken:
        print(f"{verb} {delivery.event_id or '(no id)'}  ({delivery.reason})")
    missing = sorted(wanted - {d.event_id for d in taken})
    for event_id in missing:
        print(f"not in {settings.broker.dead_letter_queue}: {event_id}", file=sys.stderr)
    print(f"{verb} {len(taken)} message(s)")
    return 3 if missing else 0
