"""The time a run has left, as the CLI and the Segment panel say it."""

from __future__ import annotations

import pytest

from unet_studio.app.time_left import TimeLeft, duration_text


@pytest.mark.parametrize("seconds, text", [(0, "5 s"), (12, "15 s"), (50.5, "55 s"),
                                           (56, "1 min"), (61, "2 min"), (3540, "59 min"),
                                           (3660, "1 h 01 min"), (7 * 3600 + 1, "7 h 01 min")])
def test_durations_are_rounded_up_to_what_a_person_reads(seconds, text):
    assert duration_text(seconds) == text


def test_the_rate_is_measured_after_the_first_step():
    """The first report (model loading and warm-up before it) starts the clock; nothing is
    said before a few seconds and a few percent; then the time left follows the rate."""
    now = [100.0]
    left = TimeLeft(clock=lambda: now[0])
    assert left.estimate(1, 100) is None  # (the first report: 100 s of loading before it)
    now[0] += 1
    assert left.estimate(2, 100) is None  # one step, one second: too early to tell
    now[0] += 9
    assert left.estimate(11, 100) == pytest.approx(89.0)  # 10 steps in 10 s, 89 to go
    assert left.text(11, 100) == "about 2 min left"
    now[0] += 10
    assert left.estimate(100, 100) == 0.0
    assert left.text(100, 100) == ""  # (done: no "about 5 s left" beside 100 %)
    assert TimeLeft().text(0, 0) == ""
