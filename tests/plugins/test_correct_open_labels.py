"""Correct > Open labels…: labels another tool made, read from a file and corrected over the
current image in a real napari viewer: shown writable, saved in the project as the image's
labels, their origin in its history; the regions already reviewed keep their labels; a file
that does not fit is refused in words naming it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import tifffile

from unet_studio.app.labels_file import CheckedLabels

pytestmark = pytest.mark.qt

SHAPE = (3, 48, 48)  # (T, Y, X): a small time-lapse


def other_tools_labels() -> np.ndarray:
    """uint16 ids as another tool numbers them: three tracked squares and a far id, 700."""
    labels = np.zeros(SHAPE, np.uint16)
    for t in range(SHAPE[0]):
        labels[t, 4:12, 4 + t:12 + t] = 1
        labels[t, 20:30, 20:30] = 2
        labels[t, 36:44, 6:14] = 3
        labels[t, 36:44, 30:40] = 700
    return labels


@pytest.fixture
def hela(studio, qtbot, tmp_path):
    """The studio with hela_img.tif (T, Y, X) opened by our reader, a Correct panel, and
    hela_errseg.tif beside it: the other tool's labels, compressed (read lazily), with no
    axes (a plain multi-page TIFF: guessed as Z)."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    image = tmp_path / "hela_img.tif"
    pixels = np.random.default_rng(0).integers(0, 4000, SHAPE, dtype=np.uint16)
    tifffile.imwrite(image, pixels, metadata={"axes": "TYX"}, photometric="minisblack")
    labels = tmp_path / "hela_errseg.tif"
    tifffile.imwrite(labels, other_tools_labels(), compression="zlib", photometric="minisblack")
    studio.viewer.open(str(image), plugin="unet-studio")
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    return studio, panel, labels


def choose_file(monkeypatch, path) -> None:
    from qtpy.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))


def test_open_labels_makes_a_files_labels_the_images_labels_to_correct(hela, told, monkeypatch,
                                                                        saved_labels, qtbot):
    studio, panel, path = hela
    choose_file(monkeypatch, path)
    reads = []
    read = CheckedLabels.read
    monkeypatch.setattr(CheckedLabels, "read", lambda self: reads.append(threading.current_thread())
                        or read(self))
    panel.open_labels_button.click()
    assert not panel.open_labels_button.isEnabled()  # (while it reads)
    assert panel.tool_status.text() == "Reading the labels of hela_img from hela_errseg.tif…"
    qtbot.waitUntil(lambda: panel.labels_file_worker is None, timeout=20_000)
    assert reads and reads[0] is not threading.main_thread()  # (read off the GUI thread)
    assert panel.open_labels_button.isEnabled()

    layer = studio.host.labels_layer()
    assert layer.name == "hela_img labels"
    data = layer.data
    assert isinstance(data, np.ndarray) and data.flags.writeable  # (no LazyArray, no read-only map)
    assert data.dtype == np.uint16  # (the file's ids, as they are)
    np.testing.assert_array_equal(data, other_tools_labels())
    message = "Labels of hela_img from hela_errseg.tif: 4 objects."
    assert ("info", message) in told and panel.tool_status.text().startswith(message)

    session = studio.session  # (saved as the image's labels, where they came from logged)
    np.testing.assert_array_equal(saved_labels(session), other_tools_labels())
    (entry,) = [e for e in session.project.history() if e["action"] == "labels from file"]
    assert entry["path"] == str(path) and entry["image"] == session.current_image_id()

    # The Correct tools and napari's brush work on them (a LazyArray raised TypeError).
    panel.tool_buttons["delete"].click()
    studio.host.click((1.0, 25.0, 25.0))
    assert not (data[1] == 2).any() and panel.tool_status.text().startswith("Deleted object 2")
    panel.tool_buttons["delete"].click()
    panel.fresh_button.click()
    assert layer.selected_label == 701 and layer.mode == "paint"
    layer.paint((2, 30, 5), 701)
    assert data[2, 30, 5] == 701
    qtbot.waitUntil(lambda: session.reviewed.changed[2, 30, 5])  # (the stroke is recorded)


def test_reviewed_regions_keep_their_labels_and_replacing_labels_is_asked(
        hela, told, monkeypatch, click_and_answer, qtbot):
    studio, panel, path = hela
    session = studio.session
    before = np.zeros(SHAPE, np.int32)
    before[:, 10:20, 10:20] = 5  # (the image's labels, time point 0 reviewed)
    session.show_labels(before.copy(), protect=False)
    session.ensure_reviewed().mark_region((slice(0, 1), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    choose_file(monkeypatch, path)

    question = click_and_answer(panel.open_labels_button, "No")
    assert "hela_img has labels already" in question and "hela_errseg.tif" in question
    np.testing.assert_array_equal(studio.host.current_labels(), before)
    assert "Kept the labels of hela_img" in panel.tool_status.text()

    click_and_answer(panel.open_labels_button, "Yes")
    qtbot.waitUntil(lambda: panel.labels_file_worker is None, timeout=20_000)
    shown = studio.host.current_labels()
    np.testing.assert_array_equal(shown[0], before[0])  # (reviewed: kept)
    np.testing.assert_array_equal(shown[1:], other_tools_labels()[1:])
    assert session.reviewed.mask[0].all() and not session.reviewed.mask[1:].any()
    assert told[-1] == ("info", "Labels of hela_img from hela_errseg.tif: 5 objects "
                                "(reviewed regions kept their labels).")


def write_tiff(path, data, **options):
    tifffile.imwrite(path, data, photometric="minisblack", **options)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("case", ["float", "shape", "channels", "corrupt"])
def test_a_file_that_does_not_fit_is_refused_naming_it(hela, told, monkeypatch, tmp_path, case):
    studio, panel, _ = hela
    path = tmp_path / f"{case}.tif"
    if case == "float":
        write_tiff(path, np.zeros(SHAPE, np.float32))
        expected = "holds floating-point values (float32), not labels"
    elif case == "shape":  # (full-size labels over a crop)
        write_tiff(path, np.zeros((3, 70, 110), np.uint16), metadata={"axes": "TYX"})
        expected = "its labels are 3 x 70 x 110 (TYX) but those of hela_img are 3 x 48 x 48 (TYX)"
    elif case == "channels":
        write_tiff(path, np.zeros((3, 2, 48, 48), np.uint16), imagej=True,
                   metadata={"axes": "TCYX"})
        expected = "has 2 channels (3 x 2 x 48 x 48 (TCYX)); labels have one"
    else:
        path.write_bytes(b"II*\x00" + b"\xff" * 64)
        expected = str(path)
    choose_file(monkeypatch, path)
    panel.open_labels_button.click()

    level, message = told[-1]
    assert level == "warning" and message.startswith(str(path)) and expected in message
    assert studio.host.current_labels() is None  # (nothing shown, nothing saved)
    assert studio.session.project is None or not any(
        e["action"] == "labels from file" for e in studio.session.project.history())


def test_without_an_image_open_labels_says_to_open_the_image_first(studio, told, qtbot,
                                                                   monkeypatch, tmp_path):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    asked = []
    from qtpy.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: asked.append(a) or ("", ""))
    panel.open_labels_button.click()
    assert not asked  # (no file chosen for nothing)
    level, message = told[-1]
    assert level == "warning" and message.startswith("No image is open")
    assert "Correct > Open labels…" in message


def test_labels_read_after_another_image_became_current_are_not_laid_over_it(
        hela, told, monkeypatch, qtbot):
    """The read runs in a worker; were another image chosen meanwhile, the labels would be
    shown, and saved, as that image's."""
    studio, panel, path = hela
    choose_file(monkeypatch, path)
    read = CheckedLabels.read

    def slow_read(self):
        time.sleep(0.5)  # (a big file: the user chooses another image meanwhile)
        return read(self)

    monkeypatch.setattr(CheckedLabels, "read", slow_read)
    panel.open_labels_button.click()
    studio.viewer.add_image(np.zeros(SHAPE, np.uint16), name="other", metadata={"axes": "TYX"})
    studio.session.select_image("other")
    qtbot.waitUntil(lambda: panel.labels_file_worker is None, timeout=20_000)
    assert studio.host.current_labels() is None or not studio.host.current_labels().any()
    assert panel.tool_status.text() == ("hela_errseg.tif was not opened: hela_img is no longer "
                                        "the image worked on; choose it again, then Open labels…")
