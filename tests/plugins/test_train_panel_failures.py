"""Train panel under adverse conditions: a full disk when the round saves its model, a
cancel that comes during the round's last step, a replay buffer that cannot be written
when the round is accepted."""

from __future__ import annotations

import errno

import pytest

from unet_studio.app.qt import train_logic

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_a_full_disk_at_the_save_keeps_the_round_for_accept(corrected, train, qtbot, monkeypatch,
        fail_model_writes, quick_round):
    """The round trained, but its model cannot be written: no half-written model folder is
    left, the status says so and what to do, and the trained network waits in memory:
    Accept saves it once there is room (training again would cost the whole round)."""
    session = corrected.session
    calls = []
    real = fail_model_writes(calls)
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    assert calls and train.round.saved is None
    models = session.project.models_dir
    assert not models.exists() or list(models.iterdir()) == []  # nothing half-written
    said = train.status.text()  # (the model's folder and the problem, not a hidden file)
    assert "could not be saved: cannot write tiny-ft-" in said and "No space left on device" in said
    assert "Errno" not in said and ".tmp" not in said
    assert train.accept_button.isEnabled() and train.reject_button.isEnabled()
    parent = session.model

    train.accept_button.click()  # still full: the round waits
    assert len(calls) == 2 and session.model is parent and train.accept_button.isEnabled()

    monkeypatch.setattr("safetensors.torch.save_file", real)  # space was freed
    train.accept_button.click()
    saved = session.model.path
    assert saved.parent == models and (saved / "model.safetensors").is_file()
    assert [p.name for p in models.iterdir()] == [saved.name]
    assert train.status.text() == f"Now using {saved.name}."
    assert not train.accept_button.isEnabled()


def test_a_round_whose_save_failed_can_be_rejected(corrected, train, qtbot, monkeypatch,
        fail_model_writes, quick_round):
    session = corrected.session
    fail_model_writes()
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    train.reject_button.click()
    assert train.round is None and not train.accept_button.isEnabled()
    assert not any(e["action"] == "reject model" for e in session.project.history())


@pytest.mark.slow
def test_a_cancel_during_the_last_step_keeps_the_finished_round(corrected, train, qtbot,
                                                               monkeypatch, quick_round):
    """Cancel clicked while the round computes its final scores, after its last step: it
    had trained to the end, so it is saved and waits for a verdict (it vanished, the panel
    stuck on "Cancelling after this step…")."""
    import threading

    final, cancelled = threading.Event(), threading.Event()
    real = train_logic.iter_train

    def iter_train(*args, **kwargs):  # the real round; the events order the user's click
        inner, value = real(*args, **kwargs), None
        try:
            while True:
                try:
                    progress = inner.send(value)
                except StopIteration as stop:
                    cancelled.wait(10)  # (the final scoring outlasts the click)
                    return stop.value
                value = yield progress
                if getattr(progress, "step", None) == 4:  # (not a reading report)
                    final.set()  # (past the worker's cancel check: the final scoring runs)
        finally:
            inner.close()

    def click_cancel(progress):
        if getattr(progress, "step", None) == 4:
            final.wait(10)
            train.cancel()
            cancelled.set()

    monkeypatch.setattr(train_logic, "iter_train", iter_train)
    train.start(config=quick_round(max_steps=4, val_every=2))
    train.worker.yielded.connect(click_cancel)
    qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
    assert train.round.saved is not None and (train.round.saved / "model.safetensors").is_file()
    assert train.status.text().startswith("Finished after 4 steps")
    assert train.accept_button.isEnabled()


@pytest.mark.slow
def test_accept_with_an_unwritable_replay_buffer_still_accepts(corrected, train, qtbot, monkeypatch, quick_round):
    """The replay buffer cannot be written (disk full) when the user accepts: the model is
    in use all the same, the panel says what was not kept, and no Accept is left waiting
    (which said "Accept would use the one fine-tuned from tiny" of the model in use)."""
    from unet_studio.models.training import ReplayBuffer

    session = corrected.session
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    saved = train.round.saved

    def full(self, folder):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ReplayBuffer, "save", full)
    train.accept_button.click()
    assert session.model.path == saved and train.round is None
    assert not train.accept_button.isEnabled() and train.train_button.isEnabled()
    assert train.status.text().startswith(f"Now using {saved.name}. Its training data could not")
    assert any(e["action"] == "accept model" for e in session.project.history())
    assert not (session.project.path / train_logic.TRAINING_DIR / "replay.npz").exists()


@pytest.mark.slow
def test_an_unreadable_replay_buffer_stops_no_round(corrected, train, qtbot, monkeypatch, quick_round):
    """The project's replay buffer is damaged (a bad copy, a disk error): rounds still train,
    with a warning, and accepting one sets the bad file aside and starts a new buffer (it
    refused every round and every accept, until the user found and deleted the file)."""
    session = corrected.session
    folder = session.ensure_project().path / train_logic.TRAINING_DIR
    folder.mkdir(parents=True)
    (folder / "replay.npz").write_bytes(b"not an npz")
    told = []
    monkeypatch.setattr(session.host, "notify", lambda message, level="info", **_: told.append(level))
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
        assert train.worker is not None, train.status.text()  # (it refused to start)
    assert told == ["warning"]
    saved = train.round.saved
    train.accept_button.click()
    assert session.model.path == saved and "it was set aside as replay-unreadable-" in train.status.text()
    assert len(train_logic.load_replay(session.project)) == 1
    assert len(list(folder.glob("replay-unreadable-*.npz"))) == 1
    told.clear()
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round())
    assert told == [] and blocker.args[0].data_summary["replay_examples"] == 0  # (superseded)
