"""Logging set-up with personal data masked on the way out.

Log calls name events, messages and dossiers by id, never by person. As a second line of
defence, every record is scrubbed of 11-digit numbers (INSZ/BIS look like that) before it is
written, keeping the last two digits for support staff to tell two records apart.
"""

from __future__ import annotations

import json
import logging
import re
import sys

_ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{9}(\d{2})(?!\d)")


def mask(text: str) -> str:
    """Replace every 11-digit number in ``text`` by ``*********NN``."""
    return _ELEVEN_DIGITS.sub(r"*********\1", text)


class MaskingFilter(logging.Filter):
    """Masks INSZ-like numbers in the formatted message and the exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` as JSON."""
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry)


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Send masked logs to stderr (journald picks them up under systemd)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("pika", "zeep", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
