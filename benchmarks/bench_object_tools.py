"""Object tools on a big stack: milliseconds per click, whole-array search vs around the click.

    python benchmarks/bench_object_tools.py --data ../shared/data [--tiles 8] [--write]

The cells3d reference labels (60 x 256 x 256, 20 nuclei) tiled ``tiles`` x ``tiles`` in the
plane (ids offset per tile): 60 x 2048 x 2048 int32 by default, 1 GB, 1280 nuclei, in RAM.
Each tool's edit (what a click or key computes, before napari applies it) is timed on
nuclei near the middle, the search of the whole array against the search around the click
(``object_search``), in one run, median of 5 nuclei. Fresh ids (split, "New label id", Add
object): the whole array's largest id read at each click against the session's
``FreshIds``, which read it at the first click and keeps it from the edits since. ``--write`` puts the table into
``benchmarks/results/object_tools.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import tifffile
from results_file import write_result

ROOT = Path(__file__).resolve().parents[1]


def tiled_labels(data: Path, tiles: int) -> np.ndarray:
    tile = tifffile.imread(data / "cells3d_nuclei3d_labels.tif").astype(np.int32)
    step = int(tile.max())
    rows = [np.concatenate([np.where(tile > 0, tile + step * (r * tiles + c), 0)
                            for c in range(tiles)], axis=2) for r in range(tiles)]  # fmt: skip
    return np.ascontiguousarray(np.concatenate(rows, axis=1))


def tool_calls(labels: np.ndarray, label: int, other: int, point, other_point, fresh_id):
    from unet_studio.app import corrections
    from unet_studio.app.slice_interpolation import interpolate_slices_edit

    inside = np.argwhere(labels[point[0]] == label)
    seeds = [(point[0], *inside[len(inside) // 4]), (point[0], *inside[3 * len(inside) // 4])]
    return {
        "delete": lambda: corrections.delete_object_edit(labels, label, near=point),
        "merge two": lambda: corrections.merge_labels_edit(labels, [label, other],
                                                           near=[point, other_point]),
        "fill its holes": lambda: corrections.fill_holes_edit(labels, label, per_slice=True,
                                                              near=point),
        "split": lambda: corrections.split_object_edit(labels, label, seeds,
                                                       first_new=fresh_id(labels)),
        "new label id": lambda: fresh_id(labels),
        "fill between slices": lambda: interpolate_slices_edit(labels, label, 0, near=point),
    }  # fmt: skip


def measure(labels: np.ndarray, local: bool, picks) -> dict[str, float]:
    from unet_studio.app import corrections, object_search
    from unet_studio.app.label_ids import FreshIds

    object_search.LOCAL_SEARCH_PIXELS = 0 if local else 1 << 62
    if local:
        fresh_id = FreshIds().next_id
        fresh_id(labels)  # (the first click of a session reads the labels once)
    else:
        fresh_id = corrections.next_label_id
    seconds: dict[str, list[float]] = {}
    for label, other, point, other_point in picks:
        for name, call in tool_calls(labels, label, other, point, other_point, fresh_id).items():
            start = time.perf_counter()
            call()
            seconds.setdefault(name, []).append(time.perf_counter() - start)
    return {name: 1000 * float(np.median(values)) for name, values in seconds.items()}


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 0.1 else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the development data folder")
    parser.add_argument("--tiles", type=int, default=8)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    labels = tiled_labels(Path(args.data), args.tiles)
    centre = np.array(labels.shape) // 2
    ids = [i for i in np.unique(labels[centre[0], centre[1] - 300:centre[1] + 300,
                                       centre[2] - 300:centre[2] + 300]) if i][:6]  # fmt: skip
    points = {}
    for i in ids:  # (a pixel in the middle of the nucleus's section)
        inside = np.argwhere(labels[centre[0]] == i)
        points[i] = tuple(int(v) for v in inside[len(inside) // 2])
    picks = [(a, b, (centre[0], *points[a]), (centre[0], *points[b]))
             for a, b in zip(ids[:5], ids[1:6])]  # fmt: skip
    exact = measure(labels, False, picks)
    local = measure(labels, True, picks)
    shape = " x ".join(map(str, labels.shape))
    header = [f"| tool ({shape} int32 labels, {labels.nbytes / 2**30:.1f} GiB, in RAM) "
              "| whole array searched (ms) | around the click, fresh ids kept (ms) | faster |",
              "|---|---|---|---|"]
    rows = [f"| {name} | {exact[name]:.0f} | {_ms(local[name])} | {exact[name] / local[name]:.0f}x |"
            for name in exact]  # fmt: skip
    print("\n".join(header + rows))
    if args.write:
        write_result("object_tools", "Object tools on a big stack",
                     "\n".join(header + rows))


if __name__ == "__main__":
    main()
