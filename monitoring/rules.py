"""The alert rules (monitoring/alerts.yml) as Prometheus should load them: full runbook URLs.

The file in the source tree names each runbook as a page of docs/ under a placeholder base,
so that promtool can check and test it as it is; ``render_rules`` puts the base of the
site where those pages are read in its place, and changes nothing else (comments stay).
"""

from __future__ import annotations

import re
from importlib.resources import files
from urllib.parse import urlsplit

PLACEHOLDER_BASE = "https://runbook-base.invalid/"
"""The base every ``runbook_url`` of alerts.yml starts with (.invalid never resolves)."""

DEFAULT_RUNBOOK_BASE = "https://docs.vsb-adapter.example.org/docs/"
"""Where the project's docs/ folder is published; used when no base is given."""

_RUNBOOK_LINE = re.compile(r'^(?P<key>\s*runbook_url:\s*")(?P<url>[^"]*)"\s*$', re.MULTILINE)


def source_rules() -> str:
    """The text of alerts.yml as shipped, with the placeholder base."""
    return (files("monitoring") / "alerts.yml").read_text(encoding="utf-8")


def runbook_base(text: str) -> str:
    """``text`` as a runbook base: an absolute http(s) URL ending in "/"; ValueError if not."""
    if re.search(r'[\s"\\]', text):
        raise ValueError("the runbook base must hold no spaces, quotes or backslashes")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the runbook base must be an http or https URL, not {text!r}")
    if parts.query or parts.fragment:
        raise ValueError("the runbook base must have no query and no fragment")
    return text if text.endswith("/") else text + "/"


def render_rules(base: str = DEFAULT_RUNBOOK_BASE, source: str | None = None) -> str:
    """The rules of ``source`` (alerts.yml by default) with every runbook URL under ``base``.

    Raises ValueError for a base that is not an absolute http(s) URL, and for a rule whose
    runbook_url does not start with the placeholder base (it would be left pointing nowhere).
    """
    prefix = runbook_base(base)
    text = source_rules() if source is None else source
    keys = re.findall(r"^\s*runbook_url:", text, re.MULTILINE)
    if len(keys) != len(_RUNBOOK_LINE.findall(text)):
        raise ValueError('every runbook_url must be one double-quoted URL: runbook_url: "..."')

    def full(match: re.Match[str]) -> str:
        url = match["url"]
        if not url.startswith(PLACEHOLDER_BASE):
            raise ValueError(f"runbook_url {url!r} does not start with {PLACEHOLDER_BASE}")
        return f'{match["key"]}{prefix}{url.removeprefix(PLACEHOLDER_BASE)}"'

    header = (
        f"# Rendered by `vsb-adapter alert-rules --runbook-base {prefix}`;"
        " edit monitoring/alerts.yml, not this copy.\n"
    )
    return header + _RUNBOOK_LINE.sub(full, text)
