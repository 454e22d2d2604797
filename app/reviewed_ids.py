"""How a new prediction meets the reviewed regions (``reviewed.ReviewedRegions``): reviewed
pixels keep the user's labels, and a predicted object elsewhere whose id clashes with an
object kept there gets a fresh id, so two different objects never share a label. Qt-free.
"""

from __future__ import annotations

import numpy as np


def protected(regions, new_prediction: np.ndarray, current_labels: np.ndarray) -> np.ndarray:
    """Labels to show after a new prediction: ``current_labels`` inside reviewed regions,
    ``new_prediction`` elsewhere (a new array in ``current_labels``' dtype).

    Predicted objects outside whose ids clash with an object kept inside get fresh ids,
    so that two different objects never share a label.
    """
    if np.shape(new_prediction) != regions.shape or np.shape(current_labels) != regions.shape:
        raise ValueError(f"protect needs arrays of shape {regions.shape}")
    out = np.asarray(new_prediction).astype(current_labels.dtype, copy=True)
    if not regions.any():
        return out
    keep = regions.mask
    kept_ids = np.unique(current_labels[keep])
    kept_ids = kept_ids[kept_ids != 0]
    clash = np.isin(out, kept_ids) & ~keep
    if clash.any():
        clashing = np.unique(out[clash])
        first_free = max(int(current_labels.max()), int(out.max())) + 1
        out[clash] = (first_free + np.searchsorted(clashing, out[clash])).astype(out.dtype)
    out[keep] = current_labels[keep]
    return out


def renumber_clashes(regions, labels: np.ndarray, *, region: tuple[slice, ...] | None = None,
                     slab_pixels: int = 1 << 22) -> None:
    """In place, what ``protected(regions, labels, labels)`` returns: objects outside the
    reviewed regions whose ids clash with an object kept inside get fresh ids. A slab of
    planes at a time, for labels a prediction has just written around the reviewed pixels
    (a whole stack: no copy of it, which may not fit in memory twice).

    ``region`` (a slice per axis; default everything): the part a prediction wrote, the
    only part renumbered (clashing with objects kept anywhere). Outside it the labels
    were not predicted again: an object there sharing an id with a kept one is the same
    object (a track going on in other time points, a nucleus in other planes), and
    renumbering it split it."""
    from unet_studio.models.slab_label import slabs

    if np.shape(labels) != regions.shape:
        raise ValueError(f"renumber_clashes needs labels of shape {regions.shape}")
    if not regions.any():
        return
    region = region or tuple(slice(None) for _ in regions.shape)
    view, keep = labels[region], regions.mask[region]  # (basic slices: views)
    parts = list(slabs(view.shape, slab_pixels))
    kept_ids: set[int] = set()  # (kept anywhere: an object the user made elsewhere
    for core, _ in slabs(regions.shape, slab_pixels):  # while the region was predicted)
        kept_ids.update(np.unique(np.asarray(labels[core])[regions.mask[core]]).tolist())
    kept_ids.discard(0)
    kept = np.asarray(sorted(kept_ids), labels.dtype)
    clashing: set[int] = set()
    for core, _ in parts:
        block = np.asarray(view[core])
        clashing.update(np.unique(block[np.isin(block, kept) & ~keep[core]]).tolist())
    if not clashing:
        return
    # Fresh ids above every id of the labels, the region's and the rest's.
    top = max(int(np.asarray(labels[core]).max()) for core, _ in slabs(regions.shape, slab_pixels))
    renamed = np.asarray(sorted(clashing), labels.dtype)
    for core, _ in parts:
        block = view[core]
        clash = np.isin(block, renamed) & ~keep[core]
        block[clash] = (top + 1 + np.searchsorted(renamed, block[clash])).astype(labels.dtype)
