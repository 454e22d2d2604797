"""The table of measurements: its columns, a frame's totals turned into rows, and the CSV
they are written to (atomically, a time point at a time).

Separate from the measuring loop (``app.measure``) because the layout of the table is a
contract of its own: the CLI, the Correct panel's export and the tracks read these names.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from unet_studio.app.atomic import atomic_writing
from unet_studio.app.measure_inputs import SPATIAL_ORDER, spatial_axes
from unet_studio.app.object_sums import ObjectSums

PHYSICAL_SIZE_COLUMNS = {1: "length_um", 2: "area_um2", 3: "volume_um3"}
# Beside the frame index of a time series whose time step is known.
TIME_COLUMN = "time_s"
# Significant digits of fractional values in the CSV: 0.001 pixel at 10,000 pixels.
FLOAT_DIGITS = 8
_EXACT_INTEGER_BELOW = 2.0**53  # float64 holds every whole number below this exactly

Rows = list[dict[str, int | float]]


def physical_size_column(axes: str, scale: dict | None) -> str | None:
    """"area_um2" (2D) or "volume_um3" (3D) when every spatial axis has a pixel size."""
    spatial = spatial_axes(axes)
    if not scale or not all(_is_pixel_size(scale.get(a)) for a in spatial):
        return None
    return PHYSICAL_SIZE_COLUMNS[len(spatial)]


def measure_columns(axes: str, *, scale: dict | None = None, image_axes: str | None = None,
                    channels: int = 1, time_step: float | None = None) -> list[str]:
    """The CSV columns for labels with ``axes``: frame (with a T axis) and time_s (with
    ``time_step``, seconds per time point), label, pixels, the physical size and centroids
    in µm (when ``scale`` knows every spatial axis), centroids and bounding boxes in pixels
    (Z, Y, X order; suffixed ``_px``), then with an image (``image_axes`` not None) mean and
    integrated intensity, suffixed ``_c0``, ``_c1``... per channel when ``image_axes`` has a
    C axis; last, the pixel columns under their earlier names (``legacy_pixel_columns``)."""
    columns = ["frame"] if "T" in axes else []
    columns += [TIME_COLUMN] if "T" in axes and _is_step(time_step) else []
    columns += ["label", "pixels"]
    size = physical_size_column(axes, scale)
    letters = [a.lower() for a in SPATIAL_ORDER if a in axes]
    columns += [size, *(f"centroid_{a}_um" for a in letters)] if size else []
    columns += [f"centroid_{a}_px" for a in letters]
    for a in letters:
        columns += [f"bbox_{a}_start_px", f"bbox_{a}_stop_px"]
    for suffix in channel_suffixes(image_axes, channels):
        columns += [f"mean_intensity{suffix}", f"integrated_intensity{suffix}"]
    return columns + legacy_pixel_columns(letters)


def legacy_pixel_columns(letters: Sequence[str]) -> list[str]:
    """centroid_z, bbox_z_start... (pixels, no unit in the name): the table's names before
    the unit suffixes, kept so that scripts reading them (and ``app.tracks``,
    ``app.object_review``) go on working; the same values as the ``_px`` columns."""
    columns = [f"centroid_{a}" for a in letters]
    for a in letters:
        columns += [f"bbox_{a}_start", f"bbox_{a}_stop"]
    return columns


def channel_suffixes(image_axes: str | None, channels: int) -> list[str]:
    if image_axes is None:
        return []
    return [f"_c{c}" for c in range(channels)] if "C" in image_axes else [""]


def _is_pixel_size(value) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _is_step(value) -> bool:  # (a time step: the same test)
    return _is_pixel_size(value)


class RowLayout:
    """Turns a frame's :class:`ObjectSums` into rows with the names of :func:`measure_columns`."""

    def __init__(self, spatial: str, scale: dict | None, suffixes: list[str], axes: str,
                 time_step: float | None = None):
        self.spatial = spatial
        self.suffixes = suffixes
        self.size_column = physical_size_column(axes, scale)
        self.scale = dict(scale) if self.size_column else {}
        self.pixel_size = math.prod(scale[a] for a in spatial) if self.size_column else None
        self.time_step = time_step if "T" in axes and _is_step(time_step) else None

    def rows(self, sums: ObjectSums, frame: int | None) -> Iterator[dict]:
        counts = sums.table[:, 0]
        ordered = [a for a in SPATIAL_ORDER if a in self.spatial]
        centroids = {a: sums.table[:, 1 + self.spatial.index(a)] / counts for a in ordered}
        columns: dict[str, np.ndarray] = {"label": sums.labels, "pixels": counts.astype(np.int64)}
        if self.size_column:
            columns[self.size_column] = counts * self.pixel_size
            columns.update({f"centroid_{a.lower()}_um": centroids[a] * self.scale[a] for a in ordered})
        pixel_columns = self._pixel_columns(sums, centroids, ordered)
        columns.update({f"{name}_px": values for name, values in pixel_columns.items()})
        for channel, suffix in enumerate(self.suffixes):
            total = sums.table[:, 1 + len(self.spatial) + channel]
            columns[f"mean_intensity{suffix}"] = total / counts
            columns[f"integrated_intensity{suffix}"] = total
        columns.update(pixel_columns)  # (under the earlier names: legacy_pixel_columns)
        lists = {name: values.tolist() for name, values in columns.items()}  # Python numbers
        head = {} if frame is None else {"frame": frame}
        if frame is not None and self.time_step is not None:
            head[TIME_COLUMN] = frame * self.time_step
        return ({**head, **{name: values[i] for name, values in lists.items()}}
                for i in range(len(sums.labels)))  # (one at a time: written as they come)

    def _pixel_columns(self, sums: ObjectSums, centroids: dict, ordered: list[str]) -> dict:
        """Centroids and bounding boxes in pixel indices (box stops exclusive), unsuffixed."""
        columns = {f"centroid_{a.lower()}": centroids[a] for a in ordered}
        for a in ordered:
            columns[f"bbox_{a.lower()}_start"] = sums.starts[:, self.spatial.index(a)]
            columns[f"bbox_{a.lower()}_stop"] = sums.stops[:, self.spatial.index(a)]
        return columns


@contextmanager
def csv_table(path: str | Path, columns: Sequence[str]) -> Iterator[Callable[[Iterable[dict]], None]]:
    """A UTF-8 CSV at ``path`` with a header of ``columns``, written atomically (``path``
    appears complete when the block ends, and is left as it was when it raises or a
    generator around it is closed): yields a function that writes rows, each batch on
    disk when it returns, not in a buffer."""
    with atomic_writing(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)

        def write(rows: Iterable[dict]) -> None:
            for row in rows:
                writer.writerow([format_value(row.get(column, "")) for column in columns])
            handle.flush()

        yield write


def write_csv(rows: Rows, columns: Sequence[str], path: str | Path) -> Path:
    """Write ``rows`` as a UTF-8 CSV with a header of ``columns``; atomically (a reader sees
    the old file or the whole new one). Returns the path."""
    with csv_table(path, columns) as write:
        write(rows)
    return Path(path)


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
