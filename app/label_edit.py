"""One undoable change to a label array, in the form napari's Labels history stores.

A :class:`LabelEdit` lists the changed pixels as fancy-index arrays, one per axis, with their
values before and after. That is exactly the atom ``napari.layers.Labels.data_setitem``
records, so a host applies a whole merge or split as ONE undo step with
``layer.data_setitem(edit.indices, edit.new_values)``; a test host applies it with
:meth:`LabelEdit.apply_to` and undoes it with :meth:`LabelEdit.revert`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class LabelEdit:
    """Changed pixels of a label array of any rank.

    ``indices``: one int64 array per axis, all of length N (the changed pixels, C order).
    ``old_values`` / ``new_values``: (N,) arrays in the label array's dtype.
    ``description``: a short human-readable name for history and undo menus ("merge 3, 7").
    ``review_at``: ``(axis, indices)`` when only the pixels at those indices along ``axis``
    are evidence of what is right, e.g. the time points the user picked for joining two
    tracks, whose id change reaches every later time point unseen; None: every pixel.
    It only narrows the reviewed marks (``ReviewedRegions.record_edit``), never the pixels.
    ``also_reviewed``: pixels the edit leaves as they are but the user decided on, one int64
    array per axis: the part of a split object that keeps its id, the object a merge joins
    the others to. A split or merge is a decision about the whole objects it leaves, so they
    are marked reviewed with the changed pixels (a new prediction then keeps them whole);
    never written. None: nothing but the changed pixels.
    """

    indices: tuple[np.ndarray, ...]
    old_values: np.ndarray
    new_values: np.ndarray
    description: str = ""
    review_at: tuple[int, tuple[int, ...]] | None = None
    also_reviewed: tuple[np.ndarray, ...] | None = None

    def __post_init__(self):
        sizes = {len(i) for i in self.indices} | {len(self.old_values), len(self.new_values)}
        if len(sizes) > 1:
            raise ValueError(
                f"index and value arrays of a LabelEdit must have one length, got {sizes}"
            )
        if self.also_reviewed is not None and (
                len(self.also_reviewed) != len(self.indices)
                or len({len(i) for i in self.also_reviewed}) > 1):  # fmt: skip
            raise ValueError("also_reviewed needs one index array per axis, all of one length")

    @property
    def ndim(self) -> int:
        return len(self.indices)

    @property
    def size(self) -> int:
        """Number of changed pixels."""
        return int(len(self.old_values))

    @property
    def is_empty(self) -> bool:
        return self.size == 0

    @property
    def bbox(self) -> tuple[slice, ...] | None:
        """Smallest region holding every changed pixel, or None for an empty edit."""
        if self.is_empty:
            return None
        return tuple(slice(int(i.min()), int(i.max()) + 1) for i in self.indices)

    def apply_to(self, labels: np.ndarray) -> None:
        """Write the new values into ``labels`` in place."""
        labels[self.indices] = self.new_values

    def revert(self, labels: np.ndarray) -> None:
        """Write the old values back into ``labels`` in place (undo)."""
        labels[self.indices] = self.old_values

    def inverted(self) -> LabelEdit:
        """The edit that undoes this one."""
        return LabelEdit(self.indices, self.new_values, self.old_values,
                         f"undo {self.description}", self.review_at, self.also_reviewed)

    def reviewed_part(self) -> LabelEdit:
        """The part of this edit whose pixels are evidence (see ``review_at``), its
        ``also_reviewed`` pixels narrowed alike: itself when all are."""
        if self.review_at is None:
            return self
        axis, at = self.review_at
        at = np.asarray(at, np.int64)
        keep = np.isin(self.indices[axis], at)
        also = self.also_reviewed
        if also is not None:
            also = tuple(i[np.isin(also[axis], at)] for i in also)
        return LabelEdit(tuple(i[keep] for i in self.indices), self.old_values[keep],
                         self.new_values[keep], self.description, also_reviewed=also)

    def lifted(self, axis: int, index: int) -> LabelEdit:
        """This edit of one block of bigger labels (a time point: the labels at ``index``
        along ``axis``) as an edit of the bigger labels, ``also_reviewed`` included."""
        def lift(indices):
            at = np.full(indices[0].size, index, np.int64)
            return (*indices[:axis], at, *indices[axis:])

        also = None if self.also_reviewed is None else lift(self.also_reviewed)
        review_at = None if self.review_at is None else \
            (self.review_at[0] + (self.review_at[0] >= axis), self.review_at[1])
        return LabelEdit(lift(self.indices), self.old_values, self.new_values,
                         self.description, review_at, also)

    def changed_mask(self, shape: tuple[int, ...]) -> np.ndarray:
        """Boolean array of ``shape`` that is True at the changed pixels."""
        mask = np.zeros(shape, dtype=bool)
        mask[self.indices] = True
        return mask


def empty_edit(ndim: int, dtype, description: str = "") -> LabelEdit:
    """An edit that changes nothing (an operation that found nothing to do)."""
    index = tuple(np.zeros(0, dtype=np.int64) for _ in range(ndim))
    values = np.zeros(0, dtype=dtype)
    return LabelEdit(index, values, values.copy(), description)


def edit_from_region(
    labels: np.ndarray, region: tuple, new_block, description: str = ""
) -> LabelEdit:
    """The edit that turns ``labels[region]`` into ``new_block``.

    ``region``: basic index of slices (step 1) and integers, e.g. ``(z, slice(10, 20),
    slice(0, 30))``; ``new_block`` has the shape of ``labels[region]`` (or broadcasts to
    it). Only pixels whose value differs are listed, so an edit that changes nothing is empty.
    """
    region = normalise_region(region, labels.shape)
    box = tuple(s if isinstance(s, slice) else slice(s, s + 1) for s in region)
    old_block = np.asarray(labels[box])
    sliced_shape = tuple(s.stop - s.start for s in region if isinstance(s, slice))
    new_block = np.broadcast_to(np.asarray(new_block), sliced_shape).reshape(old_block.shape)
    changed = old_block != new_block
    local = np.nonzero(changed)
    indices = tuple((i + s.start).astype(np.int64, copy=False) for i, s in zip(local, box))
    new_values = new_block[changed].astype(labels.dtype, copy=False)
    return LabelEdit(indices, old_block[changed], new_values, description)


def normalise_region(region: tuple, shape: tuple[int, ...]) -> tuple:
    """``region`` with one entry per axis: slices with explicit non-negative bounds and
    non-negative integers. Steps other than 1 are refused."""
    region = tuple(region) + (slice(None),) * (len(shape) - len(region))
    out = []
    for entry, n in zip(region, shape):
        if isinstance(entry, slice):
            start, stop, step = entry.indices(n)
            if step != 1:
                raise ValueError("edit regions take slices with step 1")
            out.append(slice(start, max(start, stop)))
        else:
            index = int(entry)
            if not -n <= index < n:
                raise IndexError(f"index {index} is outside an axis of length {n}")
            out.append(index % n)
    return tuple(out)


def diff_labels(
    old: np.ndarray, new: np.ndarray, region: tuple[slice, ...] | None = None, description: str = ""
) -> LabelEdit:
    """The edit that turns ``old`` into ``new`` (same shape), looking only inside ``region``."""
    if old.shape != new.shape:
        raise ValueError(f"label arrays differ in shape: {old.shape} and {new.shape}")
    region = normalise_region(region if region is not None else (), old.shape)
    return edit_from_region(old, region, np.asarray(new[region]), description)


def apply_edit(labels: np.ndarray, edit: LabelEdit, *, copy: bool = True) -> np.ndarray:
    """``labels`` with ``edit`` applied; a new array unless ``copy=False``."""
    out = labels.copy() if copy else labels
    edit.apply_to(out)
    return out


def bounding_box(mask: np.ndarray, margin: int = 0) -> tuple[slice, ...] | None:
    """Smallest region (tuple of slices) holding every True pixel of ``mask``, grown by
    ``margin`` pixels per side and clipped to the array; None when ``mask`` is all False.

    Uses one reduction per axis instead of ``np.nonzero`` so that it stays cheap and
    memory-light on big stacks.
    """
    shape = mask.shape
    region = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(mask.any(axis=others) if others else mask)
        if hits.size == 0:
            return None
        region.append(slice(int(hits[0]), int(hits[-1]) + 1))
        # Crop as we go: later reductions only scan the part that can hold the object.
        mask = mask[(slice(None),) * axis + (region[-1],)]
    return tuple(
        slice(max(s.start - margin, 0), min(s.stop + margin, n)) for s, n in zip(region, shape)
    )
