"""Fresh label ids for new objects without reading the whole labels at every click.

Split, Add object, New label id and Cut track each need an id no object holds, anywhere in
the labels (every time point of a series: one id is one object over time). That is one
above the largest id, and finding the largest reads every pixel: ~70 ms for 1 GB in RAM,
seconds for a stack whose labels live in a temporary file. :class:`FreshIds` reads them once
and then keeps the largest id up to date from the edits the session sees (the app's own
tools, napari's brush and fill, undo and redo), so later ids cost nothing.

It only stays sure while every change to the array is such an edit. Anything else that
writes into it (a cancelled run put back) or replaces it makes it read the labels again.
While a prediction streams into an array, the largest id is that of the array before (read
once) or of the edits made meanwhile, or the largest the stream has written so far (told by
the stream: ``written``), never a pass over the array per click. A largest id that only ever grows stays safe across deletions and undo: ids freed
are never handed out again, and an undo can only bring back ids the array held before.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np

from unet_studio.app.errors import UserError


def largest_label_id(labels: np.ndarray) -> int:
    """The largest id in ``labels`` (0 when empty or all background)."""
    return max(int(labels.max()), 0) if labels.size else 0


def id_after(largest: int, dtype) -> int:
    """The id after ``largest``, or a UserError where ``dtype`` cannot hold it."""
    fresh = largest + 1
    if np.issubdtype(dtype, np.integer) and fresh > np.iinfo(dtype).max:
        raise UserError(
            f"no free label id left in a {np.dtype(dtype)} label image (largest is {largest}); "
            "relabel sequentially first"
        )
    return fresh


class FreshIds:
    """The largest id of one labels array (the one last asked about), kept from its edits."""

    def __init__(self):
        self._labels = None  # weak reference to the array the largest id is known for
        self._largest = 0
        self._streaming = None  # weak reference to an array a prediction writes into
        self._written: Callable[[], int] | None = None  # the largest id the stream wrote
        self._before_stream: int | None = None  # largest id outside the stream's writes

    def next_id(self, labels: np.ndarray) -> int:
        """An id held by no object of ``labels``: one above the largest."""
        if self._written is not None and self._streams_into(labels):
            if self._before_stream is None:  # (once per run: what it wrote counts anyway)
                self._before_stream = largest_label_id(labels)
            return id_after(max(self._before_stream, int(self._written())), labels.dtype)
        if not self._knows(labels):
            self._largest = largest_label_id(labels)
            streaming = self._streaming is not None and self._streaming() is labels
            self._labels = None if streaming else weakref.ref(labels)
        return id_after(self._largest, labels.dtype)

    def saw_edit(self, labels: np.ndarray | None, new_values: np.ndarray) -> None:
        """An edit wrote ``new_values`` into ``labels`` (applied, undone or redone). Into
        labels whose largest id is not the one known (None: not known which), it is read
        again next time."""
        if labels is not None and len(new_values) and self._before_stream is not None \
                and self._streams_into(labels):
            self._before_stream = max(self._before_stream, int(np.max(new_values)))
        elif labels is None or not self._knows(labels):
            self.forget()
        elif len(new_values):
            self._largest = max(self._largest, int(np.max(new_values)))

    def forget(self) -> None:
        """The labels changed outside an edit, or were replaced: read them again next time."""
        self._labels = None

    def streaming_into(self, labels: np.ndarray | None, written: Callable[[], int] | None = None,
                       ) -> None:  # fmt: skip
        """A prediction writes into ``labels`` from now on (None: none does any more);
        ``written()``: the largest id it has written so far (None: not told; then every
        id is read afresh)."""
        self._streaming = None if labels is None else weakref.ref(labels)
        self._written, self._before_stream = written, None
        self.forget()

    def _streams_into(self, labels) -> bool:
        return self._streaming is not None and self._streaming() is labels

    def _knows(self, labels) -> bool:
        return self._labels is not None and self._labels() is labels
