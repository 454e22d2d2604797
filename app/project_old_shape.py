"""Saved work of an image whose file now opens with another shape (the file was replaced or
edited after the labels were made): labels, prediction and reviewed marks of the old shape
would be drawn over pixels they were not made for, and the next save of new labels would
replace them. They are moved into a folder of their own in the image's folder instead
(never deleted), and the user is told where.

Layout (in ``images/<image id>/``)::

    labels-old-shape-128x128-20260101-120000/   labels/, prediction/, reviewed.npz as saved
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from unet_studio.app.chunk_store import ChunkStore
from unet_studio.app.reviewed_file import saved_shape

STORES = ("labels", "prediction")  # chunk stores in an image's folder
REVIEWED_FILE = "reviewed.npz"
WHAT = {"labels": "labels", "prediction": "prediction", REVIEWED_FILE: "reviewed marks"}


def store_shape(folder: Path) -> tuple[int, ...] | None:
    """The shape of the array saved in the chunk store ``folder``; None when nothing was
    saved or it cannot be read (a damaged store is set aside by its reading instead)."""
    try:
        manifest = ChunkStore(folder).manifest()
        return None if manifest is None else tuple(int(n) for n in manifest["shape"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def reviewed_shape(path: Path) -> tuple[int, ...] | None:
    """As :func:`store_shape`, for a ``reviewed.npz``."""
    try:
        return saved_shape(path)
    except ValueError:
        return None


def format_shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def move_aside(image_dir: Path, names: list[str], old_shape: tuple[int, ...]) -> Path:
    """Move ``names`` (entries of ``image_dir``) into a new folder named after the old shape
    and the time; returns it. OSError when a move fails (what moved stays moved)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = image_dir / f"labels-old-shape-{format_shape(old_shape)}-{stamp}"
    folder, n = base, 1
    while folder.exists():  # (set aside twice within a second)
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir()
    for name in names:
        (image_dir / name).rename(folder / name)
    return folder


def old_shape_message(image: str, file: Path | None, old: tuple[int, ...],
                      new: tuple[int, ...], names: list[str], kept: str) -> str:
    """The warning: which image (and file), both shapes, what was kept and where."""
    parts = [WHAT[name] for name in names]
    what = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    named = image if file is None else f"{image} ({file})"
    return (f"{named} now opens with labels of shape {format_shape(new)}, but its saved "
            f"{what} are {format_shape(old)} (its file changed since): they are not shown and "
            f"{kept}. It starts without labels.")
