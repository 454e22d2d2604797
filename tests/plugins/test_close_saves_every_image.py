"""Closing the window while no project can be autosaved (a read-only user folder): the
question covers the labels of every image the user worked on, not only the current one's,
and Save puts each of them, with its reviewed marks, into the project made in the folder
chosen. Real viewer, real window close; the question and the folder chooser are answered
by replacing ``close_guard.ask_user`` and ``QFileDialog.getExistingDirectory``."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.qt import close_guard

pytestmark = pytest.mark.qt

BOXES = {"nuclei": (slice(2, 4), slice(0, 6), slice(0, 6)),
         "second": (slice(5, 7), slice(40, 50), slice(40, 50))}  # fmt: skip
AGAIN = (slice(8, 10), slice(80, 90), slice(80, 90))  # (the first image, edited once more)


def _closed(window) -> bool:
    try:
        return not window.isVisible()
    except RuntimeError:  # (its C++ half is gone)
        return True


@pytest.fixture
def two_images(studio, nuclei_crop, tmp_path, monkeypatch, qtbot):
    """Two images, each with its own labels edited (and so marked reviewed), while no
    autosave project can be started: the user folder lies under a file. The window shown;
    closing it does not quit the test's application. Yields ``{image name: labels}``."""
    from qtpy.QtWidgets import QApplication

    from unet_studio.app.label_edit import edit_from_region

    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    monkeypatch.setenv("UNET_STUDIO_HOME", str(blocker / "home"))
    image, labels = nuclei_crop
    edited = {}
    for name, data in (("nuclei", image), ("second", image[:, ::-1].copy())):
        studio.viewer.add_image(data, name=name, metadata={"axes": "ZYX"})
        studio.session.select_image(name)
        studio.session.show_labels(labels.copy() if name == "nuclei" else labels[:, ::-1].copy())
        studio.session.apply_edit(edit_from_region(studio.host.current_labels(), BOXES[name], 77))
        edited[name] = studio.host.current_labels().copy()
    assert studio.session.project is None

    QApplication.instance().setQuitOnLastWindowClosed(False)
    napari_window = studio.viewer.window
    napari_window._qt_window.show()
    qtbot.waitExposed(napari_window._qt_window)
    yield edited
    QApplication.instance().setQuitOnLastWindowClosed(True)
    qtbot.wait(50)  # (deleteLater of the closed window)
    if hasattr(napari_window, "_qt_window") and _closed(napari_window._qt_window):
        napari_window._teardown()  # (as napari's Window.close does after its window closed)
        del napari_window._qt_window


def test_closing_saves_every_images_labels_and_marks(studio, two_images, monkeypatch,
                                                     tmp_path, qtbot):
    """Back on the first image, its marks come back and it is edited once more; closing
    asks once, naming both images; Save with a folder makes a project there holding each
    image's edited labels and reviewed marks (the first one's, from both visits)."""
    from qtpy.QtWidgets import QFileDialog

    from unet_studio.app.label_edit import edit_from_region
    from unet_studio.app.project import Project

    studio.session.select_image("nuclei")
    assert studio.session.reviewed.mask[BOXES["nuclei"]].all()  # (shown again)
    studio.session.apply_edit(edit_from_region(studio.host.current_labels(), AGAIN, 78))
    two_images["nuclei"] = studio.host.current_labels().copy()

    asked = []
    monkeypatch.setattr(close_guard, "ask_user",
                        lambda parent, text, save_text="Save": asked.append(text) or close_guard.SAVE)
    folder = tmp_path / "kept"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(folder))
    window = studio.viewer.window._qt_window
    window.close()
    qtbot.waitUntil(lambda: _closed(window), timeout=10_000)

    assert len(asked) == 1
    assert "\u201cnuclei\u201d" in asked[0] and "\u201csecond\u201d" in asked[0]
    assert "2 images" in asked[0] and "all 2 images" in asked[0]
    assert studio.session.project is None  # (closed with the window: saved, let go)
    reopened = Project.open(folder)
    try:
        assert sorted(ref.name for ref in reopened.images) == ["nuclei", "second"]
        for ref in reopened.images:
            np.testing.assert_array_equal(reopened.labels(ref.id), two_images[ref.name])
            marks = reopened.reviewed(ref.id, two_images[ref.name].shape)
            assert marks is not None and marks.mask[BOXES[ref.name]].all(), ref.name
            assert marks.mask[AGAIN].all() == (ref.name == "nuclei"), ref.name
            others = BOXES["second" if ref.name == "nuclei" else "nuclei"]
            assert not marks.mask[others].any(), ref.name  # (each image its own marks)
    finally:
        reopened.close()
