"""What the time points linked so far held, for linking the next (``time_links``): the
objects of each (ids, sizes, centres: a few numbers per object, not the labels) and the
drift common to all objects between neighbouring time points. From these: where a track
was last seen (it may have been missed at the time points since) and how it moved on its
own before that (its steady motion, once the common drift is taken off)."""

from __future__ import annotations

import math

import numpy as np

from unet_studio.models.id_pairs import id_array


class Objects:
    """The objects of one time point: ids (ascending), pixel counts and centres (pixel
    coordinates, ``(objects, ndim)``)."""

    def __init__(self, ids: np.ndarray, sizes: np.ndarray, centres: np.ndarray):
        self.ids, self.sizes, self.centres = ids, sizes, centres

    @classmethod
    def summed(cls, slab_moments) -> Objects:
        """From the slabs' (ids, counts, coordinate sums)."""
        ids, sizes = summed_by_key([m[0] for m in slab_moments], [m[1] for m in slab_moments])
        ndim = slab_moments[0][2].shape[1] if slab_moments else 0
        sums = np.stack([summed_by_key([m[0] for m in slab_moments], [m[2][:, a] for m in slab_moments])[1]
                         for a in range(ndim)], axis=1) if len(ids) else np.zeros((0, ndim))  # fmt: skip
        return cls(id_array(ids), sizes, sums / np.maximum(sizes, 1)[:, None])

    def size_of(self, ids: np.ndarray) -> np.ndarray:
        return self.sizes[np.searchsorted(self.ids, ids)]

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """The row of each of ``ids``, -1 where this time point does not hold it."""
        rows = np.searchsorted(self.ids, ids).clip(max=max(len(self.ids) - 1, 0))
        found = len(self.ids) > 0 and self.ids[rows] == ids
        return np.where(found, rows, -1)

    def diameters(self) -> np.ndarray:
        """The diameter of the disc (ball) of each object's size."""
        return diameters_of(self.sizes, self.centres.shape[1])

    def renamed(self, mapping: np.ndarray) -> Objects:
        """The same objects under the ids ``mapping[ids]`` (ascending again)."""
        ids = mapping[self.ids]
        order = np.argsort(ids, kind="stable")
        return Objects(ids[order], self.sizes[order], self.centres[order])


def diameters_of(sizes: np.ndarray, ndim: int) -> np.ndarray:
    unit = math.pi ** (ndim / 2) / math.gamma(ndim / 2 + 1)
    return 2 * (np.asarray(sizes, float) / unit) ** (1 / ndim)


def summed_by_key(keys: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(unique keys, their counts summed) over slabs' (keys, counts)."""
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0)
    unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    return unique, np.bincount(inverse, weights=np.concatenate(counts))


class Sightings:
    """Where each of some tracks was seen: ``frames`` (-1: not in the time points looked
    at), ``centres`` and ``sizes`` there (NaN and 0 where not seen)."""

    def __init__(self, ids: np.ndarray, ndim: int):
        self.ids = ids
        self.frames = np.full(len(ids), -1, np.int64)
        self.centres = np.full((len(ids), ndim), np.nan)
        self.sizes = np.zeros(len(ids))

    @classmethod
    def of(cls, objects: Objects, frame: int) -> Sightings:
        """The objects of one time point, seen there."""
        out = cls(objects.ids, objects.centres.shape[1])
        out.frames[:], out.centres[:], out.sizes[:] = frame, objects.centres, objects.sizes
        return out

    @property
    def seen(self) -> np.ndarray:
        return self.frames >= 0

    def subset(self, keep: np.ndarray) -> Sightings:
        out = Sightings(self.ids[keep], self.centres.shape[1])
        out.frames, out.centres, out.sizes = self.frames[keep], self.centres[keep], self.sizes[keep]
        return out

    def diameters(self) -> np.ndarray:
        return diameters_of(self.sizes, self.centres.shape[1])


class TrackHistory:
    """The linked time points' objects under their linked ids, and the common drift
    between neighbours (``drift(a, b)``: how far the objects as a whole moved from ``a`` to
    ``b``)."""

    def __init__(self):
        self.objects: dict[int, Objects] = {}
        self.steps: dict[int, np.ndarray] = {}  # t -> the common drift from t - 1 to t

    def add(self, t: int, objects: Objects) -> None:
        self.objects[t] = objects

    def add_drift(self, source: int, target: int, drift: np.ndarray) -> None:
        """The common drift from ``source`` to its neighbour ``target``."""
        if target == source + 1:
            self.steps[target] = np.asarray(drift, float)
        else:
            self.steps[source] = -np.asarray(drift, float)

    def drift(self, source: int, target: int) -> np.ndarray:
        low, high = sorted((source, target))
        total = sum((self.steps[k] for k in range(low + 1, high + 1)), np.zeros(self._ndim()))
        return total if target >= source else -total

    def last_seen(self, ids: np.ndarray, frames: list[int]) -> Sightings:
        """For each of ``ids``: the first of ``frames`` (nearest first) that holds it."""
        found = Sightings(id_array(ids), self._ndim())
        for t in frames:
            objects = self.objects.get(t)
            if objects is None:
                continue
            todo = np.flatnonzero(~found.seen)
            rows = objects.rows_of(found.ids[todo])
            hit, rows = todo[rows >= 0], rows[rows >= 0]
            found.frames[hit] = t
            found.centres[hit] = objects.centres[rows]
            found.sizes[hit] = objects.sizes[rows]
        return found

    def own_steps(self, sightings: Sightings, direction: int, depth: int) -> np.ndarray:
        """Each track's own step per time point (``direction``: +1 forward in time, -1
        back) up to where it was seen in ``sightings``, from where it was seen before that
        (within ``depth`` time points), the common drift taken off; NaN where not seen
        before. A steadily moving object (a migrating cell, a cell in a flow) goes on about
        that far in the same direction."""
        steps = np.full(sightings.centres.shape, np.nan)
        for frame in np.unique(sightings.frames[sightings.seen]):
            here = np.flatnonzero(sightings.frames == frame)
            earlier = [int(frame) - direction * k for k in range(1, depth + 1)]
            before = self.last_seen(sightings.ids[here], earlier)
            for previous in np.unique(before.frames[before.seen]):
                pick = before.frames == previous
                moved = sightings.centres[here[pick]] - before.centres[pick]
                steps[here[pick]] = ((moved - self.drift(int(previous), int(frame)))
                                     / abs(int(frame) - int(previous)))
        return steps

    def forget(self, keep) -> None:
        """Drop the time points for which ``keep(t)`` is false."""
        for t in [t for t in self.objects if not keep(t)]:
            del self.objects[t]
        for t in [t for t in self.steps if not (keep(t) and keep(t - 1))]:
            del self.steps[t]

    def _ndim(self) -> int:
        return next(iter(self.objects.values())).centres.shape[1] if self.objects else 0
