"""The verdict of a round whose steps beat nothing says how many steps in plain grammar ("1
step is", "5 steps are") and why the round was too short, without guessing that the images
are new to the model (they may be the very ones it was trained on)."""

from __future__ import annotations

from types import SimpleNamespace


def test_one_step_is_too_few_to_beat_the_starting_weights():
    from unet_studio.app.qt.train_logic import nothing_learnt_text

    one = SimpleNamespace(steps=1, elapsed=29.0, history=[{"step": 1, "elapsed": 20.0}],
                          stopped="max_seconds")
    text = nothing_learnt_text(one, "nuc3d-long")
    assert text.endswith(" 1 step is too few to beat the starting weights: give the next round "
                         "a few minutes."), text
    five = SimpleNamespace(steps=5, elapsed=40.0, stopped="max_seconds",
                           history=[{"step": s, "elapsed": 20.0 + 2.0 * s} for s in range(1, 6)])
    text = nothing_learnt_text(five, "nuc3d-long")
    assert " 5 steps are too few to beat the starting weights: give the next round about " in text
    assert "new to the model" not in text
