"""Saving the work of the project open into a new project, in a folder the user chose
(Correct > New project…, and the close question's "Save project…" for a project whose
folder cannot be written): a mixin of :class:`~unet_studio.app.qt.session.StudioSession`.

The new project takes the models of the project left (``session_carry_history``), copied
in a worker thread first (``staged_models``: why), and is made only once they are whole.
Meanwhile the project left stays open as it was: its edits, a Segment run, a round saved in
the user's models all go along, as the new project takes the work open when it is made. A
second save is refused until this one ends. Closing the window during it asks about it
(``project_watch``: the close question waits for it, :meth:`SaveElsewhere.when_saved_elsewhere`,
or stops it, :meth:`SaveElsewhere.stop_saving_elsewhere`, as the user answers); a copy
stopped, or cancelled with the window (a tracked task), leaves no new project. A copy that
fails (a full disk) is told, naming the folder, and nothing changes: the project left
stays open, its work in memory.

Uses the session's ``host``, ``project``, ``open_project`` and ``project_changed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.io.atomic import remove_quietly, temporary_sibling
from unet_studio.app.project import Project
from unet_studio.app.project_saving import PROJECT_FILE
from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.staged_models import StagedModels, iter_stage_models, model_folders

log = logging.getLogger(__name__)

Then = Callable[[Project | None], object]


class SaveElsewhere:
    """Saving the project open into a new one, its models copied off the GUI thread.
    GUI thread only."""

    _saving_elsewhere: Path | None = None  # the folder being saved into, while it is
    _save_worker = None  # (held: the worker's signals must outlive the call)
    _save_copied: tuple[int, int] = (0, 0)  # (bytes copied, bytes in all), while saving
    _save_waiters: list[Then] | None = None  # told too once the save under way ends

    @property
    def saving_elsewhere(self) -> Path | None:
        """The folder the project is being saved into (its models copied), or None."""
        return self._saving_elsewhere

    @property
    def saving_elsewhere_copied(self) -> tuple[int, int]:
        """(bytes of the models copied, bytes in all) of the save under way."""
        return self._save_copied

    def when_saved_elsewhere(self, then: Then) -> bool:
        """Call ``then(project)`` too once the save under way ends (``then(None)``: no
        project made, the user told why); False, ``then`` never called, when none is."""
        if self._saving_elsewhere is None or self._save_waiters is None:
            return False
        self._save_waiters.append(then)
        return True

    def stop_saving_elsewhere(self) -> None:
        """Stop the save under way at the copy's next step: no project is made (its
        ``then(None)`` follows, from the worker's end)."""
        if self._save_worker is not None:
            self._save_worker.quit()

    def save_project_elsewhere(self, folder: str | Path, then: Then) -> None:
        """Make a project in ``folder`` with the work open (``open_project(create=True)``),
        and call ``then(project)`` once it is made (``then(None)``: it was not, and the
        user was told why). The models of the project open are copied in a worker thread
        first; without any, it is made at once. Raises a
        UserError (nothing started) for a second save or a folder that cannot take it."""
        folder = Path(folder)
        if self._saving_elsewhere is not None:
            raise UserError(f"The project is being saved in {self._saving_elsewhere}; "
                            "wait until that has finished.")
        refuse_unusable(folder)
        old = self.project
        # (as the new project takes them: ``CarriedHistory.of``)
        models = None if old is None else old.models_dir
        staging = None if models is None or not model_folders(models) else _staging_for(folder)
        if staging is None:  # (nothing to copy, or nowhere to stage it: at once, as before)
            then(self.open_project(folder, create=True))
            return
        self._saving_elsewhere, self._save_copied, self._save_waiters = folder, (0, 0), []
        self.host.notify(f"Saving the project in {folder}: copying its models…")
        self._save_worker = self._start_copy(models, folder, staging, old, then)
        self.project_changed.emit()  # (the project line says it is being saved)

    def _start_copy(self, models: Path, folder: Path, staging: Path, old: Project, then: Then):
        from unet_studio.app.qt.workers import FileWorker, start_engine

        bar = self.host.start_progress(f"Saving the project in {folder}", 1) \
            if hasattr(self.host, "start_progress") else None  # fmt: skip
        made: list[Project | None] = [None]

        def progress(step: tuple[int, int]) -> None:
            self._save_copied = step
            if bar is not None:
                bar.set(step[0] >> 20, max(step[1] >> 20, 1))  # (MB: counts fit an int)

        def copied(staged: StagedModels) -> None:
            made[0] = self._make_saved_project(folder, old, staged)

        def finished() -> None:
            # (gone already, but for a copy cancelled before it started: the window closed)
            remove_quietly(staging)
            if bar is not None:
                bar.close()
            waiters = self._save_waiters or []
            self._saving_elsewhere = self._save_worker = self._save_waiters = None
            if alive(self):
                self.project_changed.emit()
                for told in [then, *waiters]:
                    told(made[0])

        generator = iter_stage_models(models, folder, staging)
        return start_engine(generator, notify=self.host.notify,
                            action=f"Saving the project in {folder}", on_progress=progress,
                            on_result=copied, on_finished=finished, host=self.host,
                            task=f"saving the project in {folder}", worker_type=FileWorker)  # fmt: skip

    def _make_saved_project(self, folder: Path, old: Project,
                            staged: StagedModels) -> Project | None:
        """The models are copied: make the new project with them (None: not made, told)."""
        try:
            if not alive(self) or self.project is not old:
                if alive(self):  # (another project opened meanwhile: its work is not this)
                    self.host.notify(f"The project was not saved in {folder}: the project "
                                     "open changed while its models were copied.", "warning")
                return None
            try:
                return self.open_project(folder, create=True, staged=staged)
            except (UserError, OSError) as error:
                self.host.notify(f"No project made in {folder}: {error}", "error")
                return None
        finally:
            staged.discard()  # (what was not taken; empty when all went in)


def refuse_unusable(folder: Path) -> None:
    """UserError when ``folder`` cannot take a new project (as ``Project.create`` says it),
    told before its models are copied rather than after."""
    if (folder / PROJECT_FILE).exists():
        raise UserError(f"{folder} already holds a project; open it instead")
    try:
        if folder.exists() and any(folder.iterdir()):
            raise UserError(f"{folder} is not empty; choose a new folder for the project")
    except OSError as error:
        raise UserError(f"{folder} cannot be used: {(error.strerror or str(error)).lower()}") from None


def _staging_for(folder: Path) -> Path | None:
    """A hidden folder beside ``folder`` to copy the models into, on its file system (so
    that they are renamed into the new project, not copied twice); None when there is no
    such place (the folder's parent cannot be written, or ``folder`` is a mount of its own:
    a card's or a drive's top folder): the models are then copied at once, as before."""
    try:
        staging = temporary_sibling(folder)
        staging.mkdir()
    except OSError as error:
        log.info("models copied without staging beside %s: %s", folder, error)
        return None
    try:
        if not folder.exists() or staging.stat().st_dev == folder.stat().st_dev:
            return staging
    except OSError:
        pass
    remove_quietly(staging)
    return None
