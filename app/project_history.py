"""The project's action log: ``history.jsonl``, one JSON object per line, appended in the
background. A line cut off by a kill is skipped when reading and ended before the next
append, so one interrupted write never costs the lines after it."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

from unet_studio.app.autosave import AutosaveWriter


class HistoryLog:
    """Appends entries to ``path`` through ``writer``; reads them back oldest first."""

    def __init__(self, path: Path, writer: AutosaveWriter):
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

    def entries(self) -> list[dict]:
        lines = self.path.read_text("utf-8").splitlines() if self.path.exists() else []
        with self._lock:
            lines += self._lines
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
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
        except OSError:
            with self._lock:
                self._lines[:0] = lines  # retried with the next round
            raise


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as file:
        file.seek(-1, 2)
        return file.read(1)
