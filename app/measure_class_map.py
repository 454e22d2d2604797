"""A class map measured into a CSV as ``unet-studio measure --classes`` measures one: one
row per class (after the background) and time point, with its pixels, area or volume and
the intensity under it (``measure_classes``), not one "object" per class spanning the
frame. For the Correct panel's Export measurements, which runs it in a worker.

The object rows are few (one per class and frame), so they are all kept and turned into
class rows at the end; the CSV appears complete then (written atomically).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from unet_studio.app.measure import iter_measure, measure_columns, write_csv
from unet_studio.app.measure_classes import class_columns, class_rows


def iter_measure_classes_to_csv(path: str | Path, labels, image, class_names, *, axes: str,
                                image_axes: str | None = None, scale: dict | None = None,
                                time_step: float | None = None) -> Generator[float, None, int]:
    """Measure the class map ``labels`` (axes ``axes``; value ``i``: ``class_names[i]``)
    under ``image`` (axes ``image_axes``, maybe a C axis) into the CSV ``path``; yields the
    fraction done, returns the number of rows. The inputs are checked at the call
    (UserError); a value that is no class is a UserError at the end, no file written."""
    steps = iter_measure(labels, image, axes=axes, image_axes=image_axes, scale=scale,
                         time_step=time_step)
    image_axes = axes if image is not None and image_axes is None else image_axes
    channels = 1 if image is None else dict(zip(image_axes, image.shape)).get("C", 1)
    columns = class_columns(measure_columns(axes, scale=scale, image_axes=image_axes,
                                            channels=channels, time_step=time_step))
    frames = dict(zip(axes, labels.shape)).get("T")  # (None: no T axis, one table)
    return _write_classes(Path(path), steps, columns, tuple(class_names), frames, time_step)


def _write_classes(path: Path, steps, columns, class_names, frames, time_step):
    rows = yield from steps
    table = class_rows(rows, columns, class_names, frames, time_step)
    write_csv(table, columns, path)
    return len(table)
