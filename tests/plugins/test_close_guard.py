"""Closing the napari window over a fine-tuned round that exists only in memory asks first:
Save / Discard / Cancel. Real viewer, real Train panel docked in it, a real tiny round; the
question is answered by replacing ``close_guard.ask_user`` (the real close path runs)."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from unet_studio.app.project import Project
from unet_studio.app.qt import close_guard

pytestmark = pytest.mark.qt


def _closed(window) -> bool:
    """Has the window closed? (napari's main window deletes itself once closed.)"""
    try:
        return not window.isVisible()
    except RuntimeError:  # (its C++ half is gone)
        return True


@pytest.fixture
def shown(studio, qtbot):
    """The viewer's main window, shown; closing it must not quit the test's application.
    (No fixture holds the window itself: a fixture's value lives until after napari's
    check that no viewer leaked.)"""
    from qtpy.QtWidgets import QApplication

    QApplication.instance().setQuitOnLastWindowClosed(False)
    napari_window = studio.viewer.window
    napari_window._qt_window.show()
    qtbot.waitExposed(napari_window._qt_window)
    yield
    QApplication.instance().setQuitOnLastWindowClosed(True)
    qtbot.wait(50)  # (deleteLater of the closed window)
    if hasattr(napari_window, "_qt_window") and _closed(napari_window._qt_window):
        # What napari's Window.close does after its window closed, so that the viewer
        # fixture's own close finds nothing left to close.
        napari_window._teardown()
        del napari_window._qt_window


@pytest.fixture
def train(corrected, shown):
    """The Train panel docked in the viewer (as the user opens it)."""
    from unet_studio.plugins.widgets import TrainWidget

    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = TrainWidget(corrected.viewer)
    panel.repredict_check.setChecked(False)
    corrected.viewer.window.add_dock_widget(panel, name="Train")
    return panel


class Answers(list):
    """The answers to give, in order (``append(SAVE)``); ``asked``: the questions asked;
    ``buttons``: the Save button's words of each."""

    def __init__(self):
        super().__init__()
        self.asked: list[str] = []
        self.buttons: list[str] = []

    def __call__(self, parent, text: str, save_text: str = "Save") -> str:
        self.asked.append(text)
        self.buttons.append(save_text)
        return self.pop(0)


@pytest.fixture
def answers(monkeypatch):
    answers = Answers()
    monkeypatch.setattr(close_guard, "ask_user", answers)
    return answers




def test_nothing_pending_closes_without_asking(corrected, train, answers, qtbot, quick_round):
    window = corrected.viewer.window._qt_window
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    assert train.round.saved is not None  # (saved: waiting for a verdict loses nothing)
    assert window.close()
    assert answers.asked == [] and _closed(window)


def test_an_unsaved_round_asks_cancel_keeps_the_window_save_saves(corrected, train, answers, qtbot,
        monkeypatch, fail_model_writes, quick_round):
    """The round's save failed (full disk). Closing asks, naming the round and its score;
    Cancel keeps the window and the round; Save while the disk is still full says why and
    keeps both; Save once there is room saves the model and closes the window."""
    window = corrected.viewer.window._qt_window
    calls = []
    real = fail_model_writes(calls)
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    assert train.round.saved is None

    answers.append(close_guard.CANCEL)
    assert not window.close()
    assert window.isVisible() and train.round is not None and train.accept_button.isEnabled()
    question = answers.asked[0]
    assert question.startswith("A fine-tuned model (round 1, F1, IoU 0.5 ")
    assert "has not been saved" in question and "->" in question

    answers.append(close_guard.SAVE)  # still full
    assert not window.close()
    qtbot.wait(50)
    assert window.isVisible() and len(calls) == 2 and train.round.saved is None
    assert "could not be saved" in train.status.text()

    monkeypatch.setattr("safetensors.torch.save_file", real)  # space was freed
    answers.append(close_guard.SAVE)
    models = corrected.session.project.models_dir  # (the project closes with the window)
    window.close()
    qtbot.waitUntil(lambda: _closed(window), timeout=5_000)
    saved = train.round.saved
    assert saved is not None and (saved / "model.safetensors").is_file()
    assert saved.parent == models
    assert len(answers.asked) == 3


@pytest.mark.slow
def test_discard_closes_and_keeps_nothing(corrected, train, answers, qtbot, monkeypatch,
        fail_model_writes, quick_round):
    window = corrected.viewer.window._qt_window
    fail_model_writes()
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    answers.append(close_guard.DISCARD)
    models = corrected.session.project.models_dir  # (the project closes with the window)
    window.close()
    qtbot.waitUntil(lambda: _closed(window), timeout=5_000)
    assert train.round is None and len(answers.asked) == 1
    assert not models.exists() or list(models.iterdir()) == []


def test_save_during_a_round_stops_it_and_saves_its_best_weights(corrected, train, answers,
                                                                 qtbot, monkeypatch, quick_round):
    """The window is closed (its title bar's button) while a round trains: Save stops the
    round after its current step, saves what it learnt as a model with its lineage, then
    closes the window. napari's own "close anyway?" does not ask a second time."""
    window = corrected.viewer.window._qt_window
    from napari._qt.dialogs.confirm_close_dialog import ConfirmCloseDialog
    from qtpy.QtGui import QCloseEvent
    from qtpy.QtWidgets import QApplication

    from unet_studio.models.weights import load_model

    napari_asked = []
    monkeypatch.setattr(ConfirmCloseDialog, "exec_", lambda dialog: napari_asked.append(1) or 0)

    class UserClose(QCloseEvent):  # the title bar's button, not a programmatic close
        def spontaneous(self) -> bool:
            return True

    steps = []
    train.start(config=quick_round(max_steps=100_000, max_seconds=120.0, val_every=2))
    worker = train.worker
    worker.yielded.connect(lambda p: hasattr(p, "step") and steps.append(p.step))  # (steps, not reading)
    # (step 3 reached: the reports include the step-0 scoring, so three reports can be 0, 1, 2)
    qtbot.waitUntil(lambda: bool(steps) and max(steps) >= 3, timeout=60_000)
    answers.append(close_guard.SAVE)
    QApplication.sendEvent(window, UserClose())
    assert "is still running" in answers.asked[0] and "round 1, from tiny" in answers.asked[0]
    qtbot.waitUntil(lambda: _closed(window), timeout=60_000)
    assert napari_asked == [] and len(answers.asked) == 1
    saved = train.round.saved
    assert saved is not None
    # (the worker's end reaches the panel as a queued signal, which may come after the
    # window closed, the panel with it, on a loaded machine (CI saw it twice): the thread's
    # own end is what must come)
    qtbot.waitUntil(lambda: train.worker is None or not worker.is_running, timeout=30_000)
    meta = load_model(saved).metadata
    assert meta["finetune"]["steps"] >= 3 and meta["finetune"]["stopped"] == "the window was closed"
    assert "val_loss" in meta["metrics_before"]
    assert not train.round.checkpoint_dir.exists()  # (the model folder holds the result)


def test_discard_during_a_round_stops_it_keeping_its_checkpoint(corrected, train, answers,
                                                               qtbot, quick_round):
    window = corrected.viewer.window._qt_window
    steps = []
    train.start(config=quick_round(max_steps=100_000, max_seconds=120.0, val_every=2))
    worker = train.worker
    worker.yielded.connect(lambda p: hasattr(p, "step") and steps.append(p.step))  # (steps, not reading)
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=60_000)
    answers.append(close_guard.DISCARD)
    with qtbot.waitSignal(worker.aborted, timeout=30_000):
        window.close()
    qtbot.waitUntil(lambda: _closed(window), timeout=10_000)
    assert train.round.saved is None and any(train.round.checkpoint_dir.glob("*.safetensors"))


@pytest.mark.slow
def test_a_scripts_viewer_close_is_not_asked(corrected, train, answers, qtbot, monkeypatch,
        fail_model_writes, quick_round):
    """``viewer.close()`` from code tears the viewer down before its window: no question
    (it could not be cancelled), and no modal box blocking a script."""
    fail_model_writes()
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    assert train.unsaved_work()
    corrected.viewer.close()
    assert answers.asked == []


@pytest.mark.slow
def test_a_failing_autosave_is_told_and_asked_about_at_close(corrected, shown, answers, qtbot,
                                                             monkeypatch):
    """The disk fills up while the user corrects: the window says so, naming the file, once;
    closing then asks (the changes are only in memory); Save retries and closes once the
    disk has room again."""
    import unet_studio.models.files as files

    window = corrected.viewer.window._qt_window
    session = corrected.session
    notes = []
    monkeypatch.setattr(session.host, "notify", lambda text, level="info": notes.append(text))

    def full(path, write, fsync=True):
        raise OSError(errno.ENOSPC, "No space left on device")

    real = files.atomic_write
    monkeypatch.setattr(files, "atomic_write", full)
    session.project.set_current_model("user:other")  # (project.json is written)
    file = str(session.project.path / "project.json")
    qtbot.waitUntil(lambda: any(file in text for text in notes), timeout=10_000)
    full_disk = [text for text in notes if "No space left" in text]
    assert len([text for text in full_disk if file in text]) == 1
    qtbot.wait(2_500)  # (retried twice meanwhile: each failure is told once)
    assert [text for text in notes if "No space left" in text] == full_disk

    answers.append(close_guard.CANCEL)
    assert not window.close() and window.isVisible()
    assert "the disk is full" in answers.asked[0]  # (in words: no journal file named)
    answers.append(close_guard.SAVE)  # still full
    assert not window.close()
    qtbot.wait(50)
    assert window.isVisible() and notes[-1].startswith("Still not saved")
    monkeypatch.setattr(files, "atomic_write", real)  # space was freed
    answers.append(close_guard.SAVE)
    path = session.project.path  # (the project closes with the window)
    window.close()
    qtbot.waitUntil(lambda: _closed(window), timeout=10_000)
    meta = (path / "project.json").read_text()
    assert '"current_model": "user:other"' in meta



@pytest.fixture
def in_memory(studio, nuclei_crop, tmp_path, monkeypatch):
    """The nuclei crop and its labels shown while no autosave project can be started: the
    user folder lies under a file (as root, chmod would not stop the writes; a read-only
    home fails the same way). ``in_memory.home``: that user folder."""
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    monkeypatch.setenv("UNET_STUDIO_HOME", str(blocker / "home"))
    image, labels = nuclei_crop
    studio.viewer.add_image(image, name="nuclei", metadata={"axes": "ZYX"})
    studio.session.show_labels(labels.copy())
    assert studio.session.project is None
    studio.home = blocker / "home"
    return studio


def test_labels_only_in_memory_are_asked_about_and_saved_into_a_chosen_project(
        in_memory, shown, answers, qtbot, monkeypatch, tmp_path):
    """No project (the autosave was refused): closing over edited labels asks, naming the
    image and why nothing is saved, with "Save project…"; Cancel keeps the window; Save
    with the folder chooser cancelled keeps it too; Save with a folder makes the project
    there, holding the edited labels, and closes the window."""
    from qtpy.QtWidgets import QFileDialog

    from unet_studio.app.label_edit import edit_from_region

    window = in_memory.viewer.window._qt_window
    session = in_memory.session
    session.apply_edit(edit_from_region(in_memory.host.current_labels(),
                                        (slice(2, 4), slice(0, 5), slice(0, 5)), 77))
    edited = in_memory.host.current_labels().copy()

    answers.append(close_guard.CANCEL)
    assert not window.close() and window.isVisible()
    question = answers.asked[0]
    assert "\u201cnuclei\u201d" in question and "only in memory" in question
    assert str(in_memory.home / "projects") in question
    assert answers.buttons == ["Save project…"]

    folders = []  # (what the folder chooser answers; nothing: it was cancelled)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda *args, **kwargs: folders.pop(0) if folders else "")
    answers.append(close_guard.SAVE)
    assert not window.close()
    qtbot.wait(50)
    assert window.isVisible() and session.project is None

    folders.append(str(tmp_path / "kept"))
    (tmp_path / "kept").mkdir()
    answers.append(close_guard.SAVE)
    window.close()
    qtbot.waitUntil(lambda: _closed(window), timeout=10_000)
    assert session.project is None and len(answers.asked) == 3  # (closed with the window)
    kept = Project.open(tmp_path / "kept")
    try:
        assert kept.read_only is None
        np.testing.assert_array_equal(kept.labels(kept.images[0].id), edited)
    finally:
        kept.close()


@pytest.mark.parametrize("button, answer", [("Save", close_guard.SAVE),
                                            ("Discard", close_guard.DISCARD),
                                            ("Cancel", close_guard.CANCEL)])
def test_the_question_box_answers_with_the_button_clicked(qtbot, button, answer):
    """The real modal box (the tests above replace it): each button gives its answer."""
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication, QMessageBox

    seen = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        standard = getattr(QMessageBox.StandardButton, button)
        box.button(standard).click()

    QTimer.singleShot(20, click)
    assert close_guard.ask_user(None, "A fine-tuned model has not been saved.") == answer
    assert seen == ["A fine-tuned model has not been saved."]


def test_the_question_box_says_what_save_does(qtbot):
    """Labels only in memory: the box's Save button reads "Save project…" (a folder is
    asked for next); Discard and Cancel keep their words."""
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication, QMessageBox

    seen = []

    def read_then_cancel() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_then_cancel)
            return
        seen.extend(box.button(button).text() for button in (
            QMessageBox.StandardButton.Save, QMessageBox.StandardButton.Cancel))
        box.button(QMessageBox.StandardButton.Cancel).click()

    QTimer.singleShot(20, read_then_cancel)
    assert close_guard.ask_user(None, "Labels only in memory.", save_text="Save project…") \
        == close_guard.CANCEL
    assert seen[0] == "Save project…" and seen[1] != "Save project…"


@pytest.mark.slow
def test_the_launchers_window_is_guarded(studio_home, make_napari_viewer):
    """The standalone launcher is a napari window with the panels docked: the same guard
    watches it (installed with the panels' session), with the Train panel as a keeper."""
    from unet_studio.app.launcher import open_studio
    from unet_studio.app.qt.close_guard import CloseGuard

    viewer = open_studio(show=False, load_sample=False)
    try:
        window = viewer.window._qt_window
        (guard,) = window.findChildren(CloseGuard)
        keepers = guard._keepers()
        assert any(type(k).__name__ == "TrainWidget" for k in keepers)
        assert all(k.unsaved_work() is None for k in keepers)
    finally:
        viewer.close()


@pytest.fixture
def other_viewer(make_napari_viewer, monkeypatch, qtbot):
    """A second, plain napari viewer (none of our panels), shown: the one the user quits
    from. napari's own "Quit napari?" box is answered yes (as the user would)."""
    from napari._qt.dialogs.confirm_close_dialog import ConfirmCloseDialog
    from qtpy.QtWidgets import QDialog

    monkeypatch.setattr(ConfirmCloseDialog, "exec_", lambda dialog: QDialog.DialogCode.Accepted)
    viewer = make_napari_viewer(show=True)
    qtbot.waitExposed(viewer.window._qt_window)
    napari_window = viewer.window
    del viewer  # (no fixture holds the viewer past napari's leak check, see `shown`)
    yield napari_window._qt_viewer.viewer
    qtbot.wait(50)
    if hasattr(napari_window, "_qt_window") and _closed(napari_window._qt_window):
        napari_window._teardown()  # (as in `shown`: its window was closed on its own)
        del napari_window._qt_window


def _quit_from(viewer) -> None:
    """napari's File > Exit (Ctrl+Q) in ``viewer``'s window: its app-model command."""
    from napari._app_model import get_app_model

    get_app_model().commands.execute_command("napari.window.file.quit_dialog",
                                             window=viewer.window).result()


@pytest.mark.slow
def test_quitting_from_another_window_asks_and_cancel_keeps_every_window(corrected, train,
        other_viewer, answers, qtbot, fail_model_writes, quick_round):
    """Two viewers; the unsaved round is in the one the user does not quit from. Quitting
    asks about it; Cancel keeps both windows and the round, and the quit is over: closing
    the other window alone afterwards closes only that one."""
    window, other = corrected.viewer.window._qt_window, other_viewer.window._qt_window
    fail_model_writes()
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())

    answers.append(close_guard.CANCEL)
    _quit_from(other_viewer)
    qtbot.wait(50)
    question = answers.asked[0] if len(answers.asked) == 1 else ""
    assert question.startswith("Quitting closes every window") and "has not been saved" in question
    assert window.isVisible() and other.isVisible()
    assert train.round is not None and train.round.saved is None

    other.close()  # (a plain close of the window with nothing at risk)
    qtbot.waitUntil(lambda: _closed(other), timeout=5_000)
    assert window.isVisible() and len(answers.asked) == 1


@pytest.mark.parametrize("answer, quit_from", [(close_guard.SAVE, "other"),
                                               (close_guard.DISCARD, "own")])
@pytest.mark.slow
def test_quitting_over_an_unsaved_round_saves_or_discards_it_then_quits(corrected, train,
        other_viewer, answers, qtbot, monkeypatch, fail_model_writes, answer, quit_from, quick_round):
    """Save saves the round then quits, Discard quits: every window closes, whichever
    window the quit came from (the round's own, or the other one)."""
    window, other = corrected.viewer.window._qt_window, other_viewer.window._qt_window
    real = fail_model_writes()
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    monkeypatch.setattr("safetensors.torch.save_file", real)  # (the disk has room again)
    round_ = train.round

    answers.append(answer)
    models = corrected.session.project.models_dir  # (the project closes with the window)
    _quit_from(other_viewer if quit_from == "other" else corrected.viewer)
    qtbot.waitUntil(lambda: _closed(window) and _closed(other), timeout=10_000)
    assert len(answers.asked) == 1
    written = sorted(models.glob("*/model.safetensors")) if models.exists() else []
    if answer == close_guard.SAVE:
        assert round_.saved is not None and written == [round_.saved / "model.safetensors"]
    else:
        assert written == []
