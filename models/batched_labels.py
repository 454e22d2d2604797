"""Instance labels of a large image or volume in bounded memory.

The watershed of ``postprocess.labels_from_masks`` run on the whole array at once needs ~90
bytes per pixel at its peak (distance maps, the h-maxima reconstruction, the watershed's
queues): 6 GB for a 64 x 1024 x 1024 stack. Here it runs on batches of whole connected
object groups (object pixels connected in any direction), each in its bounding box and a
margin, with ~10 bytes per pixel for the whole array (the masks, one int32 array).

Why batches give the same labels as one pass: every step acts within one group. The
interior's distance map ends at the group's edge (a group is surrounded by background);
the h-maxima domes of two groups are separated by zero distance; the watershed floods
inside the object mask; a hole is enclosed by one group. What spans the whole image is
gathered first (the typical interior radius, for a seed height relative to it) or applied
last (the typical object size, for the relative size floor, and the sequential ids).

A group larger than the batch size is processed alone, in its own bounding box; one
whose box is larger than ``GIANT_PIXELS`` (a confluent sheet of cells, dense tissue: one
group as large as the stack) by batches of its interior components (``giant_groups``),
and an interior component whose box is larger still by blocks (``huge_components``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from unet_studio.models import postprocess as post
from unet_studio.models.distance import distance_map
from unet_studio.models.generators import drain, relay
from unet_studio.models.giant_groups import GiantGroup
from unet_studio.models.label_tallies import weighted_median
from unet_studio.models.label_threads import in_order, label_threads
from unet_studio.models.mapped import PageReleaser, release_pages
from unet_studio.models.object_outlines import near_interior
from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.slab_label import label_by_slabs
from unet_studio.models.watershed_seeds import watershed_seeds

# Pixels per batch: groups starting in one block of about this size are labelled together
# (~100 MB of working memory; a 1024 x 1024 image is one batch).
BATCH_PIXELS = 1 << 20
# A group whose box is larger is labelled by its interior components (``giant_groups``);
# smaller ones in one piece (~1.5 GB at most: a 4096 x 4096 image is still one piece).
GIANT_PIXELS = 1 << 24


def block_shape(shape: tuple[int, ...], budget: int) -> tuple[int, ...]:
    """A block of at most ``budget`` pixels (at least one), halving the largest side."""
    block = list(shape)
    while math.prod(block) > max(budget, 1) and max(block) > 1:
        axis = block.index(max(block))
        block[axis] = (block[axis] + 1) // 2
    return tuple(block)


def group_batches(boxes, shape, budget: int) -> list[np.ndarray]:
    """Group ids (1-based) in batches: those whose box starts in the same block, blocks in
    raster order (so ids come out in a fixed order)."""
    block = block_shape(shape, budget)
    keys: dict[tuple[int, ...], list[int]] = {}
    for index, box in enumerate(boxes):
        if box is not None:
            key = tuple(s.start // b for s, b in zip(box, block))
            keys.setdefault(key, []).append(index + 1)
    return [np.asarray(keys[key]) for key in sorted(keys)]


def union_box(boxes, ids, margin: int, shape) -> tuple[slice, ...]:
    starts = np.min([[s.start for s in boxes[i - 1]] for i in ids], axis=0)
    stops = np.max([[s.stop for s in boxes[i - 1]] for i in ids], axis=0)
    return tuple(slice(max(int(a) - margin, 0), min(int(b) + margin, n))
                 for a, b, n in zip(starts, stops, shape))


class _Batch:
    """One batch of groups in its crop: the object and interior masks of its own groups
    (after ``grow``) and the interior's distance map."""

    def __init__(self, groups, objects, interior, ids, box, grow, sampling):
        self.box = box
        # Read while other batches' labels are written into ``groups`` (threads): those
        # writes never touch this batch's pixels, and other groups are told from the mask.
        self.own = np.isin(groups[box], ids, kind="table")
        object_pixels = np.asarray(objects[box], bool)
        self.other = object_pixels & ~self.own  # other groups (unprocessed or labelled)
        all_interior = np.asarray(interior[box], bool) & object_pixels
        objects_here = self.own
        if grow is not None:  # near any interior in the crop, as on the whole image
            objects_here = near_interior(self.own, all_interior, float(grow), sampling)
        self.objects = objects_here
        self.interior = all_interior & objects_here
        self.distance = distance_map(self.interior, sampling)

    def interior_depths(self) -> tuple[np.ndarray, np.ndarray]:
        return post.interior_depths(self.interior, self.distance)

    def labels(self, height: float, min_size: int, fill_holes: bool) -> np.ndarray:
        """Local labels (0 = background) of the batch's groups, holes filled."""
        from skimage.segmentation import watershed

        markers = watershed_seeds(self.objects, self.interior, self.distance, height)
        labels = watershed(-self.distance, markers, mask=self.objects).astype(np.int32)
        post.remove_small_objects(labels, min_size)
        if fill_holes:  # holes of this batch's objects, never into another group's pixels
            labels[self.other] = 0
            post.fill_label_holes(labels, keep=self.other)
        return labels


def labels_from_masks_in_batches(objects, interior, **options) -> np.ndarray:
    """``labels_from_masks`` (same arguments) batch by batch: int32 labels ``(*spatial)``,
    1..N (``iter_labels_in_batches``, run to the end)."""
    return drain(iter_labels_in_batches(objects, interior, **options))


class _Steps:
    """Counts the batches labelled, for the fraction done."""

    def __init__(self, total: int):
        self.total, self.done = max(total, 1), 0

    def advance(self) -> float:
        self.done += 1
        return min(self.done / self.total, 1.0)

    def through(self, generator):
        """Re-yield each step of ``generator`` as the fraction done; return its result."""
        return relay(generator, lambda _: self.advance())


def iter_labels_in_batches(objects, interior, *, min_size: int = 16,
                           seed_height: float | None = None,
                           seed_height_fraction: float = 0.0, fill_holes: bool = True,
                           sampling: tuple[float, ...] | None = None,
                           grow: float | None = None, min_size_fraction: float = 0.0,
                           batch_pixels: int = BATCH_PIXELS, giant_pixels: int = GIANT_PIXELS):
    """``labels_from_masks`` batch by batch, as a generator: yields the fraction done (0-1)
    after each batch, where a run can stop (closing the generator: a big stack takes
    minutes), and returns the int32 labels ``(*spatial)``, 1..N. ``objects`` and
    ``interior`` may be memory-mapped; the result may be too (see ``scratch_zeros``), and is
    the one whole-array working buffer."""
    from skimage.segmentation import relabel_sequential

    shape = tuple(objects.shape)
    groups = scratch_zeros(shape, np.int32)
    structure = ndi.generate_binary_structure(len(shape), len(shape))
    pages = PageReleaser(groups, objects, interior)  # scratch files: resident pages let go
    count, boxes = label_by_slabs(lambda core: objects[core], shape, groups, structure, pages=pages)
    pages.release()
    giant = {index + 1 for index, box in enumerate(boxes)
             if box is not None and math.prod(s.stop - s.start for s in box) > giant_pixels}
    batches = group_batches([None if i + 1 in giant else box for i, box in enumerate(boxes)],
                            shape, batch_pixels)
    giants = [GiantGroup(groups, objects, interior, gid, boxes[gid - 1], grow=grow,
                         sampling=sampling, batch_pixels=batch_pixels, giant_pixels=giant_pixels)
              for gid in sorted(giant)]
    cells = np.asarray(sampling if sampling is not None else (1.0,) * len(shape), float)
    margin = 1 + (math.ceil(float(grow) / cells.min()) if grow is not None else 0)
    threads = label_threads()
    measure_depths = seed_height is None and seed_height_fraction > 0
    steps = _Steps(len(batches) * (1 + measure_depths)
                   + sum(group.steps(measure_depths) for group in giants))

    def batch(ids):  # (on a labelling thread)
        return _Batch(groups, objects, interior, ids, union_box(boxes, ids, margin, shape),
                      grow, sampling)

    height = seed_height
    if measure_depths:
        found = []
        for depths in in_order(lambda ids: batch(ids).interior_depths(), batches, threads):
            found.append(depths)
            yield steps.advance()
        for group in giants:
            found.append((yield from steps.through(group.iter_interior_depths())))
        depths = np.concatenate([np.zeros(0)] + [depth for depth, _ in found])
        weights = np.concatenate([np.zeros(0)] + [size for _, size in found])
        radius = post.radius_from_depths(depths, weights)
        height = max(post.MIN_SEED_HEIGHT, seed_height_fraction * radius)
    elif height is None:
        height = post.DEFAULT_SEED_HEIGHT

    def labelled(ids):  # (on a labelling thread)
        work = batch(ids)
        labels = work.labels(float(height), min_size, fill_holes)
        return work.box, work.own, relabel_sequential(labels)[0].astype(np.int32, copy=False)

    sizes = [np.zeros(1, np.int64)]  # sizes[0][0]: background
    next_id = 1
    for box, own, labels in in_order(labelled, batches, threads):  # written in batch order
        pages.tick(6 * labels.size)
        found = int(labels.max())
        crop = groups[box]
        write = own | ((labels > 0) & (crop == 0))  # own pixels, and holes it filled
        crop[write] = np.where(labels[write] > 0, -(labels[write] + next_id - 1), 0)
        sizes.append(np.bincount(labels[write], minlength=found + 1)[1:])
        next_id += found
        yield steps.advance()
    for group in giants:
        found_sizes = yield from steps.through(
            group.iter_label(float(height), min_size, fill_holes, next_id))
        sizes += found_sizes
        next_id += sum(part.size for part in found_sizes)
        pages.release()
    return _final_ids(groups, np.concatenate(sizes), min_size_fraction)


def _final_ids(groups: np.ndarray, sizes: np.ndarray, min_size_fraction: float) -> np.ndarray:
    """Objects under ``min_size_fraction`` x the typical size dropped, ids made 1..N, in
    ``groups`` (which holds every object as its negative id), slab by slab."""
    keep = sizes > 0  # an object of size 0 was dropped already (``huge_components``)
    if min_size_fraction > 0 and sizes.size > 1:
        real = sizes[1:]
        typical = weighted_median(real, real) if real.any() else 0.0
        keep[1:] &= real >= min_size_fraction * typical
    keep[0] = False
    mapping = np.zeros(sizes.size, np.int32)
    mapping[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    step = max(1, (1 << 24) // max(1, math.prod(groups.shape[1:])))
    for start in range(0, groups.shape[0], step):
        slab = groups[start:start + step]
        slab[...] = mapping[-slab]
        if start // step % 16 == 15:
            release_pages(groups)
    return groups
