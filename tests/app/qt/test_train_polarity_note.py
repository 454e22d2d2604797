"""The Train panel's verdict says when a round inverted the model's input (its reviewed
objects darker than their background, the model expecting bright ones): the held-out
"before" scores are then those of the inverted image too."""

from __future__ import annotations

from types import SimpleNamespace

from unet_studio.app.qt.train_logic import held_out_caveat


def _result(extra: dict):
    before = {"val_loss": 1.2, "val_metric": 0.1, "n_true": 20}
    return SimpleNamespace(metrics_before=before, metrics_after=before, extra=extra,
                           data_summary={})


def test_a_round_that_inverted_the_input_says_so_in_one_phrase():
    flipped = {"intensity_polarity": {"objects": 0.12, "background": 0.48,
                                      "invert_intensity": True}}
    assert held_out_caveat(_result(flipped)) == (
        " Objects darker than background: the image is inverted for this model (its starting"
        " model was trained on bright objects).")
    assert held_out_caveat(_result({})) == ""
