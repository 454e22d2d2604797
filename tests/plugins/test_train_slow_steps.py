"""Rounds whose one step takes longer than the time budget (a 3D network on a CPU: 23 s a
step), from an untrained network: the status says what runs and promises no time that cannot
hold, and the verdict says the new model is still essentially untrained."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

pytestmark = pytest.mark.qt

STEP_SECONDS = 3.0  # the simulated step: longer than the whole budget
BUDGET = 2.0


@pytest.fixture
def slow_step(monkeypatch):
    """Every training step first sleeps ``STEP_SECONDS``; ``.running`` is set meanwhile."""
    from unet_studio.models.training.session import Session

    real = Session.train_step
    state = threading.Event()

    def train_step(self, lr):
        state.set()
        time.sleep(STEP_SECONDS)
        loss = real(self, lr)
        state.clear()
        return loss

    monkeypatch.setattr(Session, "train_step", train_step)
    return state


@pytest.mark.slow
def test_a_slow_first_step_of_an_untrained_3d_network(corrected, qtbot, tmp_path, slow_step, quick_round):
    import torch

    from unet_studio.app.qt.train_panel import TrainPanel
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=3, base_channels=4, depth=2)
    session = corrected.session  # (the Models panel's builder marks a new network so)
    session.set_model(str(save_model(net, tmp_path / "scratch3d",
                                     metadata={"name": "scratch3d", "untrained": True})))
    session.ensure_reviewed().mark_region((slice(0, 12), slice(0, 64), slice(0, 64)))
    session.reviewed_changed_by_user()
    train = TrainPanel(session)
    qtbot.addWidget(train)
    shown, show = [], train.status.setText  # (every status line: the last ones pass quickly)
    train.status.setText = lambda text: (shown.append(text), show(text))
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round(max_steps=None, max_seconds=BUDGET, patch_size=16))
        qtbot.waitUntil(slow_step.is_set, timeout=60_000)
        qtbot.wait(int(1000 * (BUDGET + 0.5)))  # (the budget is over, the step still runs)
        during = train.status.text()
        after_step = len(shown)
        qtbot.waitUntil(lambda: not slow_step.is_set(), timeout=60_000)
    ending = "\n".join(shown[after_step:])  # (what it said once the step was over)
    # While the step runs: the model was scored (not "scoring it"), and no "about 5 s left
    # in the round" counting down to a time the step cannot keep.
    assert during.startswith("Scored the starting model"), during
    assert "left in the round" not in during and "at least one step" in during
    # After it, with the budget used: the round ends, and says so with the step's length.
    assert re.search(r"the time budget is used up \(one step takes about \d s\): scoring the "
                     r"new model on held-out data, then the round ends", ending), ending
    result = blocker.args[0]
    assert result.steps == 1 and result.stopped == "max_seconds"
    verdict = train.status.text()
    assert "scratch3d was untrained (random weights): after 1 step the new model is still " \
           "essentially untrained" in verdict, verdict
    assert re.search(r"hundreds to thousands of steps \(500 at this round's pace, about \d s a "
                     r"step: about \d+ min\)", verdict)
    assert "a GPU; if your images are fluorescent nuclei, fine-tune the bundled 2D model" in verdict
    assert f"of its {BUDGET:.0f} s budget: it takes at least one step, and one takes" in verdict
    assert train.accept_button.isEnabled()  # (Accept stays possible)
    saved = json.loads((train.round.saved / "config.json").read_text())["metadata"]
    assert saved["steps_from_scratch"] == 1  # (the next round from it is told too)
