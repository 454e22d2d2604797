"""`--series N` of `info` and `gui`, counted from 1 as `predict --series`: the image of a
multi-series file described or opened, and one line with exit 2 for one it does not hold."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main


@pytest.fixture
def two_series(tmp_path):
    path = tmp_path / "two.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(np.zeros((20, 21), np.uint16), metadata={"axes": "YX"})
        tif.write(np.zeros((3, 24, 25), np.uint16), metadata={"axes": "ZYX"})
    return path


def test_info_describes_the_series_asked_for(two_series, capsys):
    assert main(["info", str(two_series)]) == 0
    out = capsys.readouterr().out
    assert "shape:        20 x 21" in out
    assert "series:       1 of 2 (first shown; --series N for another)" in out
    assert main(["info", str(two_series), "--series", "2"]) == 0
    out = capsys.readouterr().out
    assert "shape:        3 x 24 x 25" in out and "axes:         ZYX" in out
    assert "series:       2 of 2 (chosen with --series)" in out


@pytest.mark.parametrize("command", ["info", "gui"])
@pytest.mark.parametrize("series,message", [
    ("3", "two.ome.tif: has 2 image series; there is no series 3 (counting from 1)"),
    ("0", "--series counts from 1 (the first image of a file), got 0"),
])
def test_a_series_the_file_does_not_hold_is_one_line_and_exit_2(two_series, capsys, monkeypatch,
                                                               command, series, message):
    from unet_studio.app import launcher

    opened = []  # (gui: refused before any window; none is started here)
    monkeypatch.setattr(launcher, "main", lambda *args, **kwargs: opened.append(args) or 0)
    assert main([command, str(two_series), "--series", series]) == 2
    captured = capsys.readouterr()
    assert captured.err.endswith(f"{message}\n") and len(captured.err.splitlines()) == 1
    assert captured.out == "" and opened == []


def test_gui_hands_the_series_to_the_launcher_from_0(two_series, monkeypatch):
    from unet_studio.app import launcher

    calls = []
    monkeypatch.setattr(launcher, "main", lambda files, **kwargs: calls.append(kwargs) or 0)
    assert main(["gui", str(two_series), "--series", "2"]) == 0
    assert calls[0]["series"] == 1
