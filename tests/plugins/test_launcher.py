"""The standalone launcher: panels docked, the sample on first run, one line without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
