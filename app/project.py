"""A project folder: image references, predictions, corrections, reviewed regions, models
and a history log, saved continuously so that killing the app loses at most a second or so.

Layout::

    project.json                    name, images (path, axes, selection, classes), current model
    images/<image id>/labels/       corrections, a chunked store (see ``chunk_store``)
    images/<image id>/prediction/   the last prediction, same format
    images/<image id>/reviewed.npz  reviewed/changed masks (see ``reviewed``)
    images/<image id>/labels-old-shape-*/  those three of an earlier shape of the image's
                                    file, set aside (see ``project_old_shape``)
    images/<image id>/axes-migration.json  while its arrays are updated to the T Z C Y X
                                    order (see ``project_migrate``)
    removed-images/<id>-<date>/     the saved work of an image taken out of the project
                                    (``remove_image``: never deleted, see
                                    ``project_image_moves``)
    models/<name>/                  fine-tuned model folders (config.json carries lineage)
    history.jsonl                   one JSON object per action
    open.lock                       the process writing the folder (see ``project_lock``)

Every write is atomic and happens on a background thread from snapshots taken on the
caller's thread (see ``project_arrays``). Typical use from a panel::

    project = Project.open(folder)            # or Project.create(folder)
    labels = project.labels(image.id)         # restored corrections, now the live array
    host.apply_label_edit(edit); project.record_edit(image.id, edit)
    project.close()                           # flushes
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from pathlib import Path

from unet_studio.app import project_writable
from unet_studio.app.atomic import atomic_write_json
from unet_studio.app.autosave import AutosaveWriter
from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.format_versions import PROJECT, check_project_files
from unet_studio.app.model_names import first_free_folder
from unet_studio.app.project_arrays import LiveArraySaver
from unet_studio.app.project_folder import FolderGone, ProjectFolder, folder_moved_message
from unet_studio.app.project_history import HistoryLog, now_iso
from unet_studio.app.project_image_list import ProjectImageList
from unet_studio.app.project_images import ImageRef, image_refs, safe_name
from unet_studio.app.project_jobs import ProjectJobs
from unet_studio.app.project_labels import ProjectLabels
from unet_studio.app.project_lock import (
    claim_lock,
    follow_lock,
    lock_holder,
    not_closed_message,
    release_lock,
    stale_lock,
)
from unet_studio.app.project_migrate import finish, migrate_image, pending_image
from unet_studio.app.project_repair import sweep_leftovers
from unet_studio.app.project_saving import PROJECT_FILE, ProjectSaving
from unet_studio.app.project_unknown_fields import UnknownFields
from unet_studio.app.reviewed import ReviewedRegions

log = logging.getLogger(__name__)

FORMAT = PROJECT.name
HISTORY_FILE = "history.jsonl"


class Project(ProjectImageList, ProjectLabels, ProjectSaving):
    """An open project folder. Use :meth:`create` or :meth:`open`; close (or use ``with``)
    to flush. All methods are meant for one thread (the GUI's); writing happens on the
    project's autosave thread.

    One writer per folder (``project_lock``): opened while another window or process has
    it open, the project is read-only (``read_only`` says why, ``problems`` tells the user)
    and keeps its changes in memory until the other one closed it. A folder that cannot be
    written (a read-only file system, no permission: ``project_writable``) opens read-only
    too, ``unwritable`` saying why, until a write there works again.

    The folder is followed when it is moved or renamed while open (``project_folder``):
    ``path`` is where it is now, and its arrays, history, models and training follow."""

    def __init__(self, path: Path, meta: dict, *, autosave_delay: float = 1.0):
        path = Path(path)
        # A file of a newer unet-studio refuses the project before anything is started or
        # written (``format_versions``); here, as ``finetune --project`` makes its reader so.
        check_project_files(path, meta)
        self._unknown = UnknownFields.of(meta)  # (a newer build's entries: written back)
        self._folder = ProjectFolder(path, self._folder_moved)
        self.name: str = meta.get("name") or path.name
        self.created: str = meta.get("created") or now_iso()
        self.current_model: str | None = meta.get("current_model")
        # (its weights' identity, ``model_identity``: in a copy of the project at another
        # user's, the ref may name another model. None in older projects: by ref alone)
        self.current_model_identity: str | None = meta.get("current_model_identity")
        self.settings: dict = dict(meta.get("settings") or {})
        self.images: list[ImageRef] = image_refs(path / PROJECT_FILE, meta)
        self.problems: list[str] = []  # what could not be restored, for the user to see
        self.read_only: str | None = None  # who else writes the folder, while someone does
        self.unwritable: str | None = None  # why the folder cannot be written, while it cannot
        self._told: set[str] = set()  # failures told (problems_to_tell), while they last
        self._writer = AutosaveWriter(autosave_delay, name=f"autosave {path.name}")
        self._jobs = ProjectJobs(self._writer, self._folder, self._may_write)
        self._savers: dict[tuple[str, str], LiveArraySaver] = {}
        self._reviewed: dict[str, ReviewedRegions] = {}
        self._reviewed_saved: dict[str, int] = {}  # version last written, per image
        self._history = HistoryLog(path / HISTORY_FILE, self._jobs)
        # Accepted rounds' examples the replay buffer could not take (a full disk): kept
        # here, revisited by later rounds all the same, and written with the next ones.
        self.unkept_replay: list = []

    # ---- opening -----------------------------------------------------------------------
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
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
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

    # ---- the folder --------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The project folder, where it is now: a folder moved or renamed while open is
        followed (told once in ``problems``); one deleted keeps its old path, and saving
        there stops with a failure that says so (``problems_to_tell``)."""
        self._folder.locate()
        return self._folder.path

    def check_folder(self) -> Path:
        """The project folder, before writing into it outside the autosave (a model, the
        training's files); :class:`FolderGone` (an OSError, as any failed write) when it
        was moved out of sight or deleted, so that nothing recreates a half project at the
        old path."""
        where = self._folder.locate()
        if where is None:
            raise FolderGone(self._folder.path)
        if self.unwritable is not None:
            self._may_write()  # (it may be writable again: then it is saved there from now on)
            if self.unwritable is not None:
                raise project_writable.FolderUnwritable(where, self.unwritable)
        return where

    # ---- models and settings -----------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.path / "models"

    def new_model_dir(self, name: str) -> Path:
        """A fresh, not yet existing folder under ``models/`` for a fine-tuned model."""
        base = safe_name(re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "model")
        return first_free_folder(self.check_folder() / "models", base)

    def image_classes(self, image_id: str) -> tuple[str, ...] | None:
        """What the image's labels are, as last recorded on them (``app.class_map``): the
        class names of a class map, () for objects, None when nothing was recorded."""
        return self.image(image_id).classes

    def set_image_classes(self, image_id: str, names) -> None:
        """Record what the image's labels are (class names, or () for objects), so that a
        reopening shows them so whatever model is current then."""
        ref = self.image(image_id)
        names = tuple(str(name) for name in names)
        if names != ref.classes:
            self.images[self.images.index(ref)] = dataclasses.replace(ref, classes=names)
            self._save_meta()

    def set_current_model(self, model: str | None, identity: str | None = None) -> None:
        """Remember the model in use (a library reference or a folder path) and its identity
        (``model_identity.identity_of``; None: unknown, followed by ref alone). The same
        model again (a project reopened makes its model current) writes nothing."""
        if (model, identity) == (self.current_model, self.current_model_identity):
            return
        # (the same model's identity recorded for the first time, as a project of an older
        # version is reopened: no change of model for the history to tell)
        first_identity = model == self.current_model and self.current_model_identity is None
        self.current_model = model
        self.current_model_identity = identity
        self._save_meta(now=True)
        if not first_identity:
            self.log("set current model", model=model)

    # ---- history -----------------------------------------------------------------------
    def log(self, action: str, **details) -> dict:
        """Append an action to ``history.jsonl`` (written in the background)."""
        return self._history.log(action, **details)

    def log_carried(self, entries: list[dict]) -> None:
        """Append the history of the project this one was made from (its entries as they
        are, each marked with that project: ``from_project``)."""
        self._history.log_carried(entries)

    def history(self) -> list[dict]:
        """Every logged action, oldest first (a line cut off by a kill is skipped)."""
        return self._history.entries()

    # ---- lifecycle ---------------------------------------------------------------------
    @property
    def autosave_errors(self) -> list[str]:
        return self._writer.errors

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything pending now; True when it all reached the disk."""
        return self._writer.flush(timeout)

    def close(self) -> bool:
        if self._jobs.deferred:
            self._may_write()  # (the other window closed it meanwhile: save here now)
        written = self._writer.close()
        release_lock(self.path, self)
        self._folder.close()
        return written

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- internals ---------------------------------------------------------------------
    def _folder_moved(self, old: Path, new: Path) -> None:
        """The folder was moved from ``old`` to ``new`` while open (on the thread that saw
        it): what is saved from now on goes there, and the user is told once."""
        follow_lock(old, new, self)
        self._history.path = new / HISTORY_FILE
        for saver in list(self._savers.values()):  # (a snapshot: the GUI thread adds some)
            store = saver.store
            if store.directory.is_relative_to(old):
                store.directory = new / store.directory.relative_to(old)
        self.problems.append(folder_moved_message(new))

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

    def _meta(self) -> dict:
        return self._unknown.added_to({
            "format": FORMAT, "format_version": PROJECT.version, "name": self.name,
            "created": self.created, "current_model": self.current_model,
            "current_model_identity": self.current_model_identity, "settings": self.settings,
            "images": [ref.to_dict() for ref in self.images],
        })  # fmt: skip

    def _save_meta(self, *, now: bool = False) -> None:
        """Save ``project.json`` in the background; ``now``: also on the calling thread
        before returning (a change of the current model: an Accept, whose history line is
        on disk at once, killed within the autosave's second came back with the old model
        and a history saying the round was accepted). A write that fails now, or a project
        that is read-only, is left to the queued job (retried, and told)."""
        meta = self._meta()  # snapshot now; write later
        self._jobs.submit(
            "project.json", lambda: atomic_write_json(self.path / PROJECT_FILE, meta)
        )
        if now and self._may_write() and self._folder.locate() is not None:
            try:
                atomic_write_json(self.path / PROJECT_FILE, meta)
            except OSError as error:
                log.warning("project.json left to the autosave thread: %s", error)


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
