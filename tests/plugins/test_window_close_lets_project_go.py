"""A closed window lets its project go (its last edits saved, its lock released) although
the viewer object lives on (napari in a notebook, a second viewer in one Python): opened
again in a new viewer, the project is writable and holds the edits. A refused close keeps
the project open."""

from __future__ import annotations

import gc

import numpy as np
import pytest

pytestmark = pytest.mark.qt

BOX = (slice(2, 4), slice(0, 6), slice(0, 6))


def _edited(studio) -> np.ndarray:
    from unet_studio.app.label_edit import edit_from_region

    studio.session.apply_edit(edit_from_region(studio.host.current_labels(), BOX, 77))
    return studio.host.current_labels().copy()


@pytest.fixture
def quit_not_on_close():
    """Closing the last shown window must not quit the test's application."""
    from qtpy.QtWidgets import QApplication

    QApplication.instance().setQuitOnLastWindowClosed(False)
    yield
    QApplication.instance().setQuitOnLastWindowClosed(True)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["viewer.close()", "shown window closed"])
def test_a_closed_windows_project_opens_writable_in_a_new_viewer(corrected, make_napari_viewer,
                                                                 how, quit_not_on_close, qtbot):
    from unet_studio.plugins.widgets import session_for

    edited = _edited(corrected)
    path = corrected.session.project.path
    if how == "viewer.close()":  # (a script's or notebook's close; its window never shown)
        corrected.viewer.close()
        qtbot.wait(50)  # (napari's window deletes itself a turn later)
    else:  # (the title bar's button, File > Close Window): let go at once
        napari_window = corrected.viewer.window
        napari_window._qt_window.show()
        qtbot.waitExposed(napari_window._qt_window)
        napari_window._qt_window.close()
        assert not (path / "open.lock").exists()
        qtbot.wait(50)
        napari_window._teardown()  # (as napari's Window.close does after its window closed,
        del napari_window._qt_window  # so that the viewer fixture finds nothing left to close)
    gc.collect()  # (the viewer lives on: the test holds it)
    assert not (path / "open.lock").exists()
    from unet_studio.app.qt.shared_watch import shared_watcher

    watch = corrected.session.library_watch  # (nor do its folders stay watched for it)
    assert id(watch) not in shared_watcher()._clients
    again = session_for(make_napari_viewer())
    project = again.open_project(path)
    try:
        assert project.read_only is None
        np.testing.assert_array_equal(project.labels(project.images[0].id), edited)
    finally:
        again.close_project()


def test_a_refused_close_keeps_the_project(corrected, monkeypatch, quit_not_on_close, qtbot):
    """napari's own "close anyway?" answered No: the window and its project stay; a later
    hide of the window (not a close) leaves the project open too."""
    from napari._qt.dialogs.confirm_close_dialog import ConfirmCloseDialog
    from napari.settings import get_settings
    from qtpy.QtGui import QCloseEvent
    from qtpy.QtWidgets import QApplication

    class UserClose(QCloseEvent):  # the title bar's button, not a programmatic close
        def spontaneous(self) -> bool:
            return True

    monkeypatch.setattr(get_settings().application, "confirm_close_window", True)
    monkeypatch.setattr(ConfirmCloseDialog, "exec_", lambda dialog: 0)  # (No)
    window = corrected.viewer.window._qt_window
    window.show()
    qtbot.waitExposed(window)
    project = corrected.session.project
    QApplication.sendEvent(window, UserClose())
    assert window.isVisible() and corrected.session.project is project
    qtbot.wait(10)
    window.hide()
    assert corrected.session.project is project and (project.path / "open.lock").exists()
