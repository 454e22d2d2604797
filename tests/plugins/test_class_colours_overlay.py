"""A class map's fixed colours stay apart from the reviewed overlay's green: class 3's green
was near it, and reviewed pixels of that class read as unreviewed ones or the other way."""

from __future__ import annotations

import itertools

import numpy as np


def test_every_class_colour_stays_apart_from_the_reviewed_overlay():
    from unet_studio.app.class_map import CLASS_COLOURS
    from unet_studio.plugins.napari_classes import class_map_layer_options
    from unet_studio.plugins.napari_tool_layers import overlay_colormap

    overlay = np.asarray(overlay_colormap().colors[1][:3])
    names = [f"class {value}" for value in range(len(CLASS_COLOURS) + 1)]  # (0 and every colour)
    shown = class_map_layer_options(names)["colormap"]
    colours = [np.asarray(shown[value][:3]) for value in range(1, len(names))]
    # As far from the overlay as the class colours are from each other, at the least.
    apart = min(np.linalg.norm(a - b) for a, b in itertools.combinations(colours, 2))
    for value, colour in enumerate(colours, start=1):
        assert np.linalg.norm(colour - overlay) >= apart, f"class {value}: {colour} near {overlay}"
