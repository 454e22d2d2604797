"""Train panel: a real (short) fine-tune of a tiny network in a worker thread, live plot,
before/after metrics, accept with re-prediction, rollback, pause and cancel."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt

pytestmark = pytest.mark.qt


def _config(**overrides):
    from unet_studio.models.training import FinetuneConfig

    options = dict(max_seconds=None, max_steps=6, val_every=3, batch_size=2, patch_size=32,
                   augment=None, val_fraction=0.3, checkpoint_seconds=0.0)
    options.update(overrides)
    return FinetuneConfig(**options)


@pytest.fixture
def panels(corrected, qtbot):
    from unet_studio.app.qt.segment_panel import SegmentPanel
    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    train, segment = TrainPanel(session), SegmentPanel(session)
    qtbot.addWidget(train)
    qtbot.addWidget(segment)
    return train, segment


def test_finetune_accept_repredict_and_roll_back(corrected, panels, qtbot):
    train, segment = panels
    session = corrected.session
    parent = session.model
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=_config())
        assert not train.train_button.isEnabled() and train.cancel_button.isEnabled()
    result = blocker.args[0]
    assert result.steps == 6
    assert len(train.plot.series["train loss"]) == 6 and train.plot.series["val loss"]
    before, after = train.metrics.item(6, 0).text(), train.metrics.item(6, 1).text()
    assert before and after  # val_loss before and after, side by side
    assert train.accept_button.isEnabled() and train.round.saved.parent == session.project.models_dir

    with qtbot.waitSignal(segment.finished, timeout=60_000):  # accepting re-predicts the image
        train.accept_button.click()
    new_model = session.model
    assert new_model.source == "project" and new_model.parent == str(parent.path)
    assert new_model.metadata["training_data"] and "metrics_before" in new_model.metadata
    actions = [entry["action"] for entry in session.project.history()]
    assert "fine-tune" in actions and "accept model" in actions

    index = train.versions_combo.findText(parent.name, Qt.MatchFlag.MatchStartsWith)
    assert index >= 0  # the parent is an earlier version
    train.versions_combo.setCurrentIndex(index)
    train.repredict_check.setChecked(False)
    train.rollback_button.click()
    assert session.model.path == parent.path


def test_pause_resume_and_cancel_keep_a_checkpoint(corrected, panels, qtbot):
    train, _ = panels
    steps = []
    train.start(config=_config(max_steps=100_000, max_seconds=120.0, val_every=2))
    train.worker.yielded.connect(lambda p: steps.append(p.step))
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=60_000)
    with qtbot.waitSignal(train.worker.paused, timeout=30_000):
        train.pause_button.click()
    assert train.pause_button.text() == "Resume"
    paused_at = len(steps)
    qtbot.wait(400)
    assert len(steps) == paused_at
    train.pause_button.click()
    qtbot.waitUntil(lambda: len(steps) > paused_at, timeout=30_000)
    worker = train.worker
    with qtbot.waitSignal(worker.aborted, timeout=30_000):
        train.cancel_button.click()
    qtbot.waitUntil(lambda: train.worker is None, timeout=10_000)
    assert "Cancelled" in train.status.text() and train.train_button.isEnabled()
    checkpoints = train.round.checkpoint_dir
    assert any(checkpoints.glob("*.safetensors"))  # the best and last weights were kept
    assert not train.accept_button.isEnabled()


def test_nothing_reviewed_is_a_message(studio, nuclei_crop, qtbot):
    from unet_studio.app.qt.train_panel import TrainPanel

    studio.viewer.add_image(nuclei_crop[0], name="nuclei")
    studio.session.show_labels(nuclei_crop[1].astype("int32"))
    panel = TrainPanel(studio.session)
    qtbot.addWidget(panel)
    panel.train_button.click()
    assert panel.worker is None


def test_gui_keeps_ticking_while_training(corrected, panels, qtbot):
    """A 10 ms heartbeat on the GUI thread while training steps run in the worker. The
    benchmark (benchmarks/bench_gui_responsiveness.py) holds the 100 ms bound on a real
    model; here the bound has headroom for a CI machine shared with other work, and still
    fails at once if training ever ran on the GUI thread (seconds without a tick)."""
    import time

    from qtpy.QtCore import QTimer

    train, _ = panels
    ticks, steps = [], []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    train.start(config=_config(max_steps=40, val_every=10))
    train.worker.yielded.connect(lambda p: steps.append(time.perf_counter()))
    qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
    timer.stop()
    assert len(steps) >= 20
    during = [t for t in ticks if steps[0] <= t <= steps[-1]]
    longest = max(b - a for a, b in zip(during, during[1:]))
    assert longest < 0.25, f"the GUI thread stalled {1000 * longest:.0f} ms"
