"""tifffile's log messages about damaged files, captured instead of printed.

tifffile logs, rather than raises, when it works around a broken file, and may then show a
truncated stack as a single plane or return an array of the wrong size. While we open or read
a TIFF, its messages are collected (so the CLI still prints one line) and those that mean the
file is damaged are turned into errors by the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

FATAL_MESSAGES = (
    "corrupt", "invalid page offset", "invalid offset to", "circular reference", "missing data",
    "missing ByteCounts", "missing required tags", "incorrect Strip", "failed to reshape",
    "does not match", "incompletely written", "is missing", "failed to read",
)


class CapturedMessages(logging.Filter):
    """Collects tifffile's log records and stops them from reaching any handler."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.messages.append(record.getMessage().split("> ", 1)[-1])  # drop "<tifffile.X ...>"
        return False

    @property
    def fatal(self) -> list[str]:
        """Messages that mean the file is damaged."""
        return [m for m in self.messages if any(p in m for p in FATAL_MESSAGES)]


@contextmanager
def captured_tifffile_messages() -> Iterator[CapturedMessages]:
    captured = CapturedMessages()
    logger = logging.getLogger("tifffile")
    logger.addFilter(captured)
    try:
        yield captured
    finally:
        logger.removeFilter(captured)
