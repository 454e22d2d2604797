"""A class map shown on a napari Labels layer (``app.class_map``): its class names recorded
in the layer's metadata, fixed colours per class (0 transparent) instead of napari's random
colours per value, the class name beside the value in the status bar (napari shows a
labels layer's ``features`` there: "[0, 12, 40]: 2; class: membrane"), and the brush kept
on a class (napari's M, + and the label spin box would choose values that are no class).
"""

from __future__ import annotations

import weakref

from napari.utils.colormaps import DirectLabelColormap

from unet_studio.app.class_map import CLASS_NAMES_KEY, class_colour, class_text

# The colours and features a layer had before it was shown as a class map (given back when
# an instance model's labels replace the class map).
_before: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_clamped: weakref.WeakSet = weakref.WeakSet()  # layers whose brush label is kept on a class


def recorded_classes(layer) -> tuple[str, ...] | None:
    """The class names recorded on ``layer`` (() for objects), None when none are."""
    names = layer.metadata.get(CLASS_NAMES_KEY)
    return None if names is None else tuple(str(name) for name in names)


def show_classes(layer, names: tuple[str, ...], notify) -> None:
    """Record ``names`` on ``layer`` and show it as their class map (() : as objects again,
    napari's colours back). ``notify(message)`` tells of a brush label put back on a class."""
    was = recorded_classes(layer)
    layer.metadata[CLASS_NAMES_KEY] = list(names)
    if not names:
        if was and layer in _before:
            layer.colormap, layer.features = _before.pop(layer)
        return
    if not was:
        _before[layer] = (layer.colormap, layer.features.copy())
    colours = {None: class_colour(0), **{value: class_colour(value) for value in range(len(names))}}
    layer.colormap = DirectLabelColormap(color_dict=colours)
    layer.features = {"index": list(range(len(names))), "class": list(names)}
    if layer not in _clamped:
        _clamped.add(layer)
        ref = weakref.ref(layer)  # (the layer's own event holds no strong reference to it)
        layer.events.selected_label.connect(lambda _event: _keep_on_a_class(ref(), notify))
    _keep_on_a_class(layer, notify)


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
