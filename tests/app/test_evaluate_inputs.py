"""`unet-studio evaluate` given an intensity image instead of labels (an easy slip: both are
uint16 TIFFs) refuses it, naming the file, instead of scoring every speck of noise as an
object (F1 0.00 for a good segmentation)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.cli import main
from unet_studio.app.io import write_stack


def _nuclei() -> tuple[np.ndarray, np.ndarray]:
    labels = np.zeros((2, 48, 64), np.uint16)
    labels[:, 5:20, 6:22] = 1
    labels[:, 25:40, 30:50] = 2
    noise = np.random.default_rng(0).integers(100, 400, labels.shape)
    image = (noise + 3000 * (labels > 0)).astype(np.uint16)
    return labels, image


@pytest.mark.parametrize("which", [0, 1])
def test_an_intensity_image_for_either_file_is_one_line_naming_it(tmp_path, capsys, which):
    labels, image = _nuclei()
    label_file = write_stack(tmp_path / "labels.tif", labels, axes="TYX", kind="labels")
    image_file = write_stack(tmp_path / "image.tif", image, axes="TYX", kind="image")
    pair = [label_file, label_file]
    pair[which] = image_file
    assert main(["evaluate", *map(str, pair)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"unet-studio: error: {image_file}: looks like an intensity image, "
                            "not labels (most neighbouring pixels differ); give two label "
                            "images\n")


def test_labels_are_still_scored(tmp_path, capsys):
    labels, _ = _nuclei()
    label_file = write_stack(tmp_path / "labels.tif", labels, axes="TYX", kind="labels")
    assert main(["evaluate", str(label_file), str(label_file)]) == 0
    assert "F1 1.0000" in capsys.readouterr().out
