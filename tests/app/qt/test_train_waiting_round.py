"""A Train round saved and left waiting for its verdict (Accept or Reject) stays a waiting
round: after the project is reopened (the app restarted) the panel shows it for review,
Train waits for the verdict, Roll back never offers it meanwhile, and the entries its
verdict rests on are on disk as soon as they are logged. No training: rounds are saved as
the Train panel saves them (``save_round``), with the figures a round reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.qt

BEFORE = {"val_loss": 0.2431, "val_metric": 0.5, "f1_50": 0.5, "f1_75": 0.25, "n_true": 24}
AFTER = {"val_loss": 0.2102, "val_metric": 0.625, "f1_50": 0.625, "f1_75": 0.375, "n_true": 24}


@pytest.fixture
def save_round_of():
    """``save(session, before=BEFORE, after=AFTER)``: a finished 7-step round from the
    current model, scored ``before`` and ``after``, saved and logged as the Train panel
    does; returns its folder."""
    from unet_studio.app.qt.train_round import TrainRound, save_round
    from unet_studio.models.registry import build_model
    from unet_studio.models.training.config import FinetuneConfig
    from unet_studio.models.training.progress import FinetuneResult

    def save(session, before=BEFORE, after=AFTER) -> Path:
        result = FinetuneResult(
            net=build_model("unet", spatial_dims=2, base_channels=4, depth=2), history=[],
            metrics_before=dict(before), metrics_after=dict(after), config=FinetuneConfig(),
            data_summary={"examples": 1, "reviewed_pixels": 900}, best_step=7, steps=7,
            elapsed=3.0, stopped="max_steps")
        round_ = TrainRound(parent=session.model, pending=[], checkpoint_dir=None,
                            project=session.project, result=result)  # fmt: skip
        return save_round(session, round_)

    return save


@pytest.fixture
def train_panel(session, qtbot):
    """``make()``: a Train panel on the session (built now, with the project open now)."""
    from unet_studio.app.qt.train_panel import TrainPanel

    def make():
        panel = TrainPanel(session)
        panel.repredict_check.setChecked(False)
        qtbot.addWidget(panel)
        return panel

    return make


def _reopen(session) -> None:
    """Close the project and open it again, as a restart of the app does."""
    path = session.project.path
    session.close_project()
    session.open_project(path)


def _offered(panel) -> list[Path]:
    return [Path(panel.versions_combo.itemData(i).path).resolve()
            for i in range(panel.versions_combo.count())]


def _cells(panel) -> list[tuple[str, str, str]]:
    table = panel.metrics
    return [(table.verticalHeaderItem(row).text(), table.item(row, 0).text(),
             table.item(row, 1).text()) for row in range(table.rowCount())]


def test_a_round_left_waiting_comes_back_waiting_and_accept_decides_it(
        session, save_round_of, train_panel):  # fmt: skip
    parent = session.model
    there_before = train_panel()  # (when the project opens)
    saved = save_round_of(session).resolve()
    _reopen(session)
    logged = session.project.history()
    built_after = train_panel()  # (with the project open)
    _reopen(session)  # (again: the round waiting on screen is the reopened project's)

    assert session.project.history() == logged  # (reopening, restoring: no verdict said)
    for shown in (there_before, built_after):
        assert shown._state == "review" and shown.round.saved == saved
        assert shown.accept_button.isEnabled() and shown.reject_button.isEnabled()
        assert _cells(shown)[0] == ("F1, IoU 0.5", "0.500", "0.625")
        assert _cells(shown)[-1] == ("held-out loss", "0.243", "0.210")
        text = shown.status.text()
        assert text.startswith(f"The round of {logged[-1]['time'][:10]} ")
        assert f"fine-tuned from {parent.name} in 7 steps, waits for your verdict" in text
        assert f"better than {parent.name} on held-out data (F1, IoU 0.5: 0.500 → 0.625)" in text
        assert saved not in _offered(shown)

    there_before.accept_button.click()
    assert session.model.path.resolve() == saved
    assert session.project.history()[-1]["action"] == "accept model"
    assert "later rounds learn from the project's reviewed corrections" in there_before.status.text()
    _reopen(session)
    assert train_panel()._state == "idle"  # (decided: nothing waits any more)


def test_a_round_waiting_in_a_copied_project_waits_there(session, save_round_of, train_panel, tmp_path):
    """Its history names the round by the folder where it was saved (``moved_history``)."""
    import shutil

    save_round_of(session)
    path = session.project.path
    session.close_project()
    copy = shutil.copytree(path, tmp_path / "copy")
    session.open_project(copy)
    panel = train_panel()
    assert panel._state == "review" and panel.round.saved.parent == (copy / "models").resolve()
    panel.accept_button.click()
    assert session.model.path.parent.resolve() == (copy / "models").resolve()


def test_a_rejected_round_or_one_set_aside_does_not_come_back(session, save_round_of, train_panel):
    parent = session.model
    save_round_of(session)
    _reopen(session)
    waiting = train_panel()
    assert waiting._state == "review"
    waiting.reject_button.click()
    assert session.project.history()[-1]["action"] == "reject model"
    _reopen(session)
    assert train_panel()._state == "idle"

    save_round_of(session)  # (waits; then another model is chosen meanwhile)
    assert train_panel()._state == "review"
    session.set_model(session.library.default())
    session.set_model(parent)
    _reopen(session)
    assert train_panel()._state == "idle"


def test_train_waits_for_the_verdict_and_roll_back_keeps_the_round_saved(
        session, save_round_of, train_panel):  # fmt: skip
    parent = session.model
    earlier = session.library.get(save_round_of(session))
    session.set_model(earlier)  # (used: an earlier version)
    session.set_model(parent)
    waiting = save_round_of(session).resolve()
    panel = train_panel()

    assert not panel.train_button.isEnabled()
    assert "Accept or Reject it first" in panel.train_button.toolTip()
    verdict = panel.status.text()
    panel.start()  # (a key, a script)
    panel.start()
    # (the verdict stays: which round, better or not; the refusal is added, once)
    assert panel.status.text() == f"{verdict} Train did not start: Accept or Reject this round first."
    assert panel._state == "review" and panel.round.saved == waiting

    assert _offered(panel) == [earlier.path.resolve()]
    panel.rollback_button.click()
    assert session.model.path == earlier.path
    # ("Switched to": ``earlier`` was fine-tuned from the model in use, not the other way)
    assert panel.status.text() == (f"Switched to {earlier.name}. The model fine-tuned from "
                                   f"{parent.name} stays saved as {waiting.name}: choose it in "
                                   "the Models panel to use it.")
    assert waiting in _offered(panel)  # (set aside: an earlier version now, at once)
    assert panel.train_button.isEnabled()


def test_the_entries_a_verdict_rests_on_are_on_disk_when_logged(tmp_path):
    """Written in the background a second later, a kill right after Train lost the round's
    entry (its folder came back as an earlier version). In the order logged; a folder
    that refuses the write costs nothing but the entry's waiting for the retry."""
    from unet_studio.app.project import Project

    project = Project.create(tmp_path / "p", autosave_delay=60.0)  # (no background write)
    try:
        project.log("rename model", model="/x/b", renamed_from="/x/a")
        project.log("fine-tune", model="/x/round")
        written = [json.loads(line)["action"]
                   for line in (project.path / "history.jsonl").read_text().splitlines()]
        assert written[-2:] == ["rename model", "fine-tune"]
        project.log("set current model", model="user:x")
        (project.path / "history.jsonl").unlink()
        (project.path / "history.jsonl").mkdir()  # (a write that fails, as a full disk)
        project.log("accept model", model="/x/round")  # (no exception)
        assert [e["action"] for e in project.history()][-2:] == ["set current model", "accept model"]
    finally:
        (project.path / "history.jsonl").rmdir()
        project.close()
    actions = [json.loads(line)["action"]
               for line in (project.path / "history.jsonl").read_text().splitlines()]
    assert actions[-2:] == ["set current model", "accept model"]


def test_the_first_use_line_gives_way_to_reviewed_marks_of_a_project_opened(
        session, train_panel):  # fmt: skip
    """A project whose model this studio lacks (another user's) changes no model on
    opening: the line that says to correct and mark something stayed over its marks."""
    from unet_studio.app.qt.train_layout import READY_TEXT

    session.ensure_reviewed().mark_region((slice(0, 1), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    path = session.project.path
    session.close_project()
    meta = json.loads((path / "project.json").read_text("utf-8"))
    meta["current_model"] = "user:someone-elses"
    (path / "project.json").write_text(json.dumps(meta), "utf-8")
    session.reviewed.clear()  # (no marks before it opens)
    panel = train_panel()
    assert panel.status.text() == READY_TEXT
    session.open_project(path)
    assert session.reviewed is not None and session.reviewed.any()
    assert panel.status.text() == f"Ready to fine-tune {session.model.name}."


WORSE = {"val_loss": 0.30, "val_metric": 0.4, "f1_50": 0.4, "f1_75": 0.2, "n_true": 24}


def test_a_waiting_round_leaves_with_its_project_and_the_one_opened_shows_its_own(
        session, save_round_of, train_panel, tmp_path):  # fmt: skip
    """Opening B over A's waiting round showed A's round in B (Train disabled, its Accept
    logged nowhere), never B's own, and A brought the decided round back as waiting. (B
    made before, apart: a project made from A's work, New project…, takes A's round along.)"""
    from unet_studio.app.project import Project

    Project.create(tmp_path / "B").close()
    a_round, a_path = save_round_of(session).resolve(), session.project.path
    panel = train_panel()
    assert panel.round.saved == a_round
    session.open_project(tmp_path / "B")
    left = f"waits for its verdict in project {a_path.name}: it comes back when {a_path.name} is opened."
    assert panel._state == "idle" and panel.round is None and panel.train_button.isEnabled()
    assert not panel.accept_button.isEnabled() and panel.status.text().endswith(left)
    assert f"({a_round.name})" in panel.status.text()

    b_round = save_round_of(session, after=WORSE).resolve()
    session.open_project(a_path)
    assert panel._state == "review" and panel.round.saved == a_round
    session.open_project(tmp_path / "B")
    assert panel._state == "review" and panel.round.saved == b_round
    assert "is not better than" in panel.status.text() and panel.status.text().endswith(left)
    panel.accept_button.click()
    assert session.project.history()[-1] == {**session.project.history()[-1],
                                             "action": "accept model", "model": str(b_round)}
    assert "(they are not saved with a round)" in panel.status.text()
    assert "restart" not in panel.status.text()  # (no restart here: another project opened)

    session.close_project()
    session.open_project(a_path)  # (nothing was said of A's round: it still waits)
    assert panel._state == "review" and panel.round.saved == a_round
    assert "accept model" not in [entry["action"] for entry in session.project.history()]
    session.close_project()  # (no project: it leaves all the same)
    assert panel._state == "idle" and panel.status.text().endswith(left)


def test_a_waiting_round_whose_weights_are_damaged_is_not_restored_and_is_said_once(
        session, save_round_of, train_panel):  # fmt: skip
    saved = save_round_of(session).resolve()
    (saved / "model.safetensors").write_bytes(b"not weights at all" * 10)
    _reopen(session)
    panel = train_panel()
    _reopen(session)  # (said once)
    assert panel._state == "idle" and panel.train_button.isEnabled()
    assert not panel.accept_button.isEnabled()
    told = [text for level, text in session.host.notifications if "is damaged" in text]
    assert len(told) == 1 and told[0].startswith(
        f"The model of the round waiting for a verdict, {saved}, is damaged: model.safetensors ")
    assert saved not in _offered(panel)


def test_a_restored_round_says_its_loss_curve_was_not_kept(session, save_round_of, train_panel):
    save_round_of(session)
    panel = train_panel()
    assert panel.plot.shows_note() and "loss curve" in panel.plot.note
    shown = panel.plot.grab().toImage()
    panel.plot.clear()  # (an empty plot, as a new round starts)
    assert not panel.plot.shows_note() and panel.plot.grab().toImage() != shown


def _deepest_parentheses(text: str) -> int:
    depth = deepest = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    return deepest


def test_accept_on_a_read_only_project_says_why_without_nested_parentheses(
        session, train_panel, monkeypatch):  # fmt: skip
    """Its replay buffer cannot be written there: said in a sentence of its own."""
    from unet_studio.app import project_writable
    from unet_studio.app.qt.train_round import TrainRound
    from unet_studio.models.registry import build_model
    from unet_studio.models.training.config import FinetuneConfig
    from unet_studio.models.training.progress import FinetuneResult

    path = session.project.path
    session.close_project()
    monkeypatch.setattr(project_writable, "write_problem",
                        lambda folder: "read-only file system" if Path(folder) == path else None)
    session.open_project(path)
    panel = train_panel()
    result = FinetuneResult(
        net=build_model("unet", spatial_dims=2, base_channels=4, depth=2), history=[],
        metrics_before=dict(BEFORE), metrics_after=dict(AFTER), config=FinetuneConfig(),
        data_summary={"examples": 1}, best_step=7, steps=7, elapsed=3.0, stopped="max_steps")
    panel.round = TrainRound(parent=session.model, pending=[], checkpoint_dir=None,
                             project=session.project)  # fmt: skip
    panel._on_result(result)  # (as the round's worker ends)
    panel._on_finished()
    panel.accept_button.click()
    text = panel.status.text()
    assert f"could not be written for later rounds: the project folder {path} cannot be written" in text
    assert _deepest_parentheses(text) == 1
