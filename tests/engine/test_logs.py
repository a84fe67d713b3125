"""Logs never carry an INSZ: eleven-digit numbers are masked on the way out."""

from __future__ import annotations

import logging

import pytest

from adapter.logs import MaskingFilter, mask


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
