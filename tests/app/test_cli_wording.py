"""CLI messages that say exactly what is meant: which files clash, what a folder lacks, what
a file's samples and sizes are."""

from __future__ import annotations

import numpy as np
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import write_stack


def _image(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_stack(path, np.ones((24, 24), np.uint16), axes="YX", kind="image")


def test_two_inputs_of_one_name_are_both_named(tmp_path, model_dir, capsys):
    first, second = _image(tmp_path / "a" / "cells.tif"), _image(tmp_path / "b" / "cells.tif")
    assert main(["predict", str(first), str(second), "-o", str(tmp_path / "out"), "--model",
                 str(model_dir), "--device", "cpu"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"unet-studio: error: {first} and {second} have the same name (cells); "
                     "run them separately to different outputs")


def test_a_model_folder_without_model_files_says_what_it_lacks(tmp_path, capsys):
    folder = tmp_path / "run1"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"")
    assert main(["predict", str(_image(tmp_path / "x.tif")), "-o", str(tmp_path / "y.tif"),
                 "--model", str(folder)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"unet-studio: error: {folder}: this folder holds no model (no "
                            "config.json)")


def test_info_says_rgb_only_for_three_or_four_samples(tmp_path, capsys):
    two = tmp_path / "two.tif"
    tifffile.imwrite(two, np.zeros((20, 30, 2), np.uint8), photometric="minisblack",
                     planarconfig="contig")
    three = tmp_path / "three.tif"
    tifffile.imwrite(three, np.zeros((20, 30, 3), np.uint8), photometric="rgb")
    assert main(["info", str(two), str(three)]) == 0
    two_text, three_text = capsys.readouterr().out.split("\n\n")
    assert "(2 samples per pixel as channels C)" in two_text and "RGB" not in two_text
    assert "(RGB(A) colours as channels C)" in three_text


def test_info_on_a_multi_series_file_says_which_size_is_whose(tmp_path, capsys):
    path = tmp_path / "series.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(np.zeros((40, 50), np.uint16), photometric="minisblack")
        tif.write(np.zeros((300, 300), np.uint16), photometric="minisblack")
    assert main(["info", str(path)]) == 0
    line = next(t for t in capsys.readouterr().out.splitlines() if "size on disk" in t)
    assert line.endswith("(the whole file, 2 series; series 1 uncompressed 3.9 KiB)")
