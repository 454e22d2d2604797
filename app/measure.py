"""Per-object measurements of a label image: size, position, extent and intensity, per frame.

The labels (and the image measured under them) may be larger than RAM, so they are read one
slab at a time: a few planes along the first spatial axis (a single plane larger than a slab
is cut along the next axis too), each time point separately. Each slab adds its per-object
sums (pixel count, coordinate sums, intensity sums, in float64) and bounding boxes to the
frame's running totals; nothing the size of the stack is ever held.
Qt-free: the CLI drains :func:`iter_measure`, the Correct panel runs it in a worker.

Here the loop over frames and slabs; the parts: ``measure_inputs`` (what can be measured),
``label_slabs`` (reading slab by slab), ``object_sums`` (the totals of one slab and frame),
``measure_table`` (columns, rows and the CSV).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.label_slabs import SlabReader, block_key, slab_blocks
from unet_studio.app.measure_inputs import (
    LabelIdError,
    check_ids,
    grid_mismatch,
    labels_problem,
    looks_like_intensities,
    spatial_axes,
)
from unet_studio.app.measure_table import (
    RowLayout,
    Rows,
    channel_suffixes,
    csv_table,
    measure_columns,
    write_csv,
)
from unet_studio.app.object_sums import ObjectSums

# (label pixels read per slab, and per image channel: ~100 MB of working arrays at most)
from unet_studio.models.slab_label import SLAB_PIXELS

# With the names the CLI commands, evaluate and finetune import from here (their homes are
# the modules above).
__all__ = ["RELEASE_EVERY_BYTES", "SLAB_PIXELS", "LabelIdError", "Rows", "block_key",
           "check_ids", "grid_mismatch", "iter_measure", "iter_measure_to_csv",
           "labels_problem", "looks_like_intensities", "measure_columns", "slab_blocks",
           "spatial_axes", "write_csv"]

# Bytes of a memory-mapped stack read between hand-backs of its pages: each page is read
# once, so keeping them is pointless; a small window keeps the peak low (madvise is cheap).
RELEASE_EVERY_BYTES = 64 * 2**20


def iter_measure(labels, image=None, *, axes: str, image_axes: str | None = None,
                 scale: dict | None = None, slab_pixels: int = SLAB_PIXELS,
                 time_step: float | None = None) -> Generator[float, None, Rows]:
    """Measure every object of ``labels``; yields the fraction done, returns one row per
    (time point, label > 0) with the keys of :func:`measure_columns`.

    ``labels``: array-like (numpy, memmap, zarr, lazy stack), integer or bool, one dimension
    per letter of ``axes`` (over "TZYX"). ``image``: optional array-like measured under the
    labels, axes ``image_axes`` (default ``axes``): the same T/Z/Y/X sizes, maybe a C axis.
    ``scale``: micrometres per pixel by axis letter; missing axes mean unknown. Centroids and
    boxes are in pixel indices (``_px``), box stops exclusive; centroids also in µm when
    ``scale`` knows every spatial axis. ``slab_pixels``: label pixels read at once.
    ``time_step``: seconds between time points (a ``time_s`` column; None: unknown).
    The inputs are checked at the call (UserError), before the first step.
    """
    image_axes = _checked_inputs(labels, axes, image, image_axes)
    return _iter_rows(labels, image, axes, image_axes, scale, max(int(slab_pixels), 1),
                      time_step=time_step)


def _checked_inputs(labels, axes: str, image, image_axes: str | None) -> str | None:
    problem = labels_problem(labels.dtype, axes, len(labels.shape))
    if problem:
        raise UserError(f"the labels {problem}")
    if image is None:
        return None
    image_axes = axes if image_axes is None else image_axes
    problem = grid_mismatch(labels.shape, axes, image.shape, image_axes)
    if problem:
        raise UserError(f"the image {problem}")
    return image_axes


def _iter_rows(labels, image, axes, image_axes, scale, slab_pixels,
               sink=None, time_step=None) -> Generator[float, None, Rows | int]:  # fmt: skip
    """Measuring steps (see :func:`iter_measure`); returns the rows, or with ``sink`` (a
    callable taking each time point's rows as they are measured) their number."""
    sizes = dict(zip(axes, labels.shape))
    spatial = spatial_axes(axes)
    channels = 0 if image is None else dict(zip(image_axes, image.shape)).get("C", 1)
    frames = range(sizes["T"]) if "T" in axes else (None,)
    blocks = slab_blocks([sizes[a] for a in spatial], slab_pixels)
    layout = RowLayout(spatial, scale, channel_suffixes(image_axes, channels), axes, time_step)
    total = max(len(frames) * len(blocks), 1)
    reader = SlabReader(labels, image, axes, image_axes, channels, RELEASE_EVERY_BYTES)
    yield 0.0
    rows: Rows = []
    count = 0
    for index, frame in enumerate(frames):
        sums = ObjectSums(len(spatial), channels)
        for done, block in enumerate(blocks, index * len(blocks) + 1):
            reader.add(sums, frame, block)
            yield done / total
        if sink is None:
            rows += layout.rows(sums, frame)
        else:
            count += len(sums.labels)
            sink(layout.rows(sums, frame))
    reader.release()
    return rows if sink is None else count


def iter_measure_to_csv(path: str | Path, labels, image=None, *, axes: str,
                        image_axes: str | None = None, scale: dict | None = None,
                        slab_pixels: int = SLAB_PIXELS, time_step: float | None = None,
                        ) -> Generator[float, None, int]:
    """:func:`iter_measure`, the table written to ``path`` as it is measured (a time point
    at a time: the rows of a long time series are never all held), atomically: ``path``
    appears complete at the end, and closing the generator early leaves no file behind.
    Returns the number of objects. The inputs are checked at the call."""
    image_axes = _checked_inputs(labels, axes, image, image_axes)
    channels = 1 if image is None else dict(zip(image_axes, image.shape)).get("C", 1)
    columns = measure_columns(axes, scale=scale, image_axes=image_axes, channels=channels,
                              time_step=time_step)
    return _write_as_measured(path, columns, labels, image, axes, image_axes, scale,
                              max(int(slab_pixels), 1), time_step=time_step)  # fmt: skip


def _write_as_measured(path, columns, *measuring, time_step=None) -> Generator[float, None, int]:
    with csv_table(path, columns) as write:  # (a time point's rows on disk at a time)
        count = yield from _iter_rows(*measuring, sink=write, time_step=time_step)
    return count
