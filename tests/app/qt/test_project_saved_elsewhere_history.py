"""A new project made from the work of the project open (the close question's "Save
project…" of a project whose folder cannot be written, Correct > New project… of any
project) carries that project's history, the entries kept in memory only too, and its
models: a round waiting for its verdict comes back waiting in the new project, Roll back
offers what it offered, and the current model, a round of the project left, is its copy."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def rounds(session, save_finished_round, monkeypatch):
    """``train(accept)``: a round saved from the current model (Accept: made current and
    logged as the Train panel does); distinct names (rounds of one second share one)."""
    from unet_studio.app.qt import train_round

    names = iter(f"round-{n}" for n in range(1, 10))
    monkeypatch.setattr(train_round, "round_name", lambda *args: next(names))

    def train(accept: bool):
        info = save_finished_round(session)
        if accept:
            session.set_model(info)
            session.project.log("accept model", model=str(info.path))
        return info

    return train


@pytest.fixture
def open_unwritable(reopen_unwritable):
    """Reopen the session's project on a folder that cannot be written; an edit and a
    Segment's entry are then kept in memory only."""

    def reopen(session) -> Path:
        path = reopen_unwritable(session)
        session.project.log("predict", image=session.image_id, model=str(session.model.path))
        return path

    return reopen


def _carried(history: list[dict]) -> list[dict]:
    return [entry for entry in history if "from_project" in entry]


def test_save_project_carries_the_history_and_models_of_a_read_only_project(
        session, rounds, monkeypatch, tmp_path, qtbot, open_unwritable):  # fmt: skip
    from qtpy.QtWidgets import QFileDialog

    from unet_studio.app.qt.project_watch import ProjectWatch
    from unet_studio.app.qt.train_versions import earlier_versions
    from unet_studio.app.qt.train_waiting import recorded_round

    tiny = session.model.path
    rounds(accept=True)  # (round 1, in the project's models, then round 2 left waiting)
    rounds(accept=False)
    old = open_unwritable(session)
    left = session.project.history()  # (the "predict" in memory only)
    assert left[-1]["action"] == "predict" and Path(left[-1]["model"]).parent == old / "models"

    new = tmp_path / "elsewhere"
    new.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(new))
    answers = []
    ProjectWatch(session, interval_ms=60_000).save_unsaved(answers.append)
    qtbot.waitUntil(lambda: len(answers) == 1)  # (the models are copied in a worker thread first)
    assert answers == [True] and session.project.path == new
    assert sorted(p.name for p in (new / "models").iterdir()) == ["round-1", "round-2"]
    assert session.model.path == new / "models" / "round-1"  # (the copy: the old may go)
    session.close_project()
    session.open_project(new)  # (reopened: from what was written)

    history = session.project.history()
    assert history[0]["action"] == "create project" and "from_project" not in history[0]
    carried = _carried(history)
    assert [e["action"] for e in carried] == [e["action"] for e in left]
    assert {e["from_project"] for e in carried} == {str(old)}
    assert [e["time"] for e in carried] == [e["time"] for e in left]
    named = [Path(e["model"]) for e in carried if e["action"] in ("fine-tune", "predict")]
    assert named and all(path.parent == new / "models" for path in named)
    assert session.project.current_model == "project:round-1"

    waiting = recorded_round(session)
    assert waiting is not None and waiting.saved == (new / "models" / "round-2").resolve()
    assert [Path(info.path) for info in earlier_versions(session)] == [tiny]


def test_new_project_carries_the_rounds_kept_in_memory(session, rounds, monkeypatch, tmp_path,
                                                      open_unwritable):
    """The QA walkthrough: every round made while the folder could not be written, saved in
    the user's models, logged in memory only; Correct > New project… takes the lot."""
    from unet_studio.app.qt.train_versions import waiting_round
    from unet_studio.app.qt.train_waiting import recorded_round

    old = open_unwritable(session)
    first = rounds(accept=True)
    second = rounds(accept=False)
    assert Path(second.path).parent == session.library.folders["user"]
    left = session.project.history()

    session.open_project(tmp_path / "new", create=True)
    session.close_project()
    session.open_project(tmp_path / "new")
    history = session.project.history()
    carried = _carried(history)
    assert [e["action"] for e in carried] == [e["action"] for e in left]
    assert [e["action"] for e in carried][-4:] == ["fine-tune", "set current model",
                                                   "accept model", "fine-tune"]
    assert {e["from_project"] for e in carried} == {str(old)}
    # (the user's models stay where they are: named there)
    assert [e["model"] for e in carried if e["action"] == "fine-tune"] == [str(first.path),
                                                                          str(second.path)]
    assert (session.project.labels(session.project.images[0].id) == 7).all()
    found = waiting_round(history, session.library)
    assert found is not None and Path(found[1]) == Path(second.path).resolve()
    # (read as the Train panel reads it: the user's models are no former place of the
    # project's models, so the round's path is not relocated into the new project)
    waiting = recorded_round(session)
    assert waiting is not None and waiting.saved == Path(second.path).resolve()


def test_new_project_from_the_autosave_project_keeps_its_rounds_and_current_model(
        session, rounds, tmp_path, qtbot):  # fmt: skip
    """QA: a round accepted in the autosave project (writable), then Correct > New project…:
    the new project recorded "project:<round>" but held no models; reopened, "project model
    not available", the fine-tuned model and its versions gone."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession
    from unet_studio.app.qt.train_waiting import recorded_round

    old = session.project.path
    rounds(accept=True)
    rounds(accept=False)  # (round 2 left waiting for its verdict)
    new = tmp_path / "chosen"
    made = []
    session.save_project_elsewhere(new, made.append)  # (as Correct > New project… does)
    qtbot.waitUntil(lambda: len(made) == 1)  # (the models are copied in a worker thread first)
    assert made[0] is session.project and session.project.path == new
    assert sorted(p.name for p in (new / "models").iterdir()) == ["round-1", "round-2"]
    assert session.model.path == new / "models" / "round-1"
    assert (old / "models" / "round-1").is_dir()  # (the project left stays as it was)
    session.close_project()

    told = []
    again = StudioSession(session.host, library=ModelLibrary(home=tmp_path / "home"))
    again.host.notify = lambda message, *args, **kwargs: told.append(message)
    again.open_project(new)  # (another start of the app: from what was written)
    try:
        assert not [m for m in told if "not available" in m], told
        assert again.model.path == new / "models" / "round-1"
        assert again.project.current_model == "project:round-1"
        waiting = recorded_round(again)
        assert waiting is not None and waiting.saved == (new / "models" / "round-2").resolve()
    finally:
        again.close_project()
