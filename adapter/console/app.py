"""The console's pages: each one route calling one ``SupportDesk`` method and one template.

Reads are open to every user, actions (POST) to operators; every action goes through the
desk with the user as the audit's actor, as the CLI's commands do. A ``SupportError`` from
the desk is shown to the user as it is (its texts carry no personal data). The status page
is ``adapter.status``'s summary, as ``vsb-adapter status`` prints it; the broker's
dead-letter queue is read and handled through ``adapter.dlq``, as ``vsb-adapter dlq`` does.
The bulk action by filter (a dry run, then its confirm) is in ``bulk_pages``.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from adapter import lifecycle
from adapter.console import bulk_pages, guard
from adapter.console.users import Users
from adapter.dlq import DeadDelivery, DeadLetterQueue
from adapter.selection import Selection
from adapter.settings import ConsoleSettings, Settings
from adapter.status import Thresholds, store_summary
from adapter.store import SupportError
from adapter.support import SupportDesk, masked
from adapter.support_timeline import describe, iso
from queues import BrokerError

_log = logging.getLogger(__name__)
_DOSSIER_PREFIX = "dossier:"
_AUDIT_FILTERS = ("actor", "action", "target")
_DLQ_LIMIT = 100
"""Messages listed from the dead-letter queue's head, as ``vsb-adapter dlq list`` lists."""
_DLQ_SHOWN_CHARACTERS = 65_536
"""Of a dead-lettered body (masked), shown on its page; an oversized one may be megabytes."""
_DLQ_ACTIONS = {"requeue": ("dlq-requeue", "requeued"), "purge": ("dlq-purge", "purged")}
"""The console's verb: the audit's action (as the CLI's) and the flashed past tense."""


class BrokerDeadLetters:
    """The broker's dead-letter queue as the console reaches it, one look or action at a
    time.

    A look holds every message unacknowledged until it ends: a second one meanwhile (another
    page of the console's threads) would see fewer of them, and an action would miss the
    message it was asked for. (Each look reads the whole queue, ``DeadLetterQueue.look``:
    only then does a quorum queue keep its order.)
    """

    def __init__(self, queue: DeadLetterQueue, name: str) -> None:
        self.name = name
        self._queue = queue
        self._lock = threading.Lock()

    def look(self) -> list[DeadDelivery]:
        """Every message from the head on, left in the queue in its place."""
        with self._lock:
            return self._queue.look()

    def take(self, verb: str, wanted: Callable[[DeadDelivery], bool]) -> list[DeadDelivery]:
        """``requeue`` or ``purge`` every message ``wanted`` picks; returns them."""
        with self._lock:
            act = self._queue.requeue if verb == "requeue" else self._queue.purge
            return act(wanted)


@functools.cache
def _os_user() -> str | None:
    """The account the console runs as, in every audit line beside the user's name."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        return None


def create_app(
    desk: SupportDesk,
    users: Users,
    secret: bytes,
    settings: ConsoleSettings,
    *,
    thresholds: Thresholds | None = None,
    dead_letter_queue: BrokerDeadLetters | None = None,
) -> Flask:
    """The console as a WSGI application over ``desk``.

    ``thresholds`` judge the status page's figures (the defaults of the settings if None);
    without ``dead_letter_queue`` the broker's dead-letter pages answer 404.
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_NAME="vsb_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.jinja_env.globals["csrf_token"] = guard.csrf_token
    app.jinja_env.filters["tag"] = _tag
    app.jinja_env.filters["target"] = _target
    app.jinja_env.filters["pretty_json"] = _pretty_json
    app.jinja_env.filters["iso"] = iso
    app.jinja_env.filters["describe"] = describe
    app.before_request(lambda: guard.check_request(users))
    app.after_request(guard.harden)
    app.context_processor(lambda: {"user": g.get("user")})

    @app.errorhandler(HTTPException)
    def refused(error: HTTPException) -> tuple[str, int]:
        return render_template("error.html", error=error), error.code or 500

    _session_routes(app, users)
    _read_routes(app, desk)
    _status_route(app, desk, thresholds or Thresholds.of(Settings()))
    _action_routes(app, desk)
    bulk_pages.register(app, desk, _acted, _os_user)
    _dlq_routes(app, desk, dead_letter_queue)
    return app


def _session_routes(app: Flask, users: Users) -> None:
    @app.get("/login")
    def login() -> str:
        return render_template("login.html", next=request.args.get("next", ""))

    @app.post("/login")
    def login_post() -> Any:
        user = users.authenticate(request.form.get("name", ""), request.form.get("password", ""))
        if user is None:
            # No name in the line: a mistyped one may be a password, a right one a person.
            _log.warning("console log-in refused from %s", request.remote_addr)
            flash("unknown user or wrong password")
            return render_template("login.html", next=request.form.get("next", "")), 401
        guard.log_in(user)
        target = request.form.get("next", "")
        # Only a path of this console: an absolute URL here would be an open redirect.
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("dead_letters")
        return redirect(target)

    @app.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("login"))


def _read_routes(app: Flask, desk: SupportDesk) -> None:
    @app.get("/")
    def home() -> Any:
        return redirect(url_for("dead_letters"))

    @app.get("/dead-letters")
    def dead_letters() -> str:
        return render_template(
            "dead_letters.html", groups=desk.dead_letter_groups(), letters=desk.dead_letters()
        )

    @app.get("/messages/<message_id>")
    def show(message_id: str) -> str:
        return render_template("message.html", report=_or_404(desk.show, message_id))

    @app.post("/dossier")
    def dossier_search() -> WerkzeugResponse:
        # A POST and a redirect to the tag: the EPD's dossier id (it may hold a name or an
        # INSZ) never stands in an address, a proxy's log or the browser's history.
        wanted = request.form.get("id", "").strip()
        if not wanted:
            return redirect(url_for("dead_letters"))
        tag = wanted if lifecycle.is_tag(wanted) else lifecycle.tags().of_id(wanted)
        return redirect(url_for("dossier", tag=tag))

    @app.get("/dossiers/<tag>")
    def dossier(tag: str) -> str:
        if not lifecycle.is_tag(tag):
            abort(404, "a dossier is shown by its tag (d: and 12 hex digits)")
        return render_template("dossier.html", tag=tag, dossiers=desk.timelines(tag))

    @app.get("/events/<event_id>")
    def event(event_id: str) -> str:
        return render_template("event.html", stored=_or_404(desk.event, event_id), masked=True)

    @app.get("/invoice-batch")
    def batch_search() -> Any:
        number = request.args.get("number", "").strip()
        if not number:
            return redirect(url_for("dead_letters"))
        return redirect(url_for("invoice_batch", batch_number=number))

    @app.get("/invoice-batches/<batch_number>")
    def invoice_batch(batch_number: str) -> str:
        return render_template("batch.html", report=_or_404(desk.invoice_batch, batch_number))

    @app.get("/audit")
    def audit() -> str:
        limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 1000)
        filters = {k: request.args.get(k, "").strip() or None for k in _AUDIT_FILTERS}
        try:
            # As `vsb-adapter audit --since/--until`: ISO 8601, UTC without a zone.
            since = bulk_pages.parse_moment(request.args.get("since", ""), "since")
            until = bulk_pages.parse_moment(request.args.get("until", ""), "until")
        except SupportError as exc:
            abort(400, str(exc))
        lines = desk.audit_lines(
            limit,
            actor=filters["actor"],
            action=filters["action"],
            target=filters["target"],
            since=since,
            until=until,
        )
        filters["since"] = since.isoformat() if since else None
        filters["until"] = until.isoformat() if until else None
        return render_template("audit.html", lines=lines, limit=limit, filters=filters)


def _status_route(app: Flask, desk: SupportDesk, thresholds: Thresholds) -> None:
    @app.get("/status")
    def status() -> str:
        # The store's figures only: the checks of `vsb-adapter status` wait seconds on the
        # broker and the central application, too long for a page (it says to run them).
        return render_template("status.html", summary=store_summary(desk, thresholds))


def _action_routes(app: Flask, desk: SupportDesk) -> None:
    """Every action asks a reason and names the user: the audit line says who and why."""

    @app.post("/dead-letters/<message_id>/replay")
    @guard.operator_only
    def replay(message_id: str) -> WerkzeugResponse:
        def act(actor: str, reason: str) -> str:
            view = desk.replay(message_id, actor, reason=reason, os_user=_os_user())
            return f"replayed {message_id} as {view.message_id}, at the head of its dossier"

        return _acted(act, url_for("dead_letters"))

    @app.post("/dead-letters/<message_id>/discard")
    @guard.operator_only
    def discard(message_id: str) -> WerkzeugResponse:
        def act(actor: str, reason: str) -> str:
            desk.discard(message_id, actor, reason, os_user=_os_user())
            return f"discarded {message_id}; the EPD gets an answer, the dossier moves on"

        return _acted(act, url_for("dead_letters"))

    @app.post("/messages/<message_id>/restore")
    @guard.operator_only
    def restore(message_id: str) -> WerkzeugResponse:
        def act(actor: str, reason: str) -> str:
            desk.restore(message_id, actor, reason, os_user=_os_user())
            return f"restored {message_id}: a dead letter again, at the head of its dossier"

        return _acted(act, url_for("show", message_id=message_id))

    @app.post("/groups/<group>/<verb>")
    @guard.operator_only
    def group_action(group: str, verb: str) -> WerkzeugResponse:
        bulk = {"replay": desk.replay_many, "discard": desk.discard_many}.get(verb)
        if bulk is None:
            abort(404)

        def act(actor: str, reason: str) -> str:
            result = bulk(Selection(group=group), actor, reason, os_user=_os_user())
            return bulk_pages.summary(verb, result)

        return _acted(act, url_for("dead_letters"))

    @app.post("/dossiers/<tag>/skip-gap")
    @guard.operator_only
    def skip_gap(tag: str) -> WerkzeugResponse:
        def act(actor: str, reason: str) -> str:
            keys = desk.tagged(tag) if lifecycle.is_tag(tag) else []
            if len(keys) != 1:
                raise SupportError(f"{tag} names {len(keys)} dossiers: use the CLI's skip-gap")
            dossier_id = keys[0].removeprefix(_DOSSIER_PREFIX)
            head = desk.skip_gap(dossier_id, actor, reason=reason, os_user=_os_user())
            return f"the dossier now continues at sequence {head}"

        return _acted(act, url_for("dossier", tag=tag))

    @app.post("/events/<event_id>/unmask")
    @guard.operator_only
    def unmask(event_id: str) -> Any:
        reason = request.form.get("reason", "").strip()
        if not reason:
            flash("unmasking needs a reason, for the audit log", "error")
            return redirect(url_for("event", event_id=event_id))
        # Shown in this answer only (no URL to come back to, nothing cached): the audit line
        # is written in the transaction that reads the data.
        stored = _or_404(desk.unmasked_event, event_id, guard.actor(), reason, _os_user())
        return render_template("event.html", stored=stored, masked=False)


def _dlq_routes(app: Flask, desk: SupportDesk, dlq: BrokerDeadLetters | None) -> None:
    """The broker's dead-letter queue as ``vsb-adapter dlq`` reads and handles it: masked
    bodies, and requeue and purge audited per message before they are done."""

    def reached() -> BrokerDeadLetters:
        if dlq is None:
            abort(404, "this console is not set up to reach the broker's dead-letter queue")
        return dlq

    @app.get("/dlq")
    def dlq_list() -> str:
        queue = reached()
        found = _from_broker(queue.look)
        return render_template(
            "dlq.html", deliveries=found[:_DLQ_LIMIT], count=len(found), queue=queue.name
        )

    @app.get("/dlq/<int:position>")
    def dlq_show(position: int) -> str:
        queue = reached()
        found = [d for d in _from_broker(queue.look) if d.position == position]
        if not found:
            abort(
                404,
                f"no message {position} in {queue.name}: it was requeued or purged, or the"
                " queue holds fewer messages now (see the list)",
            )
        delivery = found[0]
        text = masked(delivery.body.decode("utf-8", "replace"))
        return render_template(
            "dlq_message.html",
            delivery=delivery,
            queue=queue.name,
            body=text[:_DLQ_SHOWN_CHARACTERS],
            cut=len(text) > _DLQ_SHOWN_CHARACTERS,
            fingerprint=_fingerprint(delivery),
        )

    @app.post("/dlq/<verb>")
    @guard.operator_only
    def dlq_action(verb: str) -> WerkzeugResponse:
        if verb not in _DLQ_ACTIONS:
            abort(404)
        queue = reached()
        action, done = _DLQ_ACTIONS[verb]
        event_id = request.form.get("event_id", "")
        fingerprint = request.form.get("fingerprint", "")

        def act(actor: str, reason: str) -> str:
            def picked(delivery: DeadDelivery) -> bool:
                # The message the page showed, wherever it is now: positions move when others
                # are taken off, and an event id may be missing or twice in the queue.
                if (delivery.event_id or "") != event_id or not hmac.compare_digest(
                    _fingerprint(delivery), fingerprint
                ):
                    return False
                # Audited before it is done, as the CLI does: an interruption leaves a line
                # too many, never one short.
                desk.audit_action(
                    actor,
                    action,
                    delivery.event_id or f"dlq #{delivery.position}",
                    reason,
                    os_user=_os_user(),
                    detail={"reason_recorded": delivery.reason, "size": delivery.size},
                )
                return True

            try:
                taken = queue.take(verb, picked)
            except BrokerError as exc:
                raise SupportError(f"nothing {done}: {exc}") from exc
            label = event_id or "the message without an event id"
            if not taken:
                raise SupportError(
                    f"{label} is not in {queue.name} any more (requeued or purged meanwhile,"
                    f" or held by a look from the CLI at this moment): nothing {done}"
                )
            copies = f", {len(taken)} copies" if len(taken) > 1 else ""
            return f"{done} {label}  ({taken[0].reason}{copies})"

        return _acted(act, url_for("dlq_list"))


def _from_broker(read: Callable[[], list[DeadDelivery]]) -> list[DeadDelivery]:
    """``read()``, or a 503 page saying why RabbitMQ could not be read."""
    try:
        return read()
    except BrokerError as exc:
        abort(503, f"cannot read the dead-letter queue: {exc}")


def _fingerprint(delivery: DeadDelivery) -> str:
    """Which dead-lettered message a form names: keyed with the session secret, so the
    page's hidden field says nothing about a body that holds personal data."""
    key = current_app.secret_key or b""
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, delivery.body, hashlib.sha256).hexdigest()


def _acted(act: Callable[[str, str], str], back: str) -> WerkzeugResponse:
    """Run ``act(actor, reason)`` with the form's reason (required) and flash its summary,
    or the desk's refusal; then back to ``back``."""
    reason = request.form.get("reason", "").strip()
    try:
        if not reason:
            raise SupportError("this needs a reason, for the audit log")
        flash(act(guard.actor(), reason))
    except SupportError as exc:
        flash(str(exc), "error")
    return redirect(back)


def _or_404(read: Any, *args: Any) -> Any:
    try:
        return read(*args)
    except SupportError as exc:
        abort(404, str(exc))


def _tag(key: str | None) -> str:
    """An ordering key as the logs show it (``d:…`` for a dossier, ``k:…`` otherwise)."""
    return lifecycle.tags().of_key(key) if key else "-"


def _target(target: str) -> str:
    """An audit line's target, a dossier's key shown as its tag."""
    return _tag(target) if target.startswith(_DOSSIER_PREFIX) else target


def _pretty_json(detail: object) -> str:
    """An audit detail, one ``key: value`` per item."""
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            return str(detail)
    if isinstance(detail, dict):
        return ", ".join(f"{k}: {v}" for k, v in detail.items())
    return "" if detail is None else str(detail)
