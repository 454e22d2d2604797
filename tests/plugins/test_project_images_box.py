"""The Correct panel's project images, in a real viewer: removing an image from the project
(asked first; its layers stay open but its edits no longer add it back, training and the
next opening leave it out) and locating an image whose file moved (a file of another shape
refused, naming both; the right one opens with its corrections)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.corrections import delete_object_edit

pytestmark = pytest.mark.qt


def _image_file(path, shape=(32, 32)):
    pixels = np.random.default_rng(0).integers(0, 1000, shape, dtype=np.uint16)
    tifffile.imwrite(path, pixels, imagej=True, metadata={"axes": "YX"})
    return path


def _panel(studio, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    return panel


def _correct(session, name: str) -> np.ndarray:
    """Labels with two objects for the image ``name``, its top half marked reviewed."""
    session.select_image(name)
    labels = np.zeros((32, 32), np.int32)
    labels[2:8, 2:8], labels[20:28, 20:28] = 1, 2
    session.show_labels(labels, protect=False)
    session.ensure_reviewed().mark_region((slice(0, 16), slice(None)))
    session.reviewed_changed_by_user()
    return session.host.current_labels().copy()


@pytest.mark.slow
def test_remove_an_image_from_the_project(studio, qtbot, tmp_path, click_and_answer):
    from unet_studio.app.qt.train_logic import collect_examples

    viewer, session = studio.viewer, studio.session
    for name in ("keep", "bad"):
        viewer.open(str(_image_file(tmp_path / f"{name}.tif")), plugin="unet-studio")
    session.open_project(tmp_path / "project", create=True)
    _correct(session, "keep")
    _correct(session, "bad")
    panel = _panel(studio, qtbot)
    panel.project_images.button.click()
    dialog = panel.project_images.dialog
    assert [dialog.table.item(row, 0).text() for row in range(2)] == ["keep", "bad"]
    assert dialog.table.item(1, 1).text() == "50.0%"  # (its reviewed share)
    dialog.table.selectRow(1)

    asked = click_and_answer(dialog.remove_button, "Yes")

    assert "bad" in asked and "removed-images" in asked and "reviewed marks" in asked
    project = session.project
    assert [ref.name for ref in project.images] == ["keep"]
    assert dialog.table.rowCount() == 1
    [kept] = (tmp_path / "project" / "removed-images").iterdir()
    assert (kept / "labels").is_dir() and (kept / "reviewed.npz").exists()
    assert project.flush(10) and project.history()[-1]["action"] == "remove image"
    assert "bad" in viewer.layers and "bad labels" in viewer.layers  # (its layers stay)
    # Its next edit does not add it back, and training learns from the other image only.
    session.apply_edit(delete_object_edit(session.host.current_labels(), 2))
    viewer.layers["bad"].name = "renamed"  # (nor once renamed)
    session.apply_edit(delete_object_edit(session.host.current_labels(), 1))
    assert [ref.name for ref in project.images] == ["keep"]
    session.select_image("keep")
    examples, _ = collect_examples(session, "project")
    assert [example.name for example in examples] == ["keep"]

    session.close_project()
    viewer.layers.clear()
    session.open_project(tmp_path / "project")
    assert [layer.name for layer in viewer.layers if layer.name in ("keep", "bad")] == ["keep"]


@pytest.mark.slow
def test_locate_an_image_whose_file_moved(studio, qtbot, told, tmp_path, monkeypatch):
    from unet_studio.app.qt import project_images_box

    viewer, session = studio.viewer, studio.session
    viewer.open(str(_image_file(tmp_path / "cells.tif")), plugin="unet-studio")
    session.open_project(tmp_path / "project", create=True)
    expected = _correct(session, "cells")
    session.close_project()
    viewer.layers.clear()
    moved = tmp_path / "moved" / "cells-renamed.tif"
    moved.parent.mkdir()
    (tmp_path / "cells.tif").rename(moved)
    wrong = _image_file(tmp_path / "other.tif", shape=(24, 40))
    panel = _panel(studio, qtbot)

    session.open_project(tmp_path / "project")
    assert [m for level, m in told if level == "warning" and "cells" in m and "Locate" in m]
    assert not panel.project_images.missing.isHidden()
    [locate] = panel.project_images.locate_buttons
    answers = iter([str(wrong), str(moved)])
    monkeypatch.setattr(project_images_box.QFileDialog, "getOpenFileName",
                        lambda *args, **kwargs: (next(answers), ""))

    locate.click()  # (another image's file: refused, nothing changed)
    assert [m for level, m in told if level == "warning" and "24x40" in m and "32x32" in m]
    assert session.project.images[0].path == str(tmp_path / "cells.tif")
    assert "cells" not in viewer.layers

    panel.project_images.locate_buttons[0].click()
    assert session.project.resolve_image_path(session.project.images[0].id) == moved
    assert session.project.flush(10)  # (the history is appended in the background)
    assert session.project.history()[-1]["action"] == "relink image"
    np.testing.assert_array_equal(viewer.layers["cells labels"].data, expected)
    assert session.ensure_reviewed().count() == 16 * 32  # (its marks came back too)
    assert panel.project_images.missing.isHidden()


@pytest.mark.slow
def test_locate_a_renamed_file_of_channel_layers(studio, qtbot, tmp_path, monkeypatch):
    """A two-channel file opens as one layer per channel, named by napari after the file:
    renamed, its layers no longer had the names the project knows them by, and located, the
    corrections of its channel never came back."""
    from unet_studio.app.qt import project_images_box

    viewer, session = studio.viewer, studio.session
    pixels = np.random.default_rng(0).integers(0, 1000, (2, 32, 32), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "two.tif", pixels, imagej=True, metadata={"axes": "CYX"})
    viewer.open(str(tmp_path / "two.tif"), plugin="unet-studio")
    channel = [layer.name for layer in viewer.layers][1]  # ("two [C1]", say)
    session.open_project(tmp_path / "project", create=True)
    expected = _correct(session, channel)
    session.close_project()
    viewer.layers.clear()
    moved = tmp_path / "moved" / "two-renamed.tif"
    moved.parent.mkdir()
    (tmp_path / "two.tif").rename(moved)
    panel = _panel(studio, qtbot)

    session.open_project(tmp_path / "project")
    monkeypatch.setattr(project_images_box.QFileDialog, "getOpenFileName",
                        lambda *args, **kwargs: (str(moved), ""))
    panel.project_images.locate_buttons[0].click()
    assert channel in viewer.layers
    np.testing.assert_array_equal(viewer.layers[f"{channel} labels"].data, expected)


@pytest.mark.slow
def test_locate_an_ome_zarr_image_asks_for_a_folder(studio, qtbot, tmp_path, monkeypatch):
    """An OME-Zarr is a folder: a file dialog cannot choose it, so Locate asks for a folder
    (it offered a file dialog, and the moved image could not be located)."""
    from unet_studio.app.io import write_stack
    from unet_studio.app.qt import project_images_box

    viewer, session = studio.viewer, studio.session
    pixels = np.random.default_rng(0).integers(0, 1000, (32, 32), dtype=np.uint16)
    original = write_stack(tmp_path / "cells.zarr", pixels, axes="YX", kind="image")
    viewer.open(str(original), plugin="unet-studio")
    session.open_project(tmp_path / "project", create=True)
    expected = _correct(session, "cells")
    session.close_project()
    viewer.layers.clear()
    moved = tmp_path / "moved.zarr"
    original.rename(moved)
    panel = _panel(studio, qtbot)
    session.open_project(tmp_path / "project")

    def no_file_dialog(*args, **kwargs):
        raise AssertionError("a file dialog cannot choose an OME-Zarr folder")

    monkeypatch.setattr(project_images_box.QFileDialog, "getOpenFileName", no_file_dialog)
    monkeypatch.setattr(project_images_box.QFileDialog, "getExistingDirectory",
                        lambda *args, **kwargs: str(moved))
    panel.project_images.locate_buttons[0].click()
    assert session.project.resolve_image_path(session.project.images[0].id) == moved
    np.testing.assert_array_equal(viewer.layers["cells labels"].data, expected)
