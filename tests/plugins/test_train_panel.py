"""Train panel: a real (short) fine-tune of a tiny network in a worker thread, live plot,
before/after metrics, accept with re-prediction, rollback, pause and cancel."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from qtpy.QtCore import Qt

from unet_studio.app.errors import UserError
from unet_studio.app.qt import train_logic
from unet_studio.app.qt.workers import engine_work_running

pytestmark = pytest.mark.qt


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


def test_finetune_accept_repredict_and_roll_back(corrected, panels, qtbot, tmp_path, quick_round):
    train, segment = panels
    session = corrected.session
    parent = session.model
    # A first round from a fresh model: nothing to roll back to, and the panel says so.
    assert train.versions_combo.count() == 0 and not train.rollback_button.isEnabled()
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round(max_steps=6))
        assert not train.train_button.isEnabled() and train.cancel_button.isEnabled()
    result = blocker.args[0]
    assert result.steps == 6 and "(the step limit was reached)" in train.status.text()
    assert len(train.plot.series["train loss"]) == 6 and train.plot.series["held-out loss"]
    names = [train.metrics.verticalHeaderItem(row).text() for row in range(train.metrics.rowCount())]
    assert names[:2] == ["F1, IoU 0.5", "F1, IoU 0.75"] and names[-1] == "held-out loss"
    assert "mean Dice" not in names  # an instance model: its score is the object F1
    loss_row = names.index("held-out loss")
    before, after = train.metrics.item(loss_row, 0).text(), train.metrics.item(loss_row, 1).text()
    assert float(before) > 0 and float(after) > 0  # held-out loss before and after, side by side
    assert train.accept_button.isEnabled() and train.round.saved.parent == session.project.models_dir

    reviewed_before = np.array(session.host.current_labels())[3:9]
    with qtbot.waitSignal(segment.finished, timeout=60_000):  # accepting re-predicts the image
        train.accept_button.click()
    new_model = session.model
    assert new_model.source == "project" and new_model.parent == str(parent.path)
    assert new_model.metadata["training_data"] and "metrics_before" in new_model.metadata
    assert np.array_equal(np.array(session.host.current_labels())[3:9], reviewed_before)
    # (the status says the re-run is over, not "Segmenting the image again" long after it)
    assert train.status.text() == f"Now using {new_model.name}. Segmented nuclei again with it."
    history = session.project.history()
    actions = [entry["action"] for entry in history]
    assert "fine-tune" in actions and "accept model" in actions
    logged = next(entry for entry in history if entry["action"] == "fine-tune")
    assert logged["steps"] == 6 and logged["data"]["reviewed_pixels"] == 6 * 96 * 96
    # The round is a standalone model folder: it loads anywhere with its lineage and card.
    from unet_studio.models.weights import load_model

    copy = shutil.copytree(new_model.path, tmp_path / "elsewhere")
    meta = load_model(copy).metadata
    assert meta["parent"]["path"] == str(parent.path) and meta["date"]
    assert meta["training_data"]["summary"]["reviewed_pixels"] == 6 * 96 * 96
    assert meta["finetune"]["steps"] == 6 and "val_loss" in meta["metrics"]
    assert (copy / "card.md").read_text().startswith(f"# {new_model.name}")
    replay = train_logic.load_replay(session.project)  # the accepted round is remembered
    assert len(replay) == 1 and replay.examples[0].reviewed.any()

    index = train.versions_combo.findText(parent.name, Qt.MatchFlag.MatchStartsWith)
    assert index >= 0 and train.rollback_button.isEnabled()  # the parent is an earlier version
    assert train.versions_combo.currentIndex() == 0  # one is chosen: the button does something
    train.versions_combo.setCurrentIndex(index)
    train.repredict_check.setChecked(False)
    train.rollback_button.click()
    assert session.model.path == parent.path
    assert train.status.text() == f"Rolled back to {parent.name}."
    # and forward again: the round is no version the parent came from (QA: "Rolled back to" it)
    train.versions_combo.setCurrentIndex(train.versions_combo.findText(
        new_model.name, Qt.MatchFlag.MatchStartsWith))  # fmt: skip
    train.rollback_button.click()
    assert session.model.path == new_model.path
    assert train.status.text() == f"Switched to {new_model.name}."


def test_a_round_stays_out_of_a_project_opened_while_it_trains(corrected, panels, qtbot, tmp_path, quick_round):
    """Another project opened during a round: the round's model and its examples go neither
    into that project (it holds other data) nor its history; the model waits in the user's
    models, and accepting it uses it."""
    train, _ = panels
    session = corrected.session
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(max_steps=6))
        other = session.open_project(tmp_path / "other", create=True)
    assert session.project is other
    saved = train.round.saved
    assert saved.parent == session.library.folders["user"]
    train.repredict_check.setChecked(False)
    train.accept_button.click()
    assert session.model.path == saved
    logged = {entry["action"] for entry in other.history()}
    assert not logged & {"fine-tune", "accept model"}
    assert not (other.path / train_logic.TRAINING_DIR).exists()  # no replay of other data


def _choose_in_segment_panel(segment, ref: str) -> None:
    """What the user does: pick the model ``ref`` in the Segment panel's model list."""
    combo = segment.model_combo
    index = next(i for i in range(combo.count()) if combo.itemData(i).ref == ref)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_the_status_follows_the_current_model_after_a_round(corrected, panels, qtbot, quick_round):
    """A round of "tiny": the user picks the bundled default while it trains (the verdict
    says so), picks "tiny" back (the verdict is about it again), then the default after it: the
    panel no longer speaks of tiny's round ("not better than tiny", its metrics, Accept), and
    says where the round's model was kept."""
    train, segment = panels
    session = corrected.session
    parent = session.model
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(max_steps=6))
        _choose_in_segment_panel(segment, "bundled:default")
        assert train.status.text().startswith("Fine-tuning tiny on ")  # the round's own model
    default = session.model
    assert default.name != parent.name
    verdict = train.status.text()
    assert "better than tiny on held-out data" in verdict
    assert verdict.endswith(f"The current model is now {default.name}; Accept would use the "
                            "one fine-tuned from tiny instead.")
    session.set_model(parent)  # (a folder chosen by path: listed only while current)
    assert "better than tiny" in train.status.text() and "current model is now" not in train.status.text()
    assert train.accept_button.isEnabled() and train.metrics.rowCount() > 0
    saved = train.round.saved
    _choose_in_segment_panel(segment, "bundled:default")
    assert train.status.text() == (f"Ready to fine-tune {default.name}. The model fine-tuned from "
                                   f"tiny stays saved as {saved.name}: choose it in the Models "
                                   "panel to use it.")
    assert train.metrics.rowCount() == 0 and not train.plot.series.get("train loss")
    assert not train.accept_button.isEnabled() and not train.reject_button.isEnabled()
    assert train.train_button.isEnabled() and train.round is None
    assert (saved / "model.safetensors").is_file()


def test_a_rejected_or_waiting_round_is_not_offered_for_roll_back(corrected, panels, qtbot, quick_round):
    """Roll back goes to earlier versions: a round the user turned down is not one (it stays
    on disk, and counts again once the user makes it current)."""
    train, _ = panels
    session = corrected.session
    parent = session.model

    def offered() -> list[Path]:
        return [Path(train.versions_combo.itemData(i).path).resolve()
                for i in range(train.versions_combo.count())]

    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(max_steps=3))
    saved = train.round.saved.resolve()
    assert saved not in offered()  # (waiting for its verdict: no earlier version either)
    train.reject_button.click()
    assert session.model.path == parent.path and (saved / "model.safetensors").is_file()
    session.set_model(parent)  # (the list is filled again on every change of model)
    assert saved not in offered()
    session.set_model(session.library.get(f"project:{saved.name}"))  # chosen after all
    session.set_model(parent)
    assert saved in offered()


def test_pause_resume_and_cancel_keep_a_checkpoint(corrected, panels, qtbot, quick_round,
                                                   after_each_step):
    train, _ = panels
    steps = []
    after_each_step(train, lambda p: hasattr(p, "step") and steps.append(p.step))  # (steps, not reading)
    train.start(config=quick_round(max_steps=100_000, max_seconds=120.0, val_every=2))
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
    # More corrections make that checkpoint stale: the next round starts afresh, it does not
    # refuse to train.
    corrected.session.ensure_reviewed().mark_region((slice(9, 11), slice(None), slice(None)))
    corrected.session.reviewed_changed_by_user()
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round(max_steps=3))
    assert blocker.args[0].steps == 3 and blocker.args[0].history[0]["step"] == 1
    assert blocker.args[0].data_summary["reviewed_pixels"] == 8 * 96 * 96


def test_closing_the_window_while_training_asks_first(corrected, panels, qtbot, monkeypatch, quick_round):
    """The user closes the napari window during a round: napari's close dialog names the
    round; "cancel" keeps it running, closing anyway stops it, keeping its checkpoint."""
    from napari._qt.dialogs.confirm_close_dialog import ConfirmCloseDialog
    from qtpy.QtGui import QCloseEvent
    from qtpy.QtWidgets import QDialog, QLabel

    class UserClose(QCloseEvent):  # the window's close button, not a programmatic close
        def spontaneous(self) -> bool:
            return True

    asked, answer = [], [QDialog.Rejected]

    def exec_(dialog):
        asked.append(" ".join(label.text() for label in dialog.findChildren(QLabel)))
        return answer[0]

    monkeypatch.setattr(ConfirmCloseDialog, "exec_", exec_)
    train, _ = panels
    window = corrected.viewer.window._qt_window
    steps = []
    train.start(config=quick_round(max_steps=100_000, max_seconds=120.0, val_every=2))
    worker = train.worker
    worker.yielded.connect(lambda p: hasattr(p, "step") and steps.append(p.step))  # (steps, not reading)
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=60_000)

    event = UserClose()
    window.closeEvent(event)
    assert not event.isAccepted() and len(asked) == 1
    assert "unet-studio: fine-tuning tiny on" in asked[0]
    at_question = len(steps)
    qtbot.waitUntil(lambda: len(steps) > at_question, timeout=30_000)  # still training
    assert train.worker is worker

    answer[0] = QDialog.Accepted
    with qtbot.waitSignal(worker.aborted, timeout=30_000):
        window.closeEvent(UserClose())
    qtbot.waitUntil(lambda: train.worker is None, timeout=10_000)
    assert "Cancelled" in train.status.text()
    assert any(train.round.checkpoint_dir.glob("*.safetensors"))
    assert not corrected.viewer.window._task_status_manager.is_busy()


def test_nothing_reviewed_is_a_message(studio, nuclei_crop, qtbot):
    from unet_studio.app.qt.train_panel import TrainPanel

    studio.viewer.add_image(nuclei_crop[0], name="nuclei")
    studio.session.show_labels(nuclei_crop[1].astype("int32"))
    panel = TrainPanel(studio.session)
    qtbot.addWidget(panel)
    panel.train_button.click()
    assert panel.worker is None


@pytest.mark.slow
def test_gui_keeps_ticking_while_training(corrected, panels, qtbot, quick_round):
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
    train.start(config=quick_round(max_steps=40, val_every=10))
    train.worker.yielded.connect(lambda p: steps.append(time.perf_counter()))
    qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
    timer.stop()
    assert len(steps) >= 20
    during = [t for t in ticks if steps[0] <= t <= steps[-1]]
    longest = max(b - a for a, b in zip(during, during[1:]))
    # (0.25 s failed once at 283 ms with the slow tests' other process training too: the
    # round on the GUI thread would hold it for its whole length, seconds)
    assert longest < 0.4, f"the GUI thread stalled {1000 * longest:.0f} ms"


@pytest.mark.slow
def test_paused_time_does_not_count_against_the_time_budget(corrected, panels, qtbot):
    """A "2 s" budget typed in the panel, paused for longer than the budget: the run goes on
    after Resume and ends at about 2 s of working time (its scoring included), however long
    the pause was."""
    import dataclasses
    import time

    train, _ = panels
    train.budget_edit.setText("2 s")
    config = dataclasses.replace(train.config(), batch_size=2, patch_size=32, augment=None,
                                 val_fraction=0.3, val_every=5, checkpoint_seconds=0.0)
    assert config.max_seconds == 2.0 and config.epochs is None
    seen = []  # (wall clock, progress)
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=config)
        train.worker.yielded.connect(lambda p: hasattr(p, "step") and seen.append((time.monotonic(), p)))
        qtbot.waitUntil(lambda: bool(seen) and seen[-1][1].elapsed > 0.5, timeout=60_000)
        with qtbot.waitSignal(train.worker.paused, timeout=30_000):
            train.pause_button.click()
        paused_at, before = time.monotonic(), len(seen)
        qtbot.wait(3000)  # longer than the whole budget
        assert len(seen) == before and train.worker is not None  # held, not finished
        train.pause_button.click()
    result = blocker.args[0]
    resumed = [p for t, p in seen if t > paused_at]
    assert resumed, "no step ran after Resume: the pause was counted against the budget"
    last_before = seen[before - 1][1].elapsed
    assert resumed[0].elapsed - last_before < 1.0  # the clock did not run while paused
    # (under the 3 s pause counted, the round would have ended at Resume; a step on a busy
    # 2-core machine may overrun the 2 s budget by a second or more)
    assert result.stopped == "max_seconds" and result.elapsed < 2.0 + 3.0
    assert "(the time budget was used up)" in train.status.text()  # in words, not a key
    # Wall time included the pause (the working time did not: its clock did not run over it,
    # above). Adding the working time here failed on a loaded machine: the reports reach the
    # GUI thread late, by a varying few tenths of a second.
    assert seen[-1][0] - seen[0][0] > 3.0


@pytest.mark.slow
def test_a_network_built_in_the_models_panel_trains_decoder_only_and_is_auto_accepted(
        corrected, panels, qtbot, no_verdict_margins):
    import dataclasses
    from types import SimpleNamespace

    import torch

    from unet_studio.app.qt.models_panel import ModelsPanel
    from unet_studio.models.weights import load_model

    train, _ = panels
    session = corrected.session
    models = ModelsPanel(session)
    qtbot.addWidget(models)
    builder = models.builder
    builder.arch_combo.setCurrentText("unet")
    builder.fields["base_channels"].setValue(4)
    builder.fields["depth"].setValue(2)
    builder.name_edit.setText("fresh")
    torch.manual_seed(0)
    with qtbot.waitSignal(builder.created, timeout=30_000) as built:
        builder.create_button.click()
    assert session.model.path == built.args[0] and session.model.name == "fresh"

    train.layers_combo.setCurrentText("decoder")
    train.auto_accept.setChecked(True)
    train.repredict_check.setChecked(False)
    config = dataclasses.replace(train.config(), max_seconds=None, max_steps=15, batch_size=2,
                                 patch_size=32, augment=None, val_fraction=0.3, val_every=5,
                                 learning_rate=3e-3)
    assert config.train_layers == "decoder"
    with qtbot.waitSignal(train.accepted, timeout=120_000) as accepted:
        train.start(config=config)
    saved = accepted.args[0]
    assert session.model.path == saved and session.model.parent == "user:fresh"
    # (said so, with its figures: the verdict it replaces is gone)
    assert train.status.text().startswith("Accepted automatically: better on held-out data (")
    record = load_model(saved).metadata["finetune"]  # accepted because it was better
    before, after = record["metrics_before"], record["metrics_after"]
    assert train_logic.is_better(SimpleNamespace(metrics_before=before, metrics_after=after,
                                                 improved=after["val_loss"] < before["val_loss"]))
    fresh, tuned = load_model(built.args[0]), load_model(saved)
    for name, value in fresh.encoder.state_dict().items():  # decoder only: encoder untouched
        assert torch.equal(value, tuned.encoder.state_dict()[name]), name
    assert any(not torch.equal(v, tuned.decoder.state_dict()[k])
               for k, v in fresh.decoder.state_dict().items())



def _open_second_image(studio, path, image, labels):
    """Open ``image`` from a TIFF file through our reader, show ``labels`` for it and review
    its first three slices; returns the reviewed mask."""
    import tifffile

    tifffile.imwrite(path, image, imagej=True, metadata={"axes": "ZYX"})
    studio.viewer.open(path, plugin="unet-studio")
    studio.host.select_image(path.stem)
    studio.session.show_labels(labels)
    studio.session.ensure_reviewed().mark_region((slice(0, 3), slice(10, 50), slice(20, 70)))
    studio.session.reviewed_changed_by_user()
    return np.array(studio.session.ensure_reviewed().mask)


def test_a_round_learns_from_every_reviewed_project_image(corrected, qtbot, tmp_path, monkeypatch, quick_round):
    """Corrections reviewed on another image of the project count too: from its open layer,
    else read back from its file (only the reviewed box), with the whole image's contrast;
    an image whose file went missing is named in a warning, the rest still trains."""
    from unet_studio.app.qt.train_panel import TrainPanel
    from unet_studio.models.normalize import percentile_range

    studio, session = corrected, corrected.session
    first_image = np.array(studio.viewer.layers["nuclei"].data)
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    # The second image: the first one, brighter and mirrored, with its labels mirrored too.
    second = np.clip(first_image[:, :, ::-1] * 3.0 + 500, 0, 65535).astype(np.uint16)
    second_labels = np.array(session.host.current_labels())[:, :, ::-1].copy()
    path = tmp_path / "second.tif"
    reviewed = _open_second_image(studio, path, second, second_labels)

    pending, problems = train_logic.collect_examples(session, "project")
    assert problems == [] and [p.name for p in pending] == ["second", "nuclei"]
    examples = [p.read() for p in pending]
    box = (slice(0, 3), slice(0, 82), slice(0, 96))  # reviewed box + 32 px in Y and X, clipped
    np.testing.assert_array_equal(examples[0].image, second[box])
    np.testing.assert_array_equal(examples[0].reviewed, reviewed[box])
    low, high = percentile_range(second, 1.0, 99.8)  # the whole image's, not the crop's
    assert examples[0].intensity.low[0] == pytest.approx(low)
    assert examples[0].intensity.high[0] == pytest.approx(high)
    # The tiny model is 2D: slices are learnt one by one, so no slice is read for context.
    np.testing.assert_array_equal(examples[1].image, first_image[3:9])
    assert examples[1].reviewed.all()
    only_current, _ = train_logic.collect_examples(session, "image")
    assert [e.name for e in only_current] == ["second"]

    # With the second image's layers closed, its pixels come from its file.
    for name in ("second labels", "second"):
        studio.viewer.layers.remove(name)
    studio.host.select_image("nuclei")
    studio.viewer.layers.selection.active = studio.viewer.layers["nuclei labels"]
    pending, problems = train_logic.collect_examples(session, "project")
    assert problems == [] and [p.name for p in pending] == ["nuclei", "second"]
    examples = [p.read() for p in pending]
    np.testing.assert_array_equal(examples[1].image, second[box])
    np.testing.assert_array_equal(examples[1].labels, second_labels[box])

    # A round in the panel learns from both; a missing file is a warning, not a failure.
    path.rename(tmp_path / "moved.tif")
    told = []
    monkeypatch.setattr(studio.host, "notify", lambda message, level="info", **_: told.append((message, level)))
    panel = TrainPanel(session)
    qtbot.addWidget(panel)
    assert panel.scope_combo.currentData() == "project"
    with qtbot.waitSignal(panel.finished, timeout=120_000) as blocker:
        panel.start(config=quick_round(max_steps=2))
    assert blocker.args[0].data_summary["examples"] == 1
    warnings = [message for message, level in told if level == "warning"]
    assert any("second" in m and str(path) in m for m in warnings)
    (tmp_path / "moved.tif").rename(path)
    panel.reject_button.click()  # (Train waits for the verdict on the round before)
    with qtbot.waitSignal(panel.finished, timeout=120_000) as blocker:
        panel.start(config=quick_round(max_steps=2))
    assert blocker.args[0].data_summary["examples"] == 2
    assert blocker.args[0].data_summary["reviewed_pixels"] == 6 * 96 * 96 + 3 * 40 * 50


def test_an_rgb_image_learns_from_the_channel_it_was_segmented_on(studio, nuclei_crop, qtbot, quick_round):
    """A one-channel model segments one channel of an RGB image (the Segment panel's
    Channel); fine-tuning learns from that same channel, recorded in the project."""
    from unet_studio.app.qt.segment_panel import SegmentPanel
    from unet_studio.app.qt.train_panel import TrainPanel

    plane = nuclei_crop[0][5]
    rgb = np.stack([np.zeros_like(plane), plane // 2, plane], axis=-1)
    rgb = (rgb / rgb.max() * 255).astype(np.uint8)
    studio.viewer.add_image(rgb, name="rgb", rgb=True)
    segment, train = SegmentPanel(studio.session), TrainPanel(studio.session)
    qtbot.addWidget(segment)
    qtbot.addWidget(train)
    segment.channel_spin.setValue(2)
    with qtbot.waitSignal(segment.finished, timeout=60_000):
        segment.run()
    session = studio.session
    assert session.project.image(session.current_image_id()).selection == {"C": 2}
    session.show_labels(nuclei_crop[1][5].copy(), protect=False)
    session.ensure_reviewed().mark_region((slice(10, 60), slice(10, 80)))
    pending, _ = train_logic.collect_examples(session, "image")
    example = pending[0].read()
    np.testing.assert_array_equal(example.image, rgb[:92, :96, 2])  # the box + 32 px of context
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round(max_steps=2))
    assert blocker.args[0].data_summary["reviewed_pixels"] == 50 * 70


def test_a_3d_network_learns_from_reviewed_slices_with_context_in_z(corrected, qtbot, tmp_path, quick_round):
    """A 3D network: the reviewed box keeps context along Z too (a 3D patch needs it), and
    a round trains on it."""
    import torch

    from unet_studio.app.qt.train_panel import TrainPanel
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=3, base_channels=4, depth=2)
    session = corrected.session
    session.set_model(str(save_model(net, tmp_path / "tiny3d")))
    session.ensure_reviewed().mark_region((slice(5, 7), slice(20, 60), slice(20, 60)))
    session.reviewed_changed_by_user()
    pending, _ = train_logic.collect_examples(session, "image")
    assert pending[0].box == (slice(0, 12), slice(0, 92), slice(0, 92))  # +32 on Z, Y and X
    train = TrainPanel(session)
    qtbot.addWidget(train)
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round(max_steps=2, patch_size=16, val_fraction=0.0))
    assert blocker.args[0].steps == 2
    assert blocker.args[0].data_summary["reviewed_pixels"] == 2 * 40 * 40


def _offered_versions(train) -> list[Path]:
    return [Path(train.versions_combo.itemData(i).path).resolve()
            for i in range(train.versions_combo.count())]


def _models_panel(session, qtbot):
    from unet_studio.app.qt.models_panel import ModelsPanel

    panel = ModelsPanel(session)
    qtbot.addWidget(panel)
    return panel


@pytest.mark.slow
def test_a_saved_round_is_listed_at_once_but_is_no_version_to_roll_back_to(corrected, panels, qtbot, quick_round):
    """As soon as a round has saved its model, every list of models shows it (no change of
    model needed); Roll back does not offer it while it waits for its verdict (it is no
    earlier version: rolling back to it was an Accept without one), nor once rejected."""
    train, segment = panels
    models = _models_panel(corrected.session, qtbot)
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(max_steps=3))
    saved = train.round.saved.resolve()
    assert saved not in _offered_versions(train)
    ref = f"project:{saved.name}"
    assert any(segment.model_combo.itemData(i).ref == ref for i in range(segment.model_combo.count()))
    assert any(models.model_list.item(i).data(256).ref == ref for i in range(models.model_list.count()))
    train.reject_button.click()
    assert _offered_versions(train) == [] and not train.rollback_button.isEnabled()


@pytest.mark.slow
def test_a_round_renamed_while_it_waits_is_accepted_under_its_new_name(corrected, panels, qtbot, quick_round):
    train, _ = panels
    session = corrected.session
    models = _models_panel(session, qtbot)
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(max_steps=3))
    qtbot.waitUntil(lambda: not engine_work_running(), timeout=30_000)  # (its thread ends after)
    models.model_list.setCurrentRow(next(
        i for i in range(models.model_list.count())
        if models.model_list.item(i).data(256).path == train.round.saved))
    renamed = models.rename_selected("good round")
    assert train.round.saved == renamed.path
    train.repredict_check.setChecked(False)
    train.accept_button.click()
    assert session.model.path == renamed.path and session.model.name == "good round"
    assert train.status.text() == "Now using good round."
    models.model_list.setCurrentRow(next(  # (the current model renamed: the status follows)
        i for i in range(models.model_list.count())
        if models.model_list.item(i).data(256).path == renamed.path))
    models.rename_selected("best round")
    assert train.status.text() == "Now using best round."


@pytest.mark.slow
def test_a_rejected_round_stays_rejected_under_a_new_name(corrected, panels, qtbot, quick_round):
    """The history names the rejected round by its old folder: a rename is followed."""
    train, _ = panels
    session = corrected.session
    parent = session.model
    models = _models_panel(session, qtbot)
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(max_steps=3))
    saved = train.round.saved
    train.reject_button.click()
    qtbot.waitUntil(lambda: not engine_work_running(), timeout=30_000)  # (its thread ends after)
    models.model_list.setCurrentRow(next(
        i for i in range(models.model_list.count()) if models.model_list.item(i).data(256).path == saved))
    renamed = models.rename_selected("turned down")
    session.set_model(parent)
    assert renamed.path.resolve() not in _offered_versions(train)
    session.set_model(renamed)  # chosen after all: an earlier version again
    session.set_model(parent)
    assert renamed.path.resolve() in _offered_versions(train)


@pytest.mark.slow
def test_the_model_a_round_trains_cannot_be_renamed_meanwhile(corrected, panels, qtbot, quick_round):
    train, _ = panels
    session = corrected.session
    session.set_model(session.library.import_model(session.model.path))  # a user model
    models = _models_panel(session, qtbot)
    models.model_list.setCurrentRow(next(
        i for i in range(models.model_list.count())
        if models.model_list.item(i).data(256).path == session.model.path))
    steps = []
    train.start(config=quick_round(max_steps=100_000, max_seconds=60.0))
    train.worker.yielded.connect(lambda p: hasattr(p, "step") and steps.append(p.step))  # (steps, not reading)
    qtbot.waitUntil(lambda: len(steps) >= 1, timeout=60_000)
    with pytest.raises(UserError, match="cannot be renamed while work runs in the background"):
        models.rename_selected("renamed meanwhile")
    with qtbot.waitSignal(train.worker.aborted, timeout=30_000):
        train.cancel_button.click()
    qtbot.waitUntil(lambda: train.worker is None, timeout=10_000)
    assert session.model.path.exists() and session.model.name == "tiny"


@pytest.mark.slow
def test_accept_during_another_images_prediction_segments_the_image_after_it(
        corrected, panels, qtbot, nuclei_crop, quick_round):  # fmt: skip
    """Accept (re-predict on) while the Segment panel still segments another image: the
    accepted model segments the image after that run (it was dropped without a word, and
    the image kept the old model's labels)."""
    import numpy as np

    train, segment = panels
    session = corrected.session
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(max_steps=3))
    corrected.viewer.add_image(np.tile(nuclei_crop[0][:4], (1, 2, 2)), name="other",
                               metadata={"axes": "ZYX"})
    session.select_image("other")
    segment.tile_combo.setCurrentText("16")  # many tiles: still running at the Accept
    segment.run()
    session.select_image("nuclei")
    jobs = []
    segment.finished.connect(lambda result: jobs.append((segment._job_image, session.model.path)))
    train.repredict_check.setChecked(True)
    saved = train.round.saved
    train.accept_button.click()
    assert segment.worker is not None and segment._job_image == "other"
    qtbot.waitUntil(lambda: len(jobs) == 2, timeout=180_000)
    assert [image for image, _ in jobs] == ["other", "nuclei"]
    assert jobs[1][1] == saved  # (with the accepted model)


@pytest.mark.slow
def test_a_round_whose_starting_weights_stay_best_makes_no_model(corrected, panels, qtbot, quick_round):
    """No step beat the starting weights on held-out data (here a learning rate that wrecks
    them): the round's model would be a copy of its parent, so none is made, nothing waits
    for Accept, and the verdict says to give the next round longer."""
    train, _ = panels
    session = corrected.session
    parent = session.model
    models = sorted(session.project.models_dir.iterdir()) if session.project else []
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round(max_steps=3, learning_rate=10.0))
    result = blocker.args[0]
    assert result.best_step == 0 and result.steps == 3
    text = train.status.text()
    assert f"no step beat the starting weights of {parent.name}" in text
    assert "no new model was made" in text and "give the next round about" in text
    assert not train.accept_button.isEnabled() and not train.reject_button.isEnabled()
    assert train.train_button.isEnabled() and train.round.saved is None
    assert train.unsaved_work() is None  # (closing asks nothing: nothing was lost)
    assert session.model.path == parent.path
    assert sorted(session.project.models_dir.iterdir()) == models
    assert not train.round.checkpoint_dir.exists()  # (the next round starts afresh)


@pytest.mark.slow
def test_roll_back_offers_the_model_just_replaced_first(corrected, panels, qtbot, quick_round):
    """After an Accept, Roll back's choice is the newest earlier version (the one just
    replaced), not the oldest that was chosen when it was the only one."""
    train, _ = panels
    session = corrected.session
    parent = session.model
    train.repredict_check.setChecked(False)
    accepted = []
    for _ in range(2):
        with qtbot.waitSignal(train.finished, timeout=120_000):
            train.start(config=quick_round())
        train.accept_button.click()
        accepted.append(session.model)
    assert train.versions_combo.currentData().path == accepted[0].path  # (not the tiny parent)
    assert [train.versions_combo.itemData(i).path for i in range(train.versions_combo.count())] \
        == [accepted[0].path, parent.path]
    train.versions_combo.setCurrentIndex(1)  # (the user's own choice stays while it is offered)
    train.refresh_versions()
    assert train.versions_combo.currentData().path == parent.path


@pytest.mark.slow
def test_training_again_after_a_cancel_goes_on_for_the_time_typed(corrected, panels, qtbot, quick_round):
    """A round cancelled after a few steps, then Train again with a short budget: the round
    goes on from where it stopped (and says so), for that budget more, not what was left
    of the first (it ended at once, having used more than the new budget)."""
    train, _ = panels
    steps = []
    train.start(config=quick_round(max_steps=None, max_seconds=600.0, val_every=2))
    train.worker.yielded.connect(lambda p: hasattr(p, "step") and steps.append((p.step, p.elapsed)))
    qtbot.waitUntil(lambda: len(steps) >= 3 and steps[-1][1] > 8.0, timeout=90_000)
    with qtbot.waitSignal(train.worker.aborted, timeout=30_000):
        train.cancel_button.click()
    qtbot.waitUntil(lambda: train.worker is None, timeout=10_000)
    stopped = max(step for step, _ in steps)
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        # (less than the first round used: what was left of it would end this one at once;
        # long enough for two steps on a busy machine)
        train.start(config=quick_round(max_steps=None, max_seconds=6.0, val_every=2))
    result = blocker.args[0]
    assert train.round.resumed_at >= stopped - 1 and result.steps > train.round.resumed_at + 1
    assert f"resumed at step {train.round.resumed_at}" in train.status.text() or train.round.discarded
