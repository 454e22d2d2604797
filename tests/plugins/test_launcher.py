"""The standalone launcher: panels docked, the sample on first run, one line without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PANELS = ("Segment", "Correct", "Train", "Models")


def test_no_display_prints_one_line_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["UNET_STUDIO_HOME"] = str(tmp_path)
    cli = Path(sys.executable).parent / "unet-studio"
    for args in ([], ["gui"]):
        out = subprocess.run([str(cli), *args], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 2
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "no display" in lines[0] and "unet-studio predict" in lines[0]
        assert out.stdout == ""
    assert not (tmp_path / "first_run_done").exists()  # nothing started, nothing recorded


@pytest.mark.slow
@pytest.mark.qt
def test_first_run_docks_panels_and_loads_sample_once(studio_home, make_napari_viewer):
    # make_napari_viewer (unused) isolates napari's plugin and action registries for the
    # viewers open_studio creates, as for any viewer made in a test.
    from unet_studio.app.launcher import open_studio

    viewer = open_studio(show=False)
    try:
        docks = viewer.window.dock_widgets
        for name in PANELS:
            assert f"{name} (unet-studio)" in docks
        assert [layer.name for layer in viewer.layers] == ["nuclei3d"]
        assert (studio_home / "first_run_done").exists()
    finally:
        viewer.close()
    second = open_studio(show=False)
    try:
        assert len(second.layers) == 0  # the sample only greets the first launch
    finally:
        second.close()


@pytest.mark.slow
@pytest.mark.qt
def test_launcher_opens_a_png_and_names_a_file_it_cannot(studio_home, tmp_path, make_napari_viewer):
    """`unet-studio gui snapshot.png`: our reader leaves PNG and JPEG to napari's own (plain
    napari would otherwise ask which reader for every PNG), and the launcher picks it;
    a file no reader takes is one error naming it."""
    import imageio.v3 as iio

    from unet_studio.app.errors import InputFileError
    from unet_studio.app.launcher import open_studio

    pixels = np.random.default_rng(0).integers(0, 255, (40, 56), dtype=np.uint8)
    png = tmp_path / "snapshot.png"
    iio.imwrite(png, pixels)
    viewer = open_studio([png], show=False, load_sample=False)
    try:
        assert [layer.name for layer in viewer.layers] == ["snapshot"]
        np.testing.assert_array_equal(np.asarray(viewer.layers[0].data), pixels)
    finally:
        viewer.close()
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image\n")
    with pytest.raises(InputFileError, match="notes.txt: not an image this app opens"):
        open_studio([notes], show=False, load_sample=False)  # (refused before any window)


@pytest.mark.slow
@pytest.mark.qt
def test_file_open_in_the_app_reads_tiff_with_our_reader_unless_the_user_chose(
        studio_home, tmp_path, make_napari_viewer, nuclei_crop):
    """File > Open and drag and drop (``viewer.open`` with no plugin named) in the app take
    our reader for a TIFF: napari's dialog chose "napari builtins" by default, a layer in
    pixels without its axes. A reader the user chose in napari stays hers."""
    import tifffile
    from napari.settings import get_settings

    from unet_studio.app.launcher import open_studio

    path = tmp_path / "nuclei.tif"
    tifffile.imwrite(path, nuclei_crop[0], imagej=True, resolution=(1 / 0.26, 1 / 0.26),
                     metadata={"axes": "ZYX", "spacing": 0.29, "unit": "um"})
    viewer = open_studio(show=False, load_sample=False)
    try:
        viewer.open(str(path), plugin=None)  # (as File > Open: napari's choice of reader)
        layer = viewer.layers["nuclei"]
        assert layer.metadata.get("axes") == "ZYX"
        np.testing.assert_allclose(layer.scale, (0.29, 0.26, 0.26), rtol=1e-3)
    finally:
        viewer.close()
    get_settings().plugins.extension2reader = {"*.tif": "napari"}  # (her choice)
    again = open_studio(show=False, load_sample=False)
    try:
        assert get_settings().plugins.extension2reader["*.tif"] == "napari"
        assert get_settings().plugins.extension2reader["*.zarr/"] == "unet-studio"
    finally:
        again.close()


@pytest.mark.qt
def test_the_window_is_left_out_of_full_collections_and_an_image_is_not(studio_home, tmp_path,
                                                                       make_napari_viewer, monkeypatch):  # fmt: skip
    """The launcher freezes what the app is made of before it opens an image (napari collects
    in full at every layer removal: the window's objects made each one take 0.5 s), and the
    image opened after is not frozen: once closed, its layer and pixels are freed."""
    import gc
    import weakref

    import tifffile
    from qtpy.QtCore import QCoreApplication, QEvent

    from unet_studio.app.launcher import open_studio
    from unet_studio.app.qt import gui_thread_gc

    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, np.random.default_rng(0).integers(0, 900, (6, 64, 64), np.uint16),
                     metadata={"axes": "ZYX"})
    gc.unfreeze()  # (earlier tests of this process froze theirs)
    monkeypatch.setattr(gui_thread_gc, "_startup_frozen", False)
    viewer = open_studio([path], show=False, load_sample=False)
    try:
        assert gc.get_freeze_count() > 50_000
        [image] = viewer.layers
        layer, pixels = weakref.ref(image), weakref.ref(image.data)
        viewer.layers.remove(image)
        del image
        for _ in range(3):  # (its layer controls go by deleteLater)
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            QCoreApplication.processEvents()
        gc.collect()
        assert layer() is None and pixels() is None
    finally:
        viewer.close()
