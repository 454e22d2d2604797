"""``unet-studio finetune -o OUT`` when the disk fills after its space check: the model's
save is tried again with the space of the run's superseded ``best`` checkpoint, and a save
that still fails names OUT (not the save's hidden temporary file) and says how the same
command resumes; the checkpoint it resumes from is kept whole. And the space check counts
the peak a checkpoint's replacement needs (~7x the weights, not 6x)."""

from __future__ import annotations

import errno
import shutil
from collections import namedtuple

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.models import weights as weights_module
from unet_studio.models.training import checkpoint as checkpoint_module

Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def data(tmp_path, test_data_dir, monkeypatch):
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :64]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :64]
    tifffile.imwrite(tmp_path / "img.tif", np.ascontiguousarray(image))
    tifffile.imwrite(tmp_path / "lab.tif", np.ascontiguousarray(labels))
    return tmp_path


@pytest.fixture
def tiny_model(tmp_path):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    return save_model(build_model("unet", base_channels=4, depth=2), tmp_path / "tiny")


def argv(folder, model) -> list[str]:
    return ["finetune", "--image", str(folder / "img.tif"), "--labels", str(folder / "lab.tif"),
            "--model", str(model), "-o", str(folder / "round"), "--max-steps", "2",
            "--patch-size", "32", "--batch-size", "2", "--device", "cpu"]


def full_disk_for_the_model(monkeypatch, *, unless_gone=None) -> list:
    """The model's weights file meets a full disk (while ``unless_gone`` exists, when
    given): the checkpoints were written before the disk filled. Returns the calls."""
    real = weights_module._save_tensors
    calls = []

    def save_tensors(save_file, tensors, path):
        calls.append(path)
        if unless_gone is None or unless_gone.exists():
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(save_file, tensors, path)

    monkeypatch.setattr(weights_module, "_save_tensors", save_tensors)
    return calls


def test_the_save_is_tried_again_with_the_best_checkpoints_space(data, tiny_model, capsys,
                                                                  monkeypatch):
    best = data / "round" / ".checkpoints" / "best.safetensors"
    calls = full_disk_for_the_model(monkeypatch, unless_gone=best)
    assert main(argv(data, tiny_model)) == 0, capsys.readouterr().err
    assert len(calls) == 2
    from unet_studio.models.weights import load_model

    assert load_model(data / "round").metadata["finetune"]["steps"] == 2
    assert sorted(p.name for p in (data / "round").iterdir()) == [
        "card.md", "config.json", "model.safetensors"]  # (nothing half-written, no checkpoints)


def test_a_save_that_still_fails_names_the_folder_and_the_resume(data, tiny_model, capsys,
                                                                 monkeypatch):
    checkpoints = data / "round" / ".checkpoints"
    full_disk_for_the_model(monkeypatch)
    assert main(argv(data, tiny_model)) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"unet-studio: error: {data / 'round'}: the disk is full: the "
                          "fine-tuned model could not be saved; its checkpoint is kept in "
                          f"{checkpoints}: free "), err
    assert err.endswith(" and run the same command again: it resumes from step 2"), err
    assert ".tmp" not in err
    # (both checkpoints whole: best was set aside for the second try and put back)
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.safetensors",
                                                             "last.safetensors"]
    checkpoint_module.load_checkpoint(checkpoints / "best.safetensors")

    monkeypatch.undo()  # (space freed: the same command resumes there and saves)
    monkeypatch.setenv("UNET_STUDIO_HOME", str(data / "home"))
    assert main(argv(data, tiny_model)) == 0
    assert "resuming at step 2" in capsys.readouterr().err
    assert (data / "round" / "config.json").exists() and not checkpoints.exists()


def test_a_save_failing_with_no_checkpoint_says_the_weights_are_lost(data, tiny_model, capsys,
                                                                     monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint_module, "atomic_write_bytes", no_space)
    full_disk_for_the_model(monkeypatch)
    assert main(argv(data, tiny_model)) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"unet-studio: error: {data / 'round'}: the disk is full: the "
                          "fine-tuned model could not be saved, and no checkpoint of this run "
                          "could be written: its trained weights could not be kept; free "), err
    assert err.endswith("and run the command again (it starts afresh)"), err


def test_the_space_check_counts_a_checkpoints_replacement(data, tiny_model, capsys,
                                                          monkeypatch):
    """``last`` (weights and two moments, 3W) is written beside the old one, with ``best``
    (W) there: 7W at that moment. A disk with 6.5W free passed the check, then refused
    every checkpoint."""
    from unet_studio.models.weights import load_model

    net = load_model(tiny_model)
    weights = sum(t.numel() * t.element_size() for t in net.state_dict().values())
    out = data / "round"
    real = shutil.disk_usage

    def disk_usage(path):
        usage = real(path)
        return Usage(usage.total, usage.used, int(6.5 * weights)) if str(out) in str(path) \
            else usage

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    assert main(argv(data, tiny_model)) == 2
    err = capsys.readouterr().err
    assert f"not enough disk space in {out} for the model and its checkpoints" in err
    assert not out.exists()
