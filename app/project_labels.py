"""The arrays a project keeps per image: the corrections (the live labels, saved chunk by
chunk as they change), the last prediction and the reviewed regions. Mixed into ``Project``;
apart from it because these are the project's data, saved continuously through
``project_arrays`` and the autosave thread, while ``project`` itself holds the folder, its
image list, models and history."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unet_studio.app.chunk_store import ChunkStore
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.project_arrays import LiveArraySaver
from unet_studio.app.project_merge import FileSignature, file_signature, merge_reviewed
from unet_studio.app.project_repair import set_aside
from unet_studio.app.reviewed import ReviewedRegions


class ProjectLabels:
    """Uses the project's ``path``, ``image``, ``problems``, ``read_only``, ``log``,
    ``_jobs`` (``ProjectJobs``), ``_savers``, ``_reviewed`` and ``_reviewed_saved``."""

    # A read-only opening: the reviewed files as read here (see ``_merge_saved_reviewed``).
    _reviewed_seen: dict[str, FileSignature | None] | None = None

    # ---- corrections and predictions ---------------------------------------------------
    def labels(self, image_id: str) -> np.ndarray | None:
        """The saved corrections of an image (None if none yet). The returned array becomes
        the live array: apply edits to it, then report them with :meth:`record_edit`."""
        return self._restore("labels", image_id)

    def attach_labels(self, image_id: str, labels: np.ndarray, *, save: bool = True) -> None:
        """Make ``labels`` (e.g. the napari layer's array) the live corrections of an image;
        ``save``: save all of it now (new labels from a prediction)."""
        self._saver("labels", image_id).attach(labels, save=save)

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
        if image_id not in self._reviewed:
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
            if image_id not in self._reviewed and shape is not None:
                self._reviewed[image_id] = ReviewedRegions(shape)
        return self._reviewed.get(image_id)

    def save_reviewed(self, image_id: str) -> None:
        self._queue_reviewed(image_id, force=True)

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
        if saver.array is None:
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
