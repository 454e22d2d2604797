"""The project's action log: ``history.jsonl``, one JSON object per line, appended in the
background. A line cut off by a kill is skipped when reading and ended before the next
append, so one interrupted write never costs the lines after it."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path

from unet_studio.app.atomic import with_filename
from unet_studio.app.project_jobs import ProjectJobs

log = logging.getLogger(__name__)


class HistoryLog:
    """Appends entries to ``path`` through ``writer`` (the project's ``ProjectJobs``, which
    holds them back while the project is read-only and tells a failing write); reads them
    back oldest first."""

    def __init__(self, path: Path, writer: ProjectJobs):
        self.path = Path(path)
        self._writer = writer
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def log(self, action: str, **details) -> dict:
        entry = {"time": now_iso(), "action": action, **details}
        line = json.dumps(entry, default=str, ensure_ascii=False)
        with self._lock:
            self._lines.append(line)
        self._writer.submit("history", self._append)
        return entry

    def resubmit(self) -> None:
        """Hand waiting lines to the writer again (kept back by a read-only opening)."""
        with self._lock:
            waiting = bool(self._lines)
        if waiting:
            self._writer.submit("history", self._append)

    def entries(self) -> list[dict]:
        """Every entry, oldest first. Lines that do not parse (cut off by a kill, or damaged:
        bytes that are not UTF-8) are skipped, each on its own: one bad line, or a file that
        cannot be read, never costs the others."""
        try:
            raw = self.path.read_bytes().splitlines() if self.path.exists() else []
        except OSError as error:
            log.warning("cannot read %s: %s", self.path, error)
            raw = []
        with self._lock:
            lines = [*raw, *self._lines]
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:  # (UnicodeDecodeError is one)
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def _append(self) -> None:
        """Runs on the autosave thread."""
        with self._lock:
            lines, self._lines = self._lines, []
        if not lines:
            return
        try:
            with open(self.path, "ab") as file:
                if file.tell() > 0 and _last_byte(self.path) != b"\n":
                    file.write(b"\n")  # end a line cut off by a kill so the next one parses
                file.write(("\n".join(lines) + "\n").encode("utf-8"))
        except OSError as error:
            with self._lock:
                self._lines[:0] = lines  # retried with the next round
            raise with_filename(error, self.path) from None


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as file:
        file.seek(-1, 2)
        return file.read(1)
