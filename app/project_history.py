"""The project's action log: ``history.jsonl``, one JSON object per line, appended in the
background, but for the entries that bear a round's verdict (``DURABLE``), which are on disk
when ``log`` returns. A line cut off by a kill is skipped when reading and ended before the
next append, so one interrupted write never costs the lines after it. The file has no
header and no version of its own: ``project.json``'s covers it (see ``format_versions``)."""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

from unet_studio.app.atomic import with_filename
from unet_studio.app.project_jobs import ProjectJobs

log = logging.getLogger(__name__)

# The entries a Train round's verdict rests on: a round saved ("fine-tune"), and the user's
# Accept or Reject. The round's model folder is on disk at once; an entry still queued for
# the autosave second when the app was killed left that folder without its round (offered
# for Roll back as an earlier version, never as a round waiting for its verdict), or an
# Accept undone. These are written before ``log`` returns (a small append).
DURABLE = frozenset({"fine-tune", "accept model", "reject model"})


class HistoryLog:
    """Appends entries to ``path`` through ``writer`` (the project's ``ProjectJobs``, which
    holds them back while the project is read-only and tells a failing write); reads them
    back oldest first."""

    def __init__(self, path: Path, writer: ProjectJobs):
        self.path = Path(path)
        self._writer = writer
        self._lines: list[str] = []
        self._lock = threading.Lock()
        # Held while lines are taken and written: the GUI thread's append (``DURABLE``) and
        # the autosave thread's never write out of order.
        self._writing = threading.Lock()

    def log(self, action: str, **details) -> dict:
        entry = {"time": now_iso(), "action": action, **details}
        line = json.dumps(entry, default=str, ensure_ascii=False)
        with self._lock:
            self._lines.append(line)
        self._writer.submit("history", self._append)
        if action in DURABLE:
            self._append_now()
        return entry

    def log_carried(self, entries: list[dict]) -> None:
        """Append entries logged in another project, as they are (their own times): the
        history of the project a new one was made from (``session_carry_history``). Written
        as ``log`` writes, those that bear a verdict before this returns."""
        lines = [json.dumps(entry, default=str, ensure_ascii=False) for entry in entries]
        if not lines:
            return
        with self._lock:
            self._lines.extend(lines)
        self._writer.submit("history", self._append)
        if any(entry.get("action") in DURABLE for entry in entries):
            self._append_now()

    def _append_now(self) -> None:
        """Write the waiting lines (those logged before too: their order stays) on the
        calling thread, to the disk. Not while the project is read-only (the writer keeps
        the job back: ``deferred``); a failure (a full disk, a folder gone) leaves them to
        the queued job, which retries and tells the user, as for every other entry."""
        if "history" in getattr(self._writer, "deferred", ()):
            return
        try:
            self._append(sync=True)
        except OSError as error:
            log.warning("history entry left to the autosave thread: %s", error)

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

    def _append(self, sync: bool = False) -> None:
        """Runs on the autosave thread (``sync``: on the GUI thread, through to the disk)."""
        with self._writing:
            with self._lock:
                lines, self._lines = self._lines, []
            if not lines:
                return
            try:
                # (never creates the folder: one moved away or deleted fails here, and the
                # autosave thread's job finds where it went, or says it is gone)
                with open(self.path, "ab") as file:
                    if file.tell() > 0 and _last_byte(self.path) != b"\n":
                        file.write(b"\n")  # end a line cut off by a kill so the next one parses
                    file.write(("\n".join(lines) + "\n").encode("utf-8"))
                    if sync:
                        file.flush()
                        os.fsync(file.fileno())
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
