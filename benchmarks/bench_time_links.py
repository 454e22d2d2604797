"""Ids over time: what linking time points costs, and how many objects it follows.

    python benchmarks/bench_time_links.py --data ../shared/data [--write]

On the reference labels of the two real time series of the development data (HeLa H2B-GFP,
Cell Tracking Challenge, 5 frames of 700 x 1100; Hoechst scratch assay, 10 frames of
210 x 576), each frame renumbered 1..N as the engine labels it, ``TimeLinker`` links the
frames in order, as ``iter_predict_image`` does. Figures: milliseconds per frame (median),
objects per frame, the share of a frame's objects that carry on an id of the frame before,
and, to read that share by, how far the objects move: the median of each object's best
overlap (intersection over union) with an object of the frame before, and the median
distance to the nearest centroid of the frame before over the median object diameter.
``--write`` puts the table into ``benchmarks/results/time_links.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import tifffile
from results_file import write_result
from scipy import ndimage as ndi
from skimage.segmentation import relabel_sequential

ROOT = Path(__file__).resolve().parents[1]
SERIES = {"HeLa H2B-GFP (CTC), 5 x 700 x 1100": "ctc_Fluo-N2DL-HeLa_02_5t_errseg.tif",
          "Hoechst scratch assay, 10 x 210 x 576": "ndev_scratch_hoechst_10t_nuclei_labels.tif"}


def motion(frames) -> tuple[float, float]:
    """(median best IoU with the frame before, median nearest-centroid distance / median
    diameter) over the objects of frames 1..T-1."""
    best, moved, diameters = [], [], []
    for before, now in zip(frames, frames[1:]):
        ids_before, ids_now = np.unique(before)[1:], np.unique(now)[1:]
        centres_before = np.asarray(ndi.center_of_mass(before > 0, before, ids_before))
        centres_now = np.asarray(ndi.center_of_mass(now > 0, now, ids_now))
        sizes_before = np.bincount(before.ravel())
        sizes_now = np.bincount(now.ravel())
        diameters.append(np.median(2 * np.sqrt(sizes_now[ids_now] / np.pi)))
        for index, label in enumerate(ids_now):
            under = before[now == label]
            under = under[under > 0]
            if under.size:
                partner = np.bincount(under).argmax()
                overlap = (under == partner).sum()
                best.append(overlap / (sizes_now[label] + sizes_before[partner] - overlap))
            else:
                best.append(0.0)
            moved.append(np.sqrt(((centres_before - centres_now[index]) ** 2).sum(axis=1)).min())
    return float(np.median(best)), float(np.median(moved) / np.median(diameters))


def measure(path: Path, linker_class=None) -> dict:
    """The figures of one series, linked by ``linker_class`` (default: ``TimeLinker``)."""
    from unet_studio.models.time_links import TimeLinker

    linker_class = linker_class or TimeLinker
    labels = tifffile.imread(path)
    frames = [relabel_sequential(frame.astype(np.int32))[0].astype(np.int32) for frame in labels]
    iou, moved = motion(frames)
    linker = linker_class(len(frames))
    seconds = []
    for t, frame in enumerate(frames):
        start = time.perf_counter()
        linker.link(t, frame)  # (in place)
        seconds.append(time.perf_counter() - start)
    ids = [set(np.unique(frame).tolist()) - {0} for frame in frames]
    carried = [len(ids[t] & ids[t - 1]) / max(len(ids[t]), 1) for t in range(1, len(ids))]
    return {"ms": 1000 * float(np.median(seconds[1:])), "objects": [len(i) for i in ids],
            "carried": float(np.median(carried)), "ids": len(set().union(*ids)),
            "iou": iou, "moved": moved}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the development data folder")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    header = ["| time series | ms per frame | objects per frame | carry on an id (median) "
              "| ids in all | best IoU with the frame before (median) "
              "| motion / diameter (median) |", "|---|---|---|---|---|---|---|"]
    rows = []
    for name, file in SERIES.items():
        found = measure(Path(args.data) / file)
        objects = found["objects"]
        rows.append(f"| {name} | {found['ms']:.1f} | {objects[0]}-{objects[-1]} "
                    f"| {100 * found['carried']:.0f} % | {found['ids']} | {found['iou']:.2f} "
                    f"| {found['moved']:.2f} |")
        print(rows[-1], flush=True)
    if args.write:
        write_result("time_links", "Ids over time: linking time points by overlap and position",
                     "\n".join(header + rows))


if __name__ == "__main__":
    main()
