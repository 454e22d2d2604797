"""`unet-studio evaluate` of a time series against labels saved without axes: the axes one
file states win over those guessed for the other, in either order (a series had been
scored as one 3D volume: F1 0.02 instead of 0.90)."""

from __future__ import annotations

import json

import numpy as np
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import write_stack


def _series() -> np.ndarray:
    """Three time points; each nucleus moves, so that across time points they do not line
    up as 3D objects (scored as one volume, they would not match)."""
    labels = np.zeros((3, 30, 40), np.int32)
    for t in range(3):
        labels[t, 5:12, 4 + 8 * t:11 + 8 * t] = 1 + t  # ids renumbered in each time point
        labels[t, 18:26, 30 - 6 * t:37 - 6 * t] = 7
    return labels


def test_a_series_scores_frame_by_frame_whichever_file_lacks_its_axes(tmp_path, capsys):
    labels = _series()
    stated = write_stack(tmp_path / "pred.tif", labels, axes="TYX", kind="labels")
    bare = tmp_path / "truth.tif"
    tifffile.imwrite(bare, labels, metadata=None, photometric="minisblack")  # no axes: guessed
    scores = []
    for pair in ((stated, bare), (bare, stated)):
        assert main(["evaluate", *map(str, pair), "--json"]) == 0
        scores.append(json.loads(capsys.readouterr().out))
    assert scores[0]["f1_50"] == scores[1]["f1_50"] == 1.0
    assert scores[0]["n_true"] == scores[1]["n_true"] == 6  # two per time point


def test_two_files_stating_different_axes_are_refused(tmp_path, capsys):
    labels = _series()
    series = write_stack(tmp_path / "series.tif", labels, axes="TYX", kind="labels")
    stack = write_stack(tmp_path / "stack.tif", labels, axes="ZYX", kind="labels")
    assert main(["evaluate", str(series), str(stack)]) == 2
    assert "has axes ZYX, the prediction" in capsys.readouterr().err
    assert main(["evaluate", str(series), str(stack), "--axes", "TYX", "--json"]) == 0


def test_running_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    """evaluate needs memory for the whole labels (int64 ids): out of it, one line and exit
    2, not numpy's traceback."""
    from unet_studio.app.commands import evaluate

    labels = write_stack(tmp_path / "labels.tif", _series(), axes="TYX", kind="labels")

    def out_of_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.45 TiB for an array with shape (1000000000, 1000)")

    monkeypatch.setattr(evaluate, "score_files", out_of_memory)
    assert main(["evaluate", str(labels), str(labels)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("unet-studio: error: not enough memory for this evaluate")
