"""Putting a streamed run's region back as it was before the run: on cancel or failure
(:meth:`LivePutBack.restore`), and, while the run streams, in the copies the autosave saves
(:meth:`LivePutBack.saved_values`), so a kill mid-run leaves none of its provisional tiles
in the project.

Apart from ``live_labels`` because it is the one thing both of those share, and it reads
only the backup, the reviewed marks and the planes written: a mixin of
:class:`LiveLabelsDestination`, which provides ``labels``, ``target``, ``shape``,
``regions``, ``backup``, ``written``, ``written_planes``, ``restored``, ``lock``,
``_saving``, ``_saves_put_back``, ``_kept`` and ``_save_as_is``.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.qt.live_prepare import box_overlap


class LivePutBack:
    def saved_values(self, box: tuple[slice, ...]) -> np.ndarray:
        """A copy of ``box`` (a slice per labels axis) of the labels as a cancel of the
        run would leave them (:meth:`restore`): what the autosave saves while the run
        streams, so that a kill (a crash) mid-run saves none of its provisional tiles,
        while a stroke made meanwhile (reviewed: the run never writes there) is saved.
        The autosave's thread or the GUI thread, a chunk at a time (no pass over a stack);
        not under ``lock`` once the run writes: it writes unreviewed pixels of the target
        only, and those are read from the backup, which nothing changes meanwhile."""
        if not self.written:  # (nothing to put back yet: the labels as they are, no
            with self.lock:  # tile half written)
                if not self.written:
                    return np.array(self.labels[box])
        with self._saving:
            block = np.array(self.labels[box])
            overlap = box_overlap(box, self.target, self.labels.shape)
            if self._saves_put_back and overlap is not None:
                in_box, within = overlap
                kept = None if self.regions is None else self.regions.mask[self.target][within]
                self._put_back_at(block[in_box], within, kept)
            return block

    def restore(self) -> None:
        """Put the region back as it was before the run (reviewed pixels were never touched).
        Once: the worker does it as the run stops, the GUI thread only when it did not."""
        with self.lock:
            if not self.restored:
                self.restored = True
                self._put_back()
        self._save_as_is()  # (outside ``lock``: see saved_values)

    def _put_back(self) -> None:
        everything = (slice(None),) * self.labels.ndim
        self._put_back_at(self.labels[self.target], everything, self._kept())

    def _put_back_at(self, view: np.ndarray, within: tuple[slice, ...],
                     kept: np.ndarray | None) -> None:
        """Put the backup back into ``view``, the part ``within`` of the target (a copy of
        it for :meth:`saved_values`; slices of step 1), except at its ``kept`` (reviewed)
        pixels; in the planes the run wrote only (the others hold what they held)."""
        if not within:  # (no axes: all of it)
            self._put_back_part(view, within, kept)
            return
        first = within[0].indices(self.shape[0])[0]
        for rows in self.written_planes.within(within[0]):
            at = (slice(first + rows.start, first + rows.stop), *within[1:])
            self._put_back_part(view[rows], at, None if kept is None else kept[rows])

    def _put_back_part(self, view: np.ndarray, within: tuple[slice, ...],
                       kept: np.ndarray | None) -> None:
        backup = 0 if self.backup is None else self.backup[within]
        if kept is None:
            view[...] = backup
        else:
            np.copyto(view, backup, where=~kept)
