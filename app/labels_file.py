"""Labels another tool made, read from a file to be corrected over the image they belong to
(Qt-free: the Correct panel's "Open labels…" asks for the file and shows the result).

The file is checked before a pixel is read (its axes, channels, type and shape are in its
header), so a wrong file is refused at once, in words naming it and what is wrong. The
labels then come in writable (``app.io.editable``): napari's brush and the Correct tools
write into them, which a lazily read or read-only array refused with a TypeError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_studio.app.errors import InputFileError, UserError

# A Zarr store is a folder, which a file dialog cannot choose: one of its metadata files
# stands for the store.
ZARR_MARKER_FILES = (".zattrs", ".zgroup", ".zarray", "zarr.json")
LABEL_FILE_FILTER = ("Labels: TIFF, OME-TIFF, OME-Zarr (*.tif *.tiff .zattrs .zgroup .zarray "
                     "zarr.json);;All files (*)")


@dataclass(frozen=True)
class CheckedLabels:
    """A labels file whose header fits the image: ``data`` (the image's labels' shape, the
    file's integer ids, not read yet), ``class_names`` (a class map written by unet-studio
    records them; None for objects) and ``notes`` (how they are read, for the user)."""

    path: Path
    data: object
    class_names: tuple[str, ...] | None = None
    notes: tuple[str, ...] = ()

    def read(self) -> np.ndarray:
        """The labels, writable (in memory, or a working file when they are too big), the
        file's ids in its integer type (a mask's booleans as 8-bit ids)."""
        from unet_studio.app.io.editable import editable_labels

        editable = editable_labels(self.data, self.path)
        if editable.note:  # (still read-only: napari could not paint it)
            raise UserError(editable.note)
        pixels = editable.data
        return pixels.astype(np.uint8) if pixels.dtype == bool else pixels


def chosen_store(path: str | Path) -> Path:
    """The path to open for a file chosen in a dialog: a Zarr store's metadata file stands
    for its folder."""
    path = Path(path)
    return path.parent if path.name in ZARR_MARKER_FILES else path


def shape_text(shape, axes: str) -> str:
    """'5 x 352 x 352 (TYX)': a shape with the axis letters it is read with."""
    return f"{' x '.join(str(int(n)) for n in shape)} ({axes})"


@contextmanager
def checked_labels_file(path: str | Path, shape: tuple[int, ...], axes: str,
                        image_name: str) -> Iterator[CheckedLabels]:
    """The labels file ``path`` (TIFF, OME-TIFF, OME-Zarr), checked from its header to be
    labels for the image ``image_name``, whose labels have ``shape`` over ``axes`` (its axes
    without C, e.g. "TYX"); ``read()`` reads them. InputFileError naming the file when it
    cannot be read, holds no integer ids, has more than one channel, or another shape; a
    pyramid gives its full-resolution level. Checked before reading: a wrong file is told
    at once, and the user is asked whether to replace labels before a big file is read."""
    path = chosen_store(path)
    try:
        stack = _opened(path)
    except UserError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        # (a damaged header that a format library reports in its own words)
        raise InputFileError(path, f"cannot be read as labels ({error})") from error
    try:
        yield _checked(stack, tuple(shape), axes, image_name)
    finally:
        stack.close()  # (the labels are in memory or a working file by now: nothing lazy left)


def _opened(path: Path):
    """The stack of ``path``; an uncompressed TIFF too big for memory mapped privately and
    writable (painted in place, the file never changed), as our reader opens labels."""
    from unet_studio.app.io import open_stack
    from unet_studio.app.io.editable import fits_in_memory, is_read_only_map

    stack = open_stack(path)
    if stack.levels or not is_read_only_map(stack.data) or fits_in_memory(stack.data.nbytes):
        return stack
    stack.close()
    return open_stack(path, copy_on_write=True)


def _checked(stack, shape: tuple[int, ...], axes: str, image_name: str) -> CheckedLabels:
    from unet_studio.app.label_files import refuse_intensities
    from unet_studio.app.measure_inputs import file_classes

    path = stack.path
    _refuse_type(path, stack.dtype)
    data, file_axes = _single_channel(stack)
    if tuple(data.shape) != shape:
        raise InputFileError(path, f"its labels are {shape_text(data.shape, file_axes)} but "
                                   f"those of {image_name} are {shape_text(shape, axes)}: "
                                   "labels are opened over the image they were made for "
                                   "(the same size in every axis)")
    # (napari cannot paint a pyramid; its other levels are only for display)
    notes = (f"its full-resolution level of {len(stack.levels)}",) if stack.levels else ()
    names = file_classes(stack)
    refuse_intensities(stack, "open the labels made for this image",
                       class_names=names)  # (the image itself chosen by mistake)
    return CheckedLabels(path, data, names, notes)


def _refuse_type(path: Path, dtype: np.dtype) -> None:
    if dtype.kind == "f":
        raise InputFileError(path, f"holds floating-point values ({dtype}), not labels: "
                                   "labels are integer ids, one per object (0: background); "
                                   "a probability map is thresholded and split into objects first")
    if dtype.kind not in "iub":
        raise InputFileError(path, f"holds {dtype} values, not labels (integer ids, one per object)")


def _single_channel(stack):
    """(data, axes) of the stack's one channel (a C axis of one is dropped): labels have no
    channels, and a file of several is an image or several label sets."""
    if "C" not in stack.axes:
        return stack.data, stack.axes
    c_axis = stack.axes.index("C")
    channels = stack.shape[c_axis]
    if channels > 1:
        raise InputFileError(stack.path, f"has {channels} channels "
                                         f"({shape_text(stack.shape, stack.axes)}); labels "
                                         "have one: save the channel holding the labels "
                                         "alone and open that")  # fmt: skip
    from unet_studio.app.io.lazy import LazyArray

    key = (slice(None),) * c_axis + (0,)
    lazy = isinstance(stack.data, LazyArray)  # (a view of it reads no pixels)
    return (stack.data.view(key) if lazy else stack.data[key]), stack.axes.replace("C", "")


def ids_dtype(*dtypes) -> np.dtype:
    """The narrowest integer type holding the ids of every one of ``dtypes``: numpy promotes
    uint64 with a signed type to a float, never ids, so that is int64."""
    dtype = np.result_type(*dtypes)
    return dtype if dtype.kind in "iu" else np.dtype(np.int64)
