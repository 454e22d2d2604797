"""Connected components of an array larger than memory should hold, slab by slab.

``scipy.ndimage.label`` and ``find_objects`` see the whole array at once: on a stack held in
a memory-mapped scratch file they touch every page of the input and the output before any
can be handed back, so the process's resident memory grows with the stack (the last step of
the instance labelling that did). Here the mask is made and labelled one slab of planes at a
time; pieces that touch across a slab border (under the same connectivity) are joined with
a connected-components pass over the pieces, and the ids are rewritten slab by slab.

The result equals ``ndi.label`` exactly, ids included: ``ndi.label`` numbers components in
the raster order of their first pixel, and the piece holding a component's first pixel has
the smallest provisional id of its component (slabs and the pieces in each are numbered in
raster order), so ordering components by their smallest piece gives the same numbering.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
from scipy import ndimage as ndi

from unet_studio.models.id_pairs import distinct_pairs

# Pixels per slab (~16 MB of int32 labels, plus the mask and scipy's own working memory).
SLAB_PIXELS = 1 << 22


def label_by_slabs(mask_of: Callable[[tuple[slice, ...]], np.ndarray], shape: tuple[int, ...],
                   output: np.ndarray, structure: np.ndarray | None = None, *,
                   slab_pixels: int | None = None, pages=None
                   ) -> tuple[int, list[tuple[slice, ...]]]:
    """Label the connected components of a boolean array of ``shape`` into ``output``
    (int32, may be memory-mapped): ``(count, boxes)`` as ``ndi.label`` and
    ``ndi.find_objects`` would give. Slabs of ``slab_pixels`` (default ``SLAB_PIXELS``).
    ``mask_of(core)`` returns the mask of one slab
    (``core``: slices of the whole array); ``pages`` (a ``PageReleaser``) is told the bytes
    touched, to hand back the pages of memory-mapped arrays as the work moves on."""
    ndim = len(shape)
    if structure is None:
        structure = ndi.generate_binary_structure(ndim, 1)
    structure = np.asarray(structure, bool)
    cores = [core for core, _ in slabs(shape, slab_pixels or SLAB_PIXELS)]
    if len(cores) == 1:  # fits one slab: scipy directly (the same result)
        count = ndi.label(np.asarray(mask_of(cores[0]), bool), structure=structure, output=output)
        return int(count), list(ndi.find_objects(output))

    starts, stops, pairs = [np.zeros((1, ndim), np.int64)], [np.zeros((1, ndim), np.int64)], []
    offset, previous = 0, None
    for core in cores:
        pieces, found = ndi.label(np.asarray(mask_of(core), bool), structure=structure)
        pieces = pieces.astype(np.int32, copy=False)
        if found:
            boxes = ndi.find_objects(pieces)
            shift = np.asarray([core[0].start] + [0] * (ndim - 1), np.int64)
            starts.append(np.asarray([[s.start for s in box] for box in boxes], np.int64) + shift)
            stops.append(np.asarray([[s.stop for s in box] for box in boxes], np.int64) + shift)
            pieces[pieces > 0] += offset
        if previous is not None:
            pairs.append(_touching(previous, pieces[0], structure))
        output[core] = pieces
        previous = pieces[-1].copy()
        offset += found
        if pages is not None:
            pages.tick(5 * pieces.size)

    final = _join(offset, np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64))
    count = int(final.max())
    starts_of, stops_of = np.concatenate(starts), np.concatenate(stops)
    first = np.full((count + 1, ndim), np.iinfo(np.int64).max)
    last = np.zeros((count + 1, ndim), np.int64)
    np.minimum.at(first, final, starts_of)
    np.maximum.at(last, final, stops_of)
    for core in cores:
        output[core] = final[output[core]]
        if pages is not None:
            pages.tick(8 * math.prod(s.stop - s.start for s in core))
    boxes = [tuple(slice(int(a), int(b)) for a, b in zip(first[i], last[i]))
             for i in range(1, count + 1)]
    return count, boxes


def slabs(shape: tuple[int, ...], pixels: int, halo: int = 0):
    """(core, crop) slices of slabs of whole planes along the first axis, about ``pixels``
    each; the crop adds ``halo`` planes of context each side."""
    step = max(1, pixels // max(1, math.prod(shape[1:])))
    rest = tuple(slice(0, n) for n in shape[1:])
    for start in range(0, shape[0], step):
        stop = min(start + step, shape[0])
        yield ((slice(start, stop), *rest),
               (slice(max(start - halo, 0), min(stop + halo, shape[0])), *rest))


def _touching(before: np.ndarray, after: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """Pairs of (provisional) ids that touch between two adjacent planes under
    ``structure``: ``before`` the last plane of one slab, ``after`` the first of the next."""
    firsts, seconds = [], []
    forward = structure[2]  # neighbours one plane on, by in-plane shift
    for shift in itertools.product((-1, 0, 1), repeat=before.ndim):
        if not forward[tuple(s + 1 for s in shift)]:
            continue
        here = tuple(slice(max(-s, 0), n - max(s, 0)) for s, n in zip(shift, before.shape))
        there = tuple(slice(max(s, 0), n - max(-s, 0)) for s, n in zip(shift, before.shape))
        a, b = before[here], after[there]
        both = (a > 0) & (b > 0)
        firsts.append(a[both])
        seconds.append(b[both])
    if not firsts:
        return np.zeros((0, 2), np.int64)
    # (one sort of packed keys; ids of any size, should pieces ever be numbered past int32)
    return np.stack(distinct_pairs(np.concatenate(firsts), np.concatenate(seconds)), axis=1)


def _join(count: int, pairs: np.ndarray) -> np.ndarray:
    """Final ids (1..N) of provisional ids 0..count (0 stays 0), pieces joined by ``pairs``,
    numbered in the order of each component's smallest provisional id."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nodes = count + 1
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])),
                       shape=(nodes, nodes))
    _, component = connected_components(graph, directed=False)
    smallest = np.full(component.max() + 1, nodes, np.int64)
    np.minimum.at(smallest, component, np.arange(nodes))
    # Rank components by their smallest piece; the background (piece 0) ranks first.
    rank = np.empty_like(smallest)
    rank[np.argsort(smallest, kind="stable")] = np.arange(smallest.size)
    return rank[component].astype(np.int32)
