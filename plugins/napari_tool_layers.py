"""The helper layers the host draws over the labels for the tools (a mixin of
``CanvasTools``): the picks of an unfinished merge or split (points), the regions drawn to
mark as reviewed (shapes), and the colours of the reviewed overlay.

Apart from the clicks and keys of ``napari_tools`` because these are layers the host owns,
with their tags (``helper_layers``; ``napari_layer_events`` removes them with the last labels) and their
placement over the image, not input from the canvas. A layer set aside is emptied and
hidden rather than removed (``layer_data.set_aside``) and placed again when next used.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Shapes
from napari.utils import Colormap

from unet_studio.plugins.helper_layers import (
    PICKS_LAYER,
    REGIONS_LAYER,
    helper_layer,
    helper_metadata,
)
from unet_studio.plugins.layer_data import replace_data, set_aside


def overlay_colormap() -> Colormap:
    """Transparent for 0, translucent green for 1: reviewed pixels tinted, others untouched."""
    return Colormap([[0, 0, 0, 0], [0.15, 0.9, 0.35, 1]], name="reviewed", interpolation="zero")


class ToolLayers:
    """Needs from the host: ``viewer``, ``geometry``, ``labels_layer`` and ``notify``."""

    # ---- picks of an unfinished merge or split ---------------------------------------------
    def show_tool_points(self, points: list[tuple[float, ...]]) -> None:
        """Mark ``points`` (labels data coordinates: the objects picked for a merge, the seeds
        of a split, not yet applied) on the canvas; none removes the marks."""
        layers = self.viewer.layers
        picks = helper_layer(layers, PICKS_LAYER)
        if not points:
            if picks is not None:  # (emptied and hidden, not removed: see set_aside)
                set_aside(picks, np.empty((0, picks.ndim)))
            return
        data = np.asarray(points, dtype=float)
        if picks is not None and picks.ndim == data.shape[1]:
            # (placed again: set aside over another image, maybe of another scale)
            replace_data(picks, data, **self.geometry(data.shape[1]))
            picks.visible = True
            return
        if picks is not None:
            layers.remove(picks)
        keep_active = layers.selection.active  # (keys and clicks stay with the labels)
        # A few screen pixels whatever the zoom: clamped on screen. (Not larger in data
        # units than needed: napari's reset view fits the points' size too.)
        labels = self.labels_layer()
        size = max(1.0, 0.02 * max(labels.data.shape[-2:])) if labels is not None else 4.0
        self.viewer.add_points(
            data, name=PICKS_LAYER, metadata=helper_metadata(PICKS_LAYER), ndim=data.shape[1],
            size=size, canvas_size_limits=(9, 13),
            face_color="yellow", border_color="black", symbol="disc",
            **self.geometry(data.shape[1]),
        )  # fmt: skip
        layers.selection.active = keep_active

    # ---- drawn regions ---------------------------------------------------------------------
    def start_region_drawing(self) -> None:
        """Let the user draw polygons to mark as reviewed, on a shapes layer over the labels.

        napari draws shapes in a 2D view only, so a 3D rendering switches to 2D."""
        layers = self.viewer.layers
        if self.viewer.dims.ndisplay == 3:
            self.viewer.dims.ndisplay = 2
            self.notify("switched to the 2D view: regions are drawn on a slice")
        labels = self.labels_layer()
        ndim = labels.ndim if labels is not None else self.viewer.dims.ndim
        kwargs = self.geometry(ndim)
        regions = helper_layer(layers, REGIONS_LAYER)
        if regions is not None and regions.ndim != ndim:
            # (set aside over an image of another rank: a shapes layer keeps its rank, and
            # 2D polygons drawn over a stack lack the plane they were drawn in)
            layers.remove(regions)
            regions = None
        if regions is not None:  # (set aside by the last mark, maybe over another image)
            regions.visible = True
            for name, value in kwargs.items():
                setattr(regions, name, value)
        else:
            regions = self.viewer.add_shapes(
                name=REGIONS_LAYER, metadata=helper_metadata(REGIONS_LAYER), ndim=ndim,
                edge_color="lime", face_color=[0.2, 1, 0.4, 0.15], edge_width=2, **kwargs,
            )  # fmt: skip
        layers.selection.active = regions
        regions.mode = "add_polygon"

    def drawn_regions(self) -> list[np.ndarray]:
        """Polygons drawn so far, each (N, ndim) in labels data coordinates."""
        layer = helper_layer(self.viewer.layers, REGIONS_LAYER)
        if not isinstance(layer, Shapes):
            return []
        return [np.asarray(vertices, dtype=float) for vertices in layer.data]

    def add_drawn_region(self, vertices: np.ndarray) -> None:
        """Add a polygon as if drawn by hand (scripts and tests)."""
        self.start_region_drawing()
        helper_layer(self.viewer.layers, REGIONS_LAYER).add_polygons([np.asarray(vertices, dtype=float)])

    def clear_drawn_regions(self) -> None:
        """Empty and hide the drawn regions' layer (``set_aside``); the labels become the
        active layer again (napari left nothing selected, and its layer controls empty)."""
        regions = helper_layer(self.viewer.layers, REGIONS_LAYER)
        if regions is not None:
            regions.mode = "pan_zoom"
            set_aside(regions, [])
            labels = self.labels_layer()
            if labels is not None and self.viewer.layers.selection.active in (None, regions):
                self.viewer.layers.selection.active = labels

