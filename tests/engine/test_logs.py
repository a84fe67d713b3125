"""Logs never carry an INSZ: eleven-digit numbers are masked on the way out."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable

import pytest
import structlog

from adapter.lifecycle import DossierTags, is_tag
from adapter.logs import FIELDS, MaskingFilter, configure_logging, mask, mask_value


def test_mask_keeps_only_the_last_two_digits() -> None:
    """An INSZ becomes nine stars and its last two digits."""
    assert mask("person 85073003328 refused") == "person *********28 refused"


def test_mask_leaves_other_numbers_alone() -> None:
    """Shorter and longer digit runs are not INSZ numbers."""
    assert (
        mask("sequence 12, hco 12345678, id 123456789012")
        == "sequence 12, hco 12345678, id 123456789012"
    )


def test_the_filter_masks_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """Numbers in log arguments and in exception texts are masked."""
    logger = logging.getLogger("test.masking")
    logger.addFilter(MaskingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="test.masking"):
            logger.info("insz %s", "85073003328")
            try:
                raise ValueError("bad 85073003328")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    text = caplog.text
    assert "85073003328" not in text
    assert "*********28" in text


def _formatted(as_json: bool, emit: Callable[[logging.Logger], None]) -> str:
    """What ``configure_logging``'s handler writes for the records ``emit`` makes."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    try:
        configure_logging("INFO", as_json=as_json)
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
        emit(logging.getLogger("test.format"))
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    return buffer.getvalue()


class TestMask:
    """What the mask hides and what it leaves."""

    def test_a_printed_insz_is_masked(self) -> None:
        """The INSZ as printed on a card loses all but its last two digits."""
        assert mask("card 85.07.30-033.28 read") == "card *********28 read"

    def test_a_uuid_stays_whole(self) -> None:
        """A message id whose last group holds eleven digits stays findable."""
        message_id = "3f2a1b4c-9d8e-4f00-8000-a12345678901"
        assert mask(f"message {message_id}") == f"message {message_id}"

    def test_a_dossier_tag_stays_whole(self) -> None:
        """A tag whose hex digits hold eleven digits in a row is still the tag."""
        assert mask("dossier=d:c21318401665") == "dossier=d:c21318401665"

    def test_an_answer_id_stays_whole(self) -> None:
        """An answer id is a UUID behind ``A-``: kept whole too."""
        answer_id = "A-3f2a1b4c-9d8e-4f00-8000-a12345678901"
        assert mask(f"answer {answer_id}") == f"answer {answer_id}"

    def test_values_of_every_kind_are_masked(self) -> None:
        """Strings in dicts and lists, and an int of eleven digits."""
        assert mask_value({"a": ["85073003328"], "n": 85073003328, "k": 12}) == {
            "a": ["*********28"],
            "n": "*********28",
            "k": 12,
        }


class TestFormatter:
    """Every line has one shape, ours and the libraries', and is masked field by field."""

    def test_json_lines_carry_the_head_the_fields_and_the_exception(self) -> None:
        """time, level, logger, thread and message first; fields; the exception masked."""

        def emit(logger: logging.Logger) -> None:
            logger.info("step", extra={FIELDS: {"event_id": "e-85073003328", "n": 3}})
            try:
                raise ValueError("bad 85073003328")
            except ValueError:
                logger.exception("failed")

        first, second = (json.loads(line) for line in _formatted(True, emit).splitlines())
        assert list(first)[:5] == ["time", "level", "logger", "thread", "message"]
        assert (first["event_id"], first["n"]) == ("e-*********28", 3)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
        assert second["level"] == "ERROR"
        assert "ValueError: bad *********28" in second["exception"]

    def test_text_lines_have_the_same_time_and_fields(self) -> None:
        """``<time> <LEVEL> <thread> <logger>: <message>  key=value``; values with spaces quoted."""
        text = _formatted(
            False,
            lambda logger: logger.info("stored", extra={FIELDS: {"result": "a b", "n": 1}}),
        )
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 INFO    MainThread test.format: stored"
            r'  result="a b" n=1\n',
            text,
        )

    def test_a_structlog_logger_writes_the_same_shape(self) -> None:
        """structlog.get_logger goes through the same handler and masking."""
        text = _formatted(
            True, lambda _logger: structlog.get_logger("test.struct").info("hi", insz="85073003328")
        )
        line = json.loads(text)
        assert (line["logger"], line["message"], line["insz"]) == (
            "test.struct",
            "hi",
            "*********28",
        )


class TestDossierTags:
    """Dossiers in the log are keyed digests that the dossier command takes back."""

    def test_a_tag_is_stable_short_and_keyed(self) -> None:
        """Same id and key, same tag; another key, another tag; never the id itself."""
        one, other = DossierTags(b"k" * 32), DossierTags(b"j" * 32)
        tag = one.of_id("REVA-85073003328")
        assert is_tag(tag)
        assert tag == one.of_id("REVA-85073003328") == one.of_key("dossier:REVA-85073003328")
        assert tag != other.of_id("REVA-85073003328")
        assert one.of_key("fund:100").startswith("k:")
        assert not is_tag("REVA-85073003328")
