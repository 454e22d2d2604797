"""The rejected Train rounds of a project folder moved or copied elsewhere (a lab server,
another disk): its history names them by their old paths, and they are still offered for
removal from where they are now; a round used since still is not."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.qt


def _rejected_rounds(session, _round) -> dict[str, object]:
    """Rounds by what happens to them, all logged by their paths in this folder: rejected,
    rejected then accepted (used), rejected then fine-tuned from (a parent, named by its
    ref), and rejected then named by its path as the parent of a user's model."""
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    rounds = {what: _round(session) for what in ("rejected", "accepted", "parent", "by_path")}
    for info in rounds.values():
        session.project.log("reject model", model=str(info.path))  # (as the Train panel's Reject)
    session.project.log("accept model", model=str(rounds["accepted"].path))
    rounds["child"] = _round(session, rounds["parent"])  # (waiting: its lineage names the parent)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    save_model(net, session.library.folders["user"] / "mine",
               metadata={"name": "mine", "parent": str(rounds["by_path"].path)})
    return rounds


@pytest.mark.parametrize("how", ["move", "copy"])
def test_the_rejected_rounds_of_a_moved_project_are_offered_and_removed(
        session, save_finished_round, tmp_path, how):  # fmt: skip
    from unet_studio.app.qt.rejected_rounds import removable_rounds, remove_rounds

    rounds = _rejected_rounds(session, save_finished_round)
    old = session.project.path
    session.close_project()
    new = tmp_path / "lab server" / "project"
    new.parent.mkdir()
    shutil.move(old, new) if how == "move" else shutil.copytree(old, new)
    session.open_project(new)
    now = {what: new / "models" / info.path.name for what, info in rounds.items()}

    offered = removable_rounds(session)
    assert [found.info.path for found in offered] == [now["rejected"]]
    removed, problems = remove_rounds(session, offered)
    assert [found.info.path for found in removed] == [now["rejected"]] and problems == []
    assert not now["rejected"].exists()
    assert sorted(p.name for p in (new / "models").iterdir()) == sorted(
        now[what].name for what in ("accepted", "parent", "by_path", "child"))
    if how == "copy":  # (the original project keeps all its rounds)
        assert all((info.path / "model.safetensors").is_file() for info in rounds.values())
    assert removable_rounds(session) == []


def test_a_rejected_round_used_after_the_move_is_not_offered(session, save_finished_round, tmp_path):
    """Used again from its new place (a Reject taken back) after the folder was moved while
    open: what the history says under the new path follows what it said under the old."""
    from unet_studio.app.qt.project_watch import ProjectWatch
    from unet_studio.app.qt.rejected_rounds import removable_rounds

    rounds = _rejected_rounds(session, save_finished_round)
    old = session.project.path
    new = old.with_name(old.name + "-moved")
    shutil.move(old, new)
    ProjectWatch(session, interval_ms=60_000).tell()  # (the folder followed while open)
    moved = session.library.get(new / "models" / rounds["rejected"].path.name)
    assert [found.info.path for found in removable_rounds(session)] == [moved.path]
    parent = session.model
    session.set_model(moved)
    session.set_model(parent)
    assert removable_rounds(session) == []


def test_roll_back_of_a_moved_project_still_leaves_its_rejected_rounds_out(
        session, save_finished_round, tmp_path):  # fmt: skip
    """Roll back offers no round the user rejected, also once the folder was moved (its
    history names them by the old paths); the accepted one stays offered."""
    from unet_studio.app.qt.train_versions import earlier_versions

    rounds = _rejected_rounds(session, save_finished_round)
    old = session.project.path
    session.close_project()
    new = tmp_path / "elsewhere"
    shutil.move(old, new)
    session.open_project(new)

    offered = {info.path.name for info in earlier_versions(session)}
    assert rounds["accepted"].path.name in offered
    assert rounds["rejected"].path.name not in offered
