"""The checkpoints a cancelled or killed Train round keeps (to resume it from the same model)
do not stay on disk unseen once that model is no longer in use: the Models panel offers
them for removal with their size, and those of a model removed from the project go at once
(the Remove, or the sweep when the project opens). Never those of a model current in a
window, nor while the project is read-only or work runs."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def stopped_round():
    """``stopped_round(session, parent)``: leave what a cancelled round from ``parent``
    leaves in the session's project, written by the trainer's own checkpoint function:
    ``best`` (the weights) and ``last`` (weights, optimiser, step). Returns the folder."""
    import torch

    from unet_studio.app.qt.train_round import checkpoint_dir_for
    from unet_studio.models.registry import build_model
    from unet_studio.models.training import checkpoint as ckpt

    def leave(session, parent):
        net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
        optimizer = torch.optim.AdamW(net.parameters())
        net(torch.zeros(1, 1, 16, 16)).sum().backward()
        optimizer.step()  # (its state holds the moments: ``last`` is the bigger file)
        folder = checkpoint_dir_for(session.project, parent)
        ckpt.save_checkpoint(folder / ckpt.BEST, net.state_dict(), {"step": 3})
        ckpt.save_checkpoint(folder / ckpt.LAST, net.state_dict(), {"step": 5},
                             optimizer=optimizer)
        return folder

    return leave


def _size(folder) -> int:
    return sum(path.stat().st_size for path in folder.iterdir())


def test_a_cancelled_rounds_checkpoints_are_offered_once_another_model_is_used(
        session, save_finished_round, stopped_round, qtbot, click_and_answer):  # fmt: skip
    from unet_studio.app.qt.models_panel import ModelsPanel
    from unet_studio.app.qt.rejected_rounds import size_text

    parent = session.model  # (a model chosen by its folder, as the QA's r18)
    left = stopped_round(session, parent)
    replay = left.parent / "replay.npz"
    replay.write_bytes(b"kept")  # (the project's replay buffer, next to the checkpoints)
    panel = ModelsPanel(session)
    qtbot.addWidget(panel)
    assert panel.remove_rejected_button.isHidden()  # (Train from it resumes them)

    other = save_finished_round(session)
    session.set_model(other)
    own = stopped_round(session, other)  # (the model in use now: resumable, kept)
    assert not panel.remove_rejected_button.isHidden()
    assert panel.remove_rejected_button.text() == (
        f"Remove left-over checkpoints (1, {size_text(_size(left))})…")
    assert [found.folder for found in panel.leftovers] == [left]

    question = click_and_answer(panel.remove_rejected_button, "No")
    assert f"a stopped round from {parent.name}" in question and "resuming" in question
    assert (left / "last.safetensors").is_file()
    click_and_answer(panel.remove_rejected_button, "Yes")

    assert not left.exists()
    assert (own / "best.safetensors").is_file() and (own / "last.safetensors").is_file()
    assert replay.read_bytes() == b"kept"
    assert panel.remove_rejected_button.isHidden() and panel.leftovers == []
    assert any("the checkpoints of 1 stopped round(s)" in text
               for _, text in session.host.notifications)


def test_the_checkpoints_of_a_removed_project_model_go(session, save_finished_round,
                                                        stopped_round):  # fmt: skip
    from unet_studio.app.qt import model_actions

    parent = session.model
    removed, gone = save_finished_round(session), save_finished_round(session)
    of_removed, of_gone = stopped_round(session, removed), stopped_round(session, gone)
    of_parent = stopped_round(session, parent)
    model_actions.remove_model(session, removed)
    assert not of_removed.exists()  # (no round can start from it again)

    path = session.project.path
    session.close_project()
    shutil.rmtree(gone.path)  # (deleted while the project was closed)
    session.open_project(path)
    assert not of_gone.exists()  # (swept at open)
    assert (of_parent / "last.safetensors").is_file()  # (its model lives outside the project)


def test_nothing_used_by_a_window_nor_a_read_only_project_is_offered(
        session, session_on, save_finished_round, stopped_round, qtbot, tmp_path,
        monkeypatch):  # fmt: skip
    from unet_studio.app.errors import UserError
    from unet_studio.app.host import FakeHost
    from unet_studio.app.qt import leftover_checkpoints
    from unet_studio.app.qt.models_panel import ModelsPanel

    parent = session.model
    first, second = save_finished_round(session), save_finished_round(session)
    of_parent, of_first = stopped_round(session, parent), stopped_round(session, first)
    session.set_model(second)
    other = session_on(FakeHost(), tmp_path / "home")  # (a second window, same project)
    other.open_project(session.project.path)
    other.set_model(first)
    qtbot.addWidget(ModelsPanel(other))  # (a window is found through its panels)

    assert other.project.read_only  # (the first window writes it: nothing offered there)
    assert leftover_checkpoints.leftover_checkpoints(other) == []
    found = leftover_checkpoints.leftover_checkpoints(session)
    assert [left.folder for left in found] == [of_parent]  # (not the other window's model's)

    monkeypatch.setattr(leftover_checkpoints, "engine_work_running", lambda: True)
    with pytest.raises(UserError, match="while work runs"):
        leftover_checkpoints.remove_checkpoints(session, found)
    assert (of_parent / "last.safetensors").is_file() and of_first.is_dir()
