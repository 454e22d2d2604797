"""Dock widgets of the napari plugin: the app's panels around a :class:`NapariHost`.

napari builds a dock widget by calling the contributed class with the viewer (it passes
the viewer to a parameter named ``napari_viewer``). All panels of one viewer share one
:class:`StudioSession`, kept per viewer and dropped with it.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref

from qtpy.QtWidgets import QWidget

from unet_studio.app.qt.close_guard import CloseGuard
from unet_studio.app.qt.correct_panel import CorrectPanel
from unet_studio.app.qt.models_panel import ModelsPanel
from unet_studio.app.qt.project_watch import ProjectWatch
from unet_studio.app.qt.quit_guard import install_quit_guard
from unet_studio.app.qt.segment_panel import SegmentPanel
from unet_studio.app.qt.session import StudioSession
from unet_studio.app.qt.train_panel import TrainPanel
from unet_studio.plugins.napari_host import NapariHost
from unet_studio.plugins.notification_focus import keep_focus_through_notifications
from unet_studio.plugins.window_closed import WindowClosed

log = logging.getLogger(__name__)

_sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# At exit, the longest wait for a warm-up import under way (torch's takes ~2 s, more on a
# cold disk); past it the exit goes on regardless.
WARM_UP_EXIT_WAIT_S = 30.0
_warm_up: tuple[threading.Thread, threading.Event] | None = None  # (thread, stop), once started


def session_for(viewer) -> StudioSession:
    """The session of ``viewer`` (created with its host on first use)."""
    # napari hands plugins a proxy (PublicOnlyProxy), made afresh for each widget: the
    # session is keyed by, and the host holds a weak reference to, the real viewer.
    viewer = getattr(viewer, "__wrapped__", viewer)
    session = _sessions.get(viewer)
    if session is None:
        session = StudioSession(NapariHost(viewer))
        _sessions[viewer] = session
        _close_project_on_exit(viewer, session)
        _guard_close(viewer, session)
        keep_focus_through_notifications()
        _warm_up_imports()
    return session


def _warm_up_imports() -> None:
    """Import in the background, while the user looks at the new window, what would
    otherwise be imported in the middle of work: pandas (napari's Labels layers need it, on
    the GUI thread: ~1 s of frozen window), skimage.color with scipy.linalg (the first
    Labels layer's colormap imports them on the GUI thread: ~70 ms), vispy's line dash
    patterns (``_warm_up_line_dashes``), and torch (the first prediction's worker would
    import it, and an import holds the interpreter lock, stalling the GUI thread).

    Once per process. A daemon thread, so that it never holds the window or the exit up;
    but the interpreter tearing modules down under a half-done ``import torch`` printed
    "Exception in thread unet-studio warm-up" and tracebacks at exit. So at exit
    (``_end_warm_up``) no further step starts, and the step under way (at most an import of
    a few seconds, only when quitting right after opening) finishes first."""
    global _warm_up
    if _warm_up is not None:
        return
    stop = threading.Event()
    thread = threading.Thread(target=_run_warm_up, args=(stop,), name="unet-studio warm-up",
                              daemon=True)
    _warm_up = (thread, stop)
    # At exit through weakref.finalize's exit hook rather than atexit: the finalizers that
    # the import under way creates (torch's) then run in that same hook, after this one,
    # while the modules are whole. (Created after atexit's run, they ran during module
    # teardown: "Exception ignored in: <finalize object ...>" and a traceback, each.)
    weakref.finalize(thread, _end_warm_up, thread, stop)
    thread.start()


def _warm_up_steps() -> list:
    def analysis() -> None:
        import pandas  # noqa: F401
        import skimage.segmentation  # noqa: F401  (the engine's watershed)
        from skimage.color import lab2rgb  # noqa: F401  (skimage.color loads lazily)

    def torch_import() -> None:
        import torch  # noqa: F401

    def optimiser() -> None:
        import torch

        # The optimiser's first step imports torch's compiler stack (seconds of imports).
        torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
        import torch._dynamo  # noqa: F401

    return [analysis, _warm_up_line_dashes, torch_import, optimiser]


def _run_warm_up(stop: threading.Event) -> None:
    try:
        for step in _warm_up_steps():
            if _exiting(stop):
                return
            step()
    except Exception:  # (an optional head start: what failed is imported where it is used)
        if not _exiting(stop):  # (exit hooks, torch's among them, tear down what it imports)
            log.debug("warm-up imports stopped", exc_info=True)


def _exiting(stop: threading.Event) -> bool:
    # The main thread counts as ended from the start of the interpreter's exit, before any
    # exit hook runs (``stop`` is set by ours, which may run after others).
    return stop.is_set() or not threading.main_thread().is_alive()


def _end_warm_up(thread: threading.Thread, stop: threading.Event,
                 timeout_s: float = WARM_UP_EXIT_WAIT_S) -> None:
    """At exit, before modules are torn down: no further warm-up step, and the one under
    way finished."""
    stop.set()
    thread.join(timeout_s)


def _warm_up_line_dashes() -> None:
    """vispy computes its line dash patterns in Python the first time a line visual is made
    (~60 ms, cached per process): the first labels layer's polygon overlay would pay it on
    the GUI thread, at the click on Run. Pure numpy, so it can be done here."""
    try:
        from vispy.visuals.line.dash_atlas import DashAtlas
    except ImportError:  # another vispy layout: the first layer just pays it
        return
    DashAtlas()


def _close_project_on_exit(viewer, session: StudioSession) -> None:
    """Close the project (its last edits saved, its lock let go) when the viewer's window
    closes (``WindowClosed``: a refused close keeps it open), else when the viewer goes
    away, or at the latest when Python exits. Without telling the panels: no Qt signal
    fires into widgets going away, nor into Qt's own teardown (a plain finalizer)."""
    weakref.finalize(viewer, functools.partial(session.close_project, tell=False))
    window = getattr(getattr(viewer, "window", None), "_qt_window", None)
    if window is not None:  # (another napari: at the viewer's end only, as before)
        sessions = weakref.ref(session)  # (the window must not keep the session alive)

        def window_closed() -> None:
            if sessions() is not None:
                sessions().close_project(tell=False)
                sessions().library_watch.stop()  # (no more refills for a closed window)

        WindowClosed(window, window_closed)


def _guard_close(viewer, session: StudioSession) -> None:
    """Closing the viewer's window over work held only in memory (a fine-tuned round not
    saved, a round still training, corrections whose autosave fails) asks first: Save /
    Discard / Cancel (``CloseGuard``). The project's failing saves are told as they happen
    (``ProjectWatch``, which lives as long as the window).

    The window is napari's QMainWindow: its close button and File > Close Window send it a
    close event, which the guard sees first. Exit (quitting) is asked about once for every
    window (``QuitGuard``, see ``_is_napari_quit``). A script's ``viewer.close()`` is not
    asked about: it clears the layers and closes the canvas (QtViewer) before the window,
    past the point where Cancel could keep anything. Weak references only: the guard lives
    as long as the window, and must not keep the viewer or its session alive."""
    window = getattr(getattr(viewer, "window", None), "_qt_window", None)
    qt_viewer = getattr(getattr(viewer, "window", None), "_qt_viewer", None)
    if window is None or qt_viewer is None:  # (another napari: no guard, as before)
        return
    sessions, windows, canvases = weakref.ref(session), weakref.ref(window), weakref.ref(qt_viewer)
    watch = ProjectWatch(session, parent=window)
    watches = weakref.ref(watch)

    def keepers() -> list:
        kept = list(_panels.get(sessions(), {}).values()) if sessions() is not None else []
        window = windows()
        docked = window.findChildren(QWidget) if window is not None else []  # (by hand, too)
        panels = [w for w in (*kept, *docked) if hasattr(w, "unsaved_work") and _alive(w)]
        return [*panels, watches()] if watches() is not None else panels

    def can_refuse() -> bool:
        canvas = canvases()
        return canvas is not None and _alive(canvas) and not canvas.isHidden()

    CloseGuard(window, keepers, can_refuse)
    if hasattr(window, "_quit_app"):  # (another napari: each window asks for itself only)
        install_quit_guard(_is_napari_quit, _cancel_napari_quit, _napari_quit)


# napari's Exit (File > Exit, Ctrl+Q; Restart too) calls its window's ``close(quit_app=True)``,
# which sets ``_quit_app`` and closes that window; its closeEvent then closes every viewer from
# code (``quit_app``), where their guards can no longer refuse. Hence one question up front.
def _is_napari_quit(window) -> bool:
    return getattr(window, "_quit_app", False) is True


def _cancel_napari_quit(window) -> None:
    # (left set, the window's next plain close - its title bar's button - would quit)
    window._quit_app = False


def _napari_quit(window) -> None:
    window.close(quit_app=True)  # (napari's own "quit?" box was answered: not again)


_panels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # session -> {class: panel}


def _alive(widget) -> bool:
    """False once Qt has deleted the widget's C++ half (PySide and PyQt both raise then)."""
    try:
        widget.objectName()
    except RuntimeError:
        return False
    return True


class _OnePanelPerSession:
    """napari's X on a dock removes it and lets go of its panel, and opening the panel again
    from the Plugins menu builds a new one. But a panel is wired to its viewer's session
    (session signals, host listeners), so the old one lived on and a second one doubled
    every reaction: one Accept in Train started a prediction in each Segment panel ever
    opened. So each session keeps one panel of each kind and napari docks that one again,
    as the user left it (a run going on, a round's verdict, the chosen options)."""

    def __new__(cls, napari_viewer):
        panel = _panels.get(session_for(napari_viewer), {}).get(cls)
        if panel is not None and _alive(panel):
            return panel
        return super().__new__(cls)

    def __init__(self, napari_viewer):
        session = session_for(napari_viewer)
        kept = _panels.setdefault(session, {})
        if kept.get(type(self)) is self:  # docked again: already built
            return
        super().__init__(session)
        kept[type(self)] = self


class SegmentWidget(_OnePanelPerSession, SegmentPanel):
    """Segment: run a model over the current image."""


class CorrectWidget(_OnePanelPerSession, CorrectPanel):
    """Correct: object tools, reviewed regions, project."""


class ModelsWidget(_OnePanelPerSession, ModelsPanel):
    """Models: the model library and the network builder."""


class TrainWidget(_OnePanelPerSession, TrainPanel):
    """Train: fine-tune the current model on the reviewed corrections."""
