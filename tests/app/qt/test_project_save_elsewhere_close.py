"""Correct > New project… from a project this window cannot save (its folder cannot be
written, or another window writes it) copies the project's models in a worker thread.

Closing the window meanwhile asks about that save ("Finish saving" waits for it, Discard
stops it, as the question says), and a project another window writes gives the new project
its models and history, as one whose folder cannot be written does. Real Qt close events
reach a real :class:`CloseGuard`; its question is answered by replacing ``ask_user``."""

from __future__ import annotations

import pytest

from unet_studio.app.qt import close_guard

pytestmark = pytest.mark.qt


@pytest.fixture
def unwritable_with_a_round(session, tmp_path, reopen_unwritable):
    """The session's project, a 31 MB round in its models, reopened on a folder that cannot
    be written with an edit kept in memory; yields the new project's folder (absent). A
    copy still running at the end (a test that failed) is stopped before Qt goes."""
    from unet_studio.app.qt.workers import finish_engine_work
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    save_model(build_model("unet", spatial_dims=2, base_channels=32, depth=4),
               session.project.models_dir / "round-1")  # fmt: skip
    reopen_unwritable(session)
    yield tmp_path / "elsewhere"
    finish_engine_work(10)


class Answers(list):
    """The answers to give, in order (then Discard: the window closed at the test's end);
    ``asked`` and ``buttons``: each question's text and its Save button's words."""

    def __init__(self):
        super().__init__()
        self.asked: list[str] = []
        self.buttons: list[str] = []

    def __call__(self, parent, text: str, save_text: str = "Save") -> str:
        self.asked.append(text)
        self.buttons.append(save_text)
        return self.pop(0) if self else close_guard.DISCARD


@pytest.fixture
def answers(monkeypatch):
    answers = Answers()
    monkeypatch.setattr(close_guard, "ask_user", answers)
    return answers


@pytest.fixture
def window(monkeypatch, unwritable_with_a_round, guarded_window):
    """A shown window guarded as the napari adapter guards the viewer's: its project watch.
    A folder chooser, if the question opens one, picks the new project's folder."""
    from qtpy.QtWidgets import QFileDialog

    new = str(unwritable_with_a_round)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: new)
    return guarded_window


def _leftovers(new) -> list[str]:
    """What a save left in or beside ``new`` (a project, staging folders)."""
    beside = [p.name for p in new.parent.iterdir() if p.name.startswith(f".{new.name}")]
    return sorted(beside) + (sorted(p.name for p in new.iterdir()) if new.exists() else [])


def test_closing_during_new_project_asks_about_that_save_and_waits_for_it(
        session, unwritable_with_a_round, slow_share, answers, window, qtbot):  # fmt: skip
    new = unwritable_with_a_round
    session.save_project_elsewhere(new, lambda _made: None)  # (as Correct > New project…)
    answers.append(close_guard.SAVE)
    assert not window.close()  # (the copy under way: the window waits for it)
    question, button = answers.asked[0], answers.buttons[0]
    assert f"being saved in {new}" in question and "Discard stops it" in question
    assert button == "Finish saving"
    assert window.isVisible() and session.saving_elsewhere == new
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    assert len(answers.asked) == 1  # (closed by the save's end, not asked again)
    assert session.project.path == new and session.project.flush(0)
    assert (new / "models" / "round-1" / "model.safetensors").stat().st_size > 30e6
    assert (session.project.labels(session.project.images[0].id) == 7).all()


def test_discard_during_new_project_stops_that_save(
        session, unwritable_with_a_round, slow_share, answers, window, qtbot):  # fmt: skip
    old, new = session.project, unwritable_with_a_round
    made = []
    session.save_project_elsewhere(new, made.append)
    answers.append(close_guard.DISCARD)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5_000)
    assert "Discard stops it: no project is made" in answers.asked[0]
    qtbot.waitUntil(lambda: len(made) == 1, timeout=5_000)  # (stopped, not copied to its end)
    assert made == [None] and session.project is old and session.saving_elsewhere is None
    assert _leftovers(new) == []


def test_new_project_from_a_project_another_window_writes_takes_its_models_and_history(
        session, locked, tmp_path, qtbot):  # fmt: skip
    from pathlib import Path

    from unet_studio.app.project import Project

    _, round_ = locked  # (the round in the project's models, logged there)
    path = session.project.path
    session.project.log("predict", image=session.image_id, model=str(round_.path))
    new, made = tmp_path / "new", []
    session.save_project_elsewhere(new, made.append)  # (as Correct > New project…)
    assert session.saving_elsewhere == new  # (the models copied in the worker)
    qtbot.waitUntil(lambda: len(made) == 1, timeout=20_000)
    assert made[0] is not None and session.project.path == new
    assert [p.name for p in (new / "models").iterdir()] == [Path(round_.path).name]
    assert session.project.flush(10)
    with Project.open(new, autosave_delay=0.0) as reopened:
        carried = [e for e in reopened.history() if "from_project" in e]
        assert (reopened.labels(reopened.images[0].id) == 7).all()
    assert [e["action"] for e in carried][-2:] == ["fine-tune", "predict"]
    assert {e["from_project"] for e in carried} == {str(path)}
    assert {Path(e["model"]).parent for e in carried[-2:]} == {new / "models"}
