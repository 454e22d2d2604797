"""Fitting napari's view to the canvas while the window settles at startup.

napari fits the view to the first layer when it is added, at whatever size the canvas had
then; the window is laid out, maximised or resized by the window manager afterwards, and
the sample stayed small in the middle of a large canvas. ``FitWhileUntouched`` refits it
each time the canvas changes size, until the user moves, zooms or turns the view: from
then on the view is theirs and is never reset behind their back.
"""

from __future__ import annotations

from qtpy.QtCore import QEvent, QObject, QTimer


class FitWhileUntouched(QObject):
    """Watches ``canvas`` (the QWidget napari draws into) and calls ``viewer.reset_view()``
    after each of its resizes while the camera is where the last fit left it. A child of
    ``canvas``: it goes with it."""

    def __init__(self, viewer, canvas):
        super().__init__(canvas)
        self._viewer = viewer
        self._canvas = canvas
        self._fitted = self._camera()  # (napari's own fit when the layer was added)
        canvas.installEventFilter(self)

    def _camera(self) -> tuple:
        camera = self._viewer.scene.camera
        return (float(camera.zoom), tuple(camera.center), tuple(camera.angles))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802  (Qt's name)
        if watched is self._canvas and event.type() == QEvent.Type.Resize:
            # After the resize is handled: napari sizes its scene in its own handler.
            QTimer.singleShot(0, self, self._fit)
        return False

    def _fit(self) -> None:
        if self._camera() != self._fitted:  # the user has moved the view: theirs now
            self._canvas.removeEventFilter(self)
            return
        if len(self._viewer.layers):
            self._viewer.reset_view()
        self._fitted = self._camera()


def fit_while_untouched(viewer) -> FitWhileUntouched | None:
    """Start refitting ``viewer``'s view on resizes (None where its canvas widget cannot
    be found: a napari whose internals moved keeps its own behaviour)."""
    qt_viewer = getattr(getattr(viewer, "window", None), "_qt_viewer", None)
    canvas = getattr(getattr(qt_viewer, "canvas", None), "native", None)
    return None if canvas is None else FitWhileUntouched(viewer, canvas)
