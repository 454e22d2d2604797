"""`unet-studio predict --device` takes what `finetune --device` and the engine take, a GPU
by its index included (``cuda:1`` on a machine with several), and checks it before any work."""

from __future__ import annotations

import numpy as np

from unet_studio.app.cli import main
from unet_studio.app.io import write_stack


def test_a_gpu_by_index_is_accepted_and_checked(tmp_path, model_dir, capsys):
    source = write_stack(tmp_path / "nuclei.tif", np.zeros((20, 20), np.uint16), axes="YX",
                         kind="image")
    target = tmp_path / "o.tif"
    # (no machine has 100 GPUs: the device is refused by the check, not by the parser)
    assert main(["predict", str(source), "-o", str(target), "--model", str(model_dir),
                 "--device", "cuda:99"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("unet-studio: error: --device: device 'cuda:99' ") and "available" in err
    assert not target.exists()


def test_a_device_that_is_no_device_says_which_there_are(tmp_path, model_dir, capsys):
    source = write_stack(tmp_path / "nuclei.tif", np.zeros((20, 20), np.uint16), axes="YX",
                         kind="image")
    assert main(["predict", str(source), "-o", str(tmp_path / "o.tif"), "--model",
                 str(model_dir), "--device", "gpu"]) == 2
    err = capsys.readouterr().err
    assert "'auto', 'cpu', 'cuda', 'mps'" in err and "cuda:N" in err
