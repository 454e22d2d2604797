"""Which Labels layers ``LabelsLayers.labels_layer`` may take as the labels to correct: not a
multi-resolution one (napari cannot paint it), not one the user brought whose shape is not the
current image's labels', and only once napari can paint it (a layer napari made of our lazily
read image, "Convert to Labels", is read into a writable array first). Each layer left out is
told of once.
"""

from __future__ import annotations

import weakref

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.labels_file import shape_text
from unet_studio.app.qt.session_project import labels_shape
from unet_studio.plugins.napari_images import host_image
from unet_studio.plugins.napari_layer_axes import AXIS_LETTERS, DEFAULT_AXES, layer_axes
from unet_studio.plugins.napari_layer_events import IMAGE_KEY


def without_pyramids(host, layers: list) -> list:
    """``layers`` less the multi-resolution (pyramid) ones, each told of once. Those are
    left alone: napari makes them read-only (no brush, and ``data_setitem`` and undo
    index their list of levels as one array), and an edit of level 0 alone would leave
    the levels shown zoomed out telling other labels. Before, the list of levels was
    taken for the labels, and saving it into the project broke every later opening."""
    told = _told(host, "_pyramids_told")
    for layer in layers:
        if layer.multiscale and layer not in told:
            told.add(layer)
            host.notify(f"'{layer.name}' is a multi-resolution (pyramid) labels layer, which "
                        "napari cannot paint: unet-studio leaves it as it is (it is not "
                        "corrected, saved in the project nor overwritten by a prediction). "
                        "To correct it, save it as a .tif (full resolution) and open that.",
                        "warning")
    return [layer for layer in layers if not layer.multiscale]


def of_image_shape(host, layers: list, image) -> list:
    """``layers`` less those the user brought whose shape is not the current image's
    labels' (its shape without C), each told of once. Before, full-size labels over a
    crop became the labels corrected, were marked and saved in the project under that
    image, and the first word of it came at Train, naming neither layer nor file."""
    if image is None or all(layer.metadata.get(IMAGE_KEY) is not None for layer in layers):
        return layers  # (our own layers only, the common case: no image read, a hot path)
    shape = labels_shape(host_image(image))
    if shape is None:  # (no image, or one whose axes are not known: nothing to compare)
        return layers
    told = _told(host, "_shapes_told")
    kept = []
    for layer in layers:
        if layer.metadata.get(IMAGE_KEY) is not None or tuple(layer.data.shape) == shape:
            kept.append(layer)
        elif layer not in told:
            told.add(layer)
            axes = layer_axes(image).replace("C", "")
            host.notify(f"'{layer.name}' is not used as the labels of '{image.name}': its "
                        f"shape is {shape_text(layer.data.shape, _stated_axes(layer))}, the "
                        f"image's labels are {shape_text(shape, axes)}. It is left as it "
                        "is (not corrected, marked nor saved in the project). To correct "
                        f"labels made for '{image.name}', use Correct > Open labels… with a "
                        "file of the image's size.", "warning")
    return kept


def _stated_axes(layer) -> str:
    """The axes a labels layer states (our reader's metadata), else those assumed from its
    number of dimensions (napari's ``layer_axes`` reads image layers: no ``rgb`` here)."""
    ndim = layer.data.ndim
    axes = str(layer.metadata.get("axes", "")).upper()
    if len(axes) == ndim and set(axes) <= AXIS_LETTERS:
        return axes
    return DEFAULT_AXES.get(ndim, "TZCYX"[-ndim:])


def _told(host, name: str) -> weakref.WeakSet:
    """The layers already told of for one reason, kept on the host under ``name`` (made on
    first use: the host's __init__ is in napari_host); a closed layer leaves it."""
    told = getattr(host, name, None)
    if told is None:
        told = weakref.WeakSet()
        setattr(host, name, told)
    return told


def made_paintable(host, layer) -> bool:
    """Can napari's brush and the Correct tools write into ``layer``'s data? A layer napari
    made of our lazily read image ("Convert to Labels") holds a LazyArray (no item
    assignment, no ``max``) or a read-only map: its pixels are read into a writable array
    in place (``app.io.editable``). When that cannot be done (no room in memory nor on
    disk), False, told once: the layer is then skipped, never edited into a TypeError."""
    data = layer.data
    if isinstance(data, np.ndarray):
        if data.flags.writeable:
            return True
    elif hasattr(data, "__setitem__"):  # (a zarr array napari paints into: left as it is)
        return True
    told = _told(host, "_read_only_told")
    if layer in told:
        return False
    from unet_studio.app.io.editable import Editable, editable_labels

    source = layer.metadata.get("source_path") or getattr(layer.source, "path", None)
    try:
        editable = editable_labels(data, source or layer.name)
    except UserError as error:  # (a damaged file, read at last)
        editable = Editable(data, str(error))
    if editable.note is not None:
        told.add(layer)
        host.notify(f"'{layer.name}' cannot be painted, so unet-studio leaves it as it is: "
                    f"{editable.note}", "warning")
        return False
    layer.data = editable.data  # (the same pixels: no undo step, nothing to save)
    return True
