"""TurnQueue: work run one job per event-loop turn, in order, each key once."""

from __future__ import annotations

import pytest

from unet_studio.app.qt.turn_queue import TurnQueue

pytestmark = pytest.mark.qt


def test_jobs_run_one_per_turn_in_order_and_a_waiting_key_is_not_queued_twice(qtbot):
    queue, ran = TurnQueue(), []
    queue.put("a", lambda: ran.append(("a", len(queue))))  # (and how many wait then)
    queue.put("b", lambda: ran.append(("b", len(queue))))
    queue.put("a", lambda: ran.append(("a again", 0)))  # (the waiting "a" does that work)
    assert ran == [] and len(queue) == 2  # nothing in the turn that put them
    qtbot.waitUntil(lambda: len(ran) == 2, timeout=1000)
    qtbot.wait(20)
    assert ran == [("a", 1), ("b", 0)] and len(queue) == 0  # ("b" still waited while "a" ran)
    queue.put("a", lambda: ran.append("a later"))  # (run: a new job under that key)
    qtbot.waitUntil(lambda: ran[-1:] == ["a later"], timeout=1000)


def test_run_all_runs_what_waits_at_once(qtbot):
    queue, ran = TurnQueue(), []
    for key in "xyz":
        queue.put(key, lambda key=key: ran.append(key))
    queue.run_all()
    assert ran == ["x", "y", "z"] and len(queue) == 0
    qtbot.wait(20)
    assert ran == ["x", "y", "z"]
