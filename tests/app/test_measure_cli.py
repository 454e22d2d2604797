"""`unet-studio measure`: a CSV with one row per object from real TIFFs (µm from the labels'
pixel size, intensities per channel); bad input -> exit 2, one line naming the file, no CSV."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from skimage.measure import regionprops

from unet_studio.app.cli import main


def labels_tiff(path, labels, spacing=2.0, pixel=0.5):
    """An ImageJ TIFF of (Z, Y, X) labels with its pixel size in µm."""
    tifffile.imwrite(path, labels, imagej=True, resolution=(1 / pixel, 1 / pixel),
                     metadata={"axes": "ZYX", "spacing": spacing, "unit": "um"})
    return path


def nuclei_labels() -> np.ndarray:
    labels = np.zeros((4, 20, 24), np.uint16)
    labels[0:2, 2:6, 3:9] = 1
    labels[1:4, 10:18, 12:20] = 5
    labels[3, 1:3, 20:23] = 7
    return labels


def test_labels_and_two_channel_image_give_one_row_per_object(csv_rows, tmp_path, capsys):
    labels = nuclei_labels()
    image = np.random.default_rng(0).integers(0, 1000, (4, 2, 20, 24)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "image.tif", image, imagej=True, metadata={"axes": "ZCYX"})
    source = labels_tiff(tmp_path / "labels.tif", labels)
    out = tmp_path / "objects.csv"
    assert main(["measure", str(source), "--image", str(tmp_path / "image.tif"),
                 "-o", str(out)]) == 0
    # (ZYX labels: one volume, not "1 frame")
    assert capsys.readouterr().out == f"3 objects in the stack {source}: wrote {out}\n"
    rows = csv_rows(out)
    assert [int(row["label"]) for row in rows] == [1, 5, 7]
    for row, c0, c1 in zip(rows, regionprops(labels, image[:, 0]), regionprops(labels, image[:, 1])):
        assert int(row["pixels"]) == c0.area
        assert float(row["volume_um3"]) == pytest.approx(c0.area * 2.0 * 0.5 * 0.5)
        assert [float(row[f"centroid_{a}"]) for a in "zyx"] == pytest.approx(c0.centroid)
        assert (int(row["bbox_z_start"]), int(row["bbox_x_stop"])) == (c0.bbox[0], c0.bbox[5])
        assert float(row["mean_intensity_c0"]) == pytest.approx(c0.intensity_mean, rel=1e-7)
        assert float(row["mean_intensity_c1"]) == pytest.approx(c1.intensity_mean, rel=1e-7)
        assert int(row["integrated_intensity_c1"]) == int(image[:, 1][labels == c1.label].sum())


def test_time_series_without_pixel_size_counts_frames(csv_rows, tmp_path, capsys):
    frames = np.zeros((3, 10, 12), np.uint8)
    frames[:, 2:5, 2:5] = 1
    frames[2, 7:9, 7:11] = 2
    tifffile.imwrite(tmp_path / "frames.tif", frames, photometric="minisblack")
    out = tmp_path / "frames.csv"
    assert main(["measure", str(tmp_path / "frames.tif"), "--axes", "TYX", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith("4 objects in 3 frames of ")
    rows = csv_rows(out)
    assert [(row["frame"], row["label"], row["pixels"]) for row in rows] == [
        ("0", "1", "9"), ("1", "1", "9"), ("2", "1", "9"), ("2", "2", "8")]
    assert "area_um2" not in rows[0] and "mean_intensity" not in rows[0]


def test_image_of_another_shape_is_exit_2_naming_it_and_writes_nothing(tmp_path, capsys):
    source = labels_tiff(tmp_path / "labels.tif", nuclei_labels())
    tifffile.imwrite(tmp_path / "small.tif", np.zeros((4, 20, 23), np.uint16), imagej=True,
                     metadata={"axes": "ZYX"})
    out = tmp_path / "objects.csv"
    assert main(["measure", str(source), "--image", str(tmp_path / "small.tif"),
                 "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"unet-studio: error: {tmp_path / 'small.tif'}: has shape (4, 20, 23)")
    assert "(4, 20, 24)" in error and error.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.tif", "small.tif"]


def test_float_labels_and_missing_files_are_exit_2(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "float.tif", np.zeros((5, 6), np.float32))
    assert main(["measure", str(tmp_path / "float.tif"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "float.tif: holds float32 values, not integer labels" in capsys.readouterr().err
    assert main(["measure", str(tmp_path / "nowhere.tif"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "nowhere.tif: does not exist" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_an_intensity_image_given_as_labels_is_exit_2(csv_rows, tmp_path, capsys):
    """Swapped arguments: a noisy uint16 image is not measured as thousands of "objects";
    a real label image with touching objects is measured."""
    rng = np.random.default_rng(0)
    noisy = (1000 + 50 * rng.standard_normal((6, 64, 64))).astype(np.uint16)
    tifffile.imwrite(tmp_path / "image.tif", noisy)
    assert main(["measure", str(tmp_path / "image.tif"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "image.tif: looks like an intensity image, not labels" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()
    touching = np.zeros((6, 64, 64), np.uint16)  # four objects meeting along two lines
    touching[:, :32, :32], touching[:, :32, 32:], touching[:, 32:, :32], touching[:, 32:, 32:] = 1, 2, 3, 4
    tifffile.imwrite(tmp_path / "labels.tif", touching)
    assert main(["measure", str(tmp_path / "labels.tif"), "-o", str(tmp_path / "o.csv")]) == 0
    assert len(csv_rows(tmp_path / "o.csv")) == 4


def test_existing_output_is_kept_without_overwrite(csv_rows, tmp_path, capsys):
    source = labels_tiff(tmp_path / "labels.tif", nuclei_labels())
    out = tmp_path / "objects.csv"
    out.write_text("my notes\n")
    assert main(["measure", str(source), "-o", str(out)]) == 2
    assert f"{out}: already exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_text() == "my notes\n"
    assert main(["measure", str(source), "-o", str(out), "--overwrite"]) == 0
    assert len(csv_rows(out)) == 3


def test_status_line_shows_steps_or_a_percentage_on_a_terminal():
    """The CLI's live status line (predict: tiles of a total; measure: a fraction)."""
    import io

    from unet_studio.app.status_line import StatusLine

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    line = StatusLine("stack", stream)
    line.update(3, 10)
    line.update(0.5, 1)
    line.finish("done")  # (padded to cover the longer line before it)
    assert stream.getvalue() == "\rstack:  30% (3/10)\rstack:  50%       \rstack: done\n"
    now = [0.0]
    stream = Terminal()
    line = StatusLine("stack", stream, clock=lambda: now[0])
    for step in range(1, 5):  # 1 step every 30 s after the first: 6 steps left at step 4
        line.update(step, 10)
        now[0] += 30
    assert stream.getvalue().split("\r")[-1] == "stack:  40% (4/10), about 3 min left"
    quiet = io.StringIO()  # not a terminal (a log file): no redrawn lines
    StatusLine("stack", quiet).update(0.5, 1)
    assert quiet.getvalue() == ""
