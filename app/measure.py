"""Per-object measurements of a label image: size, position, extent and intensity, per frame.

The labels (and the image measured under them) may be larger than RAM, so they are read one
slab at a time: a few planes along the first spatial axis (a single plane larger than a slab
is cut along the next axis too), each time point separately. Each slab adds its per-object
sums (pixel count, coordinate sums, intensity sums, in float64) and bounding boxes to the
frame's running totals; nothing the size of the stack is ever held.
Qt-free: the CLI drains :func:`iter_measure`, the Correct panel runs it in a worker.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage

from unet_studio.app.atomic import atomic_writing
from unet_studio.app.errors import UserError
from unet_studio.models.mapped import PageReleaser

LABEL_AXES = "TZYX"
IMAGE_AXES = "TZCYX"
SPATIAL_ORDER = "ZYX"  # the order of the centroid and bounding box columns
# Label pixels read per slab (and per image channel): a few planes of a big stack, ~100 MB of
# working arrays at most.
SLAB_PIXELS = 4 * 2**20
PHYSICAL_SIZE_COLUMNS = {1: "length_um", 2: "area_um2", 3: "volume_um3"}
# Bytes of a memory-mapped stack read between hand-backs of its pages: each page is read
# once, so keeping them is pointless; a small window keeps the peak low (madvise is cheap).
RELEASE_EVERY_BYTES = 64 * 2**20
# Significant digits of fractional values in the CSV: 0.001 pixel at 10,000 pixels.
FLOAT_DIGITS = 8
_EXACT_INTEGER_BELOW = 2.0**53  # float64 holds every whole number below this exactly
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


Rows = list[dict[str, int | float]]


# ---- what can be measured -------------------------------------------------------------------
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


def physical_size_column(axes: str, scale: dict | None) -> str | None:
    """"area_um2" (2D) or "volume_um3" (3D) when every spatial axis has a pixel size."""
    spatial = spatial_axes(axes)
    if not scale or not all(_is_pixel_size(scale.get(a)) for a in spatial):
        return None
    return PHYSICAL_SIZE_COLUMNS[len(spatial)]


def measure_columns(axes: str, *, scale: dict | None = None, image_axes: str | None = None,
                    channels: int = 1) -> list[str]:
    """The CSV columns for labels with ``axes``: frame (with a T axis), label, pixels, the
    physical size (when ``scale`` knows every spatial axis), centroids and bounding boxes
    (Z, Y, X order), then with an image (``image_axes`` not None) mean and integrated
    intensity, suffixed ``_c0``, ``_c1``... per channel when ``image_axes`` has a C axis."""
    columns = ["frame"] if "T" in axes else []
    columns += ["label", "pixels"]
    size = physical_size_column(axes, scale)
    columns += [size] if size else []
    letters = [a.lower() for a in SPATIAL_ORDER if a in axes]
    columns += [f"centroid_{a}" for a in letters]
    for a in letters:
        columns += [f"bbox_{a}_start", f"bbox_{a}_stop"]
    for suffix in _channel_suffixes(image_axes, channels):
        columns += [f"mean_intensity{suffix}", f"integrated_intensity{suffix}"]
    return columns


def _channel_suffixes(image_axes: str | None, channels: int) -> list[str]:
    if image_axes is None:
        return []
    return [f"_c{c}" for c in range(channels)] if "C" in image_axes else [""]


def _is_pixel_size(value) -> bool:
    return value is not None and math.isfinite(value) and value > 0


# ---- measuring ------------------------------------------------------------------------------
def iter_measure(labels, image=None, *, axes: str, image_axes: str | None = None,
                 scale: dict | None = None, slab_pixels: int = SLAB_PIXELS
                 ) -> Generator[float, None, Rows]:
    """Measure every object of ``labels``; yields the fraction done, returns one row per
    (time point, label > 0) with the keys of :func:`measure_columns`.

    ``labels``: array-like (numpy, memmap, zarr, lazy stack), integer or bool, one dimension
    per letter of ``axes`` (over "TZYX"). ``image``: optional array-like measured under the
    labels, axes ``image_axes`` (default ``axes``): the same T/Z/Y/X sizes, maybe a C axis.
    ``scale``: micrometres per pixel by axis letter; missing axes mean unknown. Centroids and
    boxes are in pixel indices, box stops exclusive. ``slab_pixels``: label pixels read at once.
    The inputs are checked at the call (UserError), before the first step.
    """
    image_axes = _checked_inputs(labels, axes, image, image_axes)
    return _iter_rows(labels, image, axes, image_axes, scale, max(int(slab_pixels), 1))


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
               sink=None) -> Generator[float, None, Rows | int]:  # fmt: skip
    """Measuring steps (see :func:`iter_measure`); returns the rows, or with ``sink`` (a
    callable taking each time point's rows as they are measured) their number."""
    sizes = dict(zip(axes, labels.shape))
    spatial = spatial_axes(axes)
    channels = 0 if image is None else dict(zip(image_axes, image.shape)).get("C", 1)
    frames = range(sizes["T"]) if "T" in axes else (None,)
    blocks = slab_blocks([sizes[a] for a in spatial], slab_pixels)
    layout = _RowLayout(spatial, scale, _channel_suffixes(image_axes, channels), axes)
    total, done = max(len(frames) * len(blocks), 1), 0
    # A memory-mapped stack keeps every page read resident (the RSS would grow to the
    # stack's size): they are handed back every so often; the file keeps the data.
    pages = PageReleaser(labels, image, every_bytes=RELEASE_EVERY_BYTES)
    pixel_bytes = np.dtype(labels.dtype).itemsize + (
        0 if image is None else np.dtype(image.dtype).itemsize * channels)
    yield 0.0
    rows: Rows = []
    count = 0
    for frame in frames:
        sums = _ObjectSums(len(spatial), channels)
        for block in blocks:
            key = block_key(axes, frame, spatial, block)
            planes = None if image is None else _read_channels(image, image_axes, frame,
                                                               spatial, block)
            sums.add_slab(np.asarray(labels[key]), planes, [s.start for s in block])
            pages.tick(pixel_bytes * math.prod(s.stop - s.start for s in block))
            done += 1
            yield done / total
        if sink is None:
            rows += layout.rows(sums, frame)
        else:
            count += len(sums.labels)
            sink(layout.rows(sums, frame))
    pages.release()
    return rows if sink is None else count


def slab_blocks(shape: Sequence[int], slab_pixels: int) -> list[tuple[slice, ...]]:
    """Blocks of ~``slab_pixels`` covering a spatial ``shape`` in storage order: a few planes
    along the first axis, whole along the others; only where one plane alone is larger than
    that (huge 2D planes of a 3D stack) is it cut along the next axis too."""
    split = next(k for k in range(len(shape)) if math.prod(shape[k + 1:]) <= slab_pixels)
    step = max(1, slab_pixels // math.prod(shape[split + 1:]))
    ranges = [[(i, i + 1) for i in range(n)] for n in shape[:split]]
    ranges.append([(i, min(i + step, shape[split])) for i in range(0, shape[split], step)])
    ranges += [[(0, n)] for n in shape[split + 1:]]
    return [tuple(slice(a, b) for a, b in block) for block in itertools.product(*ranges)]


def block_key(axes: str, frame: int | None, spatial: str, block: tuple[slice, ...]) -> tuple:
    """Index of one block (and frame) into an array with ``axes``; other axes (C) whole."""
    where = dict(zip(spatial, block))
    return tuple(frame if a == "T" else where.get(a, slice(None)) for a in axes)


def _read_channels(image, image_axes: str, frame, spatial: str, block: tuple[slice, ...]):
    """The image under one block as (C, *spatial) in the labels' axis order (C = 1 without a
    channel axis)."""
    block = np.asarray(image[block_key(image_axes, frame, spatial, block)])
    kept = image_axes.replace("T", "")
    if "C" not in kept:
        block, kept = block[np.newaxis], "C" + kept
    return block.transpose([kept.index(a) for a in "C" + spatial])


class _ObjectSums:
    """Running per-object totals of one frame, one row per label seen so far (sorted).

    ``table`` columns: pixel count, coordinate sum per spatial axis (storage order), intensity
    sum per channel. ``starts``/``stops``: bounding box per spatial axis, stop exclusive.
    """

    def __init__(self, ndim: int, channels: int):
        self.ndim = ndim
        self.labels = np.zeros(0, np.int64)
        self.table = np.zeros((0, 1 + ndim + channels))
        self.starts = np.zeros((0, ndim), np.int64)
        self.stops = np.zeros((0, ndim), np.int64)

    def add_slab(self, slab: np.ndarray, planes: np.ndarray | None, origin: Sequence[int]) -> None:
        """Add a block of labels whose first pixel is at ``origin`` (per spatial axis) in
        the frame; ``planes``: the image under it, (C, *slab.shape)."""
        if slab.dtype == bool:
            slab = slab.view(np.uint8)
        check_ids(slab)
        inside = slab > 0
        present, index = _compact(slab[inside])
        if not len(present):
            return
        count = len(present)
        table = np.empty((count, self.table.shape[1]))
        table[:, 0] = np.bincount(index, minlength=count)
        for axis, coordinate in enumerate(np.nonzero(inside)):
            sums = np.bincount(index, weights=coordinate, minlength=count)
            table[:, 1 + axis] = sums + origin[axis] * table[:, 0]  # block -> frame coordinates
        for channel, plane in enumerate([] if planes is None else planes):
            table[:, 1 + self.ndim + channel] = np.bincount(index, weights=plane[inside],
                                                            minlength=count)
        starts, stops = _boxes(inside, index, count)
        self._merge(present, table, starts + origin, stops + origin)

    def _merge(self, present, table, starts, stops) -> None:
        new = present[~np.isin(present, self.labels, assume_unique=True)]
        if len(new):
            self._grow(new)
        rows = np.searchsorted(self.labels, present)
        self.table[rows] += table
        self.starts[rows] = np.minimum(self.starts[rows], starts)
        self.stops[rows] = np.maximum(self.stops[rows], stops)

    def _grow(self, new: np.ndarray) -> None:
        labels = np.union1d(self.labels, new)
        old = np.searchsorted(labels, self.labels)
        table = np.zeros((len(labels), self.table.shape[1]))
        starts = np.full((len(labels), self.ndim), np.iinfo(np.int64).max)
        stops = np.zeros((len(labels), self.ndim), np.int64)
        table[old], starts[old], stops[old] = self.table, self.starts, self.stops
        self.labels, self.table, self.starts, self.stops = labels, table, starts, stops


def _compact(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The labels present (sorted, int64) and, per pixel, its label's position among them."""
    if not ids.size:
        return np.zeros(0, np.int64), np.zeros(0, np.intp)
    top = int(ids.max())
    if top > 4 * ids.size + 2**16:  # sparse ids: a lookup table would outweigh the slab
        present, index = np.unique(ids, return_inverse=True)
        return present.astype(np.int64), index.reshape(-1)
    seen = np.zeros(top + 1, bool)
    seen[ids] = True
    present = np.flatnonzero(seen)
    lookup = np.zeros(top + 1, np.intp)
    lookup[present] = np.arange(len(present))
    return present.astype(np.int64), lookup[ids]


def _boxes(inside: np.ndarray, index: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounding boxes in slab coordinates, (count, ndim) starts and stops: scipy's
    find_objects on the slab relabelled 1..count (the ids themselves may be huge)."""
    compact = np.zeros(inside.shape, np.int32 if count < 2**31 - 1 else np.int64)
    compact[inside] = index + 1
    boxes = ndimage.find_objects(compact, max_label=count)
    starts = np.array([[s.start for s in box] for box in boxes], np.int64)
    stops = np.array([[s.stop for s in box] for box in boxes], np.int64)
    return starts, stops


class _RowLayout:
    """Turns a frame's :class:`_ObjectSums` into rows with the names of :func:`measure_columns`."""

    def __init__(self, spatial: str, scale: dict | None, suffixes: list[str], axes: str):
        self.spatial = spatial
        self.suffixes = suffixes
        self.size_column = physical_size_column(axes, scale)
        self.pixel_size = math.prod(scale[a] for a in spatial) if self.size_column else None

    def rows(self, sums: _ObjectSums, frame: int | None) -> Iterator[dict]:
        counts = sums.table[:, 0]
        columns: dict[str, np.ndarray] = {"label": sums.labels, "pixels": counts.astype(np.int64)}
        if self.size_column:
            columns[self.size_column] = counts * self.pixel_size
        ordered = [a for a in SPATIAL_ORDER if a in self.spatial]
        for a in ordered:
            columns[f"centroid_{a.lower()}"] = sums.table[:, 1 + self.spatial.index(a)] / counts
        for a in ordered:
            columns[f"bbox_{a.lower()}_start"] = sums.starts[:, self.spatial.index(a)]
            columns[f"bbox_{a.lower()}_stop"] = sums.stops[:, self.spatial.index(a)]
        for channel, suffix in enumerate(self.suffixes):
            total = sums.table[:, 1 + len(self.spatial) + channel]
            columns[f"mean_intensity{suffix}"] = total / counts
            columns[f"integrated_intensity{suffix}"] = total
        lists = {name: values.tolist() for name, values in columns.items()}  # Python numbers
        head = {} if frame is None else {"frame": frame}
        return ({**head, **{name: values[i] for name, values in lists.items()}}
                for i in range(len(sums.labels)))  # (one at a time: written as they come)


# ---- writing --------------------------------------------------------------------------------
def iter_measure_to_csv(path: str | Path, labels, image=None, *, axes: str,
                        image_axes: str | None = None, scale: dict | None = None,
                        slab_pixels: int = SLAB_PIXELS) -> Generator[float, None, int]:
    """:func:`iter_measure`, the table written to ``path`` as it is measured (a time point
    at a time: the rows of a long time series are never all held), atomically: ``path``
    appears complete at the end, and closing the generator early leaves no file behind.
    Returns the number of objects. The inputs are checked at the call."""
    image_axes = _checked_inputs(labels, axes, image, image_axes)
    channels = 1 if image is None else dict(zip(image_axes, image.shape)).get("C", 1)
    columns = measure_columns(axes, scale=scale, image_axes=image_axes, channels=channels)
    return _write_as_measured(path, columns, labels, image, axes, image_axes, scale,
                              max(int(slab_pixels), 1))  # fmt: skip


def _write_as_measured(path, columns, *measuring) -> Generator[float, None, int]:
    with atomic_writing(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)

        def write(rows) -> None:  # (then on disk, not in a buffer: a time point at a time)
            _write_rows(writer, rows, columns)
            handle.flush()

        count = yield from _iter_rows(*measuring, sink=write)
    return count


def write_csv(rows: Rows, columns: Sequence[str], path: str | Path) -> Path:
    """Write ``rows`` as a UTF-8 CSV with a header of ``columns``; atomically (a reader sees
    the old file or the whole new one). Returns the path."""
    with atomic_writing(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        _write_rows(writer, rows, columns)
    return Path(path)


def _write_rows(writer, rows, columns: Sequence[str]) -> None:
    for row in rows:
        writer.writerow([format_value(row.get(column, "")) for column in columns])


def format_value(value) -> str:
    """Integers (and whole floats, e.g. integrated intensities of integer images) as
    integers, other floats with FLOAT_DIGITS significant digits."""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value.is_integer() and abs(value) < _EXACT_INTEGER_BELOW:
            return str(int(value))
        return f"{value:.{FLOAT_DIGITS}g}"
    return str(value)
