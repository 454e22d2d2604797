"""`unet-studio finetune` resumes an unfinished run only on the same data: other pixels of
the same size (a flipped image) are refused with the CLI's way out, --overwrite starts afresh."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import build_parser, main
from unet_studio.app.commands import finetune as command
from unet_studio.models.training import harvest as harvest_module
from unet_studio.models.training.loop import iter_finetune

SESSION_LOG = "unet_studio.models.training.session_checkpoints"  # (resuming, or not)


@pytest.fixture
def data(tmp_path, test_data_dir, monkeypatch):
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :64]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :64]
    for name, pixels in {"img": image, "lab": labels, "img_flip": image[::-1],
                         "lab_flip": labels[::-1]}.items():
        tifffile.imwrite(tmp_path / f"{name}.tif", np.ascontiguousarray(pixels))
    return tmp_path


@pytest.fixture
def tiny_model(tmp_path):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    return save_model(build_model("unet", base_channels=4, depth=2), tmp_path / "tiny")


def argv(folder, model, image="img", labels="lab", *extra) -> list[str]:
    return ["finetune", "--image", str(folder / f"{image}.tif"), "--labels",
            str(folder / f"{labels}.tif"), "--model", str(model), "-o", str(folder / "round"),
            "--max-steps", "4", "--patch-size", "32", "--batch-size", "2", "--device", "cpu",
            *extra]


def interrupt_after(arguments: list[str], steps: int) -> None:
    """What a run of ``arguments`` interrupted after ``steps`` steps leaves behind, made
    with the command's own functions: a checkpoint in OUT/.checkpoints."""
    args = build_parser()[0].parse_args(arguments)
    net, _ = command.starting_model(args, 1, 2)
    task = net.task
    examples, _ = command.load_examples(
        args, percentiles=(task.lower_percentile, task.upper_percentile), spatial_dims=2)
    run = iter_finetune(net, examples, command.make_config(args),
                        checkpoint_dir=Path(args.output) / ".checkpoints")
    for _ in range(steps):
        next(run)
    run.close()  # (a cancel: the checkpoint is written)


@pytest.mark.slow
def test_an_unfinished_run_resumes_only_on_the_same_data(data, tiny_model, capsys, caplog):
    caplog.set_level(logging.INFO, logger=SESSION_LOG)
    interrupt_after(argv(data, tiny_model), steps=2)
    checkpoint = data / "round" / ".checkpoints" / "last.safetensors"
    saved = checkpoint.read_bytes()

    assert main(argv(data, tiny_model, "img_flip", "lab_flip")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"unet-studio: error: {data / 'round'}: holds an unfinished training run on "
                   "other data or settings; run the same command as then to resume it, pass "
                   "--overwrite to discard it and start afresh, or choose another -o folder"]
    assert checkpoint.read_bytes() == saved  # refused: the unfinished run is kept

    assert main(argv(data, tiny_model)) == 0
    assert "resuming at step 2" in caplog.text
    assert (data / "round" / "config.json").exists()


@pytest.mark.slow
def test_overwrite_discards_an_unfinished_run_on_other_data(data, tiny_model, caplog):
    caplog.set_level(logging.INFO, logger=SESSION_LOG)
    interrupt_after(argv(data, tiny_model), steps=2)
    assert main(argv(data, tiny_model, "img_flip", "lab_flip", "--overwrite")) == 0
    assert "starting afresh" in caplog.text and "resuming" not in caplog.text


def digest_of(array) -> str:
    digest = hashlib.blake2b(digest_size=16)
    harvest_module._hash_array(digest, array)
    return digest.hexdigest()


def test_the_data_hash_sees_content_not_layout(monkeypatch):
    monkeypatch.setattr(harvest_module, "HASH_CHUNK_BYTES", 1000)  # many chunks, tiny data
    stack = np.random.default_rng(0).random((3, 40, 50)).astype(np.float32)
    strided = stack.transpose(2, 1, 0)  # not contiguous: hashed a piece at a time
    assert digest_of(strided) == digest_of(np.ascontiguousarray(strided))
    assert digest_of(stack[:, ::-1]) != digest_of(stack)  # same size, other pixels
    assert digest_of(stack.view(np.int32)) != digest_of(stack)  # same bytes, other dtype
