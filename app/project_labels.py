"""The arrays a project keeps per image: the corrections (the live labels, saved chunk by
chunk as they change), the last prediction and the reviewed regions. Mixed into ``Project``;
apart from it because these are the project's data, saved continuously through
``project_arrays`` and the autosave thread, while ``project`` itself holds the folder, its
image list, models and history."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from unet_studio.app.chunk_store import ChunkStore
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.project_arrays import LiveArraySaver
from unet_studio.app.project_merge import FileSignature, file_signature, merge_reviewed
from unet_studio.app.project_old_shape import (
    REVIEWED_FILE,
    STORES,
    move_aside,
    old_shape_message,
    reviewed_shape,
    store_shape,
)
from unet_studio.app.project_repair import set_aside
from unet_studio.app.reviewed import ReviewedRegions


class ProjectLabels:
    """Uses the project's ``path``, ``image``, ``problems``, ``read_only``, ``log``,
    ``_jobs`` (``ProjectJobs``), ``_savers``, ``_reviewed`` and ``_reviewed_saved``."""

    # A read-only opening: the reviewed files as read here (see ``_merge_saved_reviewed``).
    _reviewed_seen: dict[str, FileSignature | None] | None = None
    # A read-only opening: the labels shape of images whose saved work has another one, to
    # set aside once this window writes the project (see ``set_aside_other_shape``).
    _old_shape_noted: dict[str, tuple[int, ...]] | None = None

    # ---- corrections and predictions ---------------------------------------------------
    def labels(self, image_id: str) -> np.ndarray | None:
        """The saved corrections of an image (None if none yet). The returned array becomes
        the live array: apply edits to it, then report them with :meth:`record_edit`."""
        return self._restore("labels", image_id)

    def attach_labels(self, image_id: str, labels: np.ndarray, *, save: bool = True) -> None:
        """Make ``labels`` (e.g. the napari layer's array) the live corrections of an image;
        ``save``: save all of it now (new labels from a prediction)."""
        self._saver("labels", image_id).attach(labels, save=save)

    def live_labels(self, image_id: str) -> np.ndarray | None:
        """The image's live corrections array (attached or restored here), None while there
        is none; reads nothing from disk."""
        saver = self._savers.get(("labels", image_id))
        return None if saver is None else saver.array

    def labels_are(self, image_id: str, array: np.ndarray) -> bool:
        """Is ``array`` the live corrections array of this image (what is saved)?"""
        return self._saver("labels", image_id).array is array

    def record_edit(self, image_id: str, edit: LabelEdit) -> None:
        """Save the chunks ``edit`` touched in the live labels (already applied), plus the
        reviewed regions if they changed. Returns within a few ms; writing is deferred."""
        self._saver("labels", image_id).record_edit(edit)
        self._queue_reviewed(image_id)

    def mark_dirty(self, image_id: str, region: tuple[slice, ...] | None = None) -> None:
        """The live labels changed inside ``region`` outside :meth:`record_edit` (a paint
        stroke, streamed tiles): save those chunks."""
        self._saver("labels", image_id).mark_dirty(region)
        self._queue_reviewed(image_id)

    def save_prediction(self, image_id: str, prediction: np.ndarray) -> None:
        """Keep a copy of a new prediction of an image (saved in the background)."""
        self._saver("prediction", image_id).attach(np.array(prediction), save=True)
        self.log("prediction", image=image_id, shape=list(np.shape(prediction)))

    def prediction(self, image_id: str) -> np.ndarray | None:
        return self._restore("prediction", image_id)

    # ---- reviewed regions --------------------------------------------------------------
    def reviewed(self, image_id: str, shape: tuple[int, ...] | None = None):
        """The image's :class:`ReviewedRegions` (restored, or new of ``shape``; None if it
        has none and no ``shape`` is given). Changes are saved with each edit or by
        :meth:`save_reviewed`."""
        if image_id not in self._reviewed and not self._left_as_old_shape(image_id):
            self._load_reviewed(image_id)
        if image_id not in self._reviewed and shape is not None:
            self._reviewed[image_id] = ReviewedRegions(shape)
        return self._reviewed.get(image_id)

    def _load_reviewed(self, image_id: str) -> None:
        """Read the image's saved reviewed marks into ``_reviewed`` (if any are saved)."""
        path = self._image_dir(image_id) / "reviewed.npz"
        if self.read_only:  # (noted before reading: a write in between is merged again)
            if self._reviewed_seen is None:
                self._reviewed_seen = {}
            self._reviewed_seen[image_id] = file_signature(path)
        if path.exists():
            try:
                regions = self._reviewed[image_id] = ReviewedRegions.load(path)
                # (as saved: nothing to write until it changes)
                self._reviewed_saved[image_id] = regions.version
                if regions.old_format and not self.read_only:
                    # Rewritten by blocks once (off this thread), so that the next
                    # opening reads what is marked instead of streaming whole masks.
                    self._queue_reviewed(image_id, force=True)
            except (OSError, ValueError) as error:  # (new marks must not overwrite it)
                self.problems.append(set_aside(path, "the reviewed marks", error,
                                               move=not self.read_only))

    def adopt_reviewed(self, image_id: str, regions: ReviewedRegions) -> None:
        """``regions`` become the image's reviewed marks, saved now: they came with its live
        labels from another project (New project, Open project), and are the part of those
        labels that is training data. The same object goes on being marked by the edits."""
        self._reviewed[image_id] = regions
        self._reviewed_saved.pop(image_id, None)
        self._queue_reviewed(image_id, force=True)

    def save_reviewed(self, image_id: str) -> None:
        self._queue_reviewed(image_id, force=True)

    # ---- saved work of another shape --------------------------------------------------
    def set_aside_other_shape(self, image_id: str, shape: tuple[int, ...]) -> bool:
        """The image opens with labels of ``shape`` now: its saved labels and reviewed marks
        (and prediction) of another shape, made before its file was replaced, are moved
        aside (``project_old_shape``) instead of being shown over it or overwritten by its
        new labels; told in ``problems``. True when there were some. Call before
        :meth:`labels`: arrays live here already are what is saved, and are not looked at.
        A read-only opening moves nothing (another window writes the folder): it says so,
        and moves them once it becomes the writer (``_set_aside_noted``)."""
        shape = tuple(int(n) for n in shape)
        saved = self._saved_shapes(image_id)
        wrong = [name for name in ("labels", REVIEWED_FILE) if saved.get(name, shape) != shape]
        if not wrong:
            return False
        if saved.get("prediction", shape) != shape:  # (made from the same old pixels)
            wrong.append("prediction")
        old = saved[wrong[0]]
        ref = self.image(image_id)
        if self.read_only:
            if self._old_shape_noted is None:
                self._old_shape_noted = {}
            self._old_shape_noted[image_id] = shape
            kept = (f"stay as they are in {self._image_dir(image_id)} (the project is "
                    f"written by {self.read_only}; they are set aside once this window "
                    "writes it)")
        else:
            kept = self._move_old_shape(image_id, wrong, old, shape)
        file = self.resolve_image_path(image_id) if ref.path else None
        self.problems.append(old_shape_message(ref.name, file, old, shape, wrong, kept))
        return True

    def _saved_shapes(self, image_id: str) -> dict[str, tuple[int, ...]]:
        """The shapes of the image's saved arrays not live here, by their name in its folder."""
        shapes = self._disk_shapes(image_id)
        for kind in STORES:
            saver = self._savers.get((kind, image_id))
            if saver is not None and saver.array is not None:
                shapes.pop(kind, None)
        regions = self._reviewed.get(image_id)
        if regions is not None and self._reviewed_saved.get(image_id) != regions.version:
            shapes.pop(REVIEWED_FILE, None)  # (changed here: they are what is saved)
        return shapes

    def _disk_shapes(self, image_id: str) -> dict[str, tuple[int, ...]]:
        """The shapes of the image's arrays on disk, by their name in its folder."""
        folder = self._image_dir(image_id)
        shapes = {kind: store_shape(folder / kind) for kind in STORES}
        shapes[REVIEWED_FILE] = reviewed_shape(folder / REVIEWED_FILE)
        return {name: shape for name, shape in shapes.items() if shape is not None}

    def _left_as_old_shape(self, image_id: str) -> bool:
        """Is the image's saved work of another shape, left in place by a read-only opening
        (then it is neither read nor shown here)?"""
        return bool(self._old_shape_noted) and image_id in self._old_shape_noted

    def _move_old_shape(self, image_id: str, names: list[str], old: tuple[int, ...],
                        shape: tuple[int, ...]) -> str:
        """Move the arrays ``names`` of an image aside; how the message says where they are."""
        image_dir = self._image_dir(image_id)
        try:
            folder = move_aside(image_dir, names, old)
        except OSError as error:  # (then nothing may save over them: the user must move them)
            return (f"could not be set aside ({error}): move them out of {image_dir} before "
                    "saving new labels for it")
        regions = self._reviewed.get(image_id)
        if REVIEWED_FILE in names and regions is not None and regions.shape == old:
            self._reviewed.pop(image_id)  # (the marks read from it)
            self._reviewed_saved.pop(image_id, None)
        ref = self.image(image_id)
        self.images[self.images.index(ref)] = dataclasses.replace(ref, shape=shape)
        self._save_meta()
        self.log("set aside old shape", image=image_id, old=list(old), new=list(shape),
                 folder=folder.name)
        return f"are kept in {folder}"

    def _set_aside_noted(self) -> None:
        """A read-only opening became the writer: set aside the saved work of another shape
        noted meanwhile (unless the other window did), before this window's saves go out."""
        noted, self._old_shape_noted = self._old_shape_noted or {}, None
        for image_id, shape in noted.items():
            saved = self._disk_shapes(image_id)
            wrong = [name for name, old in saved.items() if old != shape]
            if "labels" in wrong or REVIEWED_FILE in wrong:
                old = saved["labels"] if "labels" in wrong else saved[REVIEWED_FILE]
                kept = self._move_old_shape(image_id, wrong, old, shape)
                self.problems.append(f"{self.image(image_id).name}: its saved labels of shape "
                                     f"{'x'.join(map(str, old))} {kept}.")

    # ---- internals -------------------------------------------------------------------
    def _image_dir(self, image_id: str) -> Path:
        self.image(image_id)  # KeyError for unknown ids
        return self.path / "images" / image_id

    def _saver(self, kind: str, image_id: str) -> LiveArraySaver:
        key = (kind, image_id)
        if key not in self._savers:
            store = ChunkStore(self._image_dir(image_id) / kind)
            self._savers[key] = LiveArraySaver(store, self._jobs, key)
            if self.read_only:  # (merged with the other window's saves: see project_merge)
                self._savers[key].track_changes()
        return self._savers[key]

    def _restore(self, kind: str, image_id: str) -> np.ndarray | None:
        saver = self._saver(kind, image_id)
        if saver.array is None and not self._left_as_old_shape(image_id):
            try:
                _, problems = saver.restore()
            except (OSError, ValueError, KeyError) as error:
                problems = [set_aside(saver.store.directory, f"the saved {kind}", error,
                                       move=not self.read_only)]
            self.problems.extend(problems)
        return saver.array

    def _queue_reviewed(self, image_id: str, force: bool = False) -> None:
        regions = self._reviewed.get(image_id)
        if regions is None:
            return
        if force or regions.version != self._reviewed_saved.get(image_id):
            self._jobs.submit(("reviewed", image_id), lambda: self._write_reviewed(image_id))

    def _merge_saved_reviewed(self, deferred: set) -> list:
        """A read-only opening became the writer: bring the reviewed marks the other window
        saved meanwhile into this window's (``project_merge.merge_reviewed``). Returns the
        regions that changed."""
        seen, self._reviewed_seen = self._reviewed_seen or {}, None
        merged = []
        for image_id, regions in self._reviewed.items():
            path = self._image_dir(image_id) / "reviewed.npz"
            signature = file_signature(path)
            if image_id not in seen or signature in (None, seen[image_id]):
                continue  # (not read here, or not written there since)
            changed_here = ("reviewed", image_id) in deferred
            if merge_reviewed(regions, path, changed_here=changed_here):
                merged.append(regions)
                if not changed_here:  # (they are what is saved)
                    self._reviewed_saved[image_id] = regions.version
        return merged

    def _write_reviewed(self, image_id: str) -> None:
        """Runs on the autosave thread: snapshot the masks, then write them."""
        regions = self._reviewed[image_id]
        version = regions.version
        path = self._image_dir(image_id) / "reviewed.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        ReviewedRegions.write_arrays(path, regions.saved_arrays())
        self._reviewed_saved[image_id] = version
