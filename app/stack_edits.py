"""Edits of every object of the labels at once: fill their holes, renumber them 1..N, fill
the slices between their painted slices. Qt-free.

Each is a generator (``iter_*``) that reads the labels a slab at a time, yields between
slabs or objects and returns a :class:`LabelEdit` (one undo step for the host), so that the
Correct panel runs it in a worker thread and can stop it between two yields: on a stack of
64 x 1024 x 1024 each takes seconds, which the GUI thread must not spend. :func:`drain`
runs one to its end (small labels, scripts, ``corrections``).

Working a slab (a run of planes along the first axis) at a time gives the edit the whole
array would give, pixels in the same C order: the renumbering is pixelwise once the ids in
use are known, and holes filled per plane (or per time point) never reach across planes.
It also keeps the working copies to a slab instead of the stack.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
from scipy import ndimage as ndi

from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit, bounding_box, edit_from_region, empty_edit
from unet_studio.app.object_sums import compact_ids, object_boxes
from unet_studio.app.slice_interpolation import interpolate_slices_edit
from unet_studio.models.slab_label import SLAB_PIXELS, slabs

DIRECT_BOX_IDS = 1 << 20  # ids below this: boxes by id (scipy's tables: 48 bytes per id in 3D)


# ---- renumbering ---------------------------------------------------------------------------
def iter_relabel_sequential_edit(labels: np.ndarray) -> Generator[None, None, LabelEdit]:
    """Renumber the objects 1..N in order of their current ids, keeping background 0."""
    top, low = 0, 0
    for slab in _slabs(labels.shape):  # (a first pass for the id range: one pixel array)
        block = np.asarray(labels[slab])
        if block.size:
            top, low = max(top, int(block.max())), min(low, int(block.min()))
        yield
    if low < 0 or top > max(4 * labels.size, 1 << 20):
        from skimage.segmentation import relabel_sequential  # (sorts: sparse huge ids too)

        whole = np.asarray(labels)
        renumbered = relabel_sequential(whole)[0].astype(labels.dtype, copy=False)
        return edit_from_region(whole, (), renumbered, "relabel")
    used = np.zeros(top + 1, bool)  # a mark per id: one linear pass, no sort
    for slab in _slabs(labels.shape):
        used[_as_index(np.asarray(labels[slab]))] = True
        yield
    present = np.flatnonzero(used[1:]) + 1
    lookup = np.zeros(top + 1, labels.dtype)
    lookup[present] = np.arange(1, len(present) + 1, dtype=labels.dtype)
    edits = []
    for slab in _slabs(labels.shape):
        block = np.asarray(labels[slab])
        edits.append(_moved(edit_from_region(block, (), lookup[_as_index(block)]), slab))
        yield
    return joined_edit(edits, labels.ndim, labels.dtype, "relabel")


def _as_index(block: np.ndarray) -> np.ndarray:
    return block.astype(np.intp) if block.dtype == np.uint64 else block


# ---- holes ---------------------------------------------------------------------------------
def hole_structure(ndim: int, per_slice: bool) -> np.ndarray:
    """Neighbours along every axis; ``per_slice``: none along the first (planes apart)."""
    structure = ndi.generate_binary_structure(ndim, 1)
    if per_slice:
        if ndim < 3:
            raise ValueError("per_slice hole filling needs a label array of 3 or more axes")
        structure[0] = structure[2] = False  # no connection between planes
    return structure


def iter_fill_holes_edit(labels: np.ndarray, *, per_slice: bool = False
                         ) -> Generator[None, None, LabelEdit]:  # fmt: skip
    """Fill every background component enclosed by the objects and bordered by one object
    only (see ``corrections.fill_holes_edit``); ``per_slice``: in each block of the first
    axis on its own (each plane of a 3D stack, each time point of a series), one per step."""
    structure = hole_structure(labels.ndim, per_slice)
    if not per_slice:
        yield
        return _fill_all_holes(np.asarray(labels), structure)
    edits = []
    for index in range(labels.shape[0]):
        block = np.asarray(labels[index : index + 1])
        edits.append(_moved(_fill_all_holes(block, structure), (slice(index, index + 1),)))
        yield
    return joined_edit(edits, labels.ndim, labels.dtype, "fill holes")


def _fill_all_holes(labels: np.ndarray, structure: np.ndarray) -> LabelEdit:
    """Fill every background component enclosed by the objects and bordered by one object
    only. Vectorised: one labelling of the background, and one pass over the hole borders
    to find which objects touch each hole."""
    description = "fill holes"
    hole_ids, count = _enclosed_background(labels, structure)
    region = bounding_box(hole_ids != 0, margin=1)
    if region is None:
        return empty_edit(labels.ndim, labels.dtype, description)
    block = labels[region]
    hole_ids = hole_ids[region]
    pairs = np.unique(_hole_neighbour_pairs(hole_ids, block, structure), axis=0)
    holes_seen, counts = np.unique(pairs[:, 0], return_counts=True)
    single = holes_seen[counts == 1]
    lut = np.zeros(count + 1, dtype=labels.dtype)
    owner_rows = np.isin(pairs[:, 0], single)
    lut[pairs[owner_rows, 0]] = pairs[owner_rows, 1]
    fill = lut[hole_ids]
    return edit_from_region(labels, region, np.where(fill != 0, fill, block), description)


def _enclosed_background(labels: np.ndarray, structure: np.ndarray) -> tuple[np.ndarray, int]:
    """(the background components connected by ``structure``, numbered, with 0 on those
    that reach the edge of the array: the holes; the highest number). What
    ``ndi.binary_fill_holes`` finds, in one labelling instead of a dilation repeated until
    nothing changes (5x faster on a 64 M-pixel stack). Only the faces of axes the
    structure connects along are an edge: planes filled one by one each have their own."""
    components, count = ndi.label(labels == 0, structure=structure)
    outside = np.zeros(count + 1, bool)
    centre = np.array(structure.shape) // 2
    for axis in range(labels.ndim):
        step = centre.copy()
        step[axis] += 1
        if structure[tuple(step)]:
            for end in (0, -1):
                outside[np.take(components, end, axis=axis)] = True
    components[outside[components]] = 0
    return components, count


def _hole_neighbour_pairs(hole_ids, block, structure) -> np.ndarray:
    """(hole id, object id) for every hole pixel next to an object pixel, along the
    neighbour offsets of ``structure``. Shape (K, 2)."""
    centre = np.array(structure.shape) // 2
    found = [np.zeros((0, 2), dtype=np.int64)]
    for offset in np.argwhere(structure) - centre:
        if not offset.any():
            continue
        here = tuple(slice(max(-o, 0), n - max(o, 0)) for o, n in zip(offset, block.shape))
        there = tuple(slice(max(o, 0), n - max(-o, 0)) for o, n in zip(offset, block.shape))
        a, b = hole_ids[here], block[there]
        touching = (a != 0) & (b != 0)
        found.append(np.stack([a[touching], b[touching].astype(np.int64)], axis=1))
    return np.concatenate(found)


# ---- filling between painted slices --------------------------------------------------------
def iter_interpolate_all_edit(labels: np.ndarray, axis: int, *, sampling=None
                              ) -> Generator[None, None, tuple[LabelEdit, int]]:  # fmt: skip
    """(the edit filling the slices between the painted slices of every object along
    ``axis``, how many objects it fills); one object per step. ``sampling``: the pixel
    size of the other axes (see ``interpolate_slices_edit``)."""
    ids, boxes = _object_boxes(np.asarray(labels))
    yield
    edits = []
    for label, box in zip(ids, boxes):
        if box[axis].stop - box[axis].start < 3:
            continue  # (no slice between two painted ones)
        try:  # (each object in its own box: its outlines stay within it)
            edit = interpolate_slices_edit(np.asarray(labels[box]), label, axis,
                                           sampling=sampling)  # fmt: skip
        except UserError:
            continue
        if not edit.is_empty:
            edits.append(_moved(edit, box))
        yield
    if not edits:
        return empty_edit(labels.ndim, labels.dtype, "interpolate all"), 0
    return _first_painted(edits, labels.shape, "interpolate all"), len(edits)


def _object_boxes(labels: np.ndarray) -> tuple[list[int], list[tuple[slice, ...]]]:
    """(the ids of the objects, ascending; the box of each). ``find_objects`` makes tables
    as long as the largest id: an id of 1.5e9 (painted high, or from another tool) asks for
    gigabytes, so large ids are compacted to 1..n first (8x slower than ``find_objects``
    on the labels themselves, which small ids keep)."""
    if not labels.size or labels.max() < DIRECT_BOX_IDS:
        boxes = ndi.find_objects(labels)
        ids = [i for i, box in enumerate(boxes, start=1) if box is not None]
        return ids, [boxes[i - 1] for i in ids]
    inside = labels > 0
    present, index = compact_ids(labels[inside])
    starts, stops = object_boxes(inside, index, present.size)
    ids = present.astype(labels.dtype).tolist()  # (uint64 ids past 2**63 back from int64)
    return ids, [tuple(map(slice, a.tolist(), b.tolist())) for a, b in zip(starts, stops)]


def _first_painted(edits: list[LabelEdit], shape: tuple[int, ...], description: str) -> LabelEdit:
    """The objects' edits as one. Interpolation paints background only, and an object's
    outlines come from its own painted slices alone, so filling the objects one after the
    other (each seeing the pixels the ones before it painted) gives each pixel to the first
    object that paints it: the same result without a working copy of the whole labels (a
    stack of any size costs what is painted)."""
    flat = np.concatenate([np.ravel_multi_index(e.indices, shape) for e in edits])
    _, first = np.unique(flat, return_index=True)  # (in C order, as an edit lists pixels)
    indices = tuple(np.concatenate(axis)[first] for axis in zip(*(e.indices for e in edits)))
    old = np.concatenate([e.old_values for e in edits])[first]
    new = np.concatenate([e.new_values for e in edits])[first]
    return LabelEdit(indices, old, new, description)


# ---- edits of parts ------------------------------------------------------------------------
def _slabs(shape: tuple[int, ...]):
    """Slabs of whole planes along the first axis, about SLAB_PIXELS each (~10-50 ms of work
    between two yields)."""
    return (core for core, _ in slabs(shape, SLAB_PIXELS))


def _moved(edit: LabelEdit, box: tuple[slice, ...]) -> LabelEdit:
    """``edit`` of the block ``labels[box]`` as an edit of the whole labels."""
    indices = tuple(i + s.start for i, s in zip(edit.indices, box)) + edit.indices[len(box):]
    return LabelEdit(indices, edit.old_values, edit.new_values, edit.description)


def joined_edit(edits: list[LabelEdit], ndim: int, dtype, description: str) -> LabelEdit:
    """Edits of disjoint slabs, in order along the first axis, as one (pixels in C order)."""
    edits = [e for e in edits if not e.is_empty]
    if not edits:
        return empty_edit(ndim, dtype, description)
    indices = tuple(np.concatenate(axis) for axis in zip(*(e.indices for e in edits)))
    old = np.concatenate([e.old_values for e in edits])
    new = np.concatenate([e.new_values for e in edits])
    return LabelEdit(indices, old, new, description)
