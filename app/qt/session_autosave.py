"""The autosave project of a :class:`~unet_studio.app.qt.session.StudioSession` (a mixin
of it, through ``ProjectLink``): started in the user folder at the first edit or Segment run
when no project is open, dropped again when the run that started it made nothing, and, where
it cannot be created (a read-only or full user folder), the work kept in memory with the
user told once, each image's noted for the project made later (``session_memory``).

Uses the session's ``host``, ``library``, ``project``, ``open_project``, ``close_project``
and ``project_changed``.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.model_library import user_home
from unet_studio.app.project import Project
from unet_studio.app.qt.session_memory import WorkInMemory

log = logging.getLogger(__name__)


class AutosaveProject(WorkInMemory):
    """The project started for the user when none is open; without one, the work of each
    image noted in memory (``session_memory``). GUI thread only."""

    # Why no autosave project could be started (:meth:`autosave_project`), while none is
    # open: the edits are kept in memory only, and the user was told.
    _autosave_refused: str | None = None

    def ensure_project(self) -> Project:
        """The open project, or a new autosave project in the user folder (UserError when
        it cannot be created there: see :meth:`autosave_project`)."""
        if self.project is None:
            image = self.host.current_image()
            stem = image.name if image is not None else "untitled"
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            folder = autosave_home() / f"{_safe(stem)}-{stamp}"
            self.open_project(folder, create=True)
            self.host.notify(f"Corrections are autosaved to the project {folder}")
        return self.project

    def autosave_project(self) -> Project | None:
        """The open project, or the autosave project started for the work under way (a
        Segment run, an edit); None when it cannot be created (the user folder read-only,
        full, not a folder): the work goes on in memory. The user is told so once, and no
        later edit tries again (each would fail the same way, mid-stroke) until a project
        is opened. A read-only user folder stopped Segment with a traceback."""
        if self.project is None and self._autosave_refused is None:
            try:
                self.ensure_project()
            except (UserError, OSError) as error:
                self._autosave_refused = str(error)
                log.info("no autosave project: %s", error)
                self.host.notify(autosave_refused_message(error), "warning")
        if self.project is None:  # (every image's work: the project made later takes it)
            self.note_work_in_memory()
        else:
            self.forget_work_in_memory()
        return self.project

    def drop_autosave(self, project: Project) -> None:
        """Close ``project``, an autosave project a Segment run started that holds nothing
        (``live_edits.RunAutosave``), and remove its folder: the session goes on without a
        project, as before the run. The labels and marks shown stay; the next edit starts
        a project again and they go into it."""
        if project is not self.project:
            return
        folder = project.path
        self._close_project()  # (told below, once the library lists no project models)
        self.library.folders["project"] = None  # (no project: the library lists no project models)
        if same_folder(folder.parent, autosave_home()):  # (ours: one moved elsewhere stays)
            try:
                shutil.rmtree(folder)
            except OSError as error:
                log.warning("could not remove the autosave project %s: %s", folder, error)
        self.project_changed.emit()


def autosave_home() -> Path:
    """Where autosave projects are started (in the user folder)."""
    return user_home() / "projects"


def autosave_refused_message(error: Exception) -> str:
    """What the user reads once when no autosave project can be started: that nothing is
    autosaved, the folder and why (``error``: a UserError naming the folder, or the OSError
    of a write in it), and the two ways to keep the work."""
    why = str(error)
    if isinstance(error, OSError) and error.filename and error.strerror:
        why = f"{error.filename}: {error.strerror.lower()}"
    return (f"Corrections are NOT autosaved: {why}. They are kept in memory only while this "
            "window is open. To keep them, start a project in a folder you can write to "
            "(Correct > New project…: the labels shown go into it), or save the labels layer "
            "(File > Save Selected Layers…).")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "image"


def same_folder(a: Path, b: Path) -> bool:
    """Are ``a`` and ``b`` the same folder, however reached (a link, a relative path)?"""
    try:
        return os.path.samefile(a, b)
    except OSError:  # (one is missing: not the same)
        return False
