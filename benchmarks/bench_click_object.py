"""Adding a missed object with one click: how close the object found comes to the reference.

    python benchmarks/bench_click_object.py --data ../shared/data [--write]

For every object of a reference frame or stack of the development data, the object is
taken away (as if the network had missed it) and ``add_object_edit`` is called with the
pointer on its innermost pixel (the deepest point of its distance map: where a user would
point). The object found is compared with the reference one (intersection over union), in
two situations: the other objects labelled (one missed object among found ones, the usual
case), and nothing else labelled (every object missed; the typical size still from the
reference). For comparison, the IoU of a disc (ball in 3D) of the typical size at the
click: one dab of a brush of that size. Figures: median IoU, the share of objects found with
IoU >= 0.5 and >= 0.75, milliseconds per click. ``--write`` puts the table into
``benchmarks/results/click_object.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import tifffile
from results_file import write_result
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
# name: (image file, labels file, index of the frame or plane (None: the whole stack), pixel size)
CASES = {
    "HeLa H2B-GFP frame 3, 700 x 1100": ("ctc_Fluo-N2DL-HeLa_02_5t_img.tif",
                                         "ctc_Fluo-N2DL-HeLa_02_5t_errseg.tif", 3, None),
    "Hoechst scratch assay frame 8, 210 x 576": ("ndev_scratch_hoechst_10t_img.tif",
                                                 "ndev_scratch_hoechst_10t_nuclei_labels.tif", 8, None),
    "cells3d nuclei plane 30, 256 x 256": ("cells3d_nuclei3d_img.tif", "cells3d_nuclei3d_labels.tif",
                                           30, None),
    "cells3d nuclei in 3D, 60 x 256 x 256": ("cells3d_nuclei3d_img.tif", "cells3d_nuclei3d_labels.tif",
                                             None, (0.29, 0.26, 0.26)),
    "E. coli phase contrast frame 2, 727 x 1026": ("trpL_ecoli_phase_3t_img.tif",
                                                   "trpL_ecoli_phase_3t_mask.tif", 2, None),
}  # fmt: skip


def innermost(mask: np.ndarray) -> tuple[int, ...]:
    distance = ndi.distance_transform_edt(np.pad(mask, 1))[tuple(slice(1, -1) for _ in mask.shape)]
    return tuple(int(i) for i in np.unravel_index(distance.argmax(), mask.shape))


def dab(shape, point, extent, free) -> np.ndarray:
    grid = np.ogrid[tuple(slice(0, n) for n in shape)]
    inside = sum(((g - p) / (e / 2)) ** 2 for g, p, e in zip(grid, point, extent)) <= 1
    return inside & free


def iou(a, b) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def measure(image, labels, sampling, alone: bool) -> dict:
    from unet_studio.app.click_object import add_object_edit, typical_size
    from unet_studio.app.errors import UserError
    from unet_studio.app.label_edit import apply_edit

    found_iou, dab_iou, seconds = [], [], []
    for label in np.unique(labels)[1:]:
        truth = labels == label
        others = np.zeros_like(labels) if alone else np.where(truth, 0, labels)
        point = innermost(truth)
        start = time.perf_counter()
        # (nothing else labelled: the typical size still from the reference, as the rest
        # of the image would show it)
        typical = typical_size(labels, point) if alone else None
        try:
            added = apply_edit(others, add_object_edit(others, image, point, int(label),
                                                       sampling=sampling, typical=typical))
            added = added == label
        except UserError:
            added = np.zeros_like(truth)
        seconds.append(time.perf_counter() - start)
        found_iou.append(iou(added, truth))
        extent, _ = typical_size(labels, point)
        dab_iou.append(iou(dab(labels.shape, point, extent, others == 0), truth))
    found, dabs = np.array(found_iou), np.array(dab_iou)
    return {"objects": len(found), "median": float(np.median(found)),
            "half": float(np.mean(found >= 0.5)), "three_quarters": float(np.mean(found >= 0.75)),
            "dab": float(np.median(dabs)), "ms": 1000 * float(np.median(seconds))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the development data folder")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    header = ["| reference | others labelled | objects | IoU of the object found (median) "
              "| found with IoU >= 0.5 | >= 0.75 | one brush dab of the typical size (median IoU) "
              "| ms per click (median) |", "|---|---|---|---|---|---|---|---|"]
    rows = []
    for name, (image_file, labels_file, index, sampling) in CASES.items():
        image = tifffile.imread(Path(args.data) / image_file)
        labels = tifffile.imread(Path(args.data) / labels_file).astype(np.int32)
        if index is not None:
            image, labels = image[index], labels[index]
        if labels.max() == 1:  # (a mask: its connected parts are the objects)
            labels = ndi.label(labels)[0].astype(np.int32)
        for alone in (False, True):
            found = measure(image, labels, sampling, alone)
            rows.append(f"| {name} | {'none' if alone else 'all'} | {found['objects']} "
                        f"| {found['median']:.3f} | {100 * found['half']:.0f} % "
                        f"| {100 * found['three_quarters']:.0f} % | {found['dab']:.3f} "
                        f"| {found['ms']:.1f} |")
            print(rows[-1], flush=True)
    if args.write:
        write_result("click_object", "Adding a missed object with one click",
                     "\n".join(header + rows))


if __name__ == "__main__":
    main()
