"""Which channels of an image a model is fed, the same for prediction and fine-tuning.

A model takes ``in_channels`` channels. An image with a C axis of as many channels gives all
of them (an RGB image to a 3-channel model, a 2-channel hyperstack to a 2-channel model);
one with more gives the channel the user picks (the Segment panel's Channel box, the CLI's
``--channel``) to a 1-channel model, and the RGB of an RGBA image to a 3-channel model
(alpha is no stain). A 1-channel model may also get the grey values of an RGB(A) image,
"luminance" (``luminance_view``: the CLI's ``--channel luminance``, computed by the same
code). Anything else is refused before the run, saying what the model takes
and what the image has: the engine would only find out after a pass over every pixel, as a
bare ValueError.

Our reader (and napari's ``channel_axis``) opens each channel of a file as a layer of its
own. A model that takes several channels then gets the channel layers of that file, in
layer order, stacked lazily along a C axis put last (``channel_layers_image``): the axis
positions of the layer the user chose stay those of the view. Qt-free: the Segment panel
(``app.qt.segment_channels``) and the Train panel's data (``app.training_data``) use it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.host import HostImage, ViewState
from unet_studio.app.io.select import luminance_view  # noqa: F401  (the panel's and training's too)

_RGBA = 4  # channels of an RGBA image
_RGB = 3
LUMINANCE = "luminance"  # the grey values of RGB(A) colours (``app.io.select``'s name)


def is_colour(axes: str, shape: tuple[int, ...]) -> bool:
    """Whether an image's C axis holds colours: RGB(A) keep their 3 or 4 samples last (RGB
    TIFF, PNG, JPEG, napari's RGB layers), where a fluorescence stack keeps its stains
    before Y and X."""
    return axes.endswith("C") and len(shape) == len(axes) and shape[-1] in (_RGB, _RGBA)


def offers_luminance(axes: str, shape: tuple[int, ...], in_channels: int) -> bool:
    """Whether the user may feed the grey values of the colours: a 1-channel model on an
    RGB(A) image."""
    return picks_one_channel(axes, shape, in_channels) and is_colour(axes, shape)


def picks_one_channel(axes: str, shape: tuple[int, ...], in_channels: int) -> bool:
    """Whether the user picks the channel: the image has more channels than the model takes
    (a 1-channel model on a multichannel or RGB image)."""
    return "C" in axes and in_channels == 1 and shape[axes.index("C")] > 1


def channel_index(axes: str, shape: tuple[int, ...], channel: int | str | None,
                  in_channels: int | None, image_name: str, model_name: str = "the model"):
    """What to take along the C axis of an image of ``axes``/``shape`` for a model of
    ``in_channels`` (None: unknown, take ``channel`` or all): an int (one channel, the axis
    goes away), ``slice(0, 3)`` (RGB of RGBA), ``slice(None)`` (all) or ``LUMINANCE`` (the
    grey values of RGB(A) colours, asked for by ``channel``; ``luminance_view``). UserError
    naming the image when they do not fit."""
    size = shape[axes.index("C")] if "C" in axes else 1
    if channel == LUMINANCE:
        return _luminance_index(size, in_channels, image_name, model_name)
    if channel is not None and "C" in axes and not 0 <= channel < size:
        raise UserError(f"channel {channel} does not exist (the image has {size})")
    if in_channels is None:
        return slice(None) if channel is None else channel
    if in_channels == size:
        return slice(None)
    if in_channels == 1:
        return 0 if channel is None else channel
    if in_channels == _RGB and size == _RGBA:
        return slice(0, _RGB)
    raise UserError(channel_mismatch(model_name, in_channels, image_name, size))


def _luminance_index(size: int, in_channels: int | None, image_name: str, model_name: str) -> str:
    if size not in (_RGB, _RGBA):
        raise UserError(f"{image_name}: luminance needs an RGB or RGBA image (3 or 4 channels), "
                        f"it has {size}")
    if in_channels not in (None, 1):
        raise UserError(f"{model_name} takes {in_channels} channels, luminance gives one: "
                        f"choose a model that takes one channel")
    return LUMINANCE


def channel_mismatch(model_name: str, in_channels: int, image_name: str, size: int) -> str:
    hint = (f"choose a model that takes one channel (the Channel box then picks it) or {size}"
            if size > in_channels else
            f"open the file with its {in_channels} channels, or choose a model that takes "
            f"{'one channel' if size == 1 else f'{size} channels'}")
    return (f"{model_name} takes {in_channels} channel{'s' * (in_channels != 1)}, "
            f"{image_name} has {size}: {hint}")


def check_labels_align(axes: str, view: ViewState | None, image_name: str) -> None:
    """UserError when labels (``axes`` without C) could not lie over the image layer: napari
    lines a layer of fewer dimensions up with the last ones of the others, so a channel
    axis between the others (a ZCYX hyperstack opened by napari's own reader) would put
    the labels' Z on the image's channels. An RGB layer's colours are no dimension."""
    if view is None or "C" not in axes or axes.startswith("C"):
        return
    if len(view.position) == len(axes):  # (C is one of the layer's dimensions: not RGB)
        raise UserError(f"{image_name} has its channels between its other axes ({axes}), where "
                        "napari cannot lay labels over it: open the file with the unet-studio "
                        "reader, which gives each channel a layer of its own")


def channel_layers_image(host, image: HostImage, axes: str, in_channels: int,
                         view: ViewState | None, model_name: str = "the model"):
    """``(image, axes, view)`` to segment: unchanged unless the model takes several channels
    and ``image`` (axes ``axes``) has no C axis; then the channel layers opened from its file
    (ours and napari's ``channel_axis`` split one file into a layer per channel) stacked
    lazily along a last C axis, with ``view`` extended by it. UserError when the file has
    another number of channel layers than the model takes."""
    if in_channels == 1 or "C" in axes:
        return image, axes, view
    layers = sibling_channel_layers(host, image, axes)
    if len(layers) != in_channels:
        raise UserError(channel_mismatch(model_name, in_channels, image.name, len(layers)))
    data = ChannelLayers([layer.data for layer in layers])
    stacked = HostImage(data, axes + "C", {**image.scale, "C": 1.0}, image.name,
                        pixel_size_um=dict(image.pixel_size_um))  # fmt: skip
    return stacked, axes + "C", _with_channel_axis(view, in_channels)


def sibling_channel_layers(host, image: HostImage, axes: str) -> list[HostImage]:
    """The image layers opened from the same file as ``image`` with its shape (its channel
    layers), in layer order; ``[image]`` when its file is unknown."""
    source = host.image_source(image.name) if hasattr(host, "image_source") else None
    names = host.image_names() if hasattr(host, "image_names") else []
    if source is None or not hasattr(host, "image_named"):
        return [image]
    layers = []
    for name in names:
        other = image if name == image.name else host.image_named(name)
        if other is not None and host.image_source(name) == source and other.shape == image.shape \
                and "C" not in other.axes:
            layers.append(other)
    return layers or [image]


def image_channels(host, image: HostImage) -> int:
    """How many channels a network must take to read all of ``image``'s stains: its C axis
    (3 for RGB or RGBA colours: alpha is no stain), else the channel layers opened from its
    file (our reader opens a hyperstack as a layer per channel). Reads no pixels."""
    axes = image.axes
    if "C" in axes and len(axes) == len(image.shape):
        return _RGB if is_colour(axes, image.shape) else int(image.shape[axes.index("C")])
    return len(sibling_channel_layers(host, image, axes))


def _with_channel_axis(view: ViewState | None, channels: int) -> ViewState | None:
    if view is None:
        return None
    return replace(view, position=(*view.position, 0),
                   visible_region=(*view.visible_region, slice(0, channels)))


class ChannelLayers:
    """Arrays of one shape (channel layers) read as one array with a last C axis, lazily:
    an index reads only the channels and the region it names."""

    def __init__(self, arrays: list):
        self.arrays = list(arrays)
        self.shape = (*tuple(np.shape(arrays[0])), len(arrays))
        self.dtype = np.result_type(*(np.dtype(a.dtype) for a in arrays))
        self.ndim = len(self.shape)

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis or k is None for k in key) or len(key) > self.ndim:
            raise IndexError("ChannelLayers takes one int or slice per axis")
        key = key + (slice(None),) * (self.ndim - len(key))
        *inner, channel = key
        picked = self.arrays[channel] if isinstance(channel, (int, np.integer)) else None
        if picked is not None:
            return np.asarray(picked[tuple(inner)]).astype(self.dtype, copy=False)
        planes = [np.asarray(a[tuple(inner)]).astype(self.dtype, copy=False)
                  for a in self.arrays[channel]]
        return np.stack(planes, axis=-1)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = self[(slice(None),) * self.ndim]
        return data if dtype is None else data.astype(dtype, copy=False)
