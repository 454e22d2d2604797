"""An image leaving its project, and a project image whose file moved: where the saved work
of a removed image goes (never deleted), and the labels shape a file would have (a file
chosen for a moved image must fit its saved labels).

Layout (in the project folder)::

    removed-images/<image id>-<date>-<time>/   labels/, prediction/, reviewed.npz, as saved,
                                               and image.json: its entry in project.json
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from unet_studio.app.atomic import atomic_write_json
from unet_studio.app.errors import UserError
from unet_studio.app.project_images import ImageRef
from unet_studio.app.project_old_shape import format_shape

REMOVED_DIR = "removed-images"
ENTRY_FILE = "image.json"


def set_aside_removed(project_dir: Path, ref: ImageRef) -> Path | None:
    """Move the saved work of the image ``ref`` (its ``images/<id>/`` folder) into a new
    folder under ``removed-images/``, with its project entry beside it (so that it can be
    put back by hand, and a later image of the same name starts afresh under its id).
    Returns that folder; None when nothing of the image was saved. OSError when it cannot
    be moved: then it stays where it was."""
    image_dir = project_dir / "images" / ref.id
    if not image_dir.exists():
        return None
    # (written first: the move takes it along, or leaves both where they were)
    atomic_write_json(image_dir / ENTRY_FILE, ref.to_dict())
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = project_dir / REMOVED_DIR / f"{ref.id}-{stamp}"
    folder, n = base, 1
    while folder.exists():  # (removed twice within a second)
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.parent.mkdir(exist_ok=True)
    image_dir.rename(folder)
    return folder


def file_labels_shape(path: Path, series: int = 0) -> tuple[int, ...]:
    """The shape labels of the image file ``path`` have (its shape without the C axis, in
    the order images open in); of its image ``series`` (from 0) in a multi-series file.
    Reads its metadata only. UserError when it cannot be read."""
    from unet_studio.app.io import open_stack

    try:
        with open_stack(path, series=series) as stack:
            axes, shape = stack.axes, tuple(stack.shape)
    except (OSError, ValueError) as error:
        which = f"its image {series + 1}" if series else "it as an image"
        raise UserError(f"{path}: cannot read {which} ({error})") from None
    return tuple(int(n) for n, letter in zip(shape, axes) if letter != "C")


def wrong_file_message(name: str, path: Path, shape: tuple[int, ...],
                       saved: tuple[int, ...], old: str) -> str:
    """The refusal of a file whose labels would not fit the image's saved ones."""
    return (f"{path} is not the file of {name}: its labels would be "
            f"{format_shape(shape)}, but the saved labels of {name} are "
            f"{format_shape(saved)}. Choose the file {name} was made from (it was "
            f"{old or 'unknown'}); the project was not changed.")
