"""The Train panel's bar while a round reports nothing (loading, scoring before training)."""

from __future__ import annotations

import pytest
from qtpy.QtWidgets import QLabel, QProgressBar

from unet_studio.app.qt.round_clock import RoundClock

pytestmark = pytest.mark.qt


def test_the_bar_moves_with_the_rounds_clock_and_the_preparation_says_the_time_left(qtbot):
    bar, status = QProgressBar(), QLabel()
    bar.setRange(0, 1000)
    qtbot.addWidget(bar)
    qtbot.addWidget(status)
    now = [100.0]
    clock = RoundClock(bar, status, clock=lambda: now[0])
    clock.start(60.0)
    clock.preparing("Loading the model and scoring it…")
    now[0] += 15
    clock.tick()
    assert bar.value() == 250
    assert status.text() == "Loading the model and scoring it… (about 45 s left in the round)"
    clock.pause()  # (paused time does not count, as the engine does not count it)
    now[0] += 30
    clock.tick()
    assert bar.value() == 250
    clock.resume()
    now[0] += 15
    clock.preparing(None)  # (training steps report their own time left)
    status.setText("Step 3: loss 0.5")
    clock.tick()
    assert bar.value() == 500 and status.text() == "Step 3: loss 0.5"
    now[0] += 600
    clock.preparing("Scoring the new model on the held-out data…")
    clock.tick()
    assert bar.value() == 990  # (full only when the round has ended)
    # (past the budget: no "about 5 s left" for as long as the scoring lasts)
    assert status.text() == ("Scoring the new model on the held-out data… (the time budget "
                             "is used up: the round ends after this)")
    clock.stop()
    clock.start(None)  # (a round in steps: its reports alone move the bar)
    now[0] += 10
    clock.tick()
    assert bar.value() == 990
