"""`unet-studio predict` says when the input does not name its axes: a time-lapse saved as
a plain multi-page TIFF is read as a Z stack, and segmenting it as one 3D volume without a
word joins the nuclei of successive time points into one object each."""

from __future__ import annotations

import numpy as np
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import write_stack


def _frames() -> np.ndarray:
    return (np.random.default_rng(0).random((3, 24, 24)) * 4000).astype(np.uint16)


def test_a_file_without_axes_is_named_with_the_axes_it_is_read_with(tmp_path, model_dir, capsys):
    bare = tmp_path / "frames.tif"
    tifffile.imwrite(bare, _frames(), metadata=None, photometric="minisblack")
    assert main(["predict", str(bare), "-o", str(tmp_path / "a.tif"), "--model", str(model_dir),
                 "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert (f"{bare}: axes not stated in the file, read as ZYX (--axes TYX if it is a time "
            "series)\n") in err
    assert main(["predict", str(bare), "-o", str(tmp_path / "b.tif"), "--model", str(model_dir),
                 "--device", "cpu", "--axes", "TYX"]) == 0
    assert "axes not stated" not in capsys.readouterr().err


def test_a_file_that_names_its_axes_gets_no_note(tmp_path, model_dir, capsys):
    stated = write_stack(tmp_path / "frames.tif", _frames(), axes="TYX", kind="image")
    assert main(["predict", str(stated), "-o", str(tmp_path / "a.tif"), "--model",
                 str(model_dir), "--device", "cpu"]) == 0
    assert "axes not stated" not in capsys.readouterr().err
