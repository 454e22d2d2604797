"""A class map shown on a napari Labels layer (``app.class_map``): its class names recorded
in the layer's metadata, fixed colours per class (0 transparent) instead of napari's random
colours per value, the class name beside the value in the status bar (napari shows a
labels layer's ``features`` there: "[0, 12, 40]: 2; class: membrane"), and the brush kept
on a class (napari's M, + and the label spin box would choose values that are no class).
A labels file read with its class names (``plugins.io``) comes as a class map already.
"""

from __future__ import annotations

import weakref

from unet_studio.app.class_map import CLASS_NAMES_KEY, class_colour, class_text

# The colours and features a layer had before it was shown as a class map (given back when
# an instance model's labels replace the class map).
_before: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_clamped: weakref.WeakSet = weakref.WeakSet()  # layers whose brush label is kept on a class


def recorded_classes(layer) -> tuple[str, ...] | None:
    """The class names recorded on ``layer`` (() for objects), None when none are."""
    names = layer.metadata.get(CLASS_NAMES_KEY)
    return None if names is None else tuple(str(name) for name in names)


def class_map_layer_options(names) -> dict:
    """Labels layer keywords (``metadata``, ``colormap``, ``features``) that make a layer the
    class map of ``names`` from the start: what the reader gives a labels file that records
    its classes, so napari shows them so even where no unet-studio panel is open. Plain
    data, no napari object (a reader's layer tuples are plain)."""
    names = [str(name) for name in names]
    colours = {None: class_colour(0), **{value: class_colour(value) for value in range(len(names))}}
    return {"metadata": {CLASS_NAMES_KEY: names}, "colormap": colours,
            "features": {"index": list(range(len(names))), "class": names}}


def show_classes(layer, names: tuple[str, ...], notify) -> None:
    """Record ``names`` on ``layer`` and show it as their class map (() : as objects again,
    napari's colours back). ``notify(message)`` tells of a brush label put back on a class."""
    from napari.utils.colormaps import DirectLabelColormap, label_colormap

    was = recorded_classes(layer)
    layer.metadata[CLASS_NAMES_KEY] = list(names)
    if not names:
        if was:  # (one read as a class map had none before: napari's default, 49 colours)
            layer.colormap, layer.features = _before.pop(layer, (label_colormap(49), {}))
        return
    if not was:
        _before[layer] = (layer.colormap, layer.features.copy())
    options = class_map_layer_options(names)
    layer.colormap = DirectLabelColormap(color_dict=options["colormap"])
    layer.features = options["features"]
    if layer not in _clamped:
        _clamped.add(layer)
        ref = weakref.ref(layer)  # (the layer's own event holds no strong reference to it)
        layer.events.selected_label.connect(lambda _event: _keep_on_a_class(ref(), notify))
    _keep_on_a_class(layer, notify)


def show_classes_when_added(viewer, notify) -> None:
    """Labels layers added to ``viewer`` with class names recorded (a class map read from a
    file, ``plugins.io``) are shown as such by :func:`show_classes` as they come: their brush
    kept on a class, napari's colours given back if they become objects."""
    from napari.layers import Labels

    def added(event) -> None:
        layer = event.value
        names = recorded_classes(layer) if isinstance(layer, Labels) else None
        if names and layer not in _clamped:
            show_classes(layer, names, notify)

    viewer.layers.events.inserted.connect(added)


def _keep_on_a_class(layer, notify) -> None:
    """A class map's brush label that is no class goes back to the nearest class."""
    names = None if layer is None else recorded_classes(layer)
    if not names:
        return
    chosen = int(layer.selected_label)
    if 0 <= chosen < len(names):
        return
    value = min(max(chosen, 0), len(names) - 1)
    layer.selected_label = value
    notify(f"'{layer.name}' is a class map: label {chosen} is no class "
           f"({', '.join(names)}); painting with {class_text(names, value)}")
