"""Grey-scale reconstruction by dilation, the slow step of the h-maxima watershed seeds.

Separate from the seeds (``models.watershed_seeds``) because it is a general morphological
operation with its own speed trade-offs: ``skimage.morphology.reconstruction`` sorts every
pixel (seed and mask, twice), most of a labelling batch's time, while here only the pixels
that still rise are followed, with skimage's as the fallback for the cases that would take
too many steps.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from unet_studio.models.label_tallies import labels_where


def reconstruct_by_dilation(seed: np.ndarray, mask: np.ndarray, *,
                            work_budget: float = 0.5) -> np.ndarray:
    """``skimage.morphology.reconstruction(seed, mask)`` (by dilation, full connectivity)
    for ``0 <= seed <= mask`` (float32), the same values, by geodesic dilation that follows
    only the pixels that still rise.

    Why not skimage's: it sorts every pixel (seed and mask, twice), most of a labelling
    batch's time, while in the h-maxima of a distance map (seed = mask - h) values rise only
    near the tops of the domes, a few pixels from where they start. So: whole-array steps
    (``min(max over the 3^n neighbourhood, mask)``) while many pixels rise, then steps over
    the neighbours of the pixels that rose last. A long gentle ridge (values carried far,
    a pixel a step) would take many steps: past ``work_budget`` x the pixel count of
    visited pixels the rest is left to the sorting reconstruction, from the values reached
    (the same result: the reconstruction of any values between seed and result is the
    result)."""
    inner = (slice(1, -1),) * mask.ndim
    ceiling = _framed(mask)
    rising, rose = _whole_array_steps(_framed(seed), ceiling)
    if _frontier_steps(rising, ceiling, np.flatnonzero(rose), work_budget * mask.size):
        return rising[inner]
    return _reconstruct_by_pieces(rising[inner], mask)


def _framed(values: np.ndarray) -> np.ndarray:
    """``values`` (float32) in a frame of zeros one pixel wide: the frame never rises (its
    mask is 0), so neighbour offsets need no bounds."""
    framed = np.zeros(tuple(n + 2 for n in values.shape), np.float32)
    framed[(slice(1, -1),) * values.ndim] = values
    return framed


def _whole_array_steps(rising: np.ndarray, ceiling: np.ndarray):
    """(values, pixels that rose in the last step): whole-array dilation steps until fewer
    than 1 pixel in 20 rises (none rose when it has settled)."""
    while True:
        grown = np.minimum(ndi.maximum_filter(rising, size=3, mode="constant"), ceiling)
        rose = grown > rising
        count = int(np.count_nonzero(rose))
        rising = grown
        if count == 0 or count < rising.size // 20:
            return rising, rose


def _frontier_steps(rising: np.ndarray, ceiling: np.ndarray, changed: np.ndarray,
                    budget: float) -> bool:
    """Dilation steps over the neighbours of the pixels ``changed`` (flat indices) in
    ``rising`` (in place) until none rises: False when more than ``budget`` pixels would be
    visited first (``rising`` then holds the values reached)."""
    around = _neighbourhood_offsets(rising.shape)
    neighbours = around[around != 0]
    flat, cap = rising.reshape(-1), ceiling.reshape(-1)
    slot = np.empty(flat.size, np.int32)  # for dropping repeats without sorting
    while changed.size:
        candidates = (changed[:, None] + neighbours).ravel()
        candidates = candidates[cap[candidates] > flat[candidates]]  # (below their ceiling)
        # Each pixel once: of the entries naming one pixel, the last written to its slot.
        order = np.arange(candidates.size, dtype=np.int32)
        slot[candidates] = order
        candidates = candidates[slot[candidates] == order]
        budget -= candidates.size
        if budget < 0:
            return False
        new = np.minimum(flat[candidates[:, None] + around].max(axis=1), cap[candidates])
        up = new > flat[candidates]
        changed = candidates[up]
        flat[changed] = new[up]
    return True


def _neighbourhood_offsets(shape: tuple[int, ...]) -> np.ndarray:
    """Flat-index offsets of the 3^n neighbourhood in a C-ordered array of ``shape``,
    the centre (offset 0) in the middle."""
    strides = np.cumprod((1, *shape[:0:-1]))[::-1]
    around = np.asarray([np.dot(step, strides) for step in np.ndindex((3,) * len(shape))],
                        np.intp)
    return around - around[len(around) // 2]


def _reconstruct_by_pieces(seed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``skimage.morphology.reconstruction(seed, mask)`` (by dilation, full connectivity)
    for ``0 <= seed <= mask``, one connected piece of ``mask > 0`` at a time in its box.

    The same values: nothing spreads through a pixel where ``mask`` is 0, and a piece with
    no seed above 0 stays 0. Faster: the reconstruction sorts every pixel it is given
    (twice), so giving it only the pieces that hold a seed, each in its box, leaves out the
    background and the specks, most of a crop."""
    from skimage.morphology import reconstruction

    full = ndi.generate_binary_structure(mask.ndim, mask.ndim)
    pieces, count = ndi.label(mask > 0, structure=full)
    result = np.zeros(mask.shape, np.float32)
    if not count:
        return result
    seeded = labels_where(seed > 0, pieces, count)
    boxes = [(index, box) for index, box in enumerate(ndi.find_objects(pieces), 1) if seeded[index]]
    if sum(math.prod(s.stop - s.start for s in box) for _, box in boxes) > mask.size // 2:
        # Dense pieces (a confluent sheet): their boxes overlap, one pass is cheaper.
        return reconstruction(seed, mask, method="dilation").astype(np.float32, copy=False)
    for index, box in boxes:
        own = pieces[box] == index
        part = reconstruction(np.where(own, seed[box], 0), np.where(own, mask[box], 0),
                              method="dilation")
        result[box][own] = part[own]
    return result
