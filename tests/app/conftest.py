"""Fixtures shared by the app's CLI tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A tiny 2D U-Net (random weights, seed 0; 1 input channel, 3 outputs) saved as a
    model folder."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, in_channels=1, out_channels=3, base_channels=4,
                      depth=2)
    return save_model(net, tmp_path_factory.mktemp("model") / "tiny", task=TaskSpec())


@pytest.fixture
def csv_rows():
    """``csv_rows(path)``: the rows of a CSV file written by ``measure``, as dicts."""
    import csv

    def read(path) -> list[dict[str, str]]:
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    return read


@pytest.fixture
def run_finetune(capsys):
    """``run_finetune(*args)``: ``unet-studio finetune ARGS`` in-process; (exit code, stdout,
    stderr)."""
    from unet_studio.app.cli import main

    def run(*args) -> tuple[int, str, str]:
        code = main(["finetune", *map(str, args)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def nucleus_classes_model(tmp_path):
    """A tiny 2D semantic model of background / nucleus / nucleus edge (random weights),
    saved as a model folder."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)
    return save_model(net, tmp_path / "classes-model", task=TaskSpec(
        kind="semantic", class_names=("background", "nucleus", "nucleus edge")))


# A child process that takes the lock of the project folder argv[1] as a window would, says
# so, and keeps running until killed (or exits at once with "exit" as argv[2]).
TAKE_LOCK = """
import sys, time
from unet_studio.app.project_lock import take_lock
class Window: pass
window = Window()
assert take_lock(sys.argv[1], window)
print("taken", flush=True)
if sys.argv[2] != "exit":
    time.sleep(60)
"""


@pytest.fixture
def take_lock_script():
    """Python source of a child process holding a project's lock (see TAKE_LOCK)."""
    return TAKE_LOCK


@pytest.fixture
def tiny_volume(tmp_path, test_data_dir, monkeypatch):
    """(image, labels) files of an 8x48x48 crop of the 3D nuclei (ZYX), with networks built
    at tiny widths (a default 3D U-Net is slow on a CPU)."""
    import tifffile

    from unet_studio.models import registry

    build = registry.build_model
    monkeypatch.setattr(registry, "build_model",
                        lambda name, **options: build(name, base_channels=4, depth=2, **options))
    volume = tifffile.imread(test_data_dir / "gui_nuclei3d_img.tif")[:8, :48, :48]
    labels = tifffile.imread(test_data_dir / "gui_nuclei3d_labels.tif")[:8, :48, :48]
    tifffile.imwrite(tmp_path / "vol.tif", volume, metadata={"axes": "ZYX"})
    tifffile.imwrite(tmp_path / "vol_labels.tif", labels, metadata={"axes": "ZYX"})
    return tmp_path / "vol.tif", tmp_path / "vol_labels.tif"
