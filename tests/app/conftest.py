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
