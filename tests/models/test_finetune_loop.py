"""The fine-tuning loop on real pixels with tiny registry networks: it learns, cancels,
resumes, survives a kill mid-save, freezes the encoder, and handles 3D and deep supervision."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tifffile
import torch

from unet_studio.models import files
from unet_studio.models.files import TEMP_PREFIX
from unet_studio.models.registry import build_model
from unet_studio.models.task import TaskSpec
from unet_studio.models.training import (
    FinetuneConfig,
    TrainingExample,
    finetune,
    iter_finetune,
    load_weights,
)
from unet_studio.models.training import checkpoint as ckpt
from unet_studio.models.training.harvest import PatchSampler, harvest
from unet_studio.models.training.lineage import lineage_metadata
from unet_studio.models.training.losses import weighted_ce_dice

QUICK = dict(max_seconds=None, batch_size=2, patch_size=48, val_every=5, device="cpu",
             checkpoint_seconds=0.0, warmup_steps=3)


@pytest.fixture(scope="module")
def frames(test_data_dir):
    image = tifffile.imread(test_data_dir / "train_img.tif")
    labels = tifffile.imread(test_data_dir / "train_labels.tif").astype(np.int32)
    return image, labels


@pytest.fixture(scope="module")
def example(frames):
    image, labels = frames
    return TrainingExample(image[0, :96, :96], labels[0, :96, :96], name="hela t0")


def tiny_unet(**options):
    torch.manual_seed(0)
    return build_model("unet", **{"base_channels": 4, "depth": 2, **options})


def _fixed_batch_loss(net, example, config):
    """Loss of ``net`` on the same 8 un-augmented training patches every time."""
    data = harvest([example], spatial_dims=2, in_channels=1, task=TaskSpec(), config=config,
                   patch_shape=(48, 48), rng=np.random.default_rng(0))
    sampler = PatchSampler(data, (48, 48), replay_fraction=0, focus_changed=0,
                           rng=np.random.default_rng(9))
    image, target, weight = (torch.from_numpy(a) for a in sampler.sample(8))
    net.eval()
    with torch.no_grad():
        return float(weighted_ce_dice(net(image), target, weight))


def test_a_short_finetune_lowers_the_loss(example):
    net = tiny_unet()
    config = FinetuneConfig(**{**QUICK, "max_steps": 40, "val_every": 20,
                                "learning_rate": 3e-3})
    before = _fixed_batch_loss(net, example, config)
    steps = []
    generator = iter_finetune(net, [example], config)
    while True:
        try:
            steps.append(next(generator))
        except StopIteration as stop:
            result = stop.value
            break
    after = _fixed_batch_loss(result.net, example, config)
    assert result.net is net and result.steps == 40 and result.stopped == "max_steps"
    assert after < 0.85 * before
    assert [p.step for p in steps[:3]] == [1, 2, 3]
    assert steps[-1].fraction == 1.0 and steps[-1].validated
    assert result.metrics_after["val_loss"] < result.metrics_before["val_loss"]
    assert result.best_step > 0
    assert {"f1_50", "ap_75", "mean_matched_iou"} <= set(result.metrics_after)
    lrs = [p.lr for p in steps]
    assert lrs[0] < lrs[3] and lrs[-1] < lrs[10]  # warm-up, then decay
    assert result.summary()["data"]["reviewed_pixels"] == 96 * 96
    meta = lineage_metadata(result, name="round 1", parent={"ref": "user:base", "name": "base"},
                            data_files=["a.tif"], date="2025-01-02T03:04:05+00:00")
    assert meta["parent"]["ref"] == "user:base" and meta["date"].startswith("2025-01-02")
    assert meta["metrics"]["f1_50"] == round(result.metrics_after["f1_50"], 4)
    assert meta["finetune"]["steps"] == 40 and meta["training_data"]["files"] == ["a.tif"]
    assert "| F1, IoU 0.5 |" in meta["card"] and json.loads(json.dumps(meta)) == meta


def _run_until(generator, step):
    for progress in generator:
        if progress.step == step:
            generator.close()
            return progress


def test_cancel_keeps_the_best_and_resume_continues_exactly(example, tmp_path):
    config = FinetuneConfig(**{**QUICK, "max_steps": 16})
    net = tiny_unet()
    _run_until(iter_finetune(net, [example], config, checkpoint_dir=tmp_path / "a"), 8)
    best_doc = ckpt.load_checkpoint(tmp_path / "a" / ckpt.BEST)[1]
    _, last_doc = ckpt.load_checkpoint(tmp_path / "a" / ckpt.LAST)
    assert last_doc["step"] == 8 and best_doc["step"] in (0, 5)
    fresh = tiny_unet()
    load_weights(tmp_path / "a" / ckpt.BEST, fresh)
    for name, value in fresh.state_dict().items():  # the cancelled net holds the best weights
        assert torch.equal(value, net.state_dict()[name])

    resumed = iter_finetune(tiny_unet(), [example], config, checkpoint_dir=tmp_path / "a")
    assert next(resumed).step == 9
    result = finetune(tiny_unet(), [example], config, checkpoint_dir=tmp_path / "b")
    for _ in resumed:
        pass
    assert [h["step"] for h in result.history][:3] == [1, 2, 3]
    interrupted = ckpt.load_checkpoint(tmp_path / "a" / ckpt.LAST)
    straight = ckpt.load_checkpoint(tmp_path / "b" / ckpt.LAST)
    assert interrupted[1]["step"] == straight[1]["step"] == 16
    for name, value in straight[0].items():
        if name.startswith("model."):
            assert torch.allclose(interrupted[0][name].float(), value.float(), atol=1e-6), name


def test_ctrl_c_in_a_step_keeps_the_steps_done(example, tmp_path, monkeypatch):
    """Ctrl-C (or SIGTERM, raised as it) inside a step: the steps done are saved, so a rerun
    goes on from there rather than from the last checkpoint of the cadence."""
    from unet_studio.models.training.session import Session

    config = FinetuneConfig(**{**QUICK, "max_steps": 16, "val_every": 100})
    step = Session.train_step
    calls = []

    def interrupted(self, lr):
        calls.append(lr)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return step(self, lr)

    monkeypatch.setattr(Session, "train_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        finetune(tiny_unet(), [example], config, checkpoint_dir=tmp_path)
    assert ckpt.load_checkpoint(tmp_path / ckpt.LAST)[1]["step"] == 5
    monkeypatch.setattr(Session, "train_step", step)
    assert next(iter_finetune(tiny_unet(), [example], config, checkpoint_dir=tmp_path)).step == 6


def test_resume_refuses_a_checkpoint_of_another_run(example, tmp_path):
    config = FinetuneConfig(**{**QUICK, "max_steps": 2})
    finetune(tiny_unet(), [example], config, checkpoint_dir=tmp_path)
    other = FinetuneConfig(**{**QUICK, "max_steps": 4, "learning_rate": 1e-2})
    with pytest.raises(ValueError, match="other settings"):
        finetune(tiny_unet(), [example], other, checkpoint_dir=tmp_path)
    longer = FinetuneConfig(**{**QUICK, "max_steps": 4})  # a bigger budget is fine
    assert finetune(tiny_unet(), [example], longer, checkpoint_dir=tmp_path).steps == 4
    restarted = finetune(tiny_unet(), [example], other, checkpoint_dir=tmp_path,
                         stale_checkpoint="restart")  # what the Train panel asks for
    assert [h["step"] for h in restarted.history][0] == 1 and restarted.steps == 4
    assert ckpt.load_checkpoint(tmp_path / ckpt.LAST)[1]["config"]["learning_rate"] == 1e-2


def test_a_failed_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    net = tiny_unet()
    path = tmp_path / "last.safetensors"
    ckpt.save_checkpoint(path, net.state_dict(), {"round": 1})

    def fail(_fd):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        ckpt.save_checkpoint(path, tiny_unet(base_channels=8).state_dict(), {"round": 2})
    assert ckpt.load_checkpoint(path)[1]["round"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.safetensors"]


CHILD = textwrap.dedent("""
    import sys, torch
    from unet_studio.models.training.checkpoint import save_checkpoint
    path, weights = sys.argv[1], {"w": torch.randn(6_000_000)}
    for index in range(1_000_000):
        save_checkpoint(path, weights, {"index": index})
        print(index, flush=True)
""")


@pytest.mark.slow
def test_a_kill_during_saving_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "last.safetensors"
    caught_mid_write = False
    for _attempt in range(3):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)],
                                 stdout=subprocess.PIPE, text=True)
        child.stdout.readline()  # one complete checkpoint exists
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(tmp_path.glob(f"{TEMP_PREFIX}*")):
            time.sleep(0.001)  # wait until the next save is under way
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        caught_mid_write |= any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir())
        tensors, document = ckpt.load_checkpoint(path)
        assert tensors["model.w"].shape == (6_000_000,) and document["index"] >= 0
        if caught_mid_write:
            break
    assert caught_mid_write, "never killed the writer mid-save; the test proved nothing"
    ckpt.save_checkpoint(path, {"w": torch.zeros(2)}, {"index": -1})  # clears stale temps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.safetensors"]


def test_decoder_only_freezes_the_encoder(example):
    net = tiny_unet()
    encoder_before = {k: v.clone() for k, v in net.encoder.state_dict().items()}
    decoder_before = {k: v.clone() for k, v in net.decoder.state_dict().items()}
    # (nothing held out: the last weights are kept, not the starting ones that 3 steps do
    # not beat beyond ``ranking``'s margins)
    finetune(net, [example], FinetuneConfig(**{**QUICK, "max_steps": 3, "val_fraction": 0.0,
                                                "train_layers": "decoder"}))
    for name, value in net.encoder.state_dict().items():
        assert torch.equal(value, encoder_before[name]), name  # weights and BN statistics
    assert any(not torch.equal(v, decoder_before[k]) for k, v in net.decoder.state_dict().items())


@pytest.mark.parametrize("options", [{"deep_supervision": True}, {"padding": "valid"}],
                         ids=["deep_supervision", "valid_padding"])
def test_deep_supervision_and_valid_padding_networks_train(example, options):
    net = tiny_unet(**options)
    result = finetune(net, [example], FinetuneConfig(**{**QUICK, "max_steps": 5,
                                                        "val_fraction": 0.3}))
    assert np.isfinite([h["loss"] for h in result.history]).all()
    assert np.isfinite(result.metrics_after["val_loss"])


def test_a_3d_network_trains_on_a_stack(frames):
    image, labels = frames
    stack = np.stack([image[0, :32, :32]] * 8)
    stack_labels = np.stack([labels[0, :32, :32]] * 8)
    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=3, base_channels=2, depth=1)
    result = finetune(net, [TrainingExample(stack, stack_labels)],
                      FinetuneConfig(**{**QUICK, "max_steps": 2, "patch_size": (8, 32, 32)}))
    assert result.extra["patch_shape"] == [8, 32, 32] and result.steps == 2


def test_a_semantic_binary_model(example):
    torch.manual_seed(0)
    net = build_model("unet", base_channels=4, depth=2, out_channels=1)
    task = TaskSpec(kind="semantic", class_names=("nucleus",))
    result = finetune(net, [example], FinetuneConfig(**{**QUICK, "max_steps": 5}), task=task)
    assert 0.0 <= result.metrics_after["val_metric"] <= 1.0


def test_a_time_budget_stops_the_run(example):
    """The budget is the whole round's (scorings included): it ends within it, give or
    take a loaded machine (tests/models/test_time_budget.py times it closely)."""
    config = FinetuneConfig(**{**QUICK, "max_seconds": 0.6})
    start = time.monotonic()
    result = finetune(tiny_unet(), [example], config)
    wall = time.monotonic() - start
    assert result.stopped == "max_seconds" and result.steps >= 1
    assert result.elapsed <= wall < 1.3 * 0.6 + 2


def test_time_spent_paused_between_steps_does_not_count(example):
    config = FinetuneConfig(**{**QUICK, "max_seconds": 1.5})
    generator = iter_finetune(tiny_unet(), [example], config)
    start = time.monotonic()
    seen = []
    for progress in generator:
        seen.append(progress)
        if len(seen) == 3:
            break
        time.sleep(0.8)  # the consumer holds the progress (a paused GUI)
    generator.close()
    assert len(seen) == 3 and time.monotonic() - start > 1.5
    assert seen[-1].elapsed < 1.5 and seen[-1].fraction < 1


def test_config_is_checked_and_round_trips():
    with pytest.raises(ValueError, match="at least one"):
        FinetuneConfig(max_seconds=None)
    with pytest.raises(ValueError, match="train_layers"):
        FinetuneConfig(train_layers="encoder")
    with pytest.raises(ValueError, match="patch_size"):
        FinetuneConfig(patch_size=(4, 64))
    with pytest.raises(ValueError, match="focus_changed \\+ focus_objects"):
        FinetuneConfig(focus_changed=0.5, focus_objects=0.6)
    config = FinetuneConfig(epochs=3, patch_size=(32, 64))
    assert FinetuneConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown"):
        FinetuneConfig.from_dict({"epoch": 3})
    with pytest.raises(ValueError, match="output channels"):
        finetune(build_model("unet", base_channels=4, depth=1, out_channels=2),
                 [TrainingExample(np.zeros((16, 16)), np.zeros((16, 16), int))],
                 FinetuneConfig(max_steps=1), task=TaskSpec())


def test_without_held_out_data_no_step_claims_a_validation(example):
    config = FinetuneConfig(**{**QUICK, "max_steps": 5, "val_fraction": 0.0})
    steps = list(iter_finetune(tiny_unet(), [example], config))
    assert len(steps) == 5
    assert not any(step.validated for step in steps)
    assert all(step.val_loss is None for step in steps)


def test_zoom_augmentation_trains_and_repeats_with_a_seed(example):
    from unet_studio.models.training import AugmentConfig

    augment = AugmentConfig(zoom_probability=1.0, zoom_range=(0.5, 2.0))
    config = FinetuneConfig(**{**QUICK, "max_steps": 2, "val_fraction": 0.0,
                               "augment": augment})
    first = finetune(tiny_unet(), [example], config)
    second = finetune(tiny_unet(), [example], config)
    assert np.isfinite([h["loss"] for h in first.history]).all()
    assert [h["loss"] for h in first.history] == [h["loss"] for h in second.history]
    plain = finetune(tiny_unet(), [example], FinetuneConfig(**{**QUICK, "max_steps": 2,
                                                               "val_fraction": 0.0}))
    assert [h["loss"] for h in plain.history] != [h["loss"] for h in first.history]


CRASHING_RUN = textwrap.dedent("""
    import sys, numpy as np, tifffile, torch
    from unet_studio.models.registry import build_model
    from unet_studio.models.training import FinetuneConfig, TrainingExample, iter_finetune
    folder, data, out = sys.argv[1:4]
    image = tifffile.imread(data + "/train_img.tif")[0, :96, :96]
    labels = tifffile.imread(data + "/train_labels.tif")[0, :96, :96].astype(np.int32)
    torch.manual_seed(0)
    net = build_model("unet", base_channels=4, depth=2)
    config = FinetuneConfig(**eval(out))
    for progress in iter_finetune(net, [TrainingExample(image, labels)], config,
                                  checkpoint_dir=folder):
        print(progress.step, flush=True)
""")


@pytest.mark.slow
def test_after_a_crash_training_resumes_from_the_last_checkpoint(example, tmp_path,
                                                                  test_data_dir):
    options = {**QUICK, "max_steps": 10_000, "val_every": 2, "val_fraction": 0.0}
    child = subprocess.Popen([sys.executable, "-c", CRASHING_RUN, str(tmp_path),
                              str(test_data_dir), repr(options)], stdout=subprocess.PIPE,
                             text=True)
    for line in child.stdout:
        if int(line) >= 5:  # checkpoints were written at steps 2 and 4
            break
    os.kill(child.pid, signal.SIGKILL)  # no cleanup, no final save: a crash
    child.wait()
    _, document = ckpt.load_checkpoint(tmp_path / ckpt.LAST)
    saved = document["step"]
    assert saved >= 4 and saved % 2 == 0
    config = FinetuneConfig(**{**options, "max_steps": saved + 3})
    resumed = iter_finetune(tiny_unet(), [example], config, checkpoint_dir=tmp_path)
    assert next(resumed).step == saved + 1
    for _ in resumed:
        pass
    assert ckpt.load_checkpoint(tmp_path / ckpt.LAST)[1]["step"] == saved + 3


def _gradient_norm(net) -> float:
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g)
                                                       for g in grads])))


def test_gradients_are_clipped_and_norms_and_biases_skip_weight_decay(example):
    from unet_studio.models.training.session import Session

    norms = {}
    for clip in (0.0, 0.01):
        config = FinetuneConfig(**{**QUICK, "max_steps": 1, "grad_clip": clip,
                                   "val_fraction": 0.0, "augment": None})
        session = Session(tiny_unet(), [example], config)
        session.train_step(1e-3)
        norms[clip] = _gradient_norm(session.net)  # the gradients the step used
    assert norms[0.0] > 0.05 and norms[0.01] <= 0.01 * 1.001
    decay, no_decay = session.optimizer.param_groups
    assert decay["weight_decay"] == config.weight_decay and no_decay["weight_decay"] == 0.0
    assert all(p.ndim > 1 for p in decay["params"]) and all(p.ndim <= 1
                                                            for p in no_decay["params"])
    norm_weights = {id(m.weight) for m in session.net.modules()
                    if isinstance(m, torch.nn.BatchNorm2d)}
    assert norm_weights <= {id(p) for p in no_decay["params"]}


def test_2d_examples_for_a_3d_network_are_refused_naming_them():
    """A 3D network cannot learn from a 2D image: said, naming it (it failed with an
    IndexError deep in the patch sampler)."""
    labels = np.zeros((24, 24), np.int32)
    labels[4:12, 4:12] = 1
    plane = TrainingExample(np.random.default_rng(0).random((24, 24), dtype=np.float32), labels,
                            name="plane")
    net = build_model("unet", spatial_dims=3, base_channels=4, depth=2)
    with pytest.raises(ValueError, match="plane: 2D labels cannot train a 3D network"):
        finetune(net, [plane], FinetuneConfig(max_steps=1, patch_size=16, batch_size=1))


def test_a_held_out_score_tie_is_broken_by_the_held_out_loss(example):
    """Weights chosen by their held-out score: on images new to a model its F1 stays 0 for
    many steps while the loss falls, and those steps are better, not "no better than the
    start" (a round's model was then a copy of its parent). A worse loss at an equal
    score, or a lower score, is no better."""
    from unet_studio.models.training.session import Session

    config = FinetuneConfig(**{**QUICK, "max_steps": 6, "select_best_by": "val_metric"})
    session = Session(tiny_unet(), [example], config)
    assert session.track_best({"val_metric": 0.0, "val_loss": 2.0})  # (the starting weights)
    session.step = 3
    assert session.track_best({"val_metric": 0.0, "val_loss": 1.5}) and session.best_step == 3
    session.step = 6
    assert not session.track_best({"val_metric": 0.0, "val_loss": 1.7})
    assert not session.track_best({"val_metric": -0.05, "val_loss": 0.1})
    assert session.track_best({"val_metric": 0.2, "val_loss": 1.9}) and session.best_step == 6
    assert session.best_metrics == {"val_metric": 0.2, "val_loss": 1.9}
    # Objects scored, F1 at IoU 0.5 tied: outlines drawn worse (F1 at 0.75) lose, even
    # with a lower loss; drawn better, they win with a higher one.
    session.track_best({"val_metric": 0.8, "f1_75": 0.8, "val_loss": 1.0})
    session.step = 9
    assert not session.track_best({"val_metric": 0.8, "f1_75": 0.7, "val_loss": 0.5})
    assert session.track_best({"val_metric": 0.8, "f1_75": 0.9, "val_loss": 1.2})
    assert session.best_step == 9 and session.best_value == -0.8


def test_a_resumed_round_may_get_its_time_budget_anew(example, tmp_path):
    """A round stopped after some seconds and trained again for a budget shorter than what
    it used: by default the budget is the whole round's (nothing left: it ends at once);
    ``more_time_on_resume`` (the Train panel) gives it that budget more."""
    import time as clock

    config = FinetuneConfig(**{**QUICK, "max_seconds": 600.0})
    generator = iter_finetune(tiny_unet(), [example], config, checkpoint_dir=tmp_path / "a")
    for progress in generator:
        if progress.step >= 3 and progress.elapsed > 2.0:
            generator.close()
            break
        clock.sleep(0.3)  # (a slow round: its seconds used are what matters here)
    used, steps = progress.elapsed, progress.step
    shorter = FinetuneConfig(**{**QUICK, "max_seconds": 2.0})
    for flag, more in ((False, False), (True, True)):
        import shutil

        folder = tmp_path / f"resume-{flag}"
        shutil.copytree(tmp_path / "a", folder)
        result = finetune(tiny_unet(), [example], shorter, checkpoint_dir=folder,
                          more_time_on_resume=flag)
        assert result.stopped == "max_seconds"
        assert (result.steps > steps + 1) is more, (flag, result.steps, steps, used)


def test_a_stale_checkpoint_can_hand_its_weights_to_a_new_run(example, frames, tmp_path,
                                                              monkeypatch):
    """``stale_checkpoint="weights"`` (a network trained from scratch in short rounds while
    the user annotates more): a run on other data starts from the stale run's weights, a new
    run all the same (step 1); with "restart" from the network's own."""
    from unet_studio.models.training.session import Session

    finetune(tiny_unet(), [example], FinetuneConfig(**{**QUICK, "max_steps": 2}),
             checkpoint_dir=tmp_path)
    reached = ckpt.model_state(ckpt.load_checkpoint(tmp_path / ckpt.LAST)[0])
    image, labels = frames
    grown = [example, TrainingExample(image[1, :96, :96], labels[1, :96, :96], name="hela t1")]
    first_weights = []
    step = Session.train_step

    def watched(self, lr):
        if not first_weights:
            first_weights.append({k: v.detach().clone() for k, v in self.net.state_dict().items()})
        return step(self, lr)

    monkeypatch.setattr(Session, "train_step", watched)
    config = FinetuneConfig(**{**QUICK, "max_steps": 1})
    result = finetune(tiny_unet(), grown, config, checkpoint_dir=tmp_path, stale_checkpoint="weights")
    assert [h["step"] for h in result.history][0] == 1 and result.extra["carried_steps"] == 2
    assert all(torch.equal(first_weights[0][k], reached[k]) for k in reached)
    first_weights.clear()
    fresh = tiny_unet()
    own = {k: v.clone() for k, v in fresh.state_dict().items()}
    finetune(fresh, [example], config, checkpoint_dir=tmp_path, stale_checkpoint="restart")
    assert all(torch.equal(first_weights[0][k], own[k]) for k in own)
