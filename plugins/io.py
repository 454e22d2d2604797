"""napari reader and labels writer (npe2 contributions; wired in napari.yaml).

The reader opens with :func:`unet_studio.app.io.open_stack`, so big files reach napari as lazy
arrays (``np.memmap`` or :class:`LazyArray`, which read only the planes napari shows) and
OME-Zarr / pyramidal OME-TIFF as a multiscale list. Channels become one layer each (split
here, lazily, rather than through napari's ``channel_axis``, which would read a lazy array's
whole channel); RGB(A) with colours last opens as one RGB layer. Files written by unet-studio
as labels or masks open as Labels layers, writable so that they can be painted
(``app.io.editable``: in memory when they fit, else without holding them whole; a warning
naming the file when neither works). Labels that record their class names (a class map, saved
by ``write_labels`` or ``unet-studio predict`` with a semantic model) open as one: the names
on the layer, class colours, names in the status bar (``napari_classes``). Errors raise
InputFileError, whose message names the file; napari shows it as a notification.

This module builds plain layer-data tuples; it imports napari only to show that warning.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

PLUGIN_NAME = "unet-studio"  # (as napari.yaml names it)
READ_SUFFIXES = (".tif", ".tiff", ".zarr")  # covers .ome.tif and .ome.tiff
_LABEL_KINDS = ("labels", "mask")
_CHANNEL_COLORMAPS = ("magenta", "green", "cyan", "yellow", "blue", "red")


def napari_get_reader(path):
    """The reader for ``path`` (a path or list of paths), or None if it is not ours.

    napari (npe2) hands a folder to every reader that accepts folders; None lets the next
    one try, and napari's only message when the user chose this reader is "refused the
    file". So a folder is taken when it holds TIFF files (one stack) and also when no other
    installed reader would take anything in it (empty, or notes and such): then reading it
    raises an error saying what folder was expected (``read_stacks``). A folder of PNGs, say,
    is left to the readers that open those.
    """
    paths = [path] if isinstance(path, (str, Path)) else list(path or [])
    if not paths or not all(_is_supported(Path(p)) for p in paths):
        return None
    return read_stacks


def _is_supported(path: Path) -> bool:
    """TIFF and Zarr names, Zarr folders, folders holding TIFF files (one stack), and folders
    no other reader takes (to be explained: see ``napari_get_reader``)."""
    from unet_studio.app.io.opening import is_zarr

    if path.name.lower().endswith(READ_SUFFIXES) or is_zarr(path):
        return True
    if not path.is_dir():
        return False
    return _holds_tiffs(path) or not _another_reader_takes(_visible_entries(path))


def _visible_entries(folder: Path) -> list[Path]:
    return [entry for entry in folder.iterdir() if not entry.name.startswith(".")]


def _holds_tiffs(folder: Path) -> bool:
    from unet_studio.app.io.folder import TIFF_SUFFIXES

    return any(entry.suffix.lower() in TIFF_SUFFIXES for entry in _visible_entries(folder))


def _another_reader_takes(entries: list[Path]) -> bool:
    """Whether an installed reader other than ours takes one of ``entries`` by its name (one
    entry per suffix is asked; a subfolder goes to the readers that accept folders)."""
    try:
        from npe2 import PluginManager
    except ImportError:  # (no plugin registry to ask: a folder with anything in it is left alone)
        return bool(entries)
    manager = PluginManager.instance()
    asked = set()
    for entry in entries:
        kind = "folder" if entry.is_dir() else entry.suffix.lower()
        if kind in asked:
            continue
        asked.add(kind)
        if any(reader.plugin_name != PLUGIN_NAME
               for reader in manager.iter_compatible_readers([str(entry)])):
            return True
    return False


def read_stacks(path, series: int | None = None) -> list[tuple]:
    """Layer data tuples ``(data, meta, layer_type)`` for every stack in ``path``.
    ``series`` (from 0): the image of a multi-series TIFF or bioformats2raw OME-Zarr to
    open; None: the one the launcher chose (``app.opening_series``), else the first. A file
    holding several says so in a notification (which one opened, how to open another).
    InputFileError naming the file or folder when one cannot be read."""
    from unet_studio.app.environment import check_environment
    from unet_studio.app.io import open_stack
    from unet_studio.app.opening_series import chosen_series

    check_environment()  # (a mistyped size or folder: said here, naming the variable)
    if series is None:
        series = chosen_series() or 0
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    layers = []
    for one in paths:
        _check_folder(Path(one))
        stack = open_stack(one, series=series)
        if _map_writable(stack):
            stack.close()
            stack = open_stack(one, series=series, copy_on_write=True)
        _note_other_series(stack)
        layers.extend(stack_layers(stack))
    return layers


def _note_other_series(stack) -> None:
    """Tell which image of a multi-series file opened, and how to open another: the viewer
    shows one, and nothing else on screen says the file holds more (``predict`` says so)."""
    count = stack.metadata.get("series_count", 1)
    if count <= 1:
        return
    import shlex

    shown = stack.metadata.get("series", 0) + 1
    path = stack.path
    command = f"`unet-studio gui {shlex.quote(str(path))} --series N` (N from 1 to {count})"
    folder = stack.metadata.get("series_path")
    if folder is not None:  # (bioformats2raw: every image is a folder napari can open)
        _inform(f"{path.name} holds {count} images (bioformats2raw layout); opened series "
                f"{shown} of {count} (the folder {path.name}/{folder}). To open another, open "
                f"its image folder inside {path} (File > Open Folder) or run {command}")
        return
    _inform(f"{path.name} holds {count} image series; opened series {shown} of {count}. "
            f"To open another, run {command}")


def _map_writable(stack) -> bool:
    """Whether to map ``stack``, a read-only memory map of an uncompressed TIFF, privately
    and writable instead: labels too big to read into memory (painted in place,
    ``app.io.editable``), and integer images that fit in memory, since napari may be asked
    to make labels of them (``viewer.open(path, layer_type="labels")``, which a reader is
    not told) and fails on a read-only map. A big image keeps its shared map, whose pages
    a Segment run over it hands back (``models.mapped``)."""
    from unet_studio.app.io.editable import fits_in_memory, is_read_only_map

    if stack.levels or not is_read_only_map(stack.data):
        return False
    fits = fits_in_memory(stack.data.nbytes)
    if stack.metadata.get("kind") in _LABEL_KINDS:
        return not fits  # (labels that fit are read into memory, see ``_editable``)
    return fits and stack.dtype.kind in "iu" and not stack.metadata.get("rgb")


def _check_folder(path: Path) -> None:
    """A folder that is neither OME-Zarr nor holds TIFF files: say what was expected."""
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.io.opening import is_zarr

    if path.is_dir() and not is_zarr(path) and not _holds_tiffs(path):
        raise InputFileError(path, "holds no .tif or .tiff file; unet-studio opens a folder of "
                                   "TIFF files (one per plane or time point, in name order) as "
                                   "one stack, or an OME-Zarr folder (.zarr)")


def stack_layers(stack) -> list[tuple]:
    """Layer data tuples for one Stack: one per channel, or one RGB / labels layer."""
    kind = stack.metadata.get("kind")
    layer_type = "labels" if kind in _LABEL_KINDS else "image"
    if "C" not in stack.axes:
        return [_layer(stack, stack.axes, None, layer_type, {})]
    c_axis = stack.axes.index("C")
    n_channels = stack.shape[c_axis]
    if layer_type == "image" and stack.metadata.get("rgb") and c_axis == stack.ndim - 1 \
            and n_channels in (3, 4) and stack.dtype == np.uint8:
        return [_layer(stack, stack.axes, None, "image", {"rgb": True})]
    axes = stack.axes.replace("C", "")
    layers = []
    for channel in range(n_channels):
        extra = {} if layer_type == "labels" or n_channels == 1 else {
            "colormap": _CHANNEL_COLORMAPS[channel % len(_CHANNEL_COLORMAPS)],
            "blending": "translucent_no_depth" if channel == 0 else "additive"}
        layers.append(_layer(stack, axes, channel, layer_type, extra))
    return layers


def _channel_view(array, c_axis: int, channel: int):
    from unet_studio.app.io.lazy import LazyArray

    key = (slice(None),) * c_axis + (channel,)
    return array.view(key) if isinstance(array, LazyArray) else array[key]


def _layer(stack, axes: str, channel: int | None, layer_type: str, extra: dict) -> tuple:
    arrays = list(stack.levels) if stack.levels else [stack.data]
    if channel is not None:
        arrays = [_channel_view(a, stack.axes.index("C"), channel) for a in arrays]
    if layer_type == "labels" and len(arrays) > 1 and _fits(arrays[0]):
        # (napari cannot paint a pyramid: labels are there to be corrected, and our own
        # predict writes one for a big image; the zoomed-out levels are only for display)
        arrays = arrays[:1]
    if layer_type == "labels" and len(arrays) == 1:
        arrays = [_editable(arrays[0], stack.path)]
    name = _series_name(stack)
    if channel is not None and stack.shape[stack.axes.index("C")] > 1:
        name = f"{name} [C{channel}]"
    spatial = axes.replace("C", "")  # an RGB layer keeps C last, napari does not scale it
    meta = {
        "name": name,
        "scale": [stack.scale[a] for a in spatial],
        "units": [stack.units.get(a, "pixel") for a in spatial],
        "axis_labels": list(spatial),
        "metadata": {"axes": spatial, "source_path": str(stack.path), "channel": channel,
                     "kind": stack.metadata.get("kind"), "format": stack.metadata.get("format")},
        **extra,
    }
    if stack.metadata.get("series_count", 1) > 1:  # (which image of the file this is, from 0)
        meta["metadata"].update(series=stack.metadata.get("series", 0),
                                series_count=stack.metadata["series_count"])
    names = stack.metadata.get("class_names")
    if layer_type == "labels" and names:
        from unet_studio.plugins.napari_classes import class_map_layer_options

        options = class_map_layer_options(names)
        meta.update(colormap=options["colormap"], features=options["features"])
        meta["metadata"].update(options["metadata"])
    if len(arrays) > 1:
        meta["multiscale"] = True
    return (arrays if len(arrays) > 1 else arrays[0], meta, layer_type)


def _series_name(stack) -> str:
    """The stack's name, and for an image other than the first of a multi-series file, which
    one: two series of a file open as two layers (and become two project images) that the
    user can tell apart. The first keeps the plain name it always had."""
    series = stack.metadata.get("series", 0)
    return f"{stack.name} [series {series + 1}]" if series else stack.name


def _fits(array) -> bool:
    from unet_studio.app.io.editable import fits_in_memory

    return fits_in_memory(int(np.prod(array.shape, dtype=np.int64)) * np.dtype(array.dtype).itemsize)


def _editable(array, path: Path):
    """``array`` as labels napari can paint (``app.io.editable``); when it cannot be made
    writable, itself, and a warning naming the file says so and why."""
    from unet_studio.app.io.editable import editable_labels

    editable = editable_labels(array, path)
    if editable.note:
        _warn(editable.note)
    return editable.data


def _warn(message: str) -> None:
    _notify(message, "warning")


def _inform(message: str) -> None:
    _notify(message, "info")


def _notify(message: str, level: str) -> None:
    """A napari notification of ``level`` ("warning", "info"; logged where napari is not
    installed)."""
    try:
        from napari.utils import notifications
    except ImportError:
        getattr(logging.getLogger(__name__), level)("%s", message)
        return
    getattr(notifications, f"show_{level}")(message)


def write_labels(path: str, data, meta: dict) -> list[str]:
    """napari labels writer: compressed TIFF (ImageJ/OME) or OME-Zarr with axes and scale.

    Axes come from the layer's axis labels when they are axis letters, else from the layer
    metadata our reader set, else YX / ZYX / TZYX by dimension;
    the scale from the layer (micrometres when its units say so); the class names recorded
    on a class map (``app.class_map``) go with it. A TIFF over 1 GiB is saved uncompressed,
    as the CLI's outputs are (zlib would hold the window for many seconds), and a notification
    says so. Refuses to overwrite the image the labels were made from.
    """
    from unet_studio.app.class_map import CLASS_NAMES_KEY
    from unet_studio.app.io import write_stack

    if isinstance(data, Sequence):  # multiscale labels (napari's MultiScaleData): full resolution
        data = data[0]
    layer_metadata = meta.get("metadata") or {}
    axes = _labels_axes(np.ndim(data), meta.get("axis_labels"), layer_metadata.get("axes"))
    scale, units = _scale_from_layer(axes, meta)
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(".tif")
    written = write_stack(target, data, axes=axes, scale=scale, units=units, kind="labels",
                          source=layer_metadata.get("source_path"),
                          class_names=layer_metadata.get(CLASS_NAMES_KEY) or None,
                          on_uncompressed=_inform)
    return [str(written)]


def _labels_axes(ndim: int, axis_labels, metadata_axes) -> str:
    """The axes of ``ndim``-dimensional labels: the layer's axis labels when they are axis
    letters (labels made with napari's own tools over our image carry its ``T``/``Z``
    there, and nothing else names them), else the axes our reader noted in the metadata,
    else a guess by dimension."""
    from unet_studio.app.io.axes import AXIS_LETTERS

    letters = [str(label).strip().upper() for label in axis_labels or ()]
    named = "".join(letters)
    # (napari's default labels, "-2" and "-1", or words such as "time", are no axis letters)
    if (len(letters) == ndim and all(len(letter) == 1 for letter in letters)
            and set(named) <= set(AXIS_LETTERS) and len(set(named)) == ndim
            and {"Y", "X"} <= set(named)):  # fmt: skip
        return named
    if metadata_axes and len(metadata_axes) == ndim:
        return metadata_axes
    return _default_axes(ndim)


def _default_axes(ndim: int) -> str:
    axes = {2: "YX", 3: "ZYX", 4: "TZYX", 5: "TZCYX"}.get(ndim)
    if axes is None:
        raise ValueError(f"cannot save {ndim}-dimensional labels; 2 to 5 dimensions are supported")
    return axes


def _scale_from_layer(axes: str, meta: dict) -> tuple[dict, dict]:
    """Scale in micrometres / seconds and units per axis from a layer's scale and units."""
    from unet_studio.app.io.axes import (
        UNIT_MICROMETER,
        UNIT_PIXEL,
        UNIT_SECOND,
        length_in_um,
        time_in_s,
    )

    scale_values = list(meta.get("scale") or [1.0] * len(axes))
    unit_values = list(meta.get("units") or [UNIT_PIXEL] * len(axes))
    scale, units = {}, {}
    for axis, value, unit in zip(axes, scale_values, unit_values):
        unit = str(unit)
        converted = time_in_s(value, unit) if axis == "T" else length_in_um(value, unit)
        if unit == UNIT_PIXEL or converted is None:
            scale[axis], units[axis] = float(value) if float(value) > 0 else 1.0, UNIT_PIXEL
        else:
            scale[axis], units[axis] = converted, UNIT_SECOND if axis == "T" else UNIT_MICROMETER
    return scale, units
