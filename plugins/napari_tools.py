"""Canvas interaction for the panels: clicks for object tools, drawn review regions, and
progress bars in napari's activity dock. Base class of :class:`NapariHost`."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable

import numpy as np
from napari.layers import Shapes
from napari.utils import Colormap

from unet_studio.plugins.layer_data import replace_data, set_aside
from unet_studio.plugins.napari_picking import click_coordinate, pointer_coordinate, ray_voxels
from unet_studio.plugins.napari_progress import ProgressBar, SilentProgress, software_opengl

log = logging.getLogger(__name__)

REGIONS_LAYER = "review regions"
PICKS_LAYER = "merge and split picks"
AXIS_LETTERS = set("TZCYX")
# Axes assumed by dimensionality when a layer says nothing about them.
DEFAULT_AXES = {1: "X", 2: "YX", 3: "ZYX", 4: "TZYX", 5: "TZCYX"}

ClickHandler = Callable[[tuple[float, ...]], None]
KeyHandler = Callable[[tuple[float, ...] | None], None]
CLICK_TOLERANCE_PX = 4  # a press released further away (screen pixels) is a drag
# napari's undo and redo keys, bound on Labels layers only (see ``bind_history_keys``).
HISTORY_KEYS = {"Control-Z": "undo", "Control-Shift-Z": "redo"}


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


def overlay_colormap() -> Colormap:
    """Transparent for 0, translucent green for 1: reviewed pixels tinted, others untouched."""
    return Colormap([[0, 0, 0, 0], [0.15, 0.9, 0.35, 1]], name="reviewed", interpolation="zero")


class CanvasTools:
    """Clicks, drawn regions and progress on a napari viewer (subclassed by NapariHost)."""

    def __init__(self, viewer):
        # Weak: the per-viewer session registry must not keep a closed viewer alive.
        self._viewer_ref = weakref.ref(viewer)
        self._click_handler: ClickHandler | None = None
        # True while a canvas click is handed to the tool: napari gives the same press to
        # the layer's own tool afterwards, so a tool must not switch that tool now.
        self.in_click = False
        # (labels coordinate, napari's cursor position then): see ``hold_pointer_at``.
        self._held_pointer: tuple[tuple[float, ...], tuple[float, ...]] | None = None
        viewer.mouse_drag_callbacks.append(self._on_mouse_press)

    @property
    def viewer(self):
        viewer = self._viewer_ref()
        if viewer is None:
            raise RuntimeError("the napari viewer of this host was closed")
        return viewer

    def labels_layer(self):  # provided by NapariHost
        raise NotImplementedError

    def image_layer(self):  # provided by NapariHost
        raise NotImplementedError

    def notify(self, message: str, level: str = "info") -> None:  # provided by NapariHost
        raise NotImplementedError

    def geometry(self, ndim: int) -> dict:
        """scale, translate and units for a new layer of ``ndim`` axes over the image (its
        last ``ndim`` axes): every layer then shares the image's physical space and units."""
        reference = self.labels_layer()
        if reference is None or reference.ndim != ndim:
            reference = self.image_layer()
        if reference is None or reference.ndim < ndim:
            return {}
        return {
            "scale": tuple(float(v) for v in reference.scale)[-ndim:],
            "translate": tuple(float(v) for v in reference.translate)[-ndim:],
            "units": tuple(reference.units)[-ndim:],
        }

    def start_progress(self, description: str, total: int):
        """A bar in napari's activity dock; a silent one under software OpenGL, where the
        dock's animated busy indicator alone redraws the whole window many times a second
        (measured: ~80 ms per redraw under Xvfb's llvmpipe), stalling the GUI. The panels
        show their own progress bar either way. ``UNET_STUDIO_ACTIVITY_PROGRESS=1`` forces
        the activity dock on."""
        forced = os.environ.get("UNET_STUDIO_ACTIVITY_PROGRESS", "") == "1"
        if not forced and software_opengl():
            return SilentProgress()
        return ProgressBar(description, total)

    def track_task(self, description: str, cancel: Callable[[], object]) -> Callable[[], None]:
        """Tell the napari window that long work runs (until the returned ``done()`` is
        called): closing the window then asks first, naming it, and cancels it when the user
        goes on (``cancel()``: the worker stops at its next step and keeps what it made).

        napari offers this to its own workers through the window's task status manager,
        which has no public registration yet: without it, nothing is tracked."""
        window = getattr(self.viewer, "window", None)
        register = getattr(window, "_register_task_status", None)
        update = getattr(window, "_update_task_status", None)
        if register is None or update is None:
            return lambda: None
        from napari.utils.task_status import Status

        # napari keeps every task it was told of, ended or not, with its cancel callback:
        # the callback lets go of ``cancel`` (a worker's, holding its generator and signals)
        # once the work ended, or one worker per run and round stayed alive all day.
        held = [cancel]

        def stop() -> bool:
            if held:
                held[0]()
            return True

        def done() -> None:
            held.clear()
            update(task, Status.COMPLETED, f"{description}: ended")

        task = register("unet-studio", Status.BUSY, description, cancel_callback=stop)
        return done

    # ---- clicks ----------------------------------------------------------------------------
    def set_click_handler(self, handler: ClickHandler | None) -> None:
        """Send left clicks on the canvas to ``handler(coord)`` (labels data coordinates,
        one float per axis; in the 3D rendering the first labelled voxel along the click's
        ray) instead of napari's tools; None gives clicks back to napari."""
        self._click_handler = handler
        layer = self.labels_layer()
        if handler is not None and layer is not None:
            layer.mode = "pan_zoom"  # a click must not also paint

    def _on_mouse_press(self, viewer, event):
        """A left click for the active tool: in the 3D rendering, the first labelled voxel
        along the click's ray (see ``napari_picking``), in 2D the point clicked.

        A napari drag callback (a generator: pressed, then moved, then released). Only a
        press released where it started is a click: a drag rotates (3D) or pans (2D) the
        view, and must not delete or merge whatever was under the cursor when it began.
        """
        if self._click_handler is None or event.type != "mouse_press" or event.button != 1:
            return
        layer = self.labels_layer()
        if layer is None:
            return
        coord = click_coordinate(layer, event)  # the ray of the press, before any rotation
        start = np.asarray(event.pos, dtype=float)
        moved = 0.0
        yield
        while event.type == "mouse_move":
            moved = max(moved, float(np.abs(np.asarray(event.pos) - start).max()))
            yield
        if moved > CLICK_TOLERANCE_PX or self._click_handler is None:
            return
        if coord is None:
            self.notify("the click missed the labels; click on an object", "warning")
            return
        self.in_click = True
        try:
            self.click(coord)
        finally:
            self.in_click = False

    def click(self, coord: tuple[float, ...]) -> None:
        """Deliver a click at ``coord`` (labels data coordinates) to the active tool."""
        if self._click_handler is not None:
            self._click_handler(coord)

    # ---- keys ------------------------------------------------------------------------------
    def set_key_handler(self, key: str, handler: KeyHandler | None) -> None:
        """Call ``handler(coord)`` when ``key`` (napari's names: "D", "Shift-S") is pressed
        over this viewer's canvas; ``coord`` is the labels data coordinate under the mouse
        pointer (in the 3D rendering the first labelled voxel along the view ray through
        it), None without labels or off them. None unbinds. Bound on this viewer alone; a
        key the active layer binds itself stays the layer's (napari asks it first)."""
        if handler is None:
            self.viewer.bind_key(key, None)
            return

        def pressed(viewer) -> None:
            handler(self.pointer_coordinate())

        self.viewer.bind_key(key, pressed, overwrite=True)

    def bind_history_keys(self, bound: bool) -> None:
        """Ctrl+Z and Ctrl+Shift+Z with the current image's layer active: undo and redo its
        labels (``undo``, ``redo``: provided by NapariHost), as the Correct panel's buttons
        do. napari binds them on Labels layers only, while our keys (D, R...) act on the
        labels with the image layer active too: there Ctrl+Z did nothing and said nothing.
        Bound on the viewer: an active Labels layer still takes them first (its own undo);
        with another layer active (points, shapes) they stay a no-op, as napari has them."""
        for key, action in HISTORY_KEYS.items():
            if not bound:
                self.viewer.bind_key(key, None)
                continue

            def pressed(viewer, action=action) -> None:
                image = self.image_layer()
                if image is not None and viewer.layers.selection.active is image:
                    getattr(self, action)()

            self.viewer.bind_key(key, pressed, overwrite=True)

    def activate_labels(self) -> None:
        """Make the labels being corrected the active layer (New label id chose napari's
        brush: with the image layer active, a stroke would pan instead of painting)."""
        labels = self.labels_layer()
        if labels is not None and self.viewer.layers.selection.active is not labels:
            self.viewer.layers.selection.active = labels

    def hold_pointer_at(self, coord) -> None:
        """Let keys act at labels coordinate ``coord`` until the mouse moves over the canvas.

        Called when an object is brought into view (Find objects to check): the camera moved
        under a pointer that did not, and napari's cursor keeps the world position of the
        last mouse move, so D would act on whatever lies there, somewhere off the object the
        user is looking at. A keyboard user presses N then D: D is for the object shown."""
        self._held_pointer = (tuple(float(c) for c in coord), tuple(self.viewer.cursor.position))

    def pointer_coordinate(self) -> tuple[float, ...] | None:
        """The labels data coordinate under the mouse pointer (see ``set_key_handler``), or
        the one ``hold_pointer_at`` holds while the mouse has not moved since."""
        layer = self.labels_layer()
        if layer is None:
            return None
        viewer = self.viewer
        if self._held_pointer is not None:
            coord, cursor = self._held_pointer
            if tuple(viewer.cursor.position) == cursor and len(coord) == layer.ndim:
                return coord
            self._held_pointer = None  # (the mouse moved: the pointer decides again)
        displayed = tuple(viewer.dims.displayed)
        view = viewer.scene.camera.calculate_nd_view_direction(viewer.dims.ndim, displayed)
        coord = pointer_coordinate(layer, viewer.cursor.position, view, displayed)
        if coord is None or not all(-0.5 <= c < n - 0.5 for c, n in zip(coord, layer.data.shape)):
            return None
        return coord

    def pointer_ray(self) -> np.ndarray | None:
        """In the 3D rendering, the labels voxels along the view ray under the mouse pointer,
        nearest the camera first ((N, ndim) indices); None in a 2D view or off the data."""
        layer = self.labels_layer()
        viewer = self.viewer
        displayed = tuple(viewer.dims.displayed)
        if layer is None or len(displayed) != 3 or layer.ndim < 3:
            return None
        view = viewer.scene.camera.calculate_nd_view_direction(viewer.dims.ndim, displayed)
        return ray_voxels(layer, viewer.cursor.position, view, displayed)

    def center_on(self, coord) -> None:
        """Bring labels data coordinate ``coord`` into view: each hidden axis's slider at
        its index, the camera centred on it (the zoom kept)."""
        layer = self.labels_layer()
        if layer is None:
            return
        viewer = self.viewer
        world = np.asarray(layer.data_to_world(np.asarray(coord, float)), float)
        offset = viewer.dims.ndim - len(world)  # (a layer's axes are the last world axes)
        for axis, value in enumerate(world):
            viewer.dims.set_point(offset + axis, float(value))
        point = viewer.dims.point
        viewer.scene.camera.center = tuple(point[d] for d in viewer.dims.displayed)

    # ---- picks of an unfinished merge or split ---------------------------------------------
    def show_tool_points(self, points: list[tuple[float, ...]]) -> None:
        """Mark ``points`` (labels data coordinates: the objects picked for a merge, the seeds
        of a split, not yet applied) on the canvas; none removes the marks."""
        layers = self.viewer.layers
        if not points:
            if PICKS_LAYER in layers:  # (emptied and hidden, not removed: see set_aside)
                set_aside(layers[PICKS_LAYER], np.empty((0, layers[PICKS_LAYER].ndim)))
            return
        data = np.asarray(points, dtype=float)
        if PICKS_LAYER in layers and layers[PICKS_LAYER].ndim == data.shape[1]:
            # (placed again: set aside over another image, maybe of another scale)
            replace_data(layers[PICKS_LAYER], data, **self.geometry(data.shape[1]))
            layers[PICKS_LAYER].visible = True
            return
        if PICKS_LAYER in layers:
            layers.remove(PICKS_LAYER)
        keep_active = layers.selection.active  # (keys and clicks stay with the labels)
        # A few screen pixels whatever the zoom: clamped on screen. (Not larger in data
        # units than needed: napari's reset view fits the points' size too.)
        labels = self.labels_layer()
        size = max(1.0, 0.02 * max(labels.data.shape[-2:])) if labels is not None else 4.0
        self.viewer.add_points(
            data, name=PICKS_LAYER, ndim=data.shape[1], size=size, canvas_size_limits=(9, 13),
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
        if REGIONS_LAYER in layers and layers[REGIONS_LAYER].ndim != ndim:
            # (set aside over an image of another rank: a shapes layer keeps its rank, and
            # 2D polygons drawn over a stack lack the plane they were drawn in)
            layers.remove(REGIONS_LAYER)
        if REGIONS_LAYER in layers:  # (set aside by the last mark, maybe over another image)
            layers[REGIONS_LAYER].visible = True
            for name, value in kwargs.items():
                setattr(layers[REGIONS_LAYER], name, value)
        else:
            self.viewer.add_shapes(
                name=REGIONS_LAYER, ndim=ndim, edge_color="lime", face_color=[0.2, 1, 0.4, 0.15],
                edge_width=2, **kwargs,
            )  # fmt: skip
        layers.selection.active = layers[REGIONS_LAYER]
        layers[REGIONS_LAYER].mode = "add_polygon"

    def drawn_regions(self) -> list[np.ndarray]:
        """Polygons drawn so far, each (N, ndim) in labels data coordinates."""
        layer = self.viewer.layers[REGIONS_LAYER] if REGIONS_LAYER in self.viewer.layers else None
        if not isinstance(layer, Shapes):
            return []
        return [np.asarray(vertices, dtype=float) for vertices in layer.data]

    def add_drawn_region(self, vertices: np.ndarray) -> None:
        """Add a polygon as if drawn by hand (scripts and tests)."""
        self.start_region_drawing()
        self.viewer.layers[REGIONS_LAYER].add_polygons([np.asarray(vertices, dtype=float)])

    def clear_drawn_regions(self) -> None:
        """Empty and hide the drawn regions' layer (``set_aside``); the labels become the
        active layer again (napari left nothing selected, and its layer controls empty)."""
        if REGIONS_LAYER in self.viewer.layers:
            regions = self.viewer.layers[REGIONS_LAYER]
            regions.mode = "pan_zoom"
            set_aside(regions, [])
            labels = self.labels_layer()
            if labels is not None and self.viewer.layers.selection.active in (None, regions):
                self.viewer.layers.selection.active = labels

