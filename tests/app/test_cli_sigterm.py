"""SIGTERM (``timeout``, SLURM, ``docker stop``) ends `unet-studio predict` as Ctrl-C does:
the half-written output's temporary file is removed, exit code 143 (128 + 15)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile
import torch

from unet_studio.models.registry import build_model
from unet_studio.models.task import TaskSpec
from unet_studio.models.weights import save_model


@pytest.fixture
def tiny_model(tmp_path):
    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, in_channels=1, out_channels=3, base_channels=4,
                      depth=2)
    return save_model(net, tmp_path / "tiny", task=TaskSpec())


def wait_for(find, seconds: float):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = find()
        if found:
            return found
        time.sleep(0.02)
    return None


@pytest.mark.slow
@pytest.mark.parametrize("name", ["labels.tif", "labels.zarr"])
def test_sigterm_during_predict_removes_the_temporary_output(tmp_path, tiny_model, name):
    # Big enough that the tiles take seconds after the temporary file appears (~3 s here).
    image = (np.random.default_rng(0).random((4, 1024, 1024)) * 4000).astype(np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", image, photometric="minisblack",
                     metadata={"axes": "ZYX"})
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "unet_studio", "predict", str(tmp_path / "stack.tif"),
         "-o", str(out / name), "--model", str(tiny_model), "--device", "cpu"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "UNET_STUDIO_HOME": str(tmp_path)})
    try:
        part = wait_for(lambda: list(out.glob(f".{name}.*.part")), 120)
        assert part, "the temporary output never appeared"
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "unet-studio: terminated"
    assert list(out.iterdir()) == []  # neither the temporary file nor a partial output
