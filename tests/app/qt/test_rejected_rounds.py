"""The model folders of rejected Train rounds: the Models panel says how many there are and
how much disk they hold, and removes them when asked: only the rounds this project wrote
and the user turned down, never one used since, the default model or a user's model."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


def _reject(session, info) -> None:
    session.project.log("reject model", model=str(info.path))  # (as the Train panel's Reject)



def test_the_models_panel_removes_the_rejected_rounds_nothing_uses(
        session, save_finished_round, qtbot, click_and_answer):  # fmt: skip
    from unet_studio.app.qt import model_actions
    from unet_studio.app.qt.models_panel import ModelsPanel

    parent = session.model
    plain, used, default, renamed, waiting = (save_finished_round(session) for _ in range(5))
    for info in (plain, used, default, renamed):
        _reject(session, info)
    session.set_model(used)  # chosen after all: the Reject is taken back
    session.set_model(parent)
    session.library.set_default(default.ref)
    renamed = model_actions.rename_model(session, renamed, "turned down")  # still rejected
    panel = ModelsPanel(session)
    qtbot.addWidget(panel)

    offered = {found.info.path for found in panel.rejected}
    assert offered == {plain.path, renamed.path}
    assert not panel.remove_rejected_button.isHidden()
    size = sum(f.stat().st_size for folder in offered for f in folder.iterdir())
    assert panel.remove_rejected_button.text().startswith("Remove rejected rounds (2, ")
    assert size > 0 and all(f.stat().st_size for f in plain.path.iterdir())
    marked = [panel.model_list.item(i).text() for i in range(panel.model_list.count())
              if "rejected" in panel.model_list.item(i).text()]
    assert len(marked) == 2 and any("turned down" in text for text in marked)

    question = click_and_answer(panel.remove_rejected_button, "No")  # asked first, naming them: "No" keeps them
    assert plain.name in question and "turned down" in question
    assert plain.path.is_dir() and renamed.path.is_dir()
    click_and_answer(panel.remove_rejected_button, "Yes")

    assert not plain.path.exists() and not renamed.path.exists()
    for kept in (used, default, waiting):
        assert (kept.path / "model.safetensors").is_file()
    assert (parent.path / "model.safetensors").is_file()
    assert sorted(p.name for p in session.project.models_dir.iterdir()) == sorted(
        p.path.name for p in (used, default, waiting))  # (no hidden rest either)
    assert panel.remove_rejected_button.isHidden() and panel.rejected == []
    removed = [e["model"] for e in session.project.history() if e["action"] == "remove model"]
    assert sorted(removed) == sorted([str(plain.path), str(renamed.path)])
    assert any("removed 2 rejected round(s)" in text for _, text in session.host.notifications)


def test_a_round_used_after_the_list_was_shown_is_not_removed(session, save_finished_round, qtbot):
    from unet_studio.app.qt.rejected_rounds import removable_rounds, remove_rounds

    parent = session.model
    first, second = save_finished_round(session), save_finished_round(session)
    _reject(session, first)
    _reject(session, second)
    shown = removable_rounds(session)
    assert [found.info.path for found in shown] == [first.path, second.path]
    session.set_model(second)  # (meanwhile: the Reject taken back)
    removed, problems = remove_rounds(session, shown)
    assert [found.info.path for found in removed] == [first.path] and problems == []
    assert not first.path.exists() and (second.path / "model.safetensors").is_file()
    session.set_model(parent)


def test_a_later_model_in_a_removed_rounds_folder_is_not_taken_for_it(
        session, save_finished_round, tmp_path):  # fmt: skip
    """A round removed (Remove), then a model imported under its folder name: the history's
    Reject was said of the removed folder, not of the user's model now there."""
    from unet_studio.app.qt import model_actions
    from unet_studio.app.qt.rejected_rounds import removable_rounds

    round_ = save_finished_round(session)
    _reject(session, round_)
    assert [found.info.path for found in removable_rounds(session)] == [round_.path]
    model_actions.remove_model(session, round_)
    imported = session.library.import_model(session.model.path, name=round_.path.name,
                                            to="project")  # fmt: skip
    assert imported.path == round_.path
    assert removable_rounds(session) == []


def test_a_removal_cut_off_leaves_no_half_model_listed(session, save_finished_round, monkeypatch):
    """The folder is hidden before it is deleted: a delete that fails half-way (a file held
    open) leaves no model without weights in the lists, and the rest is swept later."""
    import errno
    import shutil

    from unet_studio.app.project_repair import sweep_leftovers

    round_ = save_finished_round(session)
    real_rmtree = shutil.rmtree

    def cut_off(path, *args, **kwargs):
        (path / "model.safetensors").unlink()
        raise OSError(errno.EBUSY, "Device or resource busy", str(path / "config.json"))

    monkeypatch.setattr(shutil, "rmtree", cut_off)
    session.library.remove_model(round_.path)
    monkeypatch.setattr(shutil, "rmtree", real_rmtree)
    assert round_.path not in [info.path for info in session.library.list()]
    assert not round_.path.exists()
    assert sweep_leftovers(session.project.path) == []
    assert list(session.project.models_dir.iterdir()) == []
