"""`unet-studio measure`: every position column says its unit (pixels `_px`, µm `_um`; the
earlier unsuffixed names kept), `--pixel-size` gives the µm columns to files that do not
state it, and a time series whose file states its time step gets `time_s` by the frame."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.cli import main
from unet_studio.app.io import write_stack


def _series() -> np.ndarray:
    labels = np.zeros((3, 12, 14), np.uint16)
    for t in range(3):
        labels[t, 2:6, 1 + 3 * t:5 + 3 * t] = 1  # (moves along X)
    labels[2, 8:11, 9:13] = 2
    return labels


def test_pixel_size_gives_um_columns_beside_the_px_ones(csv_rows, tmp_path, capsys):
    source = write_stack(tmp_path / "labels.tif", _series(), axes="TYX", kind="labels")
    out = tmp_path / "objects.csv"
    assert main(["measure", str(source), "-o", str(out), "--pixel-size", "0.65"]) == 0
    rows = csv_rows(out)
    assert "time_s" not in rows[0]  # (the file states no time step)
    for row in rows:
        assert float(row["area_um2"]) == pytest.approx(int(row["pixels"]) * 0.65**2)
        for a in "yx":
            assert float(row[f"centroid_{a}_um"]) == pytest.approx(float(row[f"centroid_{a}_px"]) * 0.65)
            assert row[f"centroid_{a}"] == row[f"centroid_{a}_px"]  # (the earlier name)
            assert row[f"bbox_{a}_stop"] == row[f"bbox_{a}_stop_px"]
    assert [float(row["centroid_x_px"]) for row in rows if row["label"] == "1"] == [2.5, 5.5, 8.5]

    assert main(["measure", str(source), "-o", str(out), "--overwrite", "--pixel-size",
                 "2,0.65,0.65"]) == 2  # (no Z axis to size)
    assert "no Z axis" in capsys.readouterr().err
    assert main(["measure", str(source), "-o", str(out), "--overwrite", "--pixel-size", "-1"]) == 2
    assert "--pixel-size takes one positive number" in capsys.readouterr().err


def test_a_stated_time_step_gives_seconds_by_the_frame_index(csv_rows, tmp_path):
    source = write_stack(tmp_path / "labels.tif", _series(), axes="TYX", scale={"T": 30.0},
                         kind="labels")  # (30 s between time points; pixel size unknown)
    out = tmp_path / "objects.csv"
    assert main(["measure", str(source), "-o", str(out)]) == 0
    rows = csv_rows(out)
    assert list(rows[0])[:3] == ["frame", "time_s", "label"]
    assert [(row["frame"], row["time_s"]) for row in rows] == [("0", "0"), ("1", "30"),
                                                               ("2", "60"), ("2", "60")]
    assert "area_um2" not in rows[0] and "centroid_x_um" not in rows[0]


def test_a_3d_stack_without_z_size_asks_for_it(csv_rows, tmp_path, capsys):
    stack = write_stack(tmp_path / "stack.tif", _series(), axes="ZYX", kind="labels")
    out = tmp_path / "objects.csv"
    assert main(["measure", str(stack), "-o", str(out), "--pixel-size", "0.65"]) == 2
    assert "give Z,Y,X" in capsys.readouterr().err and not out.exists()
    assert main(["measure", str(stack), "-o", str(out), "--pixel-size", "2,0.65,0.65"]) == 0
    row = csv_rows(out)[0]
    assert float(row["volume_um3"]) == pytest.approx(int(row["pixels"]) * 2 * 0.65**2)
    assert float(row["centroid_z_um"]) == pytest.approx(float(row["centroid_z_px"]) * 2)
