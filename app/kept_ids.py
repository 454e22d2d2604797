"""Ids across the edge of a reviewed region, in space (Qt-free).

A new prediction keeps the reviewed pixels as they are and writes its own objects around
them. A nucleus that the edge of a reviewed region cuts (a reviewed plane of a stack, the
box an edit marked around the object edited) is then one object in two parts: the kept part
with the reviewed id, the new part with the engine's id, so measurements, counts and
colours show two objects. Here a new object takes the id of the kept object it continues
across the edge. Time series are left to ``time_ids.adopt_kept_ids`` (tracks over time).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from unet_studio.app.label_edit import bounding_box
from unet_studio.models.id_pairs import distinct_pairs
from unet_studio.models.slab_label import SLAB_PIXELS, slabs


def adopt_touching_ids(labels: np.ndarray, kept: np.ndarray, *, slab_pixels: int = SLAB_PIXELS) -> None:
    """In place: each new object (outside ``kept``, the reviewed pixels, same shape as
    ``labels``) that continues a kept object across the edge of the reviewed region takes
    its id. Continues: of the faces each has across the edge with objects of the other
    side, more than half are with the other (each is the other's main partner); a kept id
    goes to one new object, the one with the most faces. Kept pixels never change, and
    the ids of new objects differ from kept ids beforehand (``renumber_clashes``)."""
    # The faces across the edge lie in the reviewed box grown by a pixel: only that is read
    # for them; an object taking a kept id is renamed wherever it is.
    box = bounding_box(np.asarray(kept), margin=1)
    if box is None:
        return
    contacts = edge_contacts(labels[box], kept[box], slab_pixels=slab_pixels)
    if not contacts:
        return
    new_total, kept_total = Counter(), Counter()
    for (new, old), faces in contacts.items():
        new_total[new] += faces
        kept_total[old] += faces
    renames: dict[int, int] = {}
    given: set[int] = set()
    for (new, old), faces in sorted(contacts.items(), key=lambda item: -item[1]):
        if new in renames or old in given:
            continue
        if 2 * faces > new_total[new] and 2 * faces > kept_total[old]:
            renames[new] = old
            given.add(old)
    _rename_outside(labels, kept, renames, slab_pixels)


def edge_contacts(labels: np.ndarray, kept: np.ndarray, *,
                  slab_pixels: int = SLAB_PIXELS) -> dict[tuple[int, int], int]:
    """{(new id, kept id): faces where the two touch across the edge of ``kept``}, read a
    slab of planes at a time (with the next plane, for the faces between slabs)."""

    counts: Counter = Counter()
    size = labels.shape[0]
    for core, _ in slabs(labels.shape, slab_pixels):
        start, stop = core[0].start, core[0].stop
        reach = (slice(start, min(stop + 1, size)), *core[1:])
        block, keep = np.asarray(labels[reach]), np.asarray(kept[reach])
        inner = stop - start  # (planes of this slab; the one after is only a neighbour)
        for axis in range(labels.ndim):
            first = [slice(None)] * labels.ndim
            second = [slice(None)] * labels.ndim
            first[axis], second[axis] = slice(0, -1), slice(1, None)
            if axis:
                first[0] = second[0] = slice(0, inner)
            _count(block[tuple(first)], keep[tuple(first)],
                   block[tuple(second)], keep[tuple(second)], counts)  # fmt: skip
    return dict(counts)


def _count(a: np.ndarray, keep_a: np.ndarray, b: np.ndarray, keep_b: np.ndarray,
           counts: Counter) -> None:
    """Add the faces between neighbours ``a`` and ``b`` on opposite sides of the edge."""
    edge = (keep_a != keep_b) & (a > 0) & (b > 0)
    if not edge.any():
        return
    new = np.where(keep_a[edge], b[edge], a[edge])
    old = np.where(keep_a[edge], a[edge], b[edge])
    # (any ids: the user's kept ones may be past 2**31, imported from another tool)
    news, olds, faces = distinct_pairs(new, old, counts=True)
    for pair_new, pair_old, n in zip(news.tolist(), olds.tolist(), faces.tolist()):
        counts[(pair_new, pair_old)] += n


def _rename_outside(labels: np.ndarray, kept: np.ndarray, renames: dict[int, int],
                    slab_pixels: int) -> None:
    """Ids of ``labels`` renamed by ``renames`` outside ``kept`` (in place, in slabs)."""

    if not renames:
        return
    old = np.asarray(sorted(renames), labels.dtype)
    new = np.asarray([renames[i] for i in old.tolist()], labels.dtype)
    for core, _ in slabs(labels.shape, slab_pixels):
        block = labels[core]
        hit = np.isin(block, old) & ~np.asarray(kept[core])
        if hit.any():
            block[hit] = new[np.searchsorted(old, block[hit])]


def keep_reviewed(labels: np.ndarray, current: np.ndarray | None, regions,
                  target: tuple[slice, ...], *, instances: bool = True) -> np.ndarray:
    """``labels`` (a new prediction written into ``target`` of a copy of ``current``, the
    labels shown) with the reviewed pixels of ``current`` (``regions``: its
    ReviewedRegions) kept and the new objects whose ids clash with kept ones renumbered,
    inside ``target`` only: what ``ReviewedRegions.protect`` does to a whole array, but
    objects outside the target were not predicted again and keep their ids (a nucleus
    going on in other planes or time points under a reviewed id is the same nucleus).
    ``instances``: False for a class map (its values are classes: nothing is renumbered)."""
    if (current is None or regions is None or not regions.any()
            or not np.shape(labels) == np.shape(current) == regions.shape):  # fmt: skip
        return labels
    labels = np.asarray(labels).astype(current.dtype, copy=False)
    np.copyto(labels[target], np.asarray(current[target]), where=regions.mask[target])
    if instances:
        regions.renumber_clashes(labels, region=target)
    return labels
