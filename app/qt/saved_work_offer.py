"""The offer to open the project that holds the corrections of an image opened again.

An image from a file that becomes current while no project is open is looked for in the
projects of the autosave folder and those opened before (``app.saved_work``). Where it is
found, the user is told (a notification naming the file, the project and when it was saved)
and offered the project in the Segment and Correct panels (``saved_work_line``); Run
pressed while the offer stands asks first (``saved_work_run``). It is never opened unasked:
opening it reopens its other images too, and the user may want a fresh start. Offered once
per file per session, and only while no project is open.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from qtpy.QtCore import QObject, QTimer, Signal

from unet_studio.app.errors import UserError
from unet_studio.app.model_library import user_home
from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.session_autosave import autosave_home, same_folder
from unet_studio.app.saved_work import (
    SavedWork,
    find_saved_work,
    recent_projects,
    remember_project,
)

log = logging.getLogger(__name__)


class SavedWorkOffer(QObject):
    """What the session offers of the work saved earlier on the image opened. GUI thread.

    ``found``: the projects holding the file's work, newest first (empty: no offer);
    ``file``: the file's name. ``changed`` fires when the offer appears or goes."""

    changed = Signal()

    def __init__(self, session):
        super().__init__(session)
        self.session = session
        self.found: list[SavedWork] = []
        self.file = ""
        self._looked_at: set[tuple[str, int]] = set()  # (files and series looked for, resolved)
        self._held = False  # (see hold)
        self._notice = ""  # (the offer's notification, withdrawn when the offer goes)
        session.project_changed.connect(self._project_changed)

    def image_became_current(self) -> None:
        """Look for the current image's saved work once the event loop turns: the window
        opening a file with ``--project`` opens that project right after (then there is
        nothing to offer), and the file's layer is in place by then."""
        QTimer.singleShot(0, self, self._look)

    def _look(self) -> None:
        session = self.session
        if not alive(session) or session.project is not None or self.found or self._held:
            return  # (an offer shown stays the one shown: no second notification over it)
        try:
            source = getattr(session.host, "image_source", lambda: None)()
        except RuntimeError:  # (the viewer closed before the loop turned)
            return
        if not source:
            return  # (an image made in memory: no file to find)
        series = getattr(session.host, "image_series", lambda: 0)()  # (of a multi-series file)
        key = (os.path.realpath(source), series)
        if key in self._looked_at:
            return
        self._looked_at.add(key)
        found = find_saved_work(source, [autosave_home()], recent_projects(user_home()),
                                series=series)
        if not found:
            return
        self.found, self.file = found, Path(source).name
        # (the button: the message is cut to its first line until opened, and fades)
        self._notice = offer_message(self.file, found)
        session.host.notify(self._notice, actions=[("Open that project", self._open_newest)])
        self.changed.emit()

    def hold(self) -> None:
        """No offer until a project opens: the launcher opens files given with ``--project``
        before that project (napari's progress bar turns the event loop inside
        ``viewer.open``, so the look ran before the project was open)."""
        self._held = True

    def open_project(self, work: SavedWork) -> None:
        """Open the project of ``work`` (an error is the caller's to tell; the offer stays),
        with the image the user opened as the current one: the project reopens its other
        images, and the last one reopened had become current, without the labels looked for."""
        session = self.session
        session.open_project(work.project)  # (the offer goes: _project_changed)
        if work.image_name in getattr(session.host, "image_names", list)():
            session.select_image(work.image_name)

    def _open_newest(self) -> None:
        """The notification's button: open the newest project holding the file's work; an
        error is told and the offer stays (as the panels' button)."""
        if not self.found:
            return  # (taken from a panel, or dismissed, since)
        try:
            self.open_project(self.found[0])
        except UserError as error:
            self.session.host.notify(str(error), "warning")

    def dismiss(self) -> None:
        if self.found:
            self.found = []
            self.changed.emit()
        withdraw = getattr(self.session.host, "withdraw_notice", None)
        if self._notice and withdraw is not None:  # (its button would offer it still)
            withdraw(self._notice)
        self._notice = ""

    def _project_changed(self) -> None:
        """A project opened (the offered one, another, or an autosave one for an edit): the
        offer goes, and a project opened by hand is remembered for the next look."""
        project = self.session.project
        if project is None:
            return
        self._held = False
        if not same_folder(project.path.parent, autosave_home()):  # (those are looked at anyway)
            remember_project(user_home(), project.path)
        if self.found and not any(same_folder(work.project, project.path) for work in self.found):
            # (a Segment run or an edit before the offer was taken starts a new autosave
            # project: the earlier corrections are not in it, and the offer goes)
            self.session.host.notify(
                f"The earlier corrections of {self.file} stay in the project "
                f"{self.found[0].project}: Correct panel > Open project... shows them.")
        self.dismiss()


def saved_at(work: SavedWork) -> str:
    return datetime.fromtimestamp(work.saved).strftime("%Y-%m-%d %H:%M")


def others_text(work: SavedWork) -> str:
    """What else opening ``work``'s project brings back ("" when nothing)."""
    others = work.other_images
    if not others:
        return ""
    names = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    return f"Opening it also reopens its other image{'s' * (len(others) > 1)} ({names})."


def offer_message(file: str, found: list[SavedWork]) -> str:
    """The notification: the file, the newest project holding its work, when it was saved,
    how many others do, and where to open it."""
    newest = found[0]
    more = len(found) - 1
    also = (f" {more} older project{'s' * (more > 1)} hold{'s' * (more == 1)} corrections "
            "of it too." if more else "")
    return (f"{file} has corrections saved in the project {newest.project} (saved "
            f"{saved_at(newest)}).{also} Open that project (here, or in the Segment or "
            f"Correct panel) to see them. {others_text(newest)}").rstrip()
