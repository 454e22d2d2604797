"""Object-level corrections of instance label arrays, 2D or 3D, any integer dtype.

Each operation exists twice: ``<op>_edit(labels, ...)`` returns a :class:`LabelEdit` (the
changed pixels with old and new values) that an undo-aware host applies as ONE undo step,
and ``<op>(labels, ...)`` is the pure form returning a new array. The input is never
modified. Work is confined to the bounding box of the objects involved, so an edit in a big
stack costs one scan to find the object plus work proportional to the object's size.

Label 0 is background. Coordinates are in array index order (e.g. ``(z, y, x)``), floats are
rounded, as napari reports clicks in data coordinates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
from scipy import ndimage as ndi

from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import (
    LabelEdit,
    apply_edit,
    diff_labels,
    edit_from_region,
    empty_edit,
)
from unet_studio.app.label_ids import id_after, largest_label_id
from unet_studio.app.object_search import object_box
from unet_studio.app.stack_edits import hole_structure as _hole_structure
from unet_studio.app.stack_edits import iter_fill_holes_edit, iter_relabel_sequential_edit
from unet_studio.models.generators import drain

__all__ = [
    "LabelEdit", "apply_edit", "diff_labels", "label_at", "next_label_id", "object_region",
    "delete_object", "delete_object_edit", "merge_labels", "merge_labels_edit",
    "split_object", "split_object_edit", "fill_holes", "fill_holes_edit",
    "relabel_sequential", "relabel_sequential_edit",
]  # fmt: skip


def label_at(labels: np.ndarray, coord: Sequence[float]) -> int:
    """Label under ``coord`` (one number per axis, rounded); 0 outside the array."""
    index = _to_index(coord, labels.shape)
    return 0 if index is None else int(labels[index])


def next_label_id(labels: np.ndarray) -> int:
    """A label id not used anywhere in ``labels``: one above the largest (1 when empty).
    (The panels ask the session's ``FreshIds``, which reads a big stack once, not per id.)"""
    return id_after(largest_label_id(labels), labels.dtype)


def object_region(labels: np.ndarray, label_id: int, margin: int = 0,
                  near=None) -> tuple[slice, ...] | None:  # fmt: skip
    """Bounding box of ``label_id`` grown by ``margin`` (clipped), or None if it is absent.
    ``near``: a point in the object, where big arrays are searched (``object_search``)."""
    return object_box(labels, label_id, near, margin)


def delete_object_edit(labels: np.ndarray, label_id: int, near=None) -> LabelEdit:
    """Set every pixel of ``label_id`` to background (``near``: where it was picked, see
    :func:`object_region`). Empty edit if the label is absent."""
    _check_object_id(label_id)
    description = f"delete {label_id}"
    region = object_region(labels, label_id, near=near)
    if region is None:
        return empty_edit(labels.ndim, labels.dtype, description)
    block = np.asarray(labels[region])
    return edit_from_region(labels, region, np.where(block == label_id, 0, block), description)


def merge_labels_edit(labels: np.ndarray, ids: Iterable[int], into: int | None = None,
                      near=None) -> LabelEdit:  # fmt: skip
    """Give every pixel of the objects ``ids`` the single id ``into`` (default: the first
    non-zero id in ``ids``, i.e. the first object the user clicked). Background (0) in
    ``ids`` is ignored; ``into`` may be a new id. ``near``: where each was picked (one point
    per id, see :func:`object_region`)."""
    ids = [int(i) for i in ids]
    points = dict(zip(ids, near)) if near is not None else {}
    ids = list(dict.fromkeys(i for i in ids if i != 0))
    if into is None:
        if not ids:
            raise UserError("choose at least two objects to merge")
        into = ids[0]
    _check_object_id(into)
    description = f"merge {', '.join(map(str, ids))} into {into}"
    boxes = [object_region(labels, i, near=points.get(i)) for i in ids]
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return empty_edit(labels.ndim, labels.dtype, description)
    region = tuple(slice(min(b[a].start for b in boxes), max(b[a].stop for b in boxes))
                   for a in range(labels.ndim))  # fmt: skip
    block = np.asarray(labels[region])
    edit = edit_from_region(labels, region, np.where(np.isin(block, ids), into, block), description)
    # The object merged to is the user's decision as much as the pixels that joined it.
    return _also_reviewed(edit, region, (block == into) & np.isin(block, ids))


def split_object_edit(
    labels: np.ndarray,
    label_id: int,
    seeds: Sequence[Sequence[float]],
    *,
    image: np.ndarray | None = None,
    sampling: Sequence[float] | None = None,
    compactness: float = 2.0,
    first_new: int | None = None,
) -> LabelEdit:
    """Split ``label_id`` into one object per seed by a seeded watershed.

    Without ``image`` the watershed floods the negated distance transform of the object
    (``sampling``: pixel size per axis, for anisotropic stacks), which cuts at the necks of
    touching round objects. With ``image`` (same shape as ``labels``) it floods the
    inverted, lightly smoothed intensity, i.e. it cuts along the dark valleys between bright
    nuclei. Both landscapes are scaled to [-1, 0]; ``compactness`` adds that much again per
    object length of distance from a seed, so that a cut through an object without a neck
    falls between the seeds instead of at whichever seed sits higher (0: plain watershed).
    The first seed keeps ``label_id``; the others get fresh ids from ``first_new`` on
    (default: one above the largest id in ``labels``; pass it where ``labels`` is a part of
    bigger labels, such as one time point of a series, whose other parts hold other ids).
    Pixels of the object that no seed reaches (another connected piece) keep ``label_id``.
    """
    _check_object_id(label_id)
    if image is not None and np.shape(image) != labels.shape:
        raise ValueError(f"image of shape {np.shape(image)} does not match labels {labels.shape}")
    region = object_region(labels, label_id, margin=1, near=seeds[0] if len(seeds) else None)
    if region is None:
        raise UserError(f"there is no object {label_id} to split")
    block = np.asarray(labels[region])
    inside = block == label_id
    markers = _seed_markers(seeds, region, inside)
    if markers.max() < 2:
        raise UserError("click at least two different points inside the object to split it")
    landscape = _split_landscape(inside, region, image, sampling)
    from skimage.segmentation import watershed

    per_pixel = compactness / max(inside.shape)
    basins = watershed(landscape, markers, mask=inside, compactness=per_pixel)
    first_new = next_label_id(labels) if first_new is None else int(first_new)
    new_ids = np.concatenate([[label_id, label_id], first_new + np.arange(markers.max() - 1)])
    if new_ids[-1] > np.iinfo(labels.dtype).max:
        raise UserError(f"no free label ids left in a {labels.dtype} label image")
    new_block = np.where(inside, new_ids[basins].astype(labels.dtype), block)
    edit = edit_from_region(labels, region, new_block, f"split {label_id}")
    # The part that keeps the id is the user's decision as much as the parts cut off.
    return _also_reviewed(edit, region, inside & (new_block == label_id))


def fill_holes_edit(
    labels: np.ndarray, label_id: int | None = None, *, per_slice: bool = False, near=None
) -> LabelEdit:
    """Fill background holes enclosed by one object (``label_id``) or by each object (None).

    Only background pixels change, so objects nested in a hole are kept. With
    ``label_id=None`` a hole is filled when the single object around it encloses it alone;
    gaps enclosed jointly by several touching objects are left as they are. ``per_slice``
    (3 axes or more) fills holes in each block of the first axis: each 2D plane of a 3D
    stack, as seen when correcting it slice by slice, instead of only fully enclosed 3D
    cavities; each time point of a time series. ``near``: where the object was picked (see
    :func:`object_region`).
    """
    if label_id is not None:
        structure = _hole_structure(labels.ndim, per_slice)
        _check_object_id(label_id)
        region = object_region(labels, label_id, margin=1, near=near)
        if region is None:
            return empty_edit(labels.ndim, labels.dtype, f"fill holes of {label_id}")
        block = np.asarray(labels[region])
        filled = ndi.binary_fill_holes(block == label_id, structure=structure)
        new_block = np.where(filled & (block == 0), label_id, block).astype(labels.dtype)
        return edit_from_region(labels, region, new_block, f"fill holes of {label_id}")
    return drain(iter_fill_holes_edit(labels, per_slice=per_slice))


def relabel_sequential_edit(labels: np.ndarray) -> LabelEdit:
    """Renumber the objects 1..N in order of their current ids, keeping background 0."""
    return drain(iter_relabel_sequential_edit(labels))


def delete_object(labels: np.ndarray, label_id: int) -> np.ndarray:
    """``labels`` without object ``label_id`` (a new array). See :func:`delete_object_edit`."""
    return apply_edit(labels, delete_object_edit(labels, label_id))


def merge_labels(labels: np.ndarray, ids: Iterable[int], into: int | None = None) -> np.ndarray:
    """``labels`` with objects ``ids`` merged (a new array). See :func:`merge_labels_edit`."""
    return apply_edit(labels, merge_labels_edit(labels, ids, into))


def split_object(labels: np.ndarray, label_id: int, seeds, **options) -> np.ndarray:
    """``labels`` with ``label_id`` split at ``seeds`` (a new array). See
    :func:`split_object_edit` for ``image``, ``sampling`` and ``compactness``."""
    return apply_edit(labels, split_object_edit(labels, label_id, seeds, **options))


def fill_holes(labels: np.ndarray, label_id: int | None = None, *, per_slice: bool = False):
    """``labels`` with holes filled (a new array). See :func:`fill_holes_edit`."""
    return apply_edit(labels, fill_holes_edit(labels, label_id, per_slice=per_slice))


def relabel_sequential(labels: np.ndarray) -> np.ndarray:
    """``labels`` renumbered 1..N (a new array of the same dtype)."""
    return apply_edit(labels, relabel_sequential_edit(labels))


def _also_reviewed(edit: LabelEdit, region: tuple[slice, ...], unchanged: np.ndarray) -> LabelEdit:
    """``edit`` with the True pixels of ``unchanged`` (a mask over ``region``, pixels the
    edit leaves as they are) to be marked reviewed with its changed ones."""
    if edit.is_empty:
        return edit
    local = np.nonzero(unchanged)
    indices = tuple((i + s.start).astype(np.int64, copy=False) for i, s in zip(local, region))
    return replace(edit, also_reviewed=indices)


def _check_object_id(label_id: int) -> None:
    if int(label_id) <= 0:
        raise UserError(f"label {label_id} is background, not an object; click on an object")


def _to_index(coord: Sequence[float], shape: tuple[int, ...]) -> tuple[int, ...] | None:
    if len(coord) != len(shape):
        raise ValueError(f"a coordinate needs {len(shape)} numbers, got {len(coord)}")
    index = tuple(int(np.floor(float(c) + 0.5)) for c in coord)
    if any(not 0 <= i < n for i, n in zip(index, shape)):
        return None
    return index


def _seed_markers(seeds, region: tuple[slice, ...], inside: np.ndarray) -> np.ndarray:
    """Marker image over ``region``: 1, 2, ... at the seeds that fall inside the object."""
    markers = np.zeros(inside.shape, dtype=np.int32)
    count = 0
    for seed in seeds:
        if len(seed) != inside.ndim:
            raise ValueError(f"a seed needs {inside.ndim} coordinates, got {len(seed)}")
        local = _to_index([c - s.start for c, s in zip(seed, region)], inside.shape)
        if local is not None and inside[local] and markers[local] == 0:
            count += 1
            markers[local] = count
    return markers


def _split_landscape(inside, region, image, sampling) -> np.ndarray:
    """Watershed landscape over ``region`` scaled to [-1, 0]: low inside cells, high at cuts."""
    if image is None:
        height = ndi.distance_transform_edt(inside, sampling=sampling)
    else:
        height = ndi.gaussian_filter(np.asarray(image[region], dtype=np.float32), sigma=1.0)
    low, high = float(height[inside].min()), float(height[inside].max())
    return -(height - low) / max(high - low, 1e-12)
