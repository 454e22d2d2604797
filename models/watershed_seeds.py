"""The watershed's seeds: one per dome of the interior's distance map (h-maxima), and how
high a dome must be to count (the seed height, fixed or following the objects' scale).

Separate from ``models.postprocess`` because the batched labelling (``batched_labels``,
``giant_groups``) seeds each batch of objects itself, with a seed height settled over the
whole image from the interior depths gathered batch by batch.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from unet_studio.models.label_tallies import labels_where, weighted_median
from unet_studio.models.reconstruction import reconstruct_by_dilation

# Below half a pixel the h-maxima seeds follow the distance map's discretisation noise.
MIN_SEED_HEIGHT = 0.5
# The seed height when neither an absolute nor a relative one is given (pixels).
DEFAULT_SEED_HEIGHT = 2.0


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


def watershed_seeds(objects: np.ndarray, interior: np.ndarray, distance: np.ndarray,
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
    return weighted_median(depths, sizes) if depths.size else 0.0


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
