"""A Train round whose checkpoints the disk refuses (full, read-only) goes on in memory: the
panel says so while it runs and at its end, Save at close keeps the network from memory,
and a round from an untrained network never claims that steps it could not write are kept."""


import pytest

pytestmark = pytest.mark.qt


def _statuses(panel, monkeypatch) -> list[str]:
    """Every text the panel's status is given, in order."""
    said, real = [], panel.status.setText
    monkeypatch.setattr(panel.status, "setText", lambda text: said.append(text) or real(text))
    return said


def test_the_panel_says_while_it_runs_and_at_its_end(train, refuse_checkpoints, told, qtbot,
                                                     monkeypatch, fail_model_writes, quick_round):
    fail_model_writes()
    said = _statuses(train, monkeypatch)
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(val_every=1))
    folder = str(train.round.checkpoint_dir)
    warnings = [text for level, text in told if level == "warning" and "checkpoint" in text]
    assert len(warnings) == 1 and folder in warnings[0]  # (once, naming where and why)
    assert "no space left on device" in warnings[0]
    steps = [text for text in said if text.startswith("Step ")]
    assert steps and all("the training is kept in memory" in text for text in steps[1:])
    assert "model is saved at the end when there is room" in steps[-1]
    end = train.status.text()
    assert "could not be saved" in end and "Its checkpoints could not be written either" in end
    assert folder in end and "kept in memory only" in end and "Accept saves it again" in end


def test_save_at_close_keeps_the_network_held_only_in_memory(train, refuse_checkpoints, qtbot,
                                                            quick_round):
    from unet_studio.models.weights import load_model

    steps, answered = [], []
    train.start(config=quick_round(max_steps=100_000, max_seconds=120.0, val_every=2))
    train.worker.yielded.connect(lambda p: hasattr(p, "step") and steps.append(p.step))
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=60_000)
    assert refuse_checkpoints and not any(train.round.checkpoint_dir.glob("*.safetensors"))
    train.save_unsaved(answered.append)  # (the close question's Save)
    qtbot.waitUntil(lambda: bool(answered), timeout=60_000)
    assert answered == [True] and train.round.saved is not None
    qtbot.waitUntil(lambda: train.worker is None, timeout=10_000)
    meta = load_model(train.round.saved).metadata
    assert meta["finetune"]["stopped"] == "the window was closed"
    assert meta["finetune"]["steps"] >= 3 and "val_loss" in meta["metrics_before"]


def test_an_untrained_round_does_not_claim_steps_it_could_not_keep(train, refuse_checkpoints,
                                                                  qtbot, tmp_path, quick_round):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    train.session.set_model(str(save_model(net, tmp_path / "scratch",
                                           metadata={"name": "scratch", "untrained": True})))
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:  # (steps that beat nothing)
        train.start(config=quick_round(max_steps=3, learning_rate=10.0))
    assert blocker.args[0].best_step == 0 and refuse_checkpoints
    text = train.status.text()
    assert "the training is kept" not in text and "so far" not in text
    assert "its steps could not be kept" in text and str(train.round.checkpoint_dir) in text
    assert "the next round starts from random weights again" in text


def test_a_round_whose_checkpoints_fail_waits_for_accept(train, refuse_checkpoints, qtbot,
                                                         fail_model_writes, quick_round):
    """(It failed on its first checkpoint with "Fine-tuning failed: OSError: [Errno 28] No
    space left on device", the training lost.)"""
    fail_model_writes()
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    assert refuse_checkpoints and train.round.result is not None and train.round.result.steps == 3
    assert "could not be saved" in train.status.text()
    assert train.accept_button.isEnabled() and train.reject_button.isEnabled()
