"""Closing a window whose project another window has open (this one reads it read-only, its
changes kept in memory): plain Save only flushes, refused while that window holds the
project, so the question offers "Save project…" (a new folder, the models and history
carried) and says why. Once the other window has closed the project, plain Save saves it
where it is. Real Qt close events reach a real :class:`CloseGuard`; its question is
answered by replacing ``ask_user``."""

from __future__ import annotations

import pytest

from unet_studio.app.qt import close_guard

pytestmark = pytest.mark.qt


@pytest.fixture
def guarded(monkeypatch, tmp_path, locked, guarded_window):
    """(window, questions asked, folders chosen): a shown window guarded by its project
    watch; the question's answers are taken from the returned list (then Discard)."""
    from qtpy.QtWidgets import QFileDialog

    chosen: list[str] = []

    def choose(*_args, **_kwargs) -> str:
        chosen.append(str(tmp_path / "new"))
        return chosen[-1]

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", choose)
    return guarded_window, chosen


def _answering(monkeypatch, answer, before=lambda: None) -> list[tuple[str, str]]:
    """Answer every question with ``answer`` (``before()`` first: what happens while it
    is asked); returns the questions asked, (text, Save button's words)."""
    asked = []

    def ask(_parent, text: str, save_text: str = "Save") -> str:
        asked.append((text, save_text))
        before()
        return answer

    monkeypatch.setattr(close_guard, "ask_user", ask)
    return asked


def test_closing_a_project_another_window_has_open_saves_it_as_a_new_project(
        session, locked, guarded, monkeypatch, qtbot, tmp_path):  # fmt: skip
    from pathlib import Path

    from unet_studio.app.project import Project

    (window, chosen), (_other, round_) = guarded, locked
    old = session.project.path
    asked = _answering(monkeypatch, close_guard.SAVE)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    [(text, button)] = asked
    assert button == "Save project…"
    assert "as another window has this project open: save your work as a new project" in text
    new = tmp_path / "new"
    assert chosen == [str(new)] and session.project.path == new
    assert [p.name for p in (new / "models").iterdir()] == [Path(round_.path).name]
    with Project.open(new, autosave_delay=0.0) as reopened:
        assert (reopened.labels(reopened.images[0].id) == 7).all()
        assert {e.get("from_project") for e in reopened.history()} >= {str(old)}


def test_once_the_other_window_closed_the_project_plain_save_saves_it_there(
        session, locked, guarded, monkeypatch, qtbot):  # fmt: skip
    from unet_studio.app.project import Project

    (window, chosen), (other, _round) = guarded, locked
    path = session.project.path
    # (the other window closes the project while the question is asked)
    asked = _answering(monkeypatch, close_guard.SAVE, before=other.close)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert [button for _, button in asked] == ["Save project…"]
    assert chosen == [] and session.project.path == path  # (saved where it is)
    assert session.project.read_only is None and session.project.flush(10)
    image_id = session.image_id
    session.close_project()
    with Project.open(path, autosave_delay=0.0) as reopened:
        assert (reopened.labels(image_id) == 7).all()
