"""Instance labels of one connected object group too large to label in one piece: a
confluent sheet of cells, or a dense tissue volume, where object pixels connect across the
whole stack.

Within such a group the objects are still separated by the predicted boundary: the
interior (foreground without boundary) falls apart into components, one or a few objects
each. So the group is labelled in batches of interior components, each in its bounding box
and a margin: seeds from the component's own distance map (exact: a component is ringed
by zero distance), then a watershed into the boundary band in which the neighbouring
components not in the batch take part as whole markers, so that band pixels go to the
nearer object as in one pass; only the batch's own objects are written. Band pixels left
unclaimed (beyond the margin, or parts with no interior) become objects of their own.
Batches whose crops do not overlap are labelled at once on the labelling threads, each
after the earlier batches that overlap it: the labels of one batch after another. An
interior component whose own box is larger than ``GIANT_PIXELS`` (no boundary predicted
across the stack, or a long thin structure) is labelled block by block
(``huge_components``). The group's whole-box arrays are scratch arrays, labelled slab by slab.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from unet_studio.models import postprocess as post
from unet_studio.models.distance import distance_map
from unet_studio.models.huge_components import HugeComponent
from unet_studio.models.label_threads import (
    in_dependency_order,
    in_order,
    label_threads,
    overlapping_earlier,
)
from unet_studio.models.mapped import PageReleaser
from unet_studio.models.object_outlines import near_interior
from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.slab_label import label_by_slabs, slabs

# Pixels of the boundary band a batch reaches beyond its interior without ``grow``.
BAND_MARGIN = 8


class GiantGroup:
    """Group ``gid`` of ``groups`` (int32, positive ids of unlabelled groups) in ``box``."""

    def __init__(self, groups, objects, interior, gid: int, box, *, grow, sampling, batch_pixels,
                 giant_pixels: int):
        from unet_studio.models.batched_labels import group_batches  # (imports this module)

        self.groups, self.objects, self.interior = groups, objects, interior
        self.gid, self.box, self.grow, self.sampling = gid, box, grow, sampling
        # Whole-array buffers in scratch files: their resident pages are let go as work
        # moves on (else every page touched stays in the process's RSS).
        self.pages = PageReleaser(groups, objects, interior)
        shape = tuple(s.stop - s.start for s in box)
        self.components = scratch_zeros(shape, np.int32)
        self.pages.add(self.components)
        # Face connectivity: a thin boundary band leaks diagonally, and components joined
        # that way would make one component as large as the group.
        count, self.boxes = self._label_where(lambda part, region: (region == gid) & np.asarray(
            interior[part], bool), self.components)
        cells = np.asarray(sampling if sampling is not None else (1.0,) * len(box), float)
        self.margin = 1 + (math.ceil(float(grow) / cells.min()) + 1 if grow is not None
                           else BAND_MARGIN)
        # Components whose own box is too large for one crop are labelled block by block.
        self.huge = [HugeComponent(self, cid, batch_pixels)
                     for cid, part in enumerate(self.boxes, 1)
                     if part is not None and math.prod(s.stop - s.start for s in part) > giant_pixels]
        huge_ids = {component.cid for component in self.huge}
        self.batches = group_batches([None if cid in huge_ids else part
                                      for cid, part in enumerate(self.boxes, 1)],
                                     shape, batch_pixels)
        self.has_peak = np.zeros(count + 1, bool)
        self.has_peak[list(huge_ids)] = True  # (a component that large has a dome somewhere)

    def _label_where(self, test, output) -> tuple[int, list]:
        """Connected pieces (face connectivity) of the group's box where ``test(part,
        region)`` holds, labelled into ``output`` slab by slab (``slab_label``): ``part`` a
        slab in the whole array, ``region`` the groups array there. Returns (count, boxes)."""

        def mask_of(core):
            part = tuple(slice(b.start + s.start, b.start + s.stop) for b, s in zip(self.box, core))
            return test(part, self.groups[part])

        found = label_by_slabs(mask_of, output.shape, output, pages=self.pages)
        self.pages.release()
        return found

    def _crop(self, ids) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
        """(crop in the group's box, the same crop in the whole array)."""
        from unet_studio.models.batched_labels import union_box

        local = union_box(self.boxes, ids, self.margin, self.components.shape)
        whole = tuple(slice(b.start + s.start, b.start + s.stop) for b, s in zip(self.box, local))
        return local, whole

    def _batch(self, ids):
        """One batch in its crop: (the crop in the whole array, the group's pixels not yet
        labelled that are within ``grow`` of an interior, the batch's own interior, its
        distance map, the interior components in the crop, which of them are the batch's)."""
        local, whole = self._crop(ids)
        components = self.components[local]
        mine = np.isin(components, ids, kind="table")  # (ids are positive)
        free = self.groups[whole] == self.gid
        if self.grow is not None:
            near = np.asarray(self.interior[whole], bool) & np.asarray(self.objects[whole], bool)
            free = near_interior(free, near, float(self.grow), self.sampling)
        own_interior = mine & free
        distance = distance_map(own_interior, self.sampling)
        return whole, free, own_interior, distance, components, mine

    def steps(self, measure_depths: bool) -> int:
        """Steps ``iter_interior_depths`` (when measured) and ``iter_label`` yield."""
        blocks = sum(len(component.block_list()) for component in self.huge)
        return (len(self.batches) + len(self.huge)) * measure_depths \
            + 2 * len(self.batches) + blocks + 1

    def iter_interior_depths(self):
        """(deepest distance, size) of each interior component (face connectivity), for
        ``watershed_seeds.typical_radius``; yields after each batch."""
        depths, sizes = [np.zeros(0, np.float32)], [np.zeros(0, np.int64)]

        def measured(ids):  # (on a labelling thread: nothing is written in this pass)
            _, _, own_interior, distance, _, _ = self._batch(ids)
            return post.interior_depths(own_interior, distance)

        for depth, size in in_order(measured, self.batches, label_threads()):
            depths.append(depth)
            sizes.append(size)
            yield
        for component in self.huge:
            depth, size = component.depth()
            depths.append(np.asarray([depth], np.float32))
            sizes.append(np.asarray([size], np.int64))
            yield
        return np.concatenate(depths), np.concatenate(sizes)

    def iter_label(self, height: float, min_size: int, fill_holes: bool, next_id: int):
        """Write the group's objects into ``groups`` as negative ids from ``next_id`` on,
        yielding after each batch; returns their sizes (one array per batch, 0 for ids
        left unused)."""

        def seeded(ids):  # which components have a seed (on a labelling thread: no writes)
            _, _, own_interior, distance, components, mine = self._batch(ids)
            markers, count = post.peak_markers(own_interior, distance, height)
            has_peak = post.labels_where(mine & (markers > 0), components, int(components.max()))
            # The seed pixels, kept for the labelling pass (a few per object: the h-maxima
            # reconstruction, most of a batch's cost, then runs once per batch, not twice).
            seed_pixels = np.flatnonzero(markers)
            return has_peak[ids], seed_pixels.astype(np.min_scalar_type(markers.size)), count

        threads = label_threads()
        peaks, seed_counts = [], []
        for ids, (has_peak, seed_pixels, count) in zip(
                self.batches, in_order(seeded, self.batches, threads)):
            self.has_peak[ids] = has_peak  # those without one are flooded
            peaks.append(seed_pixels)
            seed_counts.append(count)
            yield
        # The labels themselves. A batch's watershed sees the band pixels that the batches
        # before it claimed in its crop, so it waits for the earlier batches whose crops
        # overlap its own; batches with disjoint crops are labelled at once, on the
        # labelling threads: the labels are those of one batch after another. Each batch
        # has an id range as long as its seeds (at most one object each), so the ids do
        # not depend on which batch finishes first.
        first_ids = next_id + np.concatenate([[0], np.cumsum(seed_counts, dtype=np.int64)[:-1]])
        crops = [self._crop(ids)[0] for ids in self.batches]
        after = overlapping_earlier(crops)

        def labelled(j):  # (on a labelling thread: writes its crop alone)
            return self._label_batch(self.batches[j], peaks[j], seed_counts[j], int(first_ids[j]),
                                     min_size, fill_holes)

        sizes = [None] * len(self.batches)
        for j, batch_sizes in in_dependency_order(labelled, len(self.batches), after, threads):
            sizes[j] = batch_sizes
            self.pages.tick(10 * math.prod(s.stop - s.start for s in crops[j]))
            yield
        next_id += int(sum(seed_counts))
        for component in self.huge:  # (a step per block)
            sizes.append((yield from component.iter_label(height, min_size, fill_holes, next_id)))
            next_id += sizes[-1].size
            self.pages.release()
        sizes.append(self._leftovers(min_size, fill_holes, next_id))
        yield
        self.pages.release()
        return sizes

    def _label_batch(self, ids, seed_pixels, seed_count: int, first_id: int, min_size: int,
                     fill_holes: bool) -> np.ndarray:
        """Label one batch from the seeds its first pass found and write its objects into
        ``groups`` as ids ``-first_id`` downwards; returns their sizes, ``seed_count`` long."""
        from skimage.segmentation import relabel_sequential, watershed

        whole, free, own_interior, distance, components, mine = self._batch(ids)
        # The batch's seeds as the first pass found them: the claims of earlier batches
        # never reach a component with a seed (it takes part in their watershed as a
        # marker), so its domes are where they were.
        peak_mask = np.zeros(own_interior.shape, bool)
        peak_mask.flat[seed_pixels] = True
        markers, count = post.label_peaks(peak_mask)
        if count != seed_count:
            raise RuntimeError(f"a batch's seeds changed between passes ({seed_count} -> {count})")
        # Neighbours outside the batch take part as whole markers (not written), those
        # with a seed only: a component without one is flooded, as in one pass.
        others = (components > 0) & ~mine & free & self.has_peak[components]
        markers[others] = count + components[others]
        labels = watershed(-distance, markers, mask=free | (markers > 0))
        labels[labels > count] = 0
        post.remove_small_objects(labels, min_size)
        if fill_holes:
            post.fill_label_holes(labels, keep=self.groups[whole] != 0)
        labels = relabel_sequential(labels.astype(np.int32))[0]
        region = self.groups[whole]
        write = (labels > 0) & ((region == self.gid) | (region == 0))
        region[write] = -(labels[write] + first_id - 1)
        sizes = np.zeros(seed_count, np.int64)
        found = np.bincount(labels[write], minlength=int(labels.max()) + 1)[1:]
        sizes[:found.size] = found
        return sizes

    def _leftovers(self, min_size: int, fill_holes: bool, next_id: int) -> np.ndarray:
        """Group pixels no batch claimed. With ``grow``, band pixels farther than that from
        any interior (where three objects meet, or along an object's surface) are background
        in one pass, then filled from the nearest object where they are holes: so here, a
        piece that touches labelled objects goes to the nearest where it is enclosed, else
        to background (always, without ``fill_holes``). Without ``grow`` the watershed
        floods every object pixel: such a piece goes to the nearest object. A piece that
        touches none (a part with no interior) is an object of its own, under ``min_size``
        background. Slab by slab (the unclaimed band can be one piece across the whole
        group). Returns the new sizes."""
        region = self.groups[self.box]
        pieces = self.components  # its work is done: reused, as it is as large as the box
        count, _ = self._label_where(lambda _, found: found == self.gid, pieces)
        touched = np.zeros(count + 1, bool)
        for _core, crop in slabs(region.shape, LEFTOVER_SLAB_PIXELS, LEFTOVER_HALO):
            near_labels = ndi.binary_dilation(region[crop] < 0)
            touched[np.unique(pieces[crop][near_labels])] = True
            self.pages.tick(8 * near_labels.size)
        touched[0] = False
        beyond_grow = self.grow is not None
        fills = fill_holes or not beyond_grow
        reach, is_open = self._open_reaches() if fill_holes and beyond_grow else (None, None)
        for core, crop in slabs(region.shape, LEFTOVER_SLAB_PIXELS, LEFTOVER_HALO):
            held, labelled = pieces[crop], region[crop] < 0
            fill = touched[held] & (region[crop] == self.gid)
            if reach is not None:
                fill &= ~is_open[reach[crop]]
            if fills and fill.any() and labelled.any():
                _, nearest = ndi.distance_transform_edt(~labelled, return_indices=True)
                values = region[crop][tuple(nearest)]
            else:
                values = np.zeros(held.shape, np.int32)
            inner = tuple(slice(c.start - k.start, c.stop - k.start) for c, k in zip(core, crop))
            region[core][fill[inner]] = values[inner][fill[inner]]
            self.pages.tick(12 * held.size)
        sizes = np.zeros(count + 1, np.int64)
        for core, _ in slabs(region.shape, 1 << 22):  # (bincount of the box: 8 B/px)
            sizes += np.bincount(pieces[core].ravel(), minlength=count + 1)
        keep = ~touched & (sizes >= min_size)
        keep[0] = False
        new_ids = np.zeros(count + 1, np.int32)
        new_ids[keep] = -np.arange(next_id, next_id + int(keep.sum()), dtype=np.int32)
        for plane in range(region.shape[0]):  # plane by plane: no temporaries of the box
            left = region[plane] == self.gid
            region[plane][left] = new_ids[pieces[plane][left]]
        return sizes[keep]


    def _open_reaches(self) -> tuple[np.ndarray, np.ndarray]:
        """(reaches, open): the connected pieces of the box's unlabelled pixels (background
        and leftovers, face connectivity as in hole filling), and which reach the box's
        edge, i.e. the background around the group: those are no holes."""
        reach = scratch_zeros(self.components.shape, np.int32)
        self.pages.add(reach)
        count, _ = self._label_where(lambda _, found: (found == self.gid) | (found == 0), reach)
        is_open = np.zeros(count + 1, bool)
        for axis in range(reach.ndim):
            is_open[np.unique(np.take(reach, [0, reach.shape[axis] - 1], axis=axis))] = True
        is_open[0] = False
        return reach, is_open


# Planes of context around a slab of leftovers: the nearest object is a few pixels away.
LEFTOVER_HALO = 3
# Pixels of a slab of leftovers (a distance map with indices costs ~30 bytes per pixel).
LEFTOVER_SLAB_PIXELS = 1 << 20
