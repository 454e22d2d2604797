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
caller's thread (see ``project_arrays``). Opening a folder (``create``, ``open``: the lock,
a read-only opening, images' axes updated) is ``project_opening``'s. Typical use from a
panel::

    project = Project.open(folder)            # or Project.create(folder)
    labels = project.labels(image.id)         # restored corrections, now the live array
    host.apply_label_edit(edit); project.record_edit(image.id, edit)
    project.close()                           # flushes
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

from unet_studio.app import project_writable
from unet_studio.app.atomic import atomic_write_json
from unet_studio.app.autosave import AutosaveWriter
from unet_studio.app.format_versions import PROJECT, check_project_files
from unet_studio.app.model_names import first_free_folder
from unet_studio.app.project_arrays import LiveArraySaver
from unet_studio.app.project_folder import FolderGone, ProjectFolder, folder_moved_message
from unet_studio.app.project_history import HistoryLog, now_iso
from unet_studio.app.project_image_list import ProjectImageList
from unet_studio.app.project_images import ImageRef, image_refs, safe_name
from unet_studio.app.project_jobs import ProjectJobs
from unet_studio.app.project_labels import ProjectLabels
from unet_studio.app.project_lock import follow_lock, release_lock
from unet_studio.app.project_opening import ProjectOpening
from unet_studio.app.project_saving import PROJECT_FILE, ProjectSaving
from unet_studio.app.project_unknown_fields import UnknownFields
from unet_studio.app.reviewed import ReviewedRegions

log = logging.getLogger(__name__)

FORMAT = PROJECT.name
HISTORY_FILE = "history.jsonl"


class Project(ProjectOpening, ProjectImageList, ProjectLabels, ProjectSaving):
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
