"""Going through the objects most likely to be wrong, one after another.

Proofreading a stack of thousands of nuclei object by object is out of reach; the errors
a network makes stand out in a few measures, though: fragments and specks are the smallest
objects, two nuclei given one label are among the largest, and merged or ragged shapes fill
little of their box. The Correct panel orders the objects by one of these (from the
slab-wise measurements, ``app.measure``) and steps through them, bringing each into view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

# How the objects can be ordered: name -> what comes first.
ORDERS = {
    "smallest": "smallest first (fragments, specks)",
    "largest": "largest first (merged nuclei)",
    "least compact": "least compact first (filling least of their box: merges, ragged shapes)",
}


@dataclass(frozen=True)
class ObjectEntry:
    label: int
    frame: int | None  # the time point (None: no time axis)
    pixels: int
    centre: tuple[float, ...]  # the centroid, labels' spatial axes (pixel indices)
    box: tuple[slice, ...]  # spatial axes

    def coordinate(self, time_axis: int | None) -> tuple[float, ...]:
        """Where it is in the labels' coordinates (the time point inserted)."""
        if time_axis is None or self.frame is None:
            return self.centre
        return (*self.centre[:time_axis], float(self.frame), *self.centre[time_axis:])

    def point_inside(self, labels, time_axis: int | None) -> tuple[float, ...]:
        """A pixel of the object (labels' coordinates) nearest its centroid: the centroid
        of a curved or ring-shaped object lies outside it, and a key pressed there would
        act on the background or a neighbour. The centroid when the object is gone."""
        box = self.box if time_axis is None or self.frame is None \
            else (*self.box[:time_axis], self.frame, *self.box[time_axis:])
        pixels = np.argwhere(np.asarray(labels[box]) == self.label)
        if len(pixels) == 0:
            return self.coordinate(time_axis)
        pixels = pixels + np.array([s.start for s in self.box])
        nearest = pixels[np.argmin(((pixels - np.asarray(self.centre)) ** 2).sum(axis=1))]
        return replace(self, centre=tuple(map(float, nearest))).coordinate(time_axis)


class ObjectQueue:
    """The objects of one labels array (measurement rows) in the chosen order; ``step``
    moves through them."""

    def __init__(self, rows: list[dict], spatial: str, order: str):
        if order not in ORDERS:
            raise ValueError(f"order must be one of {list(ORDERS)}, got {order!r}")
        letters = [a.lower() for a in spatial]
        self.entries = [ObjectEntry(
            label=int(row["label"]), frame=row.get("frame"), pixels=int(row["pixels"]),
            centre=tuple(float(row[f"centroid_{a}"]) for a in letters),
            box=tuple(slice(int(row[f"bbox_{a}_start"]), int(row[f"bbox_{a}_stop"]))
                      for a in letters)) for row in rows]  # fmt: skip
        self.order = order
        self.entries.sort(key=self._key)
        self.index = -1  # (before the first)

    def _key(self, entry: ObjectEntry):
        if self.order == "smallest":
            return (entry.pixels, entry.label)
        if self.order == "largest":
            return (-entry.pixels, entry.label)
        box = float(np.prod([s.stop - s.start for s in entry.box]))
        return (entry.pixels / max(box, 1.0), entry.label)

    def __len__(self) -> int:
        return len(self.entries)

    def step(self, forward: bool, exists) -> ObjectEntry | None:
        """The next (or previous) object that ``exists(entry)`` still (edits since the
        measuring may have removed some); None past the end."""
        index = self.index
        while True:
            index += 1 if forward else -1
            if not 0 <= index < len(self.entries):
                return None
            if exists(self.entries[index]):
                self.index = index
                return self.entries[index]

    def rank_text(self) -> str:
        """Where the current object stands: "3rd of 412"."""
        n = self.index + 1
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix} of {len(self.entries)}"
