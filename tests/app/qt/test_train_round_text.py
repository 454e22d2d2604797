"""What a round says of itself: the names of fine-tuned models (the base name and the round's
date, not every round's) and the advice after a round that learnt nothing."""

from __future__ import annotations

from datetime import datetime, timezone

from unet_studio.app.qt.train_round import round_name

STAMP = datetime(2026, 12, 6, 17, 46, 19, tzinfo=timezone.utc)


def test_a_round_of_a_round_does_not_grow_the_name():
    assert round_name("nuclei (2D)", STAMP) == "nuclei (2D)-ft-20261206-174619"
    assert round_name("nuclei (2D)-ft-20261206-174450", STAMP) == "nuclei (2D)-ft-20261206-174619"
    assert round_name("nuclei-ft-20261206-174450-ft-20261206-174519", STAMP) == "nuclei-ft-20261206-174619"
    assert round_name("my-ft-model", STAMP) == "my-ft-model-ft-20261206-174619"  # (no date: kept)
    assert len(round_name("m" * 300, STAMP).encode()) <= 255


def test_the_advised_round_length_counts_loading_and_scoring_once():
    """A round that kept its starting weights: its advice is timed on its steps, not on its
    whole time divided by its steps (one step and 29 s of scoring advised 48 min)."""
    from types import SimpleNamespace

    from unet_studio.app.qt.train_logic import nothing_learnt_text, step_seconds

    steps = [{"step": s, "elapsed": 20.0 + 2.0 * s} for s in range(1, 6)]
    history = steps + [{"step": 5, "elapsed": 40.0}]  # (the scoring after the last step)
    assert step_seconds(history) == 2.0 and step_seconds(history[:1]) is None
    result = SimpleNamespace(steps=5, elapsed=40.0, history=history, stopped="max_seconds")
    assert "about 4 min (some 100 steps at this pace)" in nothing_learnt_text(result, "m")
    one = SimpleNamespace(steps=1, elapsed=29.0, history=history[:1], stopped="max_seconds")
    assert nothing_learnt_text(one, "m").endswith("give the next round a few minutes.")


def test_ready_to_train_an_untrained_model_says_the_steps_its_rounds_kept(tmp_path):
    """An untrained model whose earlier rounds kept their steps (none beat the random
    weights yet): the next round goes on from them, and "Ready" says so rather than
    "untrained" alone (which read as starting from nothing again)."""
    from pathlib import Path
    from types import SimpleNamespace

    import torch

    from unet_studio.app.project import Project
    from unet_studio.app.qt.train_round import checkpoint_dir_for, ready_text
    from unet_studio.models.training.checkpoint import LAST, save_checkpoint

    info = SimpleNamespace(name="scratch", source="folder", path=Path(tmp_path / "scratch"),
                           metadata={"untrained": True})
    with Project.create(tmp_path / "project") as project:
        assert ready_text(info, None, project) == "Ready to train scratch (untrained: random weights)."
        folder = checkpoint_dir_for(project, info)
        folder.mkdir(parents=True)
        # (a round of 4 steps that went on from 6 of rounds on other reviewed data)
        save_checkpoint(folder / LAST, {"weight": torch.zeros(3)}, {"step": 4, "carried_steps": 6})
        assert ready_text(info, None, project) == \
            "Ready to train scratch: the round continues from 10 steps already trained."
        assert ready_text(info, None) == "Ready to train scratch (untrained: random weights)."
