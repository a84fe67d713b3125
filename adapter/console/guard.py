"""Who may do what in the console: the session's user, CSRF tokens, roles, safe headers.

The session is Flask's signed cookie (HttpOnly, SameSite=Strict, Secure when configured)
holding the user's name and a CSRF token; the role is looked up in the users file on
every request, so it can be taken away without waiting for the cookie to expire.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, abort, g, redirect, request, session, url_for

from adapter.console.users import User, Users

F = TypeVar("F", bound=Callable[..., Any])

OPEN_ENDPOINTS = frozenset({"login", "login_post", "static"})
"""Endpoints served without a log-in."""

CHANNEL = "console"
"""Named in the audit's actor beside the user, as the CLI's lines name the person."""


def csrf_token() -> str:
    """This session's CSRF token (made on first use), for the forms' hidden field."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_request(users: Users) -> Response | None:
    """Before every request: a POST must carry the session's CSRF token (else 403), and
    every page but the log-in needs a user the users file still knows."""
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        expected = session.get("csrf")
        if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
            abort(403, "missing or wrong CSRF token: reload the page and try again")
    name = session.get("user")
    g.user = users.get(name) if isinstance(name, str) else None
    if g.user is None and request.endpoint not in OPEN_ENDPOINTS:
        session.pop("user", None)
        return cast(Response, redirect(url_for("login", next=request.path)))
    return None


def log_in(user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token: no fixation)."""
    session.clear()
    session.permanent = True  # expires after console.session_hours
    session["user"] = user.name
    csrf_token()


def current_user() -> User:
    """The logged-in user of this request."""
    user: User | None = g.get("user")
    if user is None:
        abort(401)
    return user


def actor() -> str:
    """The audit's actor for this request: the user and the channel."""
    return f"{current_user().name} ({CHANNEL})"


def operator_only(view: F) -> F:
    """A view that acts: 403 for a viewer."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user().may_act:
            abort(403, "viewers read only: this needs an operator")
        return view(*args, **kwargs)

    return cast(F, wrapped)


def harden(response: Response) -> Response:
    """Headers for every answer: nothing cached (pages may hold unmasked data), no framing,
    no scripts or styles from elsewhere, no referrer (URLs name messages and dossiers)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    return response
