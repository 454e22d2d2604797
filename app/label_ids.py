"""Fresh label ids for new objects without reading the whole labels at every click.

Split, Add object, New label id and Cut track each need an id no object holds, anywhere in
the labels (every time point of a series: one id is one object over time), and never one
an object held earlier in the session: a deleted or merged object's id handed to a new one
would join the two in what was saved, measured or tracked under that id. So a fresh id is
one above the largest id ever seen in those labels: read from them (every pixel: ~70 ms
for 1 GB in RAM, seconds for a stack whose labels live in a temporary file) the first time
an id is asked for, and kept from the edits the session sees (the app's own tools, napari's
brush and fill, undo and redo: the ids they write and the ids they remove, before the first
read too), so later ids cost nothing.

The largest read stays sure only while every change to the array is such an edit. Anything
else that writes into it (a cancelled run put back, what another window saved) makes it
read the labels again, never lowering the largest seen. While a prediction streams into an
array, the largest id is that of the array before (read once) or of the edits made
meanwhile, or the largest the stream has written so far (told by the stream: ``written``),
never a pass over the array per click. Only a renumbering (Relabel 1..N: :meth:`FreshIds.
renumbered`) starts the count again from the ids it leaves: the user asked for them without
gaps.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np

from unet_studio.app.errors import UserError


def largest_label_id(labels: np.ndarray) -> int:
    """The largest id in ``labels`` (0 when empty or all background)."""
    return max(int(labels.max()), 0) if labels.size else 0


class NoFreeId(UserError):
    """Labels of ``dtype`` hold ``largest``, the largest id their dtype can hold: a new
    object has no id left (the Correct panel offers to widen narrow labels: ``start_labels``)."""

    def __init__(self, dtype, largest: int):
        self.dtype = np.dtype(dtype)
        self.largest = largest
        super().__init__(f"no free label id left in a {self.dtype} label image (largest is "
                         f"{largest}); relabel sequentially first")  # fmt: skip


def id_after(largest: int, dtype) -> int:
    """The id after ``largest``, or a :class:`NoFreeId` where ``dtype`` cannot hold it."""
    fresh = largest + 1
    if np.issubdtype(dtype, np.integer) and fresh > np.iinfo(dtype).max:
        raise NoFreeId(dtype, largest)
    return fresh


class FreshIds:
    """The largest id ever seen in labels arrays (sure for the one last read), kept from
    their edits."""

    def __init__(self):
        self._seen: dict[int, tuple[weakref.ref, int]] = {}  # id(array): (array, largest seen)
        self._labels = None  # weak reference to the array read since it last changed unseen
        self._streaming = None  # weak reference to an array a prediction writes into
        self._written: Callable[[], int] | None = None  # the largest id the stream wrote
        self._before_stream: int | None = None  # largest id outside the stream's writes

    def next_id(self, labels: np.ndarray) -> int:
        """An id held by no object of ``labels``, nor by any seen in them: one above the
        largest."""
        if self._written is not None and self._streams_into(labels):
            if self._before_stream is None:  # (once per run: what it wrote counts anyway)
                self._before_stream = max(largest_label_id(labels), self._largest(labels))
            return id_after(max(self._before_stream, int(self._written())), labels.dtype)
        if not self._knows(labels):
            self._saw(labels, largest_label_id(labels))
            self._labels = None if self._streams_into(labels) else weakref.ref(labels)
        return id_after(self._largest(labels), labels.dtype)

    def saw_edit(self, labels: np.ndarray | None, new_values: np.ndarray,
                 old_values: np.ndarray | None = None) -> None:  # fmt: skip
        """An edit wrote ``new_values`` over ``old_values`` (the ids it removed: None when
        not told) into ``labels`` (applied, undone or redone). Into labels not read since
        they last changed unseen (None: not known which), they are read again next time."""
        largest = max((int(np.max(v)) for v in (new_values, old_values)
                       if v is not None and len(v)), default=0)  # fmt: skip
        if labels is None or not (self._knows(labels) or self._streams_into(labels)):
            self.forget()
        if labels is None:
            return
        self._saw(labels, largest)
        if self._before_stream is not None and self._streams_into(labels):
            self._before_stream = max(self._before_stream, largest)

    def renumbered(self, labels: np.ndarray) -> None:
        """``labels`` were renumbered 1..N (by an edit told to :meth:`saw_edit` next): the
        ids seen before are forgotten, the labels read again next time."""
        self._seen.pop(id(labels), None)
        self.forget()

    def forget(self) -> None:
        """The labels changed outside an edit, or were replaced: read them again next time
        (the largest id seen in them stays)."""
        self._labels = None

    def streaming_into(self, labels: np.ndarray | None, written: Callable[[], int] | None = None,
                       ) -> None:  # fmt: skip
        """A prediction writes into ``labels`` from now on (None: none does any more);
        ``written()``: the largest id it has written so far (None: not told; then every
        id is read afresh)."""
        self._streaming = None if labels is None else weakref.ref(labels)
        self._written, self._before_stream = written, None
        self.forget()

    def _largest(self, labels) -> int:
        ref, largest = self._seen.get(id(labels), (None, 0))
        return largest if ref is not None and ref() is labels else 0

    def _saw(self, labels, largest: int) -> None:
        """Note ``largest`` as seen in ``labels`` (dropping arrays gone: their ids may be
        given to new arrays)."""
        self._seen = {key: entry for key, entry in self._seen.items() if entry[0]() is not None}
        self._seen[id(labels)] = (weakref.ref(labels), max(self._largest(labels), largest))

    def _streams_into(self, labels) -> bool:
        return self._streaming is not None and self._streaming() is labels

    def _knows(self, labels) -> bool:
        return self._labels is not None and self._labels() is labels
