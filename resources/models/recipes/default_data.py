"""The default model's data split: what it trains on and what the accuracy report holds out.

Defined once here and imported by the training recipe (``train_default.py``) and the accuracy
benchmark (``benchmarks/bench_accuracy.py``), so that the two can never disagree about which
frames were seen in training. Reads the development data (``../shared/data``, see its README
for provenance and licences); nothing in the product imports this module.

| data set | trains on | held out |
|---|---|---|
| HeLa H2B-GFP (CTC Fluo-N2DL-HeLa 02) | frames 0-2 | frames 3-4 |
| Hoechst scratch assay (ndev) | frames 0-6 | frames 7-9 |
| cells3d nuclei (Allen Institute) | YX slices of the x < 128 half | x >= 128 half: YX slices and the 3D volume |
| StarDist synthetic 3D nuclei | - | the whole stack (3D) |

Nuclei that straddle the cells3d split at x = 128 appear in both halves (a few slivers);
the held-out half is evaluated as cropped, so those count for and against every method alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

DEFAULT_DATA_DIR = Path(os.environ.get("UNET_STUDIO_DEV_DATA", "/work/shared/data"))

HELA = ("ctc_Fluo-N2DL-HeLa_02_5t_img.tif", "ctc_Fluo-N2DL-HeLa_02_5t_errseg.tif")
HOECHST = ("ndev_scratch_hoechst_10t_img.tif", "ndev_scratch_hoechst_10t_nuclei_labels.tif")
CELLS3D = ("cells3d_nuclei3d_img.tif", "cells3d_nuclei3d_labels.tif")
STARDIST = ("stardist_synthetic_nuclei3d_img.tif", "stardist_synthetic_nuclei3d_mask.tif")

CELLS3D_SPLIT_X = 128
# Voxel size relative to the in-plane pixel (Z, Y, X). cells3d: 0.29 x 0.26 x 0.26 um.
# The synthetic stack has no stated voxel size; its nuclei are half as tall (in voxels) as
# they are wide, so we take Z spacing = 2 in-plane pixels.
CELLS3D_SAMPLING = (0.29 / 0.26, 1.0, 1.0)
STARDIST_SAMPLING = (2.0, 1.0, 1.0)

SET_NAMES = ("hela", "hoechst", "cells3d_2d", "cells3d_3d", "stardist_3d")


@dataclass(frozen=True)
class LabelledSet:
    """Images with instance labels from one data set and one side of the split.

    ``images[i]`` and ``labels[i]`` share a shape: ``(Y, X)`` when ``axes == "YX"``,
    ``(Z, Y, X)`` when ``axes == "ZYX"``. ``sampling`` is the voxel size per axis relative to
    the in-plane pixel; ``diameter_px`` the typical nucleus diameter in in-plane pixels.
    """

    name: str
    images: tuple[np.ndarray, ...]
    labels: tuple[np.ndarray, ...]
    axes: str
    sampling: tuple[float, ...]
    diameter_px: float
    description: str
    # The CTC HeLa reference leaves out most nuclei cut by the image edge: score it with
    # objects touching the Y/X edges removed from prediction and reference alike.
    ignore_edge_objects: bool = False


def _read(data_dir: Path, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    import tifffile

    image = tifffile.imread(data_dir / names[0])
    labels = tifffile.imread(data_dir / names[1]).astype(np.int32)
    return image, labels


def _frames(name, images, labels, frames, diameter, description) -> LabelledSet:
    return LabelledSet(
        name,
        tuple(images[t] for t in frames),
        tuple(labels[t] for t in frames),
        "YX",
        (1.0, 1.0),
        diameter,
        description,
        ignore_edge_objects=name == "hela",
    )


def _cells3d_half(data_dir: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    image, labels = _read(data_dir, CELLS3D)
    half = slice(None, CELLS3D_SPLIT_X) if part == "train" else slice(CELLS3D_SPLIT_X, None)
    return image[:, :, half], labels[:, :, half]


def _labelled_slices(volume: np.ndarray, labels: np.ndarray) -> tuple[tuple, tuple]:
    """YX slices that contain at least one labelled pixel (the others are out-of-focus haze)."""
    keep = [z for z in range(labels.shape[0]) if labels[z].any()]
    return tuple(volume[z] for z in keep), tuple(labels[z] for z in keep)


def load_set(name: str, part: str, data_dir: Path = DEFAULT_DATA_DIR) -> LabelledSet:
    """One data set's training (``part="train"``) or held-out (``part="test"``) side.

    The synthetic stack has no training side: ``part="train"`` returns the held-out stack
    itself (the baseline is tuned on it, which flatters the baseline, not the model).
    """
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    data_dir = Path(data_dir)
    train = part == "train"
    if name == "hela":
        image, labels = _read(data_dir, HELA)
        frames = (0, 1, 2) if train else (3, 4)
        return _frames(name, image, labels, frames, 27.0, f"HeLa H2B-GFP frames {frames}")
    if name == "hoechst":
        image, labels = _read(data_dir, HOECHST)
        frames = tuple(range(7)) if train else (7, 8, 9)
        return _frames(name, image, labels, frames, 12.0, f"Hoechst scratch frames {frames}")
    if name in ("cells3d_2d", "cells3d_3d"):
        volume, labels = _cells3d_half(data_dir, part)
        side = "x < 128" if train else "x >= 128"
        if name == "cells3d_3d":
            return LabelledSet(name, (volume,), (labels,), "ZYX", CELLS3D_SAMPLING, 48.0,
                               f"cells3d {side} half, 3D")
        images, slices = _labelled_slices(volume, labels)
        return LabelledSet(name, images, slices, "YX", (1.0, 1.0), 48.0,
                           f"cells3d {side} half, {len(images)} YX slices")
    if name == "stardist_3d":
        image, labels = _read(data_dir, STARDIST)
        return LabelledSet(name, (image,), (labels,), "ZYX", STARDIST_SAMPLING, 14.0,
                           "StarDist synthetic nuclei, whole stack, 3D")
    raise ValueError(f"unknown data set {name!r}; known: {SET_NAMES}")


def unlabelled_nuclei(image: np.ndarray, labels: np.ndarray, diameter_px: float) -> np.ndarray:
    """Bright blobs the reference left unlabelled, grown by a margin; bool ``(Y, X)``.

    The HeLa reference omits nuclei cut by the image edge and the Hoechst labels omit the
    brightest (mitotic) nuclei; training would teach the network to ignore such nuclei. A
    blob is the smoothed image above a quarter of the way from the median background to the
    median labelled intensity; it is unlabelled when under 20% of it carries a label.
    """
    from skimage.filters import gaussian

    low, high = np.percentile(image, (1.0, 99.8))
    smooth = gaussian((image.astype(np.float32) - low) / max(high - low, 1e-6), 0.08 * diameter_px)
    background = np.median(smooth[labels == 0])
    foreground = np.median(smooth[labels > 0]) if labels.any() else background + 1.0
    blobs, _ = ndi.label(smooth > background + 0.25 * (foreground - background))
    area = np.bincount(blobs.ravel())
    labelled = np.bincount(blobs.ravel(), weights=(labels > 0).ravel(), minlength=len(area))
    unlabelled = (labelled < 0.2 * area) & (area > 0.1 * diameter_px**2)
    unlabelled[0] = False
    margin = max(int(round(0.15 * diameter_px)), 1)
    return ndi.binary_dilation(unlabelled[blobs], iterations=margin)
