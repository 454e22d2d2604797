"""``measure`` of a class map (a semantic model's output): one row per class and time point.

A class's pixels are one region, not an object: its centroid and bounding box (of every
mitochondrion in the frame together) would mislead, so the table keeps what a class has:
its pixel count, area or volume, and the intensity under it. Every class after the
background gets a row in every time point, with 0 pixels where it is absent (a time course
of a class's area must not skip the frames where it vanished).
"""

from __future__ import annotations

from unet_studio.app.errors import UserError

# The object table's columns a class keeps (its size and intensities), by prefix.
KEPT_PREFIXES = ("frame", "time_s", "pixels", "area_um2", "volume_um3", "length_um",
                 "mean_intensity", "integrated_intensity")


def class_columns(object_columns: list[str]) -> list[str]:
    """The class table's columns from ``measure_columns``: frame (and time_s), class,
    class_name, pixels, the physical size and the intensities; no centroid, no box."""
    kept = [c for c in object_columns if c.startswith(KEPT_PREFIXES)]
    at = kept.index("pixels")
    return kept[:at] + ["class", "class_name"] + kept[at:]


def class_rows(rows: list[dict], columns: list[str], class_names, frames: int | None,
               time_step: float | None = None) -> list[dict]:
    """The object rows of a class map (one per label and frame) as class rows, a row for
    every class after the first in each of ``frames`` time points (None: no T axis);
    ``time_step``: seconds per time point, for the time_s column.
    UserError ("holds the value 3 at time point 0 ...": the caller names the file) when a
    label is no class."""
    by_key = {(row.get("frame"), int(row["label"])): row for row in rows}
    for (frame, label), row in by_key.items():
        if label >= len(class_names):
            when = f" at time point {frame}" if frame is not None else ""
            raise UserError(f"holds the value {label}{when} ({int(row['pixels'])} "
                            f"pixels), no class of {', '.join(class_names)} (0..."
                            f"{len(class_names) - 1}): is this a class map of these classes?")
    table = []
    for frame in range(frames) if frames is not None else (None,):
        for index, name in enumerate(class_names[1:], 1):
            row = by_key.get((frame, index), {"pixels": 0})
            out = {c: row.get(c, 0 if c in ("pixels", "area_um2", "volume_um3", "length_um")
                              or c.startswith("integrated") else "") for c in columns}
            out.update({"class": index, "class_name": name})
            if frame is not None:
                out["frame"] = frame
                if "time_s" in columns and time_step is not None:
                    out["time_s"] = frame * time_step
            table.append(out)
    return table
