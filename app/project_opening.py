"""How a folder becomes an open :class:`~unet_studio.app.project.Project` (a mixin of it):
a new project started in an empty folder (taken back whole when its first write fails), an
existing one read and checked, its lock taken or found held (``project_lock``), a folder
that cannot be written opened read-only (``project_writable``), leftovers of a killed
writer swept (``project_repair``), and images saved by an earlier version in their file's
axis order updated to the order they open in now (``project_migrate``), or refused by a
read-only opening.

Apart from ``project`` because all of it runs once, before the project is handed to its
caller, and decides in which state it starts (writer, read-only, refused); the project's
life after that (saving, history, the folder followed) is ``project``'s.

Uses the project's ``path``, ``images``, ``problems``, ``read_only``, ``unwritable``,
``_writer``, ``_folder``, ``_meta``, ``close`` and ``log``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from unet_studio.app import project_writable
from unet_studio.app.atomic import atomic_write_json
from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.format_versions import PROJECT
from unet_studio.app.project_lock import (
    claim_lock,
    lock_holder,
    not_closed_message,
    stale_lock,
)
from unet_studio.app.project_migrate import finish, migrate_image, pending_image
from unet_studio.app.project_repair import sweep_leftovers
from unet_studio.app.project_saving import PROJECT_FILE

if TYPE_CHECKING:  # (project imports this module)
    from unet_studio.app.project import Project


class ProjectOpening:
    """``Project.create`` and ``Project.open``, and what an opening does to the folder
    before the project is used."""

    @classmethod
    def create(cls, path: str | Path, *, name: str | None = None, autosave_delay: float = 1.0):
        """Start a project in ``path`` (absent or empty folder); writes ``project.json`` now."""
        path = Path(path)
        if (path / PROJECT_FILE).exists():
            raise UserError(f"{path} already holds a project; open it instead")
        if path.exists() and any(path.iterdir()):
            raise UserError(f"{path} is not empty; choose a new folder for the project")
        made = _missing_folders(path / "models")  # (what a failure below must take back)
        try:
            (path / "models").mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputFileError(path, f"cannot create the project folder "
                                       f"({(error.strerror or str(error)).lower()})") from None
        project = cls(path, {"name": name or path.name}, autosave_delay=autosave_delay)
        try:
            claim_lock(path, project)  # (a lock that cannot be written: no project either)
            atomic_write_json(path / PROJECT_FILE, project._meta())
            project.log("create project", name=project.name)
        except BaseException:
            # A full disk or a mount turned read-only after the mkdir: a folder without
            # project.json would be refused as "not empty" by the next try, so it goes.
            project.close()
            _remove_empty(made)
            raise
        return project

    @classmethod
    def open(cls, path: str | Path, *, autosave_delay: float = 1.0) -> Project:
        """Open an existing project; InputFileError if ``path`` holds none or it is damaged."""
        path = Path(path)
        try:
            meta = json.loads((path / PROJECT_FILE).read_text("utf-8"))
        except FileNotFoundError:
            raise InputFileError(
                path, "no unet-studio project here (project.json missing)"
            ) from None
        except (OSError, ValueError) as error:
            raise InputFileError(path / PROJECT_FILE, f"unreadable project file: {error}") from None
        if not isinstance(meta, dict) or meta.get("format") != PROJECT.name:
            raise InputFileError(path / PROJECT_FILE, "not a unet-studio project file")
        stale = stale_lock(path)  # (its writer stopped without closing it: a crash, a kill)
        project = cls(path, meta, autosave_delay=autosave_delay)
        unwritable, taken = project_writable.write_problem(path), False
        if unwritable is None:
            try:
                taken = claim_lock(path, project)
            except OSError as error:  # (a disk full since the test: never a writer without it)
                unwritable = project_writable.problem_of(error)
        if unwritable is not None:
            project._open_unwritable(unwritable)
        elif taken:
            if stale:
                project.problems.append(not_closed_message(path, stale, autosave_delay))
            project.problems += sweep_leftovers(path)
            project._migrate_axes()
        else:  # (told by sharing_problem: it may be the project's own window reopening it)
            project.read_only = lock_holder(path) or "another window"
            project._refuse_old_axes()
        return project

    # ---- what an opening found ---------------------------------------------------------
    def _migrate_axes(self) -> None:
        """Images saved by an earlier version in their file's axis order get their arrays
        turned to the T Z C Y X order they open in now, once (``project_migrate``): the
        arrays first, the image list after, so a kill between leaves a state that the next
        opening finishes."""
        done = []
        for number, ref in enumerate(self.images):
            if not pending_image(self.path, ref):
                continue
            try:
                new, problems = migrate_image(self.path, ref)
            except OSError as error:
                self.problems.append(
                    f"{self.path / 'images' / ref.id}: could not update the saved work of "
                    f"{ref.name} to the axis order it opens in now ({error}); it is tried "
                    "again when the project is opened next")
                continue
            self.images[number] = new
            self.problems += problems
            done.append((ref, new))
        if not done:
            return
        try:
            atomic_write_json(self.path / PROJECT_FILE, self._meta())  # (then the markers go)
        except OSError as error:  # (the markers stay: the next opening finishes)
            self.problems.append(f"{self.path / PROJECT_FILE}: cannot save the updated axes "
                                 f"({error}); they are saved with the next change")
            return
        for old, new in done:
            finish(self.path, new)
            if old.axes == new.axes:
                continue  # (its new axes were saved before a kill: only the marker was left)
            self.problems.append(
                f"{new.name}: saved by an earlier version in the axis order {old.axes}; its "
                f"labels, reviewed marks and prediction now follow the order {new.axes} it "
                "opens in")
            self.log("update axes", image=new.id, old=old.axes, new=new.axes)

    def _open_unwritable(self, why: str) -> None:
        """Opened on a folder that cannot be written (``why``): read-only as an opening
        of a folder another window writes (changes kept in memory, nothing moved or set
        aside), told now. No lock is taken: none can be written, nor any saving done."""
        self.unwritable = why
        # (``read_only`` says who writes the folder, in the sentences of a read-only opening)
        self.read_only = f"nobody, as the folder cannot be written ({why})"
        self._refuse_old_axes()
        self.problems.append(project_writable.unwritable_message(self.path, why))

    def _refuse_old_axes(self) -> None:
        """A read-only opening cannot update images saved in an earlier axis order (see
        :meth:`_migrate_axes`); showing them in the old order would misplace every label."""
        old = [ref.name for ref in self.images if pending_image(self.path, ref)]
        if old:
            self._writer.close()
            self._folder.close()
            why = (f"and the folder cannot be written ({self.unwritable}). Open a writable "
                   "copy of it instead" if self.unwritable else
                   f"and it is open in {self.read_only}. Close it there and open it here again")
            raise UserError(
                f"{self.path}: the saved work of {', '.join(old)} must be updated to the axis "
                f"order images open in now, which only the window that writes the project "
                f"can do, {why}.")


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) while they are empty: what is in them now was
    not made by this call, and is left alone."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # (not empty, or the failure that got here forbids it too)
            return
