"""A resumed round given its budget anew (the Train panel's ``more_time_on_resume``): as many
seconds, steps or epochs more as typed, and a round ended by its epochs still says so."""

from __future__ import annotations

from unet_studio.models.training import FinetuneConfig
from unet_studio.models.training.schedule import Budget


def test_a_resumed_budget_is_moved_on_by_what_the_run_did():
    config = FinetuneConfig(max_seconds=None, epochs=2, max_steps=None)
    budget = Budget.from_config(config, steps_per_epoch=5).on_top(10, 42.0)
    assert budget.total_steps == 20 and budget.max_seconds is None
    assert budget.stop_reason(19, 0.0, config) is None  # (2 epochs more, not 0)
    assert budget.stop_reason(20, 0.0, config) == "epochs"
    timed = Budget.from_config(FinetuneConfig(max_seconds=60.0, max_steps=3), 5).on_top(3, 61.0)
    assert timed.total_steps == 6 and timed.max_seconds == 121.0
    assert timed.stop_reason(6, 0.0, FinetuneConfig(max_seconds=60.0, max_steps=3)) == "max_steps"
