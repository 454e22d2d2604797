"""What can be measured: a label image's axes, type and ids, and an image that lies on its
pixel grid. Every check says what is wrong in words a caller can put after a file's name.

Separate from the measuring (``app.measure``) because the CLI checks its inputs with these
before it starts, and ``evaluate`` and ``finetune`` check label ids with them too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unet_studio.app.errors import UserError

LABEL_AXES = "TZYX"
IMAGE_AXES = "TZCYX"
SPATIAL_ORDER = "ZYX"  # the order of the centroid and bounding box columns
# Ids are kept as int64 (the CSV, the label tables): a uint64 id above this would wrap.
LARGEST_ID = int(np.iinfo(np.int64).max)


class LabelIdError(UserError):
    """Label ids that cannot be measured (negative, or too large for int64). Found while
    measuring, since a stack larger than RAM is only ever seen slab by slab; ``problem``
    lets the caller name the file."""

    def __init__(self, problem: str):
        self.problem = problem
        super().__init__(f"the label image {problem}")


def check_ids(slab: np.ndarray) -> None:
    """LabelIdError for ids that would be silently lost (negative ones are neither background
    nor an object) or wrapped to negative numbers (uint64 ids above ``LARGEST_ID``)."""
    if not slab.size:
        return
    if slab.dtype.kind == "i" and (low := int(slab.min())) < 0:
        raise LabelIdError(f"holds negative ids (as low as {low}); label ids must be 0 "
                           "(background) or positive")
    if slab.dtype == np.uint64 and (high := int(slab.max())) > LARGEST_ID:
        raise LabelIdError(f"holds the id {high}, above {LARGEST_ID}, the largest id "
                           "supported; number the objects from 1")


def spatial_axes(axes: str) -> str:
    """The spatial letters of ``axes`` in storage order, e.g. "ZYX" for "TZYX"."""
    return "".join(a for a in axes if a in SPATIAL_ORDER)


def labels_problem(dtype, axes: str, ndim: int) -> str | None:
    """Why an array of ``dtype`` with ``axes`` is no label image (None when it is one)."""
    if "C" in axes:
        return f"has a channel axis ({axes}); give a label image, one label per pixel"
    if len(axes) != ndim or len(set(axes)) != len(axes) or set(axes) - set(LABEL_AXES):
        return f"axes {axes!r} do not fit {ndim} dimensions (one letter each, from {LABEL_AXES})"
    if not spatial_axes(axes):
        return f"has no spatial axis ({axes})"
    dtype = np.dtype(dtype)
    if dtype.kind not in "iub":  # signed, unsigned, bool (a mask: one object)
        return f"holds {dtype} values, not integer labels"
    return None


def looks_like_intensities(plane: np.ndarray) -> bool:
    """Does a 2D plane of a supposed label image look like raw intensities? In labels, two
    neighbouring labelled pixels differ only along the few borders where objects touch; in
    an intensity image nearly every neighbour differs (noise). Catches swapped arguments."""
    plane = np.asarray(plane)
    if plane.ndim != 2 or plane.shape[1] < 2:
        return False
    left, right = plane[:, :-1], plane[:, 1:]
    both = (left > 0) & (right > 0)
    pairs = int(np.count_nonzero(both))
    return pairs >= 1000 and np.count_nonzero(both & (left != right)) > pairs // 2


def grid_mismatch(labels_shape: Sequence[int], axes: str, image_shape: Sequence[int],
                  image_axes: str) -> str | None:
    """Why an image (``image_axes`` may add "C") does not lie on the labels' pixel grid
    (None when every T/Z/Y/X size matches)."""
    if len(image_axes) != len(image_shape) or set(image_axes) - set(IMAGE_AXES):
        return f"axes {image_axes!r} do not fit an image of shape {tuple(image_shape)}"
    labels_sizes = dict(zip(axes, labels_shape))
    image_sizes = {a: n for a, n in zip(image_axes, image_shape) if a != "C"}
    if labels_sizes != image_sizes:
        return (f"has shape {tuple(image_shape)} ({image_axes}) but the labels have "
                f"{tuple(labels_shape)} ({axes}): the T/Z/Y/X sizes must be the same")
    return None


def file_classes(stack) -> tuple[str, ...] | None:
    """The class names a labels file records (a class map written by unet-studio: our TIFF
    tag, ImageJ Info, OME annotation, OME-Zarr attributes, read as ``metadata["class_names"]``),
    None for a file of objects. The commands that would treat each class as one object
    (measure, evaluate, export-ctc) read these rather than wait for ``--classes``."""
    names = stack.metadata.get("class_names")
    return tuple(str(name) for name in names) if names else None


def class_map_note(class_names, *, recorded_by: str | None = None) -> str:
    """"class map (recorded classes: background, nucleus, edge)": the line a command prints
    when a file's recorded classes, not an option, made it measure or score classes.
    ``recorded_by``: the one file of two that records them (the other is taken to match)."""
    only = f"; recorded by {recorded_by} only" if recorded_by else ""
    return f"class map (recorded classes: {', '.join(class_names)}{only})"
