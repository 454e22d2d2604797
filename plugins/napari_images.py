"""The image layers a host works on (a mixin of ``NapariHost``): which image is current,
what it is as a :class:`HostImage` (axes, scale, pixel size), opening, renaming and showing
result images over it.

Separate from the labels (``napari_labels``) because choosing an image is read-only
bookkeeping over napari's layer list, while the labels side edits pixels and watches undo.
"""

from __future__ import annotations

from collections.abc import Sequence

from napari.layers import Image, Labels

from unet_studio.app.host import HostImage
from unet_studio.plugins.helper_layers import is_helper
from unet_studio.plugins.napari_layer_axes import layer_axes, named_axes
from unet_studio.plugins.napari_layer_events import IMAGE_KEY, is_image


class ImageLayers:
    """Needs from the host: ``viewer``, ``_image_name`` and ``geometry``."""

    def image_names(self) -> list[str]:
        return [layer.name for layer in self.viewer.layers if is_image(layer)]

    def select_image(self, name: str | None) -> None:
        self._image_name = name

    def image_layer(self):
        """The image being worked on: the chosen one, else the active image, else the last."""
        layers = self.viewer.layers
        if self._image_name in layers and is_image(layers[self._image_name]):
            return layers[self._image_name]
        active = layers.selection.active
        if is_image(active):
            return active
        images = [layer for layer in layers if is_image(layer)]
        return images[-1] if images else None

    def images_with_labels(self) -> set[str]:
        """The image layers that labels layers of ours were made for."""
        return {layer.metadata.get(IMAGE_KEY) for layer in self.viewer.layers
                if isinstance(layer, Labels) and layer.metadata.get(IMAGE_KEY)}

    def current_image(self) -> HostImage | None:
        layer = self.image_layer()
        return None if layer is None else host_image(layer)

    def bring_forward(self, name: str) -> None:
        """The image ``name`` was chosen in a panel: when the active layer stands for
        another image (its labels, say), that image's labels (else the image) become the
        active layer. Otherwise the layer controls, and napari's brush, stayed on the
        other image's labels while the panels worked on this one. A layer that is no
        image's (the user's points, our helper layers) stays active."""
        layers = self.viewer.layers
        if name not in layers or self.active_image_name() in (None, name):
            return
        labels = self.labels_layer()
        own = labels is not None and labels.metadata.get(IMAGE_KEY) == name
        layers.selection.active = labels if own else layers[name]

    def active_image_name(self) -> str | None:
        """The image the active layer stands for: an image layer itself, or the image our
        labels or result image (probabilities) was made for; None for anything else."""
        layers = self.viewer.layers
        active = layers.selection.active
        if not isinstance(active, (Image, Labels)) or is_helper(active):
            return None
        owner = active.metadata.get(IMAGE_KEY)  # our labels and result images name their image
        if owner is None:
            return active.name if is_image(active) else None
        return owner if owner in layers and is_image(layers[owner]) else None

    def image_named(self, name: str) -> HostImage | None:
        """An open image layer called ``name`` (the current one or not), or None."""
        layers = self.viewer.layers
        return host_image(layers[name]) if name in layers and is_image(layers[name]) else None

    def image_source(self, name: str | None = None) -> str | None:
        """The file the current image (or the image layer ``name``) came from, when napari
        knows it."""
        layers = self.viewer.layers
        layer = self.image_layer() if name is None else (layers[name] if name in layers else None)
        if layer is None:
            return None
        path = layer.metadata.get("source_path") or getattr(layer.source, "path", None)
        return str(path) if path else None

    def image_series(self, name: str | None = None) -> int:
        """Which image of its multi-series file (from 0) the current image (or the image
        layer ``name``) is, as our reader recorded it; 0 for the first and for any other
        layer (a project keeps it: reopened and trained on, the file gives that image)."""
        layers = self.viewer.layers
        layer = self.image_layer() if name is None else (layers[name] if name in layers else None)
        series = None if layer is None else layer.metadata.get("series")
        return series if isinstance(series, int) else 0

    def image_named_axes(self, name: str) -> str | None:
        """The axes the image layer ``name`` names itself (our reader's metadata, a script's,
        or napari's axis labels), None when it names none (``app.axes_guess``)."""
        layers = self.viewer.layers
        return named_axes(layers[name]) if name in layers and is_image(layers[name]) else None

    def set_image_axes(self, name: str, axes: str) -> None:
        """The image layer ``name`` IS ``axes`` from now on (the user typed them: a renaming
        of its axes, in the same order, ``app.typed_axes``): its ``metadata["axes"]`` (read
        first by ``layer_axes``) and napari's axis labels (the sliders' names), and the
        labels made for it, so that every tool and the labels writer read the same axes."""
        layers = self.viewer.layers
        image = layers[name]
        spatial = axes.replace("C", "") if image.rgb else axes  # (an RGB layer's colours: no axis)
        image.metadata["axes"] = spatial
        image.axis_labels = tuple(spatial)
        label_axes = axes.replace("C", "")
        for layer in layers:
            if isinstance(layer, Labels) and layer.metadata.get(IMAGE_KEY) == name:
                own = label_axes[-layer.ndim:]
                if len(own) == layer.ndim:
                    layer.metadata["axes"] = own
                    layer.axis_labels = tuple(own)

    def open_image_file(self, path, name: str | None = None,
                        channel_names: dict[int, str] | None = None, series: int = 0) -> None:
        """Open an image file with our reader (lazily), as File > Open would (a PNG or JPEG
        with napari's own: ``launcher.reader_for``); ``name``: what to call it when it opens
        as one image layer (a project's name for it) and that name is free;
        ``channel_names``: the same, by channel, for a file that opens as one layer per
        channel (they open in channel order; napari names them after the file, which a
        file renamed since no longer matches); ``series`` (from 0): the image of a
        multi-series file to open (a project's image that is not the file's first)."""
        from unet_studio.app.launcher import reader_for
        from unet_studio.app.opening_series import opening_series

        with opening_series(series or None):  # (napari hands our reader the path alone)
            layers = self.viewer.open(str(path), plugin=reader_for(path), stack=False)
        images = [layer for layer in layers if is_image(layer)]
        if name and len(images) == 1 and name not in self.viewer.layers:
            images[0].name = name
        if channel_names and len(images) > 1:
            for channel, layer in enumerate(images):
                wanted = channel_names.get(channel)
                if wanted and wanted not in self.viewer.layers:
                    layer.name = wanted

    def rename_image(self, old: str, new: str) -> None:
        """Rename the image layer ``old`` (its labels and results follow, as when the user
        renames it)."""
        self.viewer.layers[old].name = new

    def show_image(self, data, *, name: str, channel_axis: int | None = None,
                   channel_names: Sequence[str] | None = None) -> None:
        """Show a result image (e.g. probabilities ``(C, *spatial)``) over the current image.
        ``channel_names``: what each channel along ``channel_axis`` is (a model's classes),
        its layer then called "``name``: class" rather than napari's "``name`` [1]"."""
        layers = self.viewer.layers
        for old in [layer.name for layer in layers if layer.name.startswith(name)]:
            layers.remove(old)
        spatial = data.ndim - (channel_axis is not None)
        keep_active = layers.selection.active
        source = self.image_layer()
        # Tagged with the image it was computed from: activating it means that image.
        metadata = {} if source is None else {IMAGE_KEY: source.name}
        names = name
        if channel_axis is not None and channel_names is not None:
            names = [f"{name}: {channel}" for channel in channel_names]
        self.viewer.add_image(data, name=names, channel_axis=channel_axis, blending="additive",
                              metadata=metadata, **self.geometry(spatial))  # fmt: skip
        layers.selection.active = keep_active


def host_image(layer) -> HostImage:
    # A pyramid (multiscale) layer is computed on at full resolution: its level 0, which our
    # reader keeps lazy. (napari's list of levels cannot be sliced like an array.)
    data = layer.data[0] if layer.multiscale else layer.data
    axes = layer_axes(layer)
    # An RGB layer's colour axis is not one of its dimensions, so it has no scale.
    spatial = axes.replace("C", "") if layer.rgb else axes
    scale = dict(zip(spatial, map(float, layer.scale)))
    if layer.rgb:
        scale["C"] = 1.0
    return HostImage(data, axes, scale, layer.name, pixel_size_um=_pixel_size_um(layer, spatial),
                     time_step_s=_time_step_s(layer, spatial))


def _time_step_s(layer, spatial: str) -> float | None:
    """Seconds between the layer's time points where its T axis has a unit of time (napari
    keeps units as pint units; a T scale of 1 "pixel" is no time stated)."""
    if "T" not in spatial:
        return None
    units = getattr(layer, "units", ())
    if len(units) != len(spatial):
        return None
    step, unit = float(layer.scale[spatial.index("T")]), units[spatial.index("T")]
    try:
        return float((step * unit).to("second").magnitude)
    except (TypeError, AttributeError, ValueError):  # (pint: not a unit of time, "pixel")
        return None


def _pixel_size_um(layer, spatial: str) -> dict[str, float]:
    """The layer's pixel sizes in micrometres, for the spatial axes whose unit is a length
    (napari shows an unknown size as 1 "pixel": left out)."""
    from unet_studio.app.io.axes import UNIT_PIXEL, length_in_um

    sizes = {}
    for axis, value, unit in zip(spatial, layer.scale, getattr(layer, "units", ())):
        size = None if str(unit) == UNIT_PIXEL else length_in_um(float(value), str(unit))
        if axis in "ZYX" and size is not None:
            sizes[axis] = size
    return sizes
