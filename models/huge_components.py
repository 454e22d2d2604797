"""Instance labels of one interior component whose bounding box is too large to label in one
piece: a prediction in which the boundary never wins across a whole stack (an untrained or
confused model, tissue whose cells touch without a predicted border), or a long thin
structure (a neurite, a vessel) whose box spans the stack although it holds few pixels.

Labelled as ``giant_groups`` labels a batch, but block by block: the component's box is cut
into blocks, each labelled in its crop (the block and a margin) and only the block itself
is written. Two things differ from one pass, by design:

* The distance map is capped at ``DEPTH_CAP`` pixels. A crop holds every pixel within its
  margin of the block, so a capped distance is exact in the block whatever lies beyond;
  objects wider than twice the cap that touch through a neck wider than that are one
  object (a component this large has no boundary to follow there anyway).
* Objects cut by a block border are joined again. Each block is labelled without regard to
  what earlier blocks wrote into its margin; near the block, where its crop still sees a
  margin of context, its labels of those pixels are compared with what was written: a label
  and a written object that hold the majority of each other's pixels there are one object.
  Joins are kept in a union-find, so an object across several blocks ends with one id.
"""

from __future__ import annotations

import math

import numpy as np

from unet_studio.models import postprocess as post
from unet_studio.models.distance import distance_map
from unet_studio.models.object_outlines import near_interior

# Deepest distance (pixels of the finest axis) the blocks' distance maps see.
DEPTH_CAP = 16


class _Joins:
    """Union-find over the component's object indices (0-based, added as they are made)."""

    def __init__(self):
        self.parent: list[int] = []

    def add(self) -> int:
        self.parent.append(len(self.parent))
        return self.parent[-1]

    def root(self, index: int) -> int:
        while self.parent[index] != index:
            self.parent[index] = self.parent[self.parent[index]]
            index = self.parent[index]
        return index

    def join(self, a: int, b: int) -> int:
        a, b = self.root(a), self.root(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)  # the older object keeps its id
        return min(a, b)

    def roots(self) -> np.ndarray:
        return np.asarray([self.root(i) for i in range(len(self.parent))], np.int64)


def _expand(box, margins, shape) -> tuple[slice, ...]:
    return tuple(slice(max(s.start - m, 0), min(s.stop + m, n)) for s, m, n in zip(box, margins, shape))


def _within(inner, outer) -> tuple[slice, ...]:
    """``inner`` (a box inside ``outer``) in ``outer``'s coordinates."""
    return tuple(slice(i.start - o.start, i.stop - o.start) for i, o in zip(inner, outer))


class HugeComponent:
    """Interior component ``cid`` of ``group`` (a ``giant_groups.GiantGroup``)."""

    def __init__(self, group, cid: int, block_pixels: int):
        from unet_studio.models.batched_labels import block_shape

        self.group, self.cid = group, cid
        self.box = group.boxes[cid - 1]  # in the group's box
        cells = np.asarray(group.sampling if group.sampling is not None else (1.0,) * len(self.box), float)
        self.cap = float(DEPTH_CAP * cells.min())
        self.margins = tuple(math.ceil(self.cap / cell) + group.margin for cell in cells)
        # Blocks at least four margins wide: the crops then cost at most ~3.4x their block.
        wide = math.prod(4 * m for m in self.margins)
        self.block = block_shape(tuple(s.stop - s.start for s in self.box), max(block_pixels, wide))
        self.first = self.next = 0
        self._blocks = None

    def blocks(self):
        """The blocks of the box (in the group's box) that hold pixels of the component."""
        counts = [math.ceil((s.stop - s.start) / b) for s, b in zip(self.box, self.block)]
        for index in np.ndindex(*counts):
            core = tuple(slice(s.start + i * b, min(s.start + (i + 1) * b, s.stop))
                         for s, i, b in zip(self.box, index, self.block))
            if (self.group.components[core] == self.cid).any():
                yield core

    def block_list(self) -> list:
        """``blocks()``, found once (a pass over the component's box)."""
        if self._blocks is None:
            self._blocks = list(self.blocks())
        return self._blocks

    def _crop(self, core):
        """(the crop in the group's box, the same in the whole array, the component's
        interior pixels there, the group's pixels free for it there, its capped distances)."""
        g = self.group
        crop = _expand(core, self.margins, g.components.shape)
        whole = tuple(slice(b.start + s.start, b.start + s.stop) for b, s in zip(g.box, crop))
        region = g.groups[whole]
        ours = (region <= -self.first) & (region > -self.next)  # written by earlier blocks
        free = (region == g.gid) | ours
        if g.grow is not None:
            near = np.asarray(g.interior[whole], bool) & np.asarray(g.objects[whole], bool)
            free = near_interior(free, near, float(g.grow), g.sampling)
        mine = (g.components[crop] == self.cid) & free
        distance = distance_map(mine, g.sampling)
        np.minimum(distance, np.float32(self.cap), out=distance)
        return crop, whole, mine, free, distance, ours

    def depth(self) -> tuple[float, int]:
        """(deepest capped distance, size in pixels), for the typical interior radius."""
        from unet_studio.models.label_threads import in_order, label_threads

        def measured(core):  # (on a labelling thread: nothing is written in this pass)
            crop, _, mine, _, distance, _ = self._crop(core)
            inner = _within(core, crop)
            own = mine[inner]
            deepest = float(distance[inner][own].max()) if own.any() else 0.0
            return deepest, int(own.sum()), mine.size

        deepest, size = 0.0, 0
        for block_deepest, block_size, pixels in in_order(measured, self.block_list(),
                                                          label_threads()):
            deepest, size = max(deepest, block_deepest), size + block_size
            self.group.pages.tick(12 * pixels)
        return deepest, size

    def iter_label(self, height: float, min_size: int, fill_holes: bool, next_id: int):
        """Write the component's objects into the groups array as negative ids from
        ``next_id`` on, yielding after each block (one after another: a block's watershed
        sees the objects the blocks before it wrote); returns their sizes (dropped ones,
        under ``min_size``, as 0)."""
        self.first = self.next = next_id
        joins, sizes = _Joins(), []
        for core in self.block_list():
            labels, crop, whole, ours = self._block_labels(core, height, fill_holes)
            ids = self._ids_of(labels, crop, core, whole, ours, joins)
            region = self.group.groups[whole]
            inner = _within(core, crop)
            write = np.zeros(labels.shape, bool)
            write[inner] = True
            write &= (labels > 0) & ((region == self.group.gid) | (region == 0))
            region[write] = -ids[labels[write]]
            written = np.bincount(ids[labels[write]] - self.first, minlength=len(joins.parent))
            sizes.append(written)
            self.group.pages.tick(12 * labels.size)
            yield
        total = np.zeros(len(joins.parent), np.int64)
        for part in sizes:
            total[: part.size] += part
        return self._settle(joins, total, min_size)

    def _block_labels(self, core, height: float, fill_holes: bool):
        """The block's crop labelled on its own (0 = none): local ids 1..n."""
        from skimage.segmentation import watershed

        g = self.group
        crop, whole, mine, free, distance, ours = self._crop(core)
        components = g.components[crop]
        markers, count = post.peak_markers(mine, distance, height)
        # Neighbouring components take part as whole markers (never written), as in a batch.
        others = (components > 0) & (components != self.cid) & free & g.has_peak[components]
        markers[others] = count + components[others]
        labels = watershed(-distance, markers, mask=free | (markers > 0))
        labels[labels > count] = 0
        if fill_holes:
            post.fill_label_holes(labels, keep=g.groups[whole] != 0)
        return labels.astype(np.int64), crop, whole, ours

    def _ids_of(self, labels, crop, core, whole, ours, joins: _Joins) -> np.ndarray:
        """Global id of each local label: that of the written object it matches near a face
        of the block (joining the objects it matches across several faces), else a new one."""
        matched: dict[int, int] = {}
        region = self.group.groups[whole]
        for zone in self._face_zones(crop, core):
            seen = ours[zone]
            local, written = labels[zone][seen], -region[zone][seen] - self.first
            for label, index in _mutual_majorities(local, written):
                root = joins.root(int(index))
                matched[label] = joins.join(matched[label], root) if label in matched else root
        ids = np.zeros(int(labels.max()) + 1, np.int64)
        for label in range(1, ids.size):
            index = matched[label] if label in matched else joins.add()
            ids[label] = self.first + index
        self.next = self.first + len(joins.parent)
        return ids

    def _face_zones(self, crop, core):
        """The slices of the crop just beyond each face of the block, half a margin thick
        (where the crop still sees half a margin of context), in the crop's coordinates."""
        half = [max(1, m // 2) for m in self.margins]
        near = _expand(core, half, self.group.components.shape)
        for axis in range(len(core)):
            for lo, hi in ((near[axis].start, core[axis].start), (core[axis].stop, near[axis].stop)):
                if hi > lo:
                    zone = list(near)
                    zone[axis] = slice(lo, hi)
                    yield _within(tuple(zone), crop)

    def _settle(self, joins: _Joins, sizes: np.ndarray, min_size: int) -> np.ndarray:
        """Joined objects take their root's id (pixels rewritten slab by slab); objects
        under ``min_size`` keep their pixels but size 0, which drops them at the end."""
        roots = joins.roots()
        merged = np.bincount(roots, weights=sizes, minlength=roots.size).astype(np.int64)
        if (roots != np.arange(roots.size)).any():
            g = self.group
            remap = -(self.first + roots)
            step = max(1, (1 << 22) // max(1, math.prod(s.stop - s.start for s in self.box[1:])))
            for start in range(self.box[0].start, self.box[0].stop, step):
                part = (slice(start, min(start + step, self.box[0].stop)), *self.box[1:])
                whole = tuple(slice(b.start + s.start, b.start + s.stop) for b, s in zip(g.box, part))
                region = g.groups[whole]
                ours = (region <= -self.first) & (region > -self.next)
                region[ours] = remap[-region[ours] - self.first]
                g.pages.tick(8 * region.size)
        merged[merged < max(min_size, 1)] = 0
        return merged


def _mutual_majorities(local: np.ndarray, written: np.ndarray):
    """(local label, written index) pairs that hold over half of each other's pixels among
    ``written`` pixels (``local`` 0: the block left the pixel unlabelled)."""
    if not local.size:
        return []
    width = int(written.max()) + 1
    keys, counts = np.unique(local * width + written, return_counts=True)
    local_total = np.bincount(local)
    written_total = np.bincount(written)
    found = []
    for key, count in zip(keys.tolist(), counts.tolist()):
        label, index = divmod(key, width)
        if label and 2 * count > local_total[label] and 2 * count > written_total[index]:
            found.append((label, index))
    return found
