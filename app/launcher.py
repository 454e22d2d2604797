"""The standalone app: a napari window with the unet-studio panels docked.

napari is imported inside :func:`open_studio` only (the import rule: ``app`` loads no napari
at import time). Before anything graphical starts, :func:`display_problem` checks that a
window can be shown at all, so that a headless machine gets one clear line instead of Qt
aborting the process.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from unet_studio.app.model_library import user_home

log = logging.getLogger(__name__)

PLUGIN_NAME = "unet-studio"
PANEL_NAMES = ("Segment", "Correct", "Train", "Models")
FIRST_RUN_SAMPLE = "nuclei3d"
FIRST_RUN_FLAG = "first_run_done"
NO_DISPLAY_MESSAGE = (
    "unet-studio: no display available ({reason}); the GUI needs one. "
    "Use the command line instead: `unet-studio predict` or `unet-studio info` "
    "(see `unet-studio --help`)."
)

# Creating a QApplication in a child process tells whether Qt can start here; done in a
# child because Qt aborts the whole process (no exception) when its platform plugin fails.
_QT_PROBE = "from qtpy.QtWidgets import QApplication; QApplication([])"


def display_problem() -> str | None:
    """Why no window can be shown here, or None when one can."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith("offscreen"):
        return None
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or platform
    ):
        return "neither DISPLAY nor WAYLAND_DISPLAY is set"
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _QT_PROBE], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"Qt could not be started ({error})"
    if probe.returncode != 0:
        lines = [line.strip() for line in probe.stderr.splitlines() if line.strip()]
        detail = lines[0][:120] if lines else f"exit code {probe.returncode}"
        return f"Qt could not start a window: {detail}"
    return None


def is_first_run() -> bool:
    return not (user_home() / FIRST_RUN_FLAG).exists()


def mark_first_run_done() -> None:
    """Note that the sample was shown. A home that cannot be written (read-only, a file in
    the way) must not stop the app: the work then stays in memory, and the session says so
    when an autosave project cannot be made."""
    folder = user_home()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / FIRST_RUN_FLAG).write_text("the sample stack was shown on the first launch\n")
    except OSError as error:
        log.warning("cannot note the first run in %s: %s", folder, error.strerror or error)


# The files File > Open and drag and drop give our reader in the app (napari's reader dialog
# chose "napari builtins" by default: layers in pixels, no time step, one pyramid level).
# Folders as napari matches them, with a trailing separator: OME-Zarr stores only.
PREFERRED_READER_PATTERNS = ("*.tif", "*.tiff", "*.zarr/")


def prefer_our_reader() -> list[str]:
    """Make unet-studio napari's reader for TIFF and OME-Zarr where the user has chosen
    none (a choice made in napari's dialog or preferences stays); returns the patterns set.
    napari keeps this preference in its settings file, as the dialog's "Remember" would."""
    from napari.settings import get_settings

    chosen = dict(get_settings().plugins.extension2reader)
    added = [pattern for pattern in PREFERRED_READER_PATTERNS if pattern not in chosen]
    if added:
        get_settings().plugins.extension2reader = {**chosen, **dict.fromkeys(added, PLUGIN_NAME)}
    return added


# Below this available screen size, in logical pixels, the app's window starts maximised:
# napari's first window is its layout's size hint (910x537 on a 1366x768 laptop), which left
# the docks ~269 px wide (the Segment panel scrolled sideways, buttons read "Cur", "Stop,
# k"). The window needs napari's layer controls (~300 px), a usable canvas (~500 px) and the
# panels at their readable width (~420 px), and the Train panel's verdict, plot and table
# ~800 px of height: on screens under 1600x1000 (1366x768 and 1280x720 laptops, 1920x1080
# at 150% scaling) that is most of the screen anyway. On larger screens a maximised window
# would be a surprise: the user sizes it, and napari remembers it.
SMALL_SCREEN = (1600, 1000)
# The window's share of such a screen when it is not maximised: its size restored by
# un-maximising, and where no window manager maximises it (a bare X server, a VNC desktop).
NORMAL_SHARE = 0.9


def available_screen_size(window) -> tuple[int, int]:
    """The (width, height) the screen showing ``window`` leaves to windows (less the task
    bar), in logical pixels."""
    from qtpy.QtGui import QGuiApplication

    screen = window.screen() or QGuiApplication.primaryScreen()
    geometry = screen.availableGeometry()
    return geometry.width(), geometry.height()


def napari_restores_window_size() -> bool:
    """Will napari's window take a size napari remembered (its settings' window size, saved
    at every close while "save window geometry" is on, maximised or not)? Asked before the
    window is shown: showing it the first time marks the first time done."""
    from napari.settings import get_settings

    application = get_settings().application
    return (not application.first_time and application.save_window_geometry
            and application.window_size is not None)


def maximise_on_small_screen(window) -> bool:
    """Show ``window`` maximised where the screen is smaller than ``SMALL_SCREEN``; returns
    whether it did."""
    width, height = available_screen_size(window)
    if width >= SMALL_SCREEN[0] and height >= SMALL_SCREEN[1]:
        return False
    window.resize(int(width * NORMAL_SHARE), int(height * NORMAL_SHARE))
    window.showMaximized()
    return True


def open_studio(files: Sequence[str | Path] = (), *, show: bool = True,
                load_sample: bool | None = None, project: str | Path | None = None,
                series: int | None = None):
    """Open a napari viewer with the panels docked; returns the viewer.

    ``files`` are opened with the unet-studio reader. ``load_sample``: None loads the sample
    stack only on the first run (and only when no files are given). ``project``: a project
    folder to open once the images are there (restores their corrections). ``series`` (from
    0): the image of a multi-series file to open (None: the first), as ``predict --series``.
    """
    import napari

    from unet_studio.app.opening_series import opening_series

    # (a size the user left, maximised or not, is napari's to restore: never overridden)
    fit_small_screen = show and not napari_restores_window_size()
    viewer = napari.Viewer(title="unet-studio", show=show)  # (it finds napari's readers)
    prefer_our_reader()
    try:
        readers = [reader_for(path) for path in files]
    except Exception:
        viewer.close()  # (a file no reader takes: no window left behind)
        raise
    docks = [
        # Tabbed: four tall panels side by side would squeeze the canvas.
        viewer.window.add_plugin_dock_widget(PLUGIN_NAME, name, tabify=name != PANEL_NAMES[0])[0]
        for name in PANEL_NAMES
    ]
    for dock, name in zip(docks, PANEL_NAMES):
        # Tabs named "Segment", not napari's "Segment (unet-studio)": four of those side by
        # side were cut to "Segment (unet-..." on a laptop screen. (Only the title: the
        # window's dock_widgets still know them by their full names.)
        dock.setWindowTitle(name)
    window = getattr(viewer.window, "_qt_window", None)  # (a napari whose internals moved: none)
    if fit_small_screen and window is not None:  # (the launcher's only: not plain napari's)
        maximise_on_small_screen(window)
    from qtpy.QtCore import QTimer

    # The tab to start with, once the window is laid out (dropped if the window closed first).
    QTimer.singleShot(0, docks[0], docks[0].raise_)
    # Through a docked panel: app code never imports the napari plugin layer.
    session = viewer.window.dock_widgets[f"{PANEL_NAMES[0]} ({PLUGIN_NAME})"].session
    from unet_studio.app.qt.gui_thread_gc import freeze_startup_objects

    freeze_startup_objects()  # (before any image: a closed image must be collectable)
    if project is not None:  # (its files are that project's: no other project offered)
        session.saved_work.hold()
    with opening_series(series):  # (napari hands its reader the path alone)
        for path, reader in zip(files, readers):
            viewer.open(str(path), plugin=reader, stack=False)
    first_run = is_first_run()
    if load_sample is None:
        load_sample = first_run and not files
    if load_sample:
        viewer.open_sample(PLUGIN_NAME, FIRST_RUN_SAMPLE)
    if first_run:
        mark_first_run_done()
    from unet_studio.app.qt.view_fit import fit_while_untouched

    fit_while_untouched(viewer)  # (the window is laid out, maximised, after this)
    if project is not None:
        session.open_project(project)
    return viewer


def reader_for(path: str | Path) -> str:
    """The napari reader to open ``path`` with: ours (TIFF, OME-Zarr, folders of TIFFs,
    with axes and scale), else napari's own for what only it takes (a PNG or JPEG: our
    reader leaves them to it, so that plain napari asks no "which reader?" question for
    them). A file no reader takes is an InputFileError naming it, not napari's traceback."""
    from npe2 import PluginManager

    from unet_studio.app.errors import InputFileError

    readers = {reader.plugin_name
               for reader in PluginManager.instance().iter_compatible_readers([str(path)])}
    for name in (PLUGIN_NAME, "napari"):
        if name in readers:
            return name
    raise InputFileError(str(path), "not an image this app opens (TIFF, OME-TIFF, OME-Zarr, "
                                    "a folder of TIFFs, PNG or JPEG)")


def main(files: Sequence[str | Path] = (), *, load_sample: bool | None = None,
         project: str | Path | None = None, series: int | None = None) -> int:
    """Start the GUI and block until its window closes. Exit code 2 when no display.
    ``series`` (from 0): the image of multi-series files to open (``open_studio``)."""
    problem = display_problem()
    if problem is not None:
        print(NO_DISPLAY_MESSAGE.format(reason=problem), file=sys.stderr)
        return 2
    missing = [str(f) for f in files if not Path(f).exists()]
    if missing:
        from unet_studio.app.errors import InputFileError

        raise InputFileError(missing[0], "no such file or folder")
    import napari

    open_studio(files, load_sample=load_sample, project=project, series=series)
    napari.run()  # (work still running when it ends is waited for: workers.finish_engine_work)
    return 0
