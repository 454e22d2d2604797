"""Drawing 3D objects on a few slices: how close "Fill between slices" comes to the object.

    python benchmarks/bench_slice_interpolation.py --data ../shared/data [--write]

For every object of the 3D reference labels of the development data (cells3d nuclei,
60 x 256 x 256, as they are and sheared 1 px per slice along x, as objects that lean;
StarDist's synthetic nuclei, 31 x 61 x 57), the user is taken to paint it on
every k-th of its Z slices (its first and last slice always): the object is removed from
the other slices, the slices between are filled, and the filled object is compared with the
reference one over the slices that were not painted (intersection over union; the other
objects stay in place, as they would in the app). Three ways to fill, each a median over
the objects:

- ``interpolate_slices_edit`` (the app's): the outlines' signed distance maps blended,
  each moved first to the object's centre at that slice;
- the same blend without moving the maps (plain shape-based interpolation);
- each slice a copy of the nearest painted slice (what painting fewer slices gives
  without interpolation, when each slice is a copy of a painted one).

Also the milliseconds per filled slice. ``--write`` puts the table into
``benchmarks/results/slice_interpolation.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import tifffile
from results_file import write_result

ROOT = Path(__file__).resolve().parents[1]
STACKS = {"cells3d nuclei (confocal), 60 x 256 x 256": ("cells3d_nuclei3d_labels.tif", 0),
          "cells3d nuclei leaning: sheared 1 px per slice along x": ("cells3d_nuclei3d_labels.tif", 1),
          "StarDist synthetic nuclei, 31 x 61 x 57": ("stardist_synthetic_nuclei3d_mask.tif", 0)}
EVERY = (2, 3, 5, 8)


def painted_every(present: np.ndarray, k: int) -> np.ndarray:
    """Every k-th of the slices ``present`` (ascending), the last one always."""
    chosen = present[::k]
    return chosen if chosen[-1] == present[-1] else np.append(chosen, present[-1])


def fill_unmoved(block: np.ndarray, label: int, painted: np.ndarray) -> np.ndarray:
    """Plain shape-based interpolation: the distance maps blended where they lie."""
    from unet_studio.app.slice_interpolation import _signed_distance

    out = block.copy()
    for start, stop in zip(painted[:-1], painted[1:]):
        first = _signed_distance(np.pad(block[start] == label, 1), None)[1:-1, 1:-1]
        last = _signed_distance(np.pad(block[stop] == label, 1), None)[1:-1, 1:-1]
        for z in range(start + 1, stop):
            weight = (z - start) / (stop - start)
            plane = out[z]
            plane[((1 - weight) * first + weight * last > 0) & (plane == 0)] = label
    return out


def fill_nearest(block: np.ndarray, label: int, painted: np.ndarray) -> np.ndarray:
    out = block.copy()
    for start, stop in zip(painted[:-1], painted[1:]):
        for z in range(start + 1, stop):
            source = start if z - start <= stop - z else stop
            plane = out[z]
            plane[(block[source] == label) & (plane == 0)] = label
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def measure(labels: np.ndarray, k: int) -> dict:
    from unet_studio.app.label_edit import apply_edit
    from unet_studio.app.slice_interpolation import interpolate_slices_edit

    scores = {"ours": [], "unmoved": [], "nearest": []}
    seconds, filled_slices = 0.0, 0
    for label in np.unique(labels)[1:]:
        present = np.flatnonzero((labels == label).any(axis=(1, 2)))
        painted = painted_every(present, k)
        gaps = np.setdiff1d(present, painted)
        if gaps.size == 0:
            continue
        drawn = labels.copy()
        for z in gaps:
            drawn[z][drawn[z] == label] = 0
        truth = labels[gaps] == label
        start = time.perf_counter()
        ours = apply_edit(drawn, interpolate_slices_edit(drawn, int(label), 0))
        seconds += time.perf_counter() - start
        filled_slices += gaps.size
        scores["ours"].append(iou(ours[gaps] == label, truth))
        scores["unmoved"].append(iou(fill_unmoved(drawn, label, painted)[gaps] == label, truth))
        scores["nearest"].append(iou(fill_nearest(drawn, label, painted)[gaps] == label, truth))
    return {"objects": len(scores["ours"]), "ms": 1000 * seconds / max(filled_slices, 1),
            **{name: float(np.median(values)) for name, values in scores.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the development data folder")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    header = ["| 3D labels | painted: every k-th slice | objects | IoU of the filled slices: "
              "ours (median) | distance maps not moved | nearest painted slice copied "
              "| ms per filled slice |", "|---|---|---|---|---|---|---|"]
    rows = []
    for name, (file, shear) in STACKS.items():
        labels = tifffile.imread(Path(args.data) / file).astype(np.int32)
        if shear:  # (room on the right for the shift, then slice z moved z px along x)
            labels = np.pad(labels, ((0, 0), (0, 0), (0, shear * len(labels))))
            labels = np.stack([np.roll(plane, shear * z, axis=1) for z, plane in enumerate(labels)])
        for k in EVERY:
            found = measure(labels, k)
            rows.append(f"| {name} | {k} | {found['objects']} | {found['ours']:.3f} "
                        f"| {found['unmoved']:.3f} | {found['nearest']:.3f} "
                        f"| {found['ms']:.2f} |")
            print(rows[-1], flush=True)
    if args.write:
        write_result("slice_interpolation", "Drawing 3D objects on a few slices: Fill between slices",
                     "\n".join(header + rows))


if __name__ == "__main__":
    main()
