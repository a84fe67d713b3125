"""Logging set-up: one shape for every line, ours and the libraries', personal data masked.

Every record, whether the adapter's or pika's, zeep's, urllib3's or alembic's, goes through
the stdlib ``logging`` tree to one handler whose formatter is structlog's
``ProcessorFormatter``: the same processors add the ISO-8601 time (milliseconds, UTC offset),
level, logger and thread, lift the fields a lifecycle line carries (``adapter.lifecycle``),
mask, and render as JSON or as text.

Log calls name events, messages and dossiers by id, never by person. As a second line of
defence, every value of every line (message, fields, exception text) is scrubbed of 11-digit
numbers and of INSZ in their printed form (``85.07.30-033.28``), keeping the last two digits
for support staff to tell two records apart. UUIDs and dossier tags (``d:`` and 12 hex
digits, ``adapter.lifecycle``) are left whole: a message id or a tag that happens to hold
eleven digits in a row must stay findable.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

import structlog

FIELDS = "vsb_fields"
HANDLER_NAME = "vsb-adapter"
"""The name of the root handler ``configure_logging`` installs (tests take it out again)."""
"""The ``extra`` key under which ``adapter.lifecycle`` hands a line its fields."""

_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_INSZ_LIKE = re.compile(
    rf"(?P<uuid>(?<![0-9A-Fa-f]){_UUID}(?![0-9A-Fa-f]))"
    r"|(?P<tag>(?<![0-9A-Za-z])[dk]:[0-9a-f]{12}(?![0-9A-Za-z]))"
    r"|(?<!\d)\d{9}(?P<tail>\d{2})(?!\d)"
    r"|(?<!\d)\d{2}\.\d{2}\.\d{2}-\d{3}\.(?P<printed>\d{2})(?!\d)"
)
_LIBRARIES = ("pika", "zeep", "urllib3", "alembic", "requests", "signxml")
_BODY_LOGGERS = ("zeep.transports", "signxml")
"""Loggers that write whole messages at DEBUG (zeep the SOAP envelope, signxml the
canonicalized XML it signs or checks: the INSZ, names and diagnosis in clear): never below
INFO, whatever the level."""
_SQL_LOGGERS = ("sqlalchemy", "psycopg")
"""Loggers that write SQL with its parameters (dossier ids in clear): WARNING at any level."""


def _masked_match(match: re.Match[str]) -> str:
    if match.group("uuid") or match.group("tag"):
        return match.group(0)
    return "*********" + (match.group("tail") or match.group("printed"))


def mask(text: str) -> str:
    """Replace every 11-digit number (and every printed INSZ) in ``text`` by ``*********NN``."""
    return _INSZ_LIKE.sub(_masked_match, text)


def mask_value(value: Any) -> Any:
    """``value`` with every string in it masked (``mask``): dicts, lists and tuples walked."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, Mapping):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        # An int of eleven digits is an INSZ as much as its string is.
        text = str(value)
        return value if mask(text) == text else mask(text)
    if isinstance(value, bool | float) or value is None:
        return value
    return mask(str(value))


class MaskingFilter(logging.Filter):
    """Masks INSZ-like numbers in a plain record's message and exception text.

    ``configure_logging`` masks in its formatter instead; this is for a handler of its own
    (a test's, an embedding application's).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def timestamp(created: float) -> str:
    """A record's time as ISO 8601 in UTC with milliseconds: ``2026-12-02T14:21:36.123+00:00``."""
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


def _from_record(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """The line's head (time, level, logger, thread) and its fields, from the stdlib record."""
    record: logging.LogRecord = event["_record"]
    head = {
        "time": timestamp(record.created),
        "level": record.levelname,
        "logger": record.name,
        "thread": record.threadName,
    }
    fields = getattr(record, FIELDS, None)
    rest = {k: v for k, v in event.items() if k not in head}
    return {**head, **rest, **(fields if isinstance(fields, Mapping) else {})}


def _mask_all(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    return {
        key: value if key.startswith("_") else mask_value(value) for key, value in event.items()
    }


_HEAD = ("time", "level", "logger", "thread", "message")


def _render_json(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> str:
    # The head first and the exception last, as a reader scans a line.
    ordered = {key: event.pop(key) for key in _HEAD if key in event}
    exception = event.pop("exception", None)
    ordered.update(event)
    if exception is not None:
        ordered["exception"] = exception
    return json.dumps(ordered, default=str, ensure_ascii=False)


def _render_text(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> str:
    head = (
        f"{event.pop('time')} {event.pop('level'):<7} {event.pop('thread')} {event.pop('logger')}"
    )
    message = event.pop("message", "")
    exception = event.pop("exception", None)
    fields = " ".join(f"{key}={_text_value(value)}" for key, value in event.items())
    line = f"{head}: {message}" + (f"  {fields}" if fields else "")
    return line + (f"\n{exception}" if exception else "")


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if not text or any(c in text for c in ' "=\n') else text


def formatter(as_json: bool) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every line: head, fields, exception, masking, then JSON or text."""
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            _from_record,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _mask_all,
            _render_json if as_json else _render_text,
        ],
    )


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Send masked logs to stderr (journald picks them up under systemd).

    The libraries log at WARNING and above, except at DEBUG, where they log at DEBUG too but
    for the loggers that write whole request bodies (``_BODY_LOGGERS``, kept at INFO) and
    SQL with its parameters (``_SQL_LOGGERS``, kept at WARNING).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter(as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    debug = root.level <= logging.DEBUG
    for library in _LIBRARIES:
        logging.getLogger(library).setLevel(logging.DEBUG if debug else logging.WARNING)
    for body_logger in _BODY_LOGGERS:
        logging.getLogger(body_logger).setLevel(logging.INFO if debug else logging.WARNING)
    for sql_logger in _SQL_LOGGERS:
        logging.getLogger(sql_logger).setLevel(logging.WARNING)
    # structlog's own loggers (structlog.get_logger) go through the same handler.
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
