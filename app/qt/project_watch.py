"""The project's saving, as the user sees it: failures told in the window, and the close
question asked while changes could not be saved.

The project saves on its autosave thread, which must not touch widgets; a full disk or a
folder that became read-only was only logged there. :class:`ProjectWatch` looks every
``interval_ms`` on the GUI thread (a dictionary read: nothing to slow the GUI down) and
tells each new failure once through the host's ``notify``; it is also a keeper for
:class:`~unet_studio.app.qt.close_guard.CloseGuard`: closing while saves fail asks first.
"""

from __future__ import annotations

import weakref

from qtpy.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class ProjectWatch(QObject):
    """Watches the project of ``session`` (whichever is open), held weakly."""

    def __init__(self, session, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self._session = weakref.ref(session)
        self._told_sharing: weakref.ref | None = None  # the project whose sharing was told
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tell)
        self._timer.start()

    def _project(self):
        session = self._session()
        return None if session is None else session.project

    def tell(self) -> None:
        """Notify what went wrong since the last look (each failure once). A read-only
        opening is asked each time whether it may write now: once the other window closed
        the project this one saves it, merged with what was saved there (told, and the
        labels and marks on screen redrawn: ``ProjectLink.show_merged``)."""
        project, session = self._project(), self._session()
        if project is None:
            return
        told = self._told_sharing() if self._told_sharing is not None else None
        sharing = project.sharing_problem() if project.read_only or told is not project else None
        for follow in ("show_merged", "follow_project_folder"):  # (a FakeHost session: none)
            if hasattr(session, follow):
                getattr(session, follow)()
        while project.problems:  # (what opening found: told once, here or by the session)
            session.host.notify(project.problems.pop(0), "warning")
        for text in project.problems_to_tell():
            session.host.notify(text, "error")
        if sharing and told is not project:
            session.host.notify(sharing, "warning")
            self._told_sharing = weakref.ref(project)

    # ---- the close question ----------------------------------------------------------------
    def unsaved_work(self) -> str | None:
        project = self._project()
        return None if project is None else project.unsaved_problem()

    def save_unsaved(self, then) -> None:
        """Try the failed saves again now; the window closes only if they all worked."""
        project = self._project()
        if project is None or project.flush(10):
            then(True)
            return
        problem = project.unsaved_problem() or "the project could not be saved"
        self._session().host.notify(f"Still not saved: {problem}", "error")
        then(False)

    def discard_unsaved(self) -> None:
        """Nothing to do: closing drops what is only in memory."""
