"""Which axes (over "TZCYX") an image layer's data has, as the host reads them off a layer.

Apart from the canvas tools because it is a question about a layer's data, not about the
canvas: the images and labels sides of the host (``napari_images``, ``napari_labels``) ask
it, and it holds no state. A layer may name its axes (our reader's metadata, napari's axis
labels), its TIFF file may name them, or they are assumed from its number of dimensions.
"""

from __future__ import annotations

AXIS_LETTERS = set("TZCYX")
# Axes assumed by dimensionality when a layer says nothing about them.
DEFAULT_AXES = {1: "X", 2: "YX", 3: "ZYX", 4: "TZYX", 5: "TZCYX"}


def layer_axes(layer) -> str:
    """Axis letters (over "TZCYX") of an image layer's data, e.g. "ZYX"; "YXC" for RGB.

    Taken from ``metadata["axes"]`` (our reader writes it), else from napari's axis labels
    when they are letters, else from the TIFF file the layer was read from when its
    metadata names them (napari's own reader keeps no axes: a 3-frame TYX file would be
    taken for a Z stack), else assumed from the number of dimensions.
    """
    data = layer.data if not layer.multiscale else layer.data[0]
    ndim = data.ndim
    named = named_axes(layer)
    if named is not None:
        return named
    stated = _file_axes(layer, tuple(data.shape))
    if stated is not None:
        return stated
    if layer.rgb:
        return DEFAULT_AXES.get(ndim - 1, "")[-(ndim - 1):] + "C"
    return DEFAULT_AXES.get(ndim, "TZCYX"[-ndim:])


def named_axes(layer) -> str | None:
    """The axes an image layer names itself (``metadata["axes"]``, else napari's axis labels
    when they are letters), None when it names none: then they come from its file, or are
    assumed from its number of dimensions (``unet_studio.app.axes_guess`` says so)."""
    ndim = (layer.data[0] if layer.multiscale else layer.data).ndim
    axes = str(layer.metadata.get("axes", "")).upper()
    if len(axes) == ndim and set(axes) <= AXIS_LETTERS and len(set(axes)) == ndim:
        return axes
    labels = "".join(str(a).upper() for a in getattr(layer, "axis_labels", ()))
    if layer.rgb:
        labels += "C"
    if len(labels) == ndim and set(labels) <= AXIS_LETTERS and len(set(labels)) == ndim:
        return labels
    return None


def _file_axes(layer, shape: tuple[int, ...]) -> str | None:
    """The axes the layer's source TIFF names (metadata only), when its image has the
    layer's shape; an RGB layer's colours must be the file's last axis."""
    from unet_studio.app.io.file_axes import tiff_axes

    source = getattr(getattr(layer, "source", None), "path", None)
    axes = tiff_axes(source, shape) if source else None
    if axes is None or (layer.rgb and not axes.endswith("C")):
        return None
    return axes
