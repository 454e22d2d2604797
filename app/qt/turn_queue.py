"""Work that may wait a little, run one job per turn of the Qt event loop.

Applying an edit of every object of a 64 x 1024 x 1024 stack costs the GUI thread napari's
write and the reviewed marks, then handing the chunks it touched to the autosave (which
reads them itself: ``LiveArraySaver._queue``) and the redraw of the marks. Done in one go, painting and scrolling wait for
all of it; run a turn apart, they get a turn in between, and the longest freeze is the
longest of the parts. Work put here must not care when it runs as long as it runs soon and
in order: a snapshot of labels taken later holds the newer pixels, which a later change
snapshots again anyway; a redraw shows what is there then.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from qtpy.QtCore import QObject, QTimer


class TurnQueue(QObject):
    """Jobs keyed by what they do, run in the order put, one per event-loop turn. A job put
    under a key already waiting is dropped (the waiting one does the same work, later).
    GUI thread only."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._jobs: dict[Hashable, Callable[[], None]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_one)

    def __len__(self) -> int:
        return len(self._jobs)

    def put(self, key: Hashable, job: Callable[[], None]) -> None:
        self._jobs.setdefault(key, job)
        if not self._timer.isActive():
            self._timer.start()

    def drop(self, key: Hashable) -> None:
        """Forget the job waiting under ``key`` (if any)."""
        self._jobs.pop(key, None)

    def run_all(self) -> None:
        """Run every waiting job now (before what must see them done: closing a project)."""
        try:
            self._timer.stop()
        except RuntimeError:  # (at interpreter exit Qt may have deleted it: nothing is timed)
            pass
        while self._jobs:
            self._pop()()

    def _run_one(self) -> None:
        if not self._jobs:
            return
        job = self._pop()
        try:
            job()
        finally:
            if self._jobs:
                self._timer.start()

    def _pop(self) -> Callable[[], None]:
        key = next(iter(self._jobs))
        return self._jobs.pop(key)
