"""Adding an object the network missed with one click (A over it, or the Add object tool).

A missed nucleus is the commonest correction after merges and splits; painting it takes a
few dozen brush strokes per slice. Here the object is found from the image around the
click, in as many dimensions as the labels have (a whole nucleus of a 3D stack at once):

- the search window spans about three typical objects (their size measured from the
  labelled objects near the click; it doubles while the object found reaches its edge);
- the image, lightly smoothed, is thresholded at the window's Otsu threshold, or, for an
  object on the wrong side of it (a dim nucleus among bright ones), halfway between the
  object's own level (the median near the click) and the background's (a low percentile of
  the unlabelled pixels, a high one for dark objects on a bright background);
- the object is the connected part holding the click, of unlabelled pixels only (it never
  takes pixels of another object), its holes filled (but never unlabelled pixels inside
  another object it surrounds: it stays one connected piece); when it is much larger than the
  typical object (touching neighbours the network missed too), it is cut along the dips of
  its distance map and the part under the click kept.

It suits objects that stand out from their surroundings by intensity (fluorescent nuclei,
organelles); where they do not (a dense phase-contrast colony), it says so, and the brush
remains.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit, edit_from_region
from unet_studio.app.object_sums import compact_ids, object_boxes

NEIGHBOURHOOD = 256  # pixels per axis around the click where typical sizes are measured
DEFAULT_EXTENT = 24.0  # pixels: the typical object size when no object is labelled nearby
GROWTH_TRIES = 3  # window doublings before an object without an edge is given up
LEVEL = 0.5  # the threshold between background (0) and the object's level (1)
SPLIT_ABOVE = 1.8  # an object larger than this many typical objects is cut
MOST_OF_WINDOW = 0.6  # what fills more of its window than this is not one object


def add_object_edit(labels: np.ndarray, image: np.ndarray, point, label_id: int, *,
                    sampling=None, typical=None) -> LabelEdit:  # fmt: skip
    """The edit adding the object under ``point`` (labels coordinates, rounded) as
    ``label_id``; ``image``: the intensities, same shape as ``labels``; ``sampling``: the
    pixel size per axis (None: cubic pixels); ``typical``: the objects' typical size as
    :func:`typical_size` gives it (None: measured from the labels near ``point``). Raises
    :class:`UserError` when the pointer is on an object already or no object stands out."""
    if image.shape != labels.shape:
        raise ValueError(f"image {image.shape} and labels {labels.shape} differ in shape")
    point = tuple(int(round(float(c))) for c in point)
    if any(not 0 <= p < n for p, n in zip(point, labels.shape)):
        raise UserError("the pointer is outside the image")
    if labels[point] != 0:
        raise UserError(f"there is object {int(labels[point])} here already")
    extent, area = typical if typical is not None else typical_size(labels, point)
    region, found = found_object(image, labels, point, extent, sampling)
    local = tuple(p - s.start for p, s in zip(point, region))
    if area is not None and found.sum() > SPLIT_ABOVE * area:
        found = _part_under(found, local, extent, sampling)
    block = np.asarray(labels[region])
    # (the holes filled may hold another object: it stays)
    added = _piece_at(found & (block == 0), local)
    new = np.where(added, label_id, block).astype(labels.dtype, copy=False)
    return edit_from_region(labels, region, new, f"add object {label_id}")


def typical_size(labels: np.ndarray, point) -> tuple[np.ndarray, float | None]:
    """(extent per axis in pixels, area or volume in pixels: None when unknown) of the
    median labelled object within :data:`NEIGHBOURHOOD` pixels of ``point``."""
    near = _window(point, NEIGHBOURHOOD // 2, labels.shape)
    block = np.asarray(labels[near])
    inside = block > 0
    # (the ids compacted to 0..n-1 first: tables by id would be as long as the largest id,
    # gigabytes for one id of 1.5e9 from another tool)
    present, index = compact_ids(block[inside])
    if not present.size:
        return np.full(labels.ndim, DEFAULT_EXTENT), None
    starts, stops = object_boxes(inside, index, present.size)
    sizes = np.bincount(index, minlength=present.size)
    return np.median((stops - starts).astype(np.float64), axis=0), float(np.median(sizes))


def found_object(image, labels, point, extent, sampling) -> tuple[tuple[slice, ...], np.ndarray]:
    """(window, mask in it) of the object at ``point``: see the module's description."""
    half = np.maximum(1.5 * np.asarray(extent), 12).astype(int)
    sigma = _smoothing(sampling, labels.ndim)
    for _ in range(GROWTH_TRIES):
        window = tuple(_window(point, h, labels.shape)[a] for a, h in enumerate(half))
        local = tuple(p - s.start for p, s in zip(point, window))
        smooth = ndi.gaussian_filter(np.asarray(image[window], np.float32), sigma)
        free = np.asarray(labels[window]) == 0
        inside = _brighter_or_darker(smooth, free, local, extent)
        parts, _ = ndi.label(inside & free)
        found = parts == parts[local]
        if found.sum() < 4:
            raise UserError("nothing stands out under the pointer: paint the object instead")
        # Filling most of the window: the background, all of a flat image, or (the window
        # clipped by the image's edge) a large object cut by it; reaching the window's edge:
        # larger than the window. A wider window tells (its background sets the threshold).
        if (found.sum() <= MOST_OF_WINDOW * found.size
                and not _reaches_window_edge(found, window, labels.shape)):
            return window, ndi.binary_fill_holes(found)
        half *= 2
    raise UserError("no object stands out from its surroundings under the pointer (what is "
                    "there reaches far beyond an object's size): paint it instead")  # fmt: skip


def _brighter_or_darker(smooth, free, local, extent) -> np.ndarray:
    """The pixels on the object's side of the threshold: the window's Otsu threshold when
    the object lies on its far side, else (a dim object among bright ones) halfway between
    the object's level and the background's."""
    from skimage.filters import threshold_otsu

    radius = np.maximum((np.asarray(extent) / 4).astype(int), 1)
    near = tuple(slice(max(q - r, 0), q + r + 1) for q, r in zip(local, radius))
    level = float(np.median(smooth[near]))
    unlabelled = smooth[free]
    bright = level >= float(np.median(unlabelled))
    otsu = float(threshold_otsu(smooth)) if np.ptp(smooth) > 0 else level
    if (level > otsu) if bright else (level < otsu):
        threshold = otsu
    else:
        background = float(np.percentile(unlabelled, 10 if bright else 90))
        threshold = background + LEVEL * (level - background)
    return smooth >= threshold if bright else smooth <= threshold


def _part_under(found, local, extent, sampling) -> np.ndarray:
    """The piece of ``found`` under ``local`` after cutting it along the dips of its
    distance map (touching objects found as one)."""
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    distance = ndi.distance_transform_edt(np.pad(found, 1), sampling=sampling)
    distance = distance[tuple(slice(1, -1) for _ in range(found.ndim))]
    # The seeds: domes of the distance map rising over a fifth of a typical radius.
    spacing = 1.0 if sampling is None else float(min(sampling))
    height = max(0.1 * float(np.min(extent)) * spacing, spacing)
    seeds, count = ndi.label(h_maxima(distance, height))
    if count < 2:
        return found
    parts = watershed(-distance, seeds, mask=found)
    return parts == parts[local] if parts[local] else found


def _piece_at(mask, local) -> np.ndarray:
    """The connected piece of ``mask`` holding ``local``, connected in all of ``mask``'s
    dimensions. Filling the found object's holes also fills an object it surrounds, and
    that object's own holes (pixels erased in it): those stay unlabelled, apart from the
    object added, which must be one piece."""
    pieces, _ = ndi.label(mask)
    return pieces == pieces[local]


def _reaches_window_edge(found, window, shape) -> bool:
    """Does ``found`` touch a side of ``window`` that is not the image's own edge?"""
    for axis in range(found.ndim):
        if window[axis].start > 0 and np.take(found, 0, axis=axis).any():
            return True
        if window[axis].stop < shape[axis] and np.take(found, -1, axis=axis).any():
            return True
    return False


def _window(point, half, shape) -> tuple[slice, ...]:
    halves = np.broadcast_to(np.asarray(half), (len(shape),))
    return tuple(slice(max(p - int(h), 0), min(p + int(h) + 1, n))
                 for p, h, n in zip(point, halves, shape))  # fmt: skip


def _smoothing(sampling, ndim) -> tuple[float, ...]:
    """A one-pixel Gaussian in the finest axes, proportionally less along coarser ones."""
    if sampling is None:
        return (1.0,) * ndim
    finest = min(float(s) for s in sampling)
    return tuple(finest / float(s) for s in sampling)


class FixedIndexView:
    """``data`` seen with some axes held at one index (a time point, a channel): slicing it
    reads only the window asked for, as lazy arrays (memory-mapped, Zarr) allow, never the
    whole stack."""

    def __init__(self, data, fixed: dict[int, int]):
        self.data, self.fixed = data, dict(fixed)
        self.shape = tuple(n for axis, n in enumerate(data.shape) if axis not in self.fixed)

    def __getitem__(self, window) -> np.ndarray:
        window = iter(window if isinstance(window, tuple) else (window,))
        key = tuple(self.fixed[axis] if axis in self.fixed else next(window, slice(None))
                    for axis in range(len(self.data.shape)))  # fmt: skip
        return np.asarray(self.data[key])


def contrast_channel(channels, point) -> int:
    """Of the images ``channels`` (each with the labels' shape), the index of the one where
    ``point`` stands out most from its surroundings (the nucleus channel for a click on a
    nucleus)."""
    window = _window(point, NEIGHBOURHOOD // 8, channels[0].shape)
    near = tuple(slice(max(p - s.start - 2, 0), p - s.start + 3) for p, s in zip(point, window))
    contrasts = []
    for channel in channels:
        block = np.asarray(channel[window], np.float32)
        level = float(np.median(block[near]))  # (a few pixels: noise alone does not stand out)
        contrasts.append(abs(level - float(np.median(block))) / (float(block.std()) or 1.0))
    return int(np.argmax(contrasts))
