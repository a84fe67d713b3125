"""The console's pages: each one route calling one ``SupportDesk`` method and one template.

Reads are open to every user, actions (POST) to operators; every action goes through the
desk with the user as the audit's actor, as the CLI's commands do. A ``SupportError`` from
the desk is shown to the user as it is (its texts carry no personal data).
"""

from __future__ import annotations

import functools
import getpass
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import (
    Flask,
    abort,
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
from adapter.console import guard
from adapter.console.users import Users
from adapter.selection import Selection
from adapter.settings import ConsoleSettings
from adapter.store import SupportError
from adapter.support import SupportDesk
from adapter.support_timeline import describe, iso

_log = logging.getLogger(__name__)
_DOSSIER_PREFIX = "dossier:"
_AUDIT_FILTERS = ("actor", "action", "target")


@functools.cache
def _os_user() -> str | None:
    """The account the console runs as, in every audit line beside the user's name."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        return None


def create_app(desk: SupportDesk, users: Users, secret: bytes, settings: ConsoleSettings) -> Flask:
    """The console as a WSGI application over ``desk``."""
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
    _action_routes(app, desk)
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
        lines = desk.audit_lines(
            limit, actor=filters["actor"], action=filters["action"], target=filters["target"]
        )
        return render_template("audit.html", lines=lines, limit=limit, filters=filters)


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
            skipped = f"; {len(result.skipped)} skipped" if result.skipped else ""
            return f"{verb}: {len(result.done)} of {len(result.selected)} message(s){skipped}"

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
