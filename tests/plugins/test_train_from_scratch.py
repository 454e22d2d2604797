"""Training a network built untrained (random weights) in short rounds, as on a CPU laptop:
a round that beat nothing yet keeps its steps and the next one goes on from them; the panel
says "train", not "fine-tune"; the verdict never calls a clearly better model untrained."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def scratch_train(corrected, qtbot, tmp_path):
    """A Train panel over reviewed data, with a tiny untrained network (marked so, as the
    Models panel's builder marks a new one) as the current model."""
    import torch

    from unet_studio.app.qt.train_panel import TrainPanel
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = TrainPanel(session)
    qtbot.addWidget(panel)
    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    session.set_model(str(save_model(net, tmp_path / "scratch",
                                     metadata={"name": "scratch", "untrained": True})))
    return panel


def test_short_rounds_from_an_untrained_network_add_up(scratch_train, qtbot, quick_round):
    """Two rounds whose steps beat none of the random starting weights (a learning rate
    that wrecks them): no model either time, but the second goes on from the first's
    steps (each started from random weights again, and their steps were lost)."""
    train = scratch_train
    session = train.session
    assert train.status.text() == "Ready to train scratch (untrained: random weights)."
    assert train.train_button.text() == "Train on reviewed corrections"
    models = sorted(session.project.models_dir.iterdir())
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round(max_steps=3, learning_rate=10.0))
        assert train.status.text().startswith("Training scratch on ")
    first = blocker.args[0]
    assert first.best_step == 0 and first.steps == 3
    text = train.status.text()
    assert "no step beat the random starting weights of scratch" in text
    assert "no model was made, but the training is kept: 3 steps so far" in text
    assert "Train again to go on from there" in text
    assert not train.accept_button.isEnabled() and train.train_button.isEnabled()
    assert train.round.checkpoint_dir.is_dir()  # (what the next round goes on from)

    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round(max_steps=3, learning_rate=10.0))
    second = blocker.args[0]
    assert train.round.resumed_at == 3 and second.steps == 6  # (3 more, from step 3)
    assert "Finished after 6 steps, resumed at step 3" in train.status.text()
    assert "6 steps so far" in train.status.text()
    assert sorted(session.project.models_dir.iterdir()) == models  # (no copy of the parent)
    assert session.model.name == "scratch"

    # More corrections (other data): a new round, from the weights the 6 steps reached.
    session.ensure_reviewed().mark_region((slice(9, 12), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round(max_steps=3, learning_rate=10.0))
    third = blocker.args[0]
    assert train.round.resumed_at == 0 and third.steps == 3
    assert third.extra["carried_steps"] == 6


def test_a_kept_round_after_new_corrections_counts_the_steps_carried():
    """A round on new corrections that started from earlier rounds' weights and beat them
    not yet: its verdict counts those steps too (it read as if they were lost)."""
    from unet_studio.app.qt.train_logic import scratch_kept_text

    result = SimpleNamespace(steps=21, stopped="max_seconds", history=[],
                             extra={"carried_steps": 22})
    text = scratch_kept_text(result, "scratch")
    assert "Finished after 21 steps, from the weights earlier rounds reached in 22 steps (" in text
    assert "the training is kept: 43 steps so far" in text


def test_the_verdict_of_a_round_from_scratch_without_a_clear_gain(scratch_train, qtbot, quick_round):
    """A round that beat the random weights (by its held-out loss) without its score rising
    clearly: still essentially untrained, and the bundled model is offered only for the
    images it was made for."""
    train = scratch_train
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round())
    result = blocker.args[0]
    assert result.best_step > 0 and train.round.saved is not None
    before, after = result.metrics_before, result.metrics_after
    assert after.get("val_metric", 0.0) - before.get("val_metric", 0.0) < 0.2  # (no clear gain)
    text = train.status.text()
    assert "the new model is still essentially untrained (its held-out score did not rise " \
           "clearly)" in text, text
    assert "whatever the held-out figures say" not in text
    assert "if your images are fluorescent nuclei, fine-tune the bundled 2D model" in text


def test_a_clear_held_out_gain_is_not_called_untrained():
    """F1 0.000 -> 0.533 on 4 held-out objects after 243 steps from random weights (a
    model that then found 15 of 17 cells in a frame it never saw): not "essentially
    untrained, whatever the held-out figures say", nor advised to give way to the bundled
    fluorescence-nuclei model."""
    from unet_studio.app.qt.train_pace import short_round_note

    parent = SimpleNamespace(name="ecoli-scratch", metadata={"untrained": True})
    clear = SimpleNamespace(steps=243, metrics_before={"val_metric": 0.0, "n_true": 4},
                            metrics_after={"val_metric": 0.533, "n_true": 4})
    note = short_round_note(clear, parent, pace=2.0)
    assert "after 243 steps the new model scores clearly better on the held-out data" in note
    assert "untrained (" not in note.replace("was untrained (random weights)", "")
    assert "bundled" not in note and "train it again" in note
    # The same gain over 2 objects (one found moves F1 by 0.5) is no clear gain.
    few = SimpleNamespace(steps=243, metrics_before={"val_metric": 0.0, "n_true": 2},
                          metrics_after={"val_metric": 0.5, "n_true": 2})
    assert "still essentially untrained" in short_round_note(few, parent, pace=2.0)
