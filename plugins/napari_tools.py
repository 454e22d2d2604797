"""Canvas interaction for the panels: clicks for object tools, keys at the mouse pointer,
the view brought to an object, and progress bars in napari's activity dock. Base class of
:class:`NapariHost`; the layers the tools draw on (picks, drawn review regions) are the
``ToolLayers`` mixin of ``napari_tool_layers``."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable

import numpy as np

from unet_studio.plugins.borrowed_keys import BorrowedKeys
from unet_studio.plugins.napari_picking import click_coordinate, pointer_coordinate, ray_voxels
from unet_studio.plugins.napari_progress import ProgressBar, SilentProgress, software_opengl
from unet_studio.plugins.napari_tool_layers import ToolLayers

log = logging.getLogger(__name__)

ClickHandler = Callable[[tuple[float, ...]], None]
KeyHandler = Callable[[tuple[float, ...] | None], None]
CLICK_TOLERANCE_PX = 4  # a press released further away (screen pixels) is a drag
# napari's undo and redo keys, bound on Labels layers only (see ``bind_history_keys``).
HISTORY_KEYS = {"Control-Z": "undo", "Control-Shift-Z": "redo"}


class CanvasTools(ToolLayers):
    """Clicks, keys, drawn regions (``ToolLayers``) and progress on a napari viewer
    (subclassed by NapariHost)."""

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
        self._keys = BorrowedKeys()  # (the user's own bindings of our keys, given back)

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
            self._keys.release(self.viewer, key)
            return

        def pressed(viewer) -> None:
            handler(self.pointer_coordinate())

        self._keys.bind(self.viewer, key, pressed)

    def bind_history_keys(self, bound: bool) -> None:
        """Ctrl+Z and Ctrl+Shift+Z with the current image's layer active: undo and redo its
        labels (``undo``, ``redo``: provided by NapariHost), as the Correct panel's buttons
        do. napari binds them on Labels layers only, while our keys (D, R...) act on the
        labels with the image layer active too: there Ctrl+Z did nothing and said nothing.
        Bound on the viewer: an active Labels layer still takes them first (its own undo);
        with another layer active (points, shapes) they stay a no-op, as napari has them."""
        for key, action in HISTORY_KEYS.items():
            if not bound:
                self._keys.release(self.viewer, key)
                continue

            def pressed(viewer, action=action) -> None:
                image = self.image_layer()
                if image is not None and viewer.layers.selection.active is image:
                    getattr(self, action)()

            self._keys.bind(self.viewer, key, pressed)

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
