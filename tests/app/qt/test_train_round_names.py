"""The names of fine-tuned models: the base name and the round's date, not every round's."""

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
