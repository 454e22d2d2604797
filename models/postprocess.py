"""From network outputs to masks and instance labels, 2D and 3D.

Always run on the whole assembled probability map (never per tile), so that an object
crossing a tile border is one object. Everything is vectorised numpy/scipy/scikit-image.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from unet_studio.models.generators import drain

# Below half a pixel the h-maxima seeds follow the distance map's discretisation noise.
MIN_SEED_HEIGHT = 0.5
# The seed height when neither an absolute nor a relative one is given (pixels).
DEFAULT_SEED_HEIGHT = 2.0


def softmax(logits: np.ndarray, axis: int = 0) -> np.ndarray:
    """Probabilities from logits along ``axis`` (float32, numerically stable)."""
    logits = np.asarray(logits, dtype=np.float32)
    shifted = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float32)
    return (0.5 * (1.0 + np.tanh(0.5 * logits))).astype(np.float32)


def probabilities_from_logits(logits: np.ndarray) -> np.ndarray:
    """``(C, *spatial)`` logits -> probabilities: sigmoid for one channel, else softmax."""
    return sigmoid(logits) if logits.shape[0] == 1 else softmax(logits, axis=0)


def semantic_mask(probabilities: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """Class index per pixel ``(*spatial)`` uint8 from ``(C, *spatial)`` probabilities.

    One channel: 1 where the probability exceeds ``threshold``; several: the argmax.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.shape[0] == 1:
        return (probabilities[0] > threshold).astype(np.uint8)
    dtype = np.uint8 if probabilities.shape[0] <= 256 else np.int32
    return np.argmax(probabilities, axis=0).astype(dtype)


def foreground_mask(probabilities: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """Object pixels (foreground or boundary) from ``(3, *spatial)`` instance probabilities."""
    return (1.0 - np.asarray(probabilities[0], dtype=np.float32)) > threshold


def peak_markers(interior: np.ndarray, distance: np.ndarray, seed_height: float):
    """(markers, count): one marker per dome of the interior's distance map at least
    ``seed_height`` high (the h-maxima transform)."""
    from skimage.morphology import local_maxima

    # Domes lowered by seed_height, whose plateaus are the seeds (equal peaks joined above
    # the lowered level count once).
    lowered = np.maximum(distance - np.float32(seed_height), 0)
    domes = reconstruct_by_dilation(lowered, distance)
    # Only domes above zero: an image whose domes are all lower than seed_height is flat,
    # and a flat image is all maximum (each interior piece would become a seed).
    peaks = local_maxima(domes, allow_borders=True) & interior & (domes > 0)
    return label_peaks(peaks)


def label_peaks(peaks: np.ndarray):
    """(markers, count): the seed pixels of ``peak_markers`` as markers (touching seed
    pixels in any direction are one dome's plateau)."""
    structure = ndi.generate_binary_structure(peaks.ndim, peaks.ndim)
    return ndi.label(peaks, structure=structure)


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
    ndim = mask.ndim
    inner = (slice(1, -1),) * ndim
    padded = tuple(n + 2 for n in mask.shape)
    # A frame of zeros: never rises (its mask is 0), so neighbour offsets need no bounds.
    rising = np.zeros(padded, np.float32)
    rising[inner] = seed
    ceiling = np.zeros(padded, np.float32)
    ceiling[inner] = mask
    while True:
        grown = np.minimum(ndi.maximum_filter(rising, size=3, mode="constant"), ceiling)
        rose = grown > rising
        count = int(np.count_nonzero(rose))
        rising = grown
        if count == 0:
            return rising[inner]
        if count < rising.size // 20:
            break
    strides = np.cumprod((1, *padded[:0:-1]))[::-1]
    around = np.asarray([np.dot(step, strides) for step in np.ndindex((3,) * ndim)], np.intp)
    around -= around[len(around) // 2]  # offsets of the 3^n neighbourhood, centre 0
    neighbours = around[around != 0]
    flat, cap = rising.reshape(-1), ceiling.reshape(-1)
    changed, budget = np.flatnonzero(rose), work_budget * mask.size
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
            return _reconstruct_by_pieces(rising[inner], mask)
        new = np.minimum(flat[candidates[:, None] + around].max(axis=1), cap[candidates])
        up = new > flat[candidates]
        changed = candidates[up]
        flat[changed] = new[up]
    return rising[inner]


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


def _seeds(objects: np.ndarray, interior: np.ndarray, distance: np.ndarray,
           seed_height: float) -> np.ndarray:
    """One marker per dome of the interior's distance map, at least one per object part.

    Domes lower than ``seed_height`` (pixels) merge with their neighbour, so a round or
    ring-shaped object gives one seed while two touching ones joined by a neck give two.
    """
    markers, count = peak_markers(interior, distance, seed_height)
    parts, n_parts = ndi.label(objects)
    if n_parts:
        # A part without a peak (all boundary, or too thin for a dome) is its own object.
        has_seed = labels_where(markers > 0, parts, n_parts)[1:]
        orphan = np.concatenate([[False], ~has_seed])[parts]
        markers[orphan] = parts[orphan] + count
    return markers


def labels_where(mask: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Which of the labels 0..count have a pixel in ``mask`` (bool per label; sort-free,
    unlike ``ndi.maximum`` with an index, which sorts every pixel by label)."""
    found = np.zeros(count + 1, bool)
    found[labels[mask]] = True
    return found


def interior_depths(interior: np.ndarray, distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(deepest distance, size in pixels) of each interior component (face connectivity):
    what ``typical_radius`` is the weighted median of, gathered piece by piece when an
    image is labelled in batches."""
    components, count = ndi.label(interior)
    if not count:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    depths = np.zeros(count + 1, np.float32)
    inside = components > 0
    np.maximum.at(depths, components[inside], distance[inside])
    return depths[1:], np.bincount(components.ravel(), minlength=count + 1)[1:]


def radius_from_depths(depths: np.ndarray, sizes: np.ndarray) -> float:
    return _weighted_median(depths, sizes) if depths.size else 0.0


def typical_radius(interior: np.ndarray, distance: np.ndarray) -> float:
    """Depth of the interior that a typical interior pixel lies in: the pixel-weighted median
    over interior components of their deepest distance, 0 without interior. Like
    ``typical_object_size``, specks hardly move it."""
    return radius_from_depths(*interior_depths(interior, distance))


def resolve_seed_height(seed_height: float | None, seed_height_fraction: float,
                        interior: np.ndarray, distance: np.ndarray) -> float:
    """The h of the h-maxima seeds, in distance units.

    An explicit ``seed_height`` wins. Otherwise ``seed_height_fraction`` x the typical
    interior radius: a fixed depth right for large nuclei (which need a deep dip before a
    neck counts as two objects, or their texture splits them) merges small touching nuclei,
    whose dips are never that deep, so the depth follows the objects' scale. Neither:
    ``DEFAULT_SEED_HEIGHT``.
    """
    if seed_height is not None:
        return float(seed_height)
    if seed_height_fraction > 0:
        return max(MIN_SEED_HEIGHT, seed_height_fraction * typical_radius(interior, distance))
    return DEFAULT_SEED_HEIGHT


def remove_small_objects(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Labels with fewer than ``min_size`` pixels set to 0 (in place, returned)."""
    if min_size > 1 and labels.any():
        sizes = np.bincount(labels.ravel())
        small = sizes < min_size
        small[0] = False
        labels[small[labels]] = 0
    return labels


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value below which half the total weight lies (values and weights of equal length)."""
    order = np.argsort(values, kind="stable")
    covered = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(covered, covered[-1] / 2)])


def typical_object_size(labels: np.ndarray) -> float:
    """Size of the object that a typical object pixel belongs to (the pixel-weighted median
    of the object sizes), 0 without objects. Many tiny specks hardly move it: they hold
    few pixels, unlike a plain median, which they can drag down to their own size."""
    sizes = np.bincount(labels.ravel())[1:]
    sizes = sizes[sizes > 0]
    return _weighted_median(sizes, sizes) if sizes.size else 0.0


def remove_small_relative(labels: np.ndarray, fraction: float) -> np.ndarray:
    """Labels smaller than ``fraction`` x ``typical_object_size`` set to 0 (in place, returned).

    A size floor that follows the data: specks of out-of-focus haze in a 3D stack are tiny
    next to its nuclei, whatever the magnification, while a fixed ``min_size`` right for one
    stack removes real nuclei in another.
    """
    if fraction > 0 and labels.any():
        sizes = np.bincount(labels.ravel())
        small = sizes < fraction * typical_object_size(labels)
        small[0] = False
        labels[small[labels]] = 0
    return labels


# Largest ball (pixels of its box) for which ``within_distance`` dilates instead of taking
# the distance map: a dilation by a few neighbours is several times cheaper.
DILATION_BOX = 7**3


def within_distance(mask: np.ndarray, reach: float,
                    sampling: tuple[float, ...] | None = None) -> np.ndarray:
    """Pixels at most ``reach`` (sampling units) from a pixel of ``mask``: the same as
    ``distance_transform_edt(~mask, sampling) <= reach``, by a dilation with that ball where
    it is small."""
    cells = np.asarray(sampling if sampling is not None else (1.0,) * mask.ndim, float)
    radii = [int(reach // cell) for cell in cells]
    if not mask.any():
        return np.zeros(mask.shape, bool)
    if math.prod(2 * r + 1 for r in radii) > DILATION_BOX:
        return ndi.distance_transform_edt(~mask, sampling=sampling) <= reach
    offsets = np.indices([2 * r + 1 for r in radii]) - np.reshape(radii, (-1,) + (1,) * mask.ndim)
    ball = ((offsets * cells.reshape((-1,) + (1,) * mask.ndim)) ** 2).sum(axis=0) <= reach**2
    return ndi.binary_dilation(mask, structure=ball)


def _near_interior(objects: np.ndarray, interior: np.ndarray, grow: float,
                   sampling: tuple[float, ...] | None) -> np.ndarray:
    """Object pixels within ``grow`` (sampling units) of the interior, plus whole object parts
    that have no interior at all (thin objects that are all boundary)."""
    near = within_distance(interior, grow, sampling)
    parts, n_parts = ndi.label(objects)
    if n_parts:
        has_interior = labels_where(interior, parts, n_parts)[1:]
        near |= np.concatenate([[False], ~has_interior])[parts]
    return objects & near


def enclosed_background(mask: np.ndarray) -> np.ndarray:
    """Background pixels that ``mask`` encloses (``binary_fill_holes(mask) & ~mask``): the
    pieces of background (face connectivity) that do not reach the array's border. One
    labelling instead of scipy's fill, which floods from the border one dilation at a time
    (~3x slower on a labelling batch)."""
    parts, count = ndi.label(~mask)
    outside = np.zeros(count + 1, bool)
    outside[0] = True  # (the mask's own pixels)
    for axis in range(mask.ndim):
        for index in (0, -1):
            outside[np.take(parts, index, axis=axis)] = True
    return ~outside[parts]


def fill_label_holes(labels: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Background enclosed by objects given to the nearest object (in place, returned);
    ``keep``: background pixels never filled (other objects' pixels, when labelling some
    objects of an image at a time)."""
    holes = enclosed_background(labels > 0)
    if keep is not None:
        holes &= ~keep
    if not holes.any():
        return labels
    box = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in ndi.find_objects(holes.astype(np.uint8))[0])
    crop = labels[box]
    # Each hole pixel takes the label of the nearest object pixel (only within the holes' box).
    _, nearest = ndi.distance_transform_edt(crop == 0, return_indices=True)
    filled = crop[tuple(nearest)]
    crop[holes[box]] = filled[holes[box]]
    return labels


def instance_masks(probabilities: np.ndarray, *, threshold: float = 0.5):
    """(objects, interior) boolean masks ``(*spatial)`` from ``(3, *spatial)`` probabilities.

    Objects: not background. Interior: object pixels where foreground beats boundary. These
    two bits per pixel are all the watershed needs, so a pipeline can keep them instead of
    the float probabilities of a whole stack.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.shape[0] != 3:
        raise ValueError(
            "instance labels need 3 channels (background, foreground, boundary), "
            f"got {probabilities.shape[0]}"
        )
    objects = foreground_mask(probabilities, threshold=threshold)
    return objects, objects & (probabilities[1] > probabilities[2])


def labels_from_masks(objects: np.ndarray, interior: np.ndarray, *, min_size: int = 16,
                      seed_height: float | None = None, seed_height_fraction: float = 0.0,
                      fill_holes: bool = True, sampling: tuple[float, ...] | None = None,
                      grow: float | None = None, min_size_fraction: float = 0.0,
                      batch_pixels: int | None = None,
                      giant_pixels: int | None = None) -> np.ndarray:
    """Instance labels ``(*spatial)`` int32 (1..N) from object and interior masks.

    The interior's distance map seeds a watershed inside the objects, which splits touching
    objects along their boundary; then objects under ``min_size`` pixels go, enclosed holes
    are filled, objects under ``min_size_fraction`` x the typical object size go and the
    labels are made sequential. ``sampling``: pixel size per axis, so that anisotropic stacks get true
    distances. ``grow``: how far (in ``sampling`` units, pixels without it) an object reaches
    from its interior into the predicted boundary band; None gives it the whole band. The
    network's boundary class is trained as a ring one pixel wide, but predicted as a blurred
    band several pixels wide, so the whole band makes outlines too loose; ``grow=1``
    restores the trained outline. ``seed_height`` / ``seed_height_fraction``: how deep the
    dip between two touching objects must be to split them (see ``resolve_seed_height``).

    Runs on batches of connected object groups (``batched_labels``), so a stack too large
    for one pass gives the same labels in bounded memory (``batch_pixels``,
    ``giant_pixels``: see there; None: its defaults).
    """
    return drain(iter_labels_from_masks(
        objects, interior, min_size=min_size, seed_height=seed_height,
        seed_height_fraction=seed_height_fraction, fill_holes=fill_holes, sampling=sampling,
        grow=grow, min_size_fraction=min_size_fraction, batch_pixels=batch_pixels,
        giant_pixels=giant_pixels))


def iter_labels_from_masks(objects: np.ndarray, interior: np.ndarray, **options):
    """``labels_from_masks`` (same options) as a generator: yields the fraction done (0-1)
    after each batch of objects, where a run can stop (close the generator), and returns
    the labels."""
    from unet_studio.models.batched_labels import iter_labels_in_batches

    for size in ("batch_pixels", "giant_pixels"):  # None: the defaults of batched_labels
        if options.get(size) is None:
            options.pop(size, None)
    return (yield from iter_labels_in_batches(objects, interior, **options))


def instance_labels(probabilities: np.ndarray, *, threshold: float = 0.5, min_size: int = 16,
                    seed_height: float | None = None, seed_height_fraction: float = 0.0,
                    fill_holes: bool = True, sampling: tuple[float, ...] | None = None,
                    grow: float | None = None, min_size_fraction: float = 0.0) -> np.ndarray:
    """Instance labels ``(*spatial)`` int32 from ``(3, *spatial)`` probabilities.

    Channels: (background, foreground, boundary); see ``instance_masks`` and
    ``labels_from_masks`` for the steps, 2D and 3D alike.
    """
    objects, interior = instance_masks(probabilities, threshold=threshold)
    return labels_from_masks(objects, interior, min_size=min_size, seed_height=seed_height,
                             seed_height_fraction=seed_height_fraction, fill_holes=fill_holes,
                             sampling=sampling, grow=grow, min_size_fraction=min_size_fraction)
