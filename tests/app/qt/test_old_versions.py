"""The project's earlier accepted model versions: the Models panel offers to remove those
beyond the last N (N chosen beside the button), says how many and how much disk, asks
naming each with its date and size, and removes them through Remove's path (logged, the
lineage relinked); never the current model, the default, one another window uses, a
model outside the project's models, nor anything while read-only or while work runs."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _accept(session, info) -> None:
    """As the Train panel's Accept: the round's model made current, then logged."""
    session.set_model(info)
    session.project.log("accept model", model=str(info.path))


def _accepted_rounds(session, save_finished_round, count: int) -> list:
    """``count`` rounds, each from the one before, each accepted (the last is current)."""
    versions = []
    for _ in range(count):
        versions.append(save_finished_round(session))
        _accept(session, versions[-1])
    return versions


def _panel(session, qtbot):
    from unet_studio.app.qt.models_panel import ModelsPanel

    panel = ModelsPanel(session)
    qtbot.addWidget(panel)
    return panel


def test_the_panel_removes_the_versions_before_the_last_three(
        session, save_finished_round, qtbot, click_and_answer):  # fmt: skip
    from unet_studio.app.qt.model_card import card_markdown

    base = session.library.import_model(session.model.path, name="base")  # (a user's model)
    session.set_model(base)
    v1, v2, v3, v4, v5, v6 = _accepted_rounds(session, save_finished_round, 6)
    rejected = save_finished_round(session)
    session.project.log("reject model", model=str(rejected.path))
    waiting = save_finished_round(session)  # (no verdict yet: no version)
    panel = _panel(session, qtbot)

    assert [found.info.path for found in panel.old_versions] == [v1.path, v2.path]
    assert panel.keep_spin.value() == 3 and not panel.keep_box.isHidden()
    assert panel.remove_old_button.text().startswith("Remove old versions (2, ")
    assert panel.remove_old_button.isEnabled()
    panel.keep_spin.setValue(1)  # (the user's N: the list follows)
    assert [found.info.path for found in panel.old_versions] == [v1.path, v2.path, v3.path,
                                                                  v4.path]  # fmt: skip
    assert panel.remove_old_button.text().startswith("Remove old versions (4, ")
    panel.keep_spin.setValue(3)

    question = click_and_answer(panel.remove_old_button, "No")  # "No" keeps them
    assert f"{v1.name}, saved {v1.date[:10]} " in question and v2.name in question
    assert question.count(", saved ") == 2 and "last 3" in question  # (v1 and v2 only)
    assert " KB)" in question and v1.path.is_dir() and v2.path.is_dir()
    click_and_answer(panel.remove_old_button, "Yes")

    assert not v1.path.exists() and not v2.path.exists()
    for kept in (v3, v4, v5, v6, rejected, waiting):
        assert (kept.path / "model.safetensors").is_file()
    assert sorted(p.name for p in session.project.models_dir.iterdir()) == sorted(
        p.path.name for p in (v3, v4, v5, v6, rejected, waiting))  # (no hidden rest either)
    session.project.flush(10)
    removed = [e["model"] for e in session.project.history() if e["action"] == "remove model"]
    assert removed == [str(v1.path), str(v2.path)]
    assert any("removed 2 old model version(s)" in text for _, text in session.host.notifications)
    assert panel.old_versions == [] and not panel.remove_old_button.isEnabled()
    assert panel.remove_old_button.text() == "No old versions beyond the last 3"
    # the lineage skips the removed versions: v3 names the model v1 came from
    chain = session.library.lineage(v6.ref)
    assert [info.path for info in chain] == [v6.path, v5.path, v4.path, v3.path, base.path]
    assert "- parent: user:base" in card_markdown(session.library.get(v3.ref))
    assert session.model.path == v6.path and v6.name in panel.current_label.text()


def test_the_current_models_card_shows_a_removed_parent(session, save_finished_round, qtbot):
    """A parent chosen by its folder cannot be relinked to by ref: the lineage then names a
    removed version, and the card and the list still show (the panel's own path)."""
    *_, v5 = _accepted_rounds(session, save_finished_round, 5)
    panel = _panel(session, qtbot)
    panel.keep_spin.setValue(0)
    panel.remove_old_versions()
    assert sorted(p.name for p in session.project.models_dir.iterdir()) == [v5.path.name]
    panel._select(v5.path)  # (the list as the user clicks it)
    assert panel.selected().path == v5.path
    card = panel.card.toPlainText()
    assert v5.name in card and "parent:" in card
    assert [info.path for info in session.library.lineage(v5.ref)][0] == v5.path


def test_the_default_a_model_of_another_window_and_a_user_model_are_never_offered(
        session, save_finished_round, session_on, tmp_path, qtbot):  # fmt: skip
    from unet_studio.app.host import FakeHost
    from unet_studio.app.qt.old_versions import removable_versions

    tiny = session.model
    v1, v2, v3, v4 = _accepted_rounds(session, save_finished_round, 4)
    session.library.set_default(v1.ref)
    other = session_on(FakeHost(), tmp_path / "home")  # (another window, another project)
    other.open_project(tmp_path / "other-project", create=True)
    other.set_model(str(v2.path))
    _panel(other, qtbot)  # (a window is found through its panels)
    mine = session.library.import_model(tiny.path, name="mine")  # a user's model
    session.project.log("fine-tune", model=str(mine.path))  # (as an unwritable project's round)
    _accept(session, mine)
    _accept(session, v4)
    panel = _panel(session, qtbot)
    panel.keep_spin.setValue(0)  # (only the current one kept: all else that may go is offered)

    assert [found.info.path for found in panel.old_versions] == [v3.path]
    assert [found.info.path for found in removable_versions(session, 0)] == [v3.path]
    panel.remove_old_versions()
    assert not v3.path.exists()
    for kept in (v1, v2, v4, mine):
        assert (kept.path / "model.safetensors").is_file()


def test_nothing_is_removed_while_work_runs(session, save_finished_round, qtbot):
    from unet_studio.app.errors import UserError
    from unet_studio.app.qt.old_versions import removable_versions, remove_versions
    from unet_studio.app.qt.workers import engine_work_running, start_engine

    v1, *_ = _accepted_rounds(session, save_finished_round, 5)
    panel = _panel(session, qtbot)
    shown = removable_versions(session, 3)
    assert [found.info.path for found in shown] == [v1.path]
    release = threading.Event()

    def training():  # (a round's thread: it reads its parent until it ends)
        yield "training"
        release.wait(30)

    start_engine(training(), notify=lambda *_, **__: None, action="Fine-tuning")
    try:
        assert engine_work_running()
        with pytest.raises(UserError, match="while work runs"):
            remove_versions(session, shown, 3)
        panel.remove_old_button.click()  # (refused before asking: no question opens)
        assert session.host.notifications[-1][0] == "error"
        assert "while work runs" in session.host.notifications[-1][1]
        assert (v1.path / "model.safetensors").is_file()
    finally:
        release.set()
        qtbot.waitUntil(lambda: not engine_work_running(), timeout=10_000)
    removed, problems = remove_versions(session, shown, 3)
    assert [found.info.path for found in removed] == [v1.path] and problems == []


def test_nothing_is_offered_or_removed_while_another_window_holds_the_project(
        session, save_finished_round, qtbot):  # fmt: skip
    from unet_studio.app.errors import UserError
    from unet_studio.app.label_edit import diff_labels
    from unet_studio.app.project import Project
    from unet_studio.app.qt.old_versions import removable_versions, remove_versions

    v1, *_ = _accepted_rounds(session, save_finished_round, 5)
    shown = removable_versions(session, 3)
    assert [found.info.path for found in shown] == [v1.path]
    path = session.project.path
    session.close_project()
    holder = Project.open(path, autosave_delay=0.0)  # (the other window: it writes)
    try:
        session.open_project(path)
        assert session.project.read_only
        labels = session.host.current_labels()
        session.apply_edit(diff_labels(labels, np.where(labels == 0, 7, labels)))
        panel = _panel(session, qtbot)
        assert panel.old_versions == [] and panel.remove_old_button.isHidden()
        assert panel.keep_box.isHidden()
        assert removable_versions(session, 0) == []
        with pytest.raises(UserError, match="open in another window"):
            remove_versions(session, shown, 3)
        assert (v1.path / "model.safetensors").is_file()
    finally:
        holder.close()


def test_a_version_used_after_the_list_was_shown_is_not_removed(session, save_finished_round):
    from unet_studio.app.qt.old_versions import removable_versions, remove_versions

    v1, v2, *_ = _accepted_rounds(session, save_finished_round, 6)
    shown = removable_versions(session, 3)
    assert [found.info.path for found in shown] == [v1.path, v2.path]
    session.set_model(v1)  # (meanwhile: rolled back to it)
    removed, problems = remove_versions(session, shown, 3)
    assert [found.info.path for found in removed] == [v2.path] and problems == []
    assert (v1.path / "model.safetensors").is_file() and not v2.path.exists()


def test_the_row_fits_a_narrow_dock(session, save_finished_round, qtbot):
    """The button and its N wrap onto two lines in a dock 300 px wide rather than
    widening the panel past it (a row side by side was cut off at the dock's edge)."""
    from qtpy.QtCore import QPoint

    from unet_studio.app.qt.scrolling import PanelScrollArea

    _accepted_rounds(session, save_finished_round, 16)
    panel = _panel(session, qtbot)
    panel.keep_spin.setValue(0)
    assert panel.remove_old_button.text().startswith("Remove old versions (15, ")
    panel.resize(300, 700)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(20)
    viewport = panel.findChild(PanelScrollArea).viewport()
    for widget in (panel.remove_old_button, panel.keep_spin):
        assert widget.isVisible()
        assert widget.mapTo(viewport, QPoint(widget.width(), 0)).x() <= viewport.width()
    assert panel.width() == 300
