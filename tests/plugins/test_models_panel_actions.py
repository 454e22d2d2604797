"""Models panel: Rename and Duplicate, and Export in a worker thread; every panel that lists
models follows."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from unet_studio.app.errors import UserError

pytestmark = pytest.mark.qt


@pytest.fixture
def segment(studio, segment_panel_of):
    return segment_panel_of(studio)


def _names(models_panel) -> list[str]:
    return [models_panel.model_list.item(i).text() for i in range(models_panel.model_list.count())]


def _offered(segment) -> list[str]:
    return [segment.model_combo.itemText(i) for i in range(segment.model_combo.count())]


def _select(models_panel, ref: str) -> None:
    row = next(i for i in range(models_panel.model_list.count())
               if models_panel.model_list.item(i).data(256).ref == ref)
    models_panel.model_list.setCurrentRow(row)


def _import(models_panel, qtbot, folder):
    with qtbot.waitSignal(models_panel.imported, timeout=30_000) as blocker:
        models_panel.import_folder(folder)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=10_000)
    return blocker.args[0]


def _answer_dialog(qtbot, click, text: str | None) -> None:
    """Click ``click`` and answer the input dialog it opens with ``text`` (None: Cancel)."""
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication, QInputDialog

    answered = []

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        answered.append(dialog.textValue())
        if text is None:
            dialog.reject()
        else:
            dialog.setTextValue(text)
            dialog.accept()

    QTimer.singleShot(0, answer)
    click()
    assert answered


def _slow_copies(monkeypatch, seconds: float) -> list[threading.Thread]:
    """Each file copy of a model folder takes ``seconds`` longer; the threads that copied."""
    threads = []
    copy2 = shutil.copy2

    def slow_copy(source, target):
        threads.append(threading.current_thread())
        time.sleep(seconds)
        return copy2(source, target)

    monkeypatch.setattr("unet_studio.app.model_folder.shutil.copy2", slow_copy)
    return threads


def test_export_copies_in_a_worker_thread_and_says_where(models_panel, studio, tmp_path, qtbot,
                                                         monkeypatch, told):
    """The GUI keeps running while the files are copied; the notification names the folder."""
    from qtpy.QtCore import QTimer

    _select(models_panel, "bundled:default")
    threads = _slow_copies(monkeypatch, 0.3)
    ticks = []
    timer = QTimer(interval=20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    with qtbot.waitSignal(models_panel.exported, timeout=30_000) as blocker:
        models_panel.export_selected(tmp_path)
        assert models_panel.worker is not None and not models_panel.export_button.isEnabled()
        assert not (tmp_path / "default").exists()  # (the copy has not happened yet)
    timer.stop()
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=10_000)
    target = tmp_path / "default"
    assert blocker.args[0] == target and (target / "model.safetensors").is_file()
    assert threads and threading.main_thread() not in threads
    assert len(threads) == 3 and len(ticks) > 20  # 0.9 s of copying: the GUI ticked meanwhile
    assert told[-1] == ("info", f"exported to {target}") and models_panel.export_button.isEnabled()


def test_a_failed_export_leaves_no_folder_and_names_the_destination(models_panel, studio, tmp_path,
                                                                    qtbot, monkeypatch, told):
    copy2 = shutil.copy2

    def disk_full_at_the_weights(source, target):
        if str(source).endswith(".safetensors"):
            raise OSError(28, "No space left on device")
        return copy2(source, target)

    monkeypatch.setattr("unet_studio.app.model_folder.shutil.copy2", disk_full_at_the_weights)
    _select(models_panel, "bundled:default")
    destination = tmp_path / "usb" / "models" / "nuclei"
    models_panel.export_selected(destination)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=30_000)
    ((level, message),) = told
    assert level == "error" and f"to {destination} failed" in message
    assert "No space left on device" in message
    assert list(tmp_path.iterdir()) == []  # neither the model folder nor the folders made for it


def test_duplicate_makes_a_copy_every_list_offers(models_panel, segment, studio, qtbot, told):
    """The bundled model is read-only (Rename is off) but can be duplicated: the copy is a
    user model named "<name> copy", then "<name> copy 2"; it is selected and offered."""
    _select(models_panel, "bundled:default")
    bundled = models_panel.selected()
    assert not models_panel.rename_button.isEnabled() and models_panel.duplicate_button.isEnabled()
    assert "read-only" in models_panel.rename_button.toolTip()
    copies = []
    for _ in range(2):
        with qtbot.waitSignal(models_panel.duplicated, timeout=30_000) as blocker:
            _select(models_panel, "bundled:default")
            models_panel.duplicate_button.click()
        qtbot.waitUntil(lambda: models_panel.worker is None, timeout=10_000)
        copies.append(blocker.args[0])
    assert [c.name for c in copies] == [f"{bundled.name} copy", f"{bundled.name} copy 2"]
    assert all(c.source == "user" for c in copies) and models_panel.selected().path == copies[1].path
    assert models_panel.rename_button.isEnabled()  # a copy is the user's own
    assert f"{bundled.name} copy  [user]" in _names(models_panel)
    assert f"{bundled.name} copy 2  (user)" in _offered(segment)
    weights = (bundled.path / "model.safetensors").read_bytes()
    assert (copies[0].path / "model.safetensors").read_bytes() == weights
    assert told[-1] == ("info", f"duplicated as {bundled.name} copy 2 ({copies[1].ref})")


def test_rename_follows_the_current_model_the_default_and_the_project(
        models_panel, segment, studio, tiny_model_dir, tmp_path, qtbot, told):
    """Renaming the model in use: the session, the project (its current model, reopened
    too), the default setting, and every list name it anew; nothing names the old one."""
    from unet_studio.app.project import Project

    session = studio.session
    info = _import(models_panel, qtbot, tiny_model_dir)
    project = session.open_project(tmp_path / "project", create=True)
    _select(models_panel, info.ref)
    models_panel.use_button.click()
    models_panel.default_button.click()
    _answer_dialog(qtbot, models_panel.rename_button.click, "nuclei v2")
    renamed = session.model
    assert (renamed.name, renamed.ref) == ("nuclei v2", "user:nuclei-v2")
    assert not info.path.exists() and (renamed.path / "model.safetensors").is_file()
    assert models_panel.selected().path == renamed.path
    assert models_panel.current_label.text() == "Current model: nuclei v2"
    assert "(current, default)  nuclei v2  [user]" in _names(models_panel)
    assert "nuclei v2  (user)" in _offered(segment)
    assert not any("tiny  (user" in text for text in _offered(segment))
    assert segment.model_combo.currentData().path == renamed.path
    assert session.library.default().ref == "user:nuclei-v2"
    assert told[-1] == ("info", "renamed tiny to nuclei v2")
    assert project.flush(10)
    reopened = Project.open(project.path)
    assert reopened.current_model == "user:nuclei-v2"
    assert any(entry["action"] == "rename model" and entry["ref_before"] == "user:tiny"
               for entry in reopened.history())
    reopened.close()
    _answer_dialog(qtbot, models_panel.rename_button.click, None)  # Cancel: nothing happens
    assert session.model.path == renamed.path


@pytest.mark.parametrize("name, problem", [
    ("", "a model name cannot be empty"),
    ("models/nuclei", "contains a path separator"),
    ("Tiny", "a model named 'tiny' already exists (user:tiny)"),
])  # fmt: skip
@pytest.mark.slow
def test_rename_refuses_an_empty_invalid_or_taken_name(models_panel, studio, tiny_model_dir, qtbot,
                                                       told, name, problem):
    first = _import(models_panel, qtbot, tiny_model_dir)
    second = studio.session.library.duplicate_model(first.ref)  # "tiny copy"
    studio.session.models_listed.emit()
    _select(models_panel, second.ref)
    before = _names(models_panel)
    del told[:]
    _answer_dialog(qtbot, models_panel.rename_button.click, name)
    ((level, message),) = told
    assert level == "error" and problem in message
    assert _names(models_panel) == before and second.path.exists()


def test_rename_waits_for_a_copy_that_runs(models_panel, studio, tiny_model_dir, tmp_path, qtbot,
                                           monkeypatch, told):
    """While a copy (or a prediction, or a round) runs, a rename is refused: the work may be
    reading the model's folder."""
    info = _import(models_panel, qtbot, tiny_model_dir)
    _select(models_panel, info.ref)
    _slow_copies(monkeypatch, 0.3)
    models_panel.export_selected(tmp_path / "out")
    assert not models_panel.rename_button.isEnabled() and not models_panel.remove_button.isEnabled()
    with pytest.raises(UserError, match="cannot be renamed while work runs in the background"):
        models_panel.rename_selected("elsewhere")
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=30_000)
    assert info.path.exists() and (tmp_path / "out" / "model.safetensors").is_file()
    assert models_panel.rename_button.isEnabled()
