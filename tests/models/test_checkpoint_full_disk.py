"""A checkpoint the disk refuses (full, read-only) does not end a fine-tuning round: training
goes on in memory, the problem is said once naming the folder, no half-written file or empty
folder is left, later saves try again, and a resume reads a consistent best."""

import errno
import logging
import pathlib

import numpy as np
import pytest
import tifffile
import torch

from unet_studio.models.files import TEMP_PREFIX
from unet_studio.models.registry import build_model
from unet_studio.models.training import FinetuneConfig, TrainingExample, finetune, iter_finetune
from unet_studio.models.training import checkpoint as ckpt

QUICK = dict(max_seconds=None, batch_size=2, patch_size=48, val_every=5, device="cpu",
             checkpoint_seconds=0.0, warmup_steps=3, max_steps=10)
CHECKPOINT_LOG = "unet_studio.models.training.session_checkpoints"


@pytest.fixture(scope="module")
def example(test_data_dir):
    image = tifffile.imread(test_data_dir / "train_img.tif")
    labels = tifffile.imread(test_data_dir / "train_labels.tif").astype(np.int32)
    return TrainingExample(image[0, :96, :96], labels[0, :96, :96], name="hela t0")


def tiny_unet():
    torch.manual_seed(0)
    return build_model("unet", base_channels=4, depth=2)


@pytest.fixture
def full_disk(monkeypatch):
    """``refuse(folder, code, writes=None)``: file writes in ``folder`` fail as the disk does
    (half the bytes land in the temp file, then OSError ``code``); only the write numbers in
    ``writes`` (counted from 0) when given. Returns the list of refused temp paths."""
    real = pathlib.Path.write_bytes

    def refuse(folder, code=errno.ENOSPC, writes=None):
        refused, count = [], [0]

        def write_bytes(self, data):
            if self.parent != folder or not self.name.startswith(TEMP_PREFIX):
                return real(self, data)
            number, count[0] = count[0], count[0] + 1
            if writes is not None and number not in writes:
                return real(self, data)
            real(self, bytes(data)[: len(data) // 2])
            refused.append(self)
            raise OSError(code, "No space left on device" if code == errno.ENOSPC
                          else "Read-only file system")

        monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)
        return refused

    return refuse


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_round_whose_checkpoints_cannot_be_written_ends_normally(example, tmp_path, full_disk,
                                                                   caplog, code):
    folder = tmp_path / "project" / "training" / "from-tiny"
    refused = full_disk(folder, code)
    caplog.set_level(logging.DEBUG, logger=CHECKPOINT_LOG)
    result = finetune(tiny_unet(), [example], FinetuneConfig(**QUICK), checkpoint_dir=folder)
    assert result.steps == 10 and len(refused) >= 3  # (every save tried: steps 5, 10, the end)
    problem = result.extra["checkpoint_problem"]
    assert str(folder) in problem and ("no space left" in problem or "read-only" in problem)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [problem]  # said once, not at every save
    # (no half-written temp file, and no empty folder made for the checkpoints)
    assert not any(path.exists() for path in refused)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_disk_that_fills_and_frees_keeps_the_round_resumable(example, tmp_path, full_disk):
    """The first save (step 5: best and last) is written, the next one (step 10: its best
    first) is refused, the last one (the round's end) goes through again."""
    refused = full_disk(tmp_path, writes={2})
    config = FinetuneConfig(**QUICK)
    result = finetune(tiny_unet(), [example], config, checkpoint_dir=tmp_path)
    assert result.steps == 10 and len(refused) == 1 and "checkpoint_problem" in result.extra
    assert ckpt.load_checkpoint(tmp_path / ckpt.LAST)[1]["step"] == 10  # (written again)
    assert sorted(p.name for p in tmp_path.iterdir()) == [ckpt.BEST, ckpt.LAST]


def test_a_best_written_after_the_last_checkpoint_is_read_with_its_own_metrics(example, tmp_path):
    """On a disk that filled between the two files of a save, ``best`` holds newer weights
    than ``last`` knows of: a resumed round keeps them with their own step and metrics, not
    with those ``last`` recorded (the result claimed scores its weights never had)."""
    config = FinetuneConfig(**QUICK)
    run = iter_finetune(tiny_unet(), [example], config, checkpoint_dir=tmp_path)
    for progress in run:
        if progress.step == 8:
            run.close()
    _, last_doc = ckpt.load_checkpoint(tmp_path / ckpt.LAST)
    best_tensors, best_doc = ckpt.load_checkpoint(tmp_path / ckpt.BEST)
    newer = {k: v + 0.01 if v.is_floating_point() else v
             for k, v in ckpt.model_state(best_tensors).items()}
    metrics = {k: 0.0 if k == "val_loss" else 1.0 for k in last_doc["best_metrics"]}
    ckpt.save_checkpoint(tmp_path / ckpt.BEST, newer, dict(best_doc, step=7, metrics=metrics))
    net = tiny_unet()
    result = finetune(net, [example], config, checkpoint_dir=tmp_path)
    assert (result.best_step, result.metrics_after) == (7, metrics)
    for name, value in net.state_dict().items():
        assert torch.equal(value, newer[name]), name


def test_a_refused_checkpoint_leaves_no_folder_it_made(tmp_path, full_disk):
    """The CLI's ``-o OUT`` on a full disk: ``OUT/.checkpoints`` was left behind, empty."""
    output = tmp_path / "model"
    folder = output / ".checkpoints"
    full_disk(folder)
    with pytest.raises(OSError) as raised:
        ckpt.save_checkpoint(folder / ckpt.LAST, tiny_unet().state_dict(), {"step": 1})
    assert raised.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []
