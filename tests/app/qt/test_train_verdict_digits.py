"""The figures under a round's verdict and in its before/after table tell two different
values apart: "held-out loss: 0.243 -> 0.243" under "better" read as a contradiction."""

from __future__ import annotations

from types import SimpleNamespace

from unet_studio.app.qt.train_logic import metric_table
from unet_studio.app.qt.train_review import verdict_basis


def _result(before: dict, after: dict):
    return SimpleNamespace(metrics_before=before, metrics_after=after)


def test_a_verdict_on_a_close_held_out_loss_shows_the_digits_that_differ():
    # Tied scores and a loss that differs in its 4th decimal: a tie (``ranking``'s margins),
    # its figures still told apart.
    before = {"val_metric": 0.5, "f1_50": 0.5, "n_true": 20, "val_loss": 0.24312}
    after = {"val_metric": 0.5, "f1_50": 0.5, "n_true": 20, "val_loss": 0.24296}
    assert verdict_basis(_result(before, after)) == (
        " (F1, IoU 0.5: 0.500 → 0.500; held-out loss: 0.2431 → 0.2430, less than 1% lower; "
        "a tie: changes this small do not count)")
    rows = {name: texts for name, _, *texts in metric_table(before, after)}
    assert rows["held-out loss"] == ["0.2431", "0.2430"]
    assert rows["F1, IoU 0.5"] == ["0.500", "0.500"]  # (the same value: 3 decimals as ever)
    assert rows["objects reviewed"] == ["20", "20"]


def test_a_tiny_difference_is_said_to_be_tiny():
    before, after = {"val_loss": 0.2430000001}, {"val_loss": 0.2430000002}
    assert verdict_basis(_result(before, after)) == (
        " (held-out loss: 0.243000 → 0.243000, higher by less than 0.000001; a tie: changes "
        "this small do not count)")


def test_a_clear_difference_keeps_three_decimals():
    before = {"val_metric": 0.724, "n_true": 20, "val_loss": 0.3}
    after = {"val_metric": 0.70213, "n_true": 20, "val_loss": 0.2}
    assert verdict_basis(_result(before, after)) == " (F1, IoU 0.5: 0.724 → 0.702)"


def test_a_tie_at_iou_half_names_the_outlines_that_decided():
    """F1 at IoU 0.5 tied, F1 at 0.75 fell while the loss fell: the verdict ("not better")
    names the F1 at 0.75, not the loss that went down (a contradiction to read)."""
    before = {"val_metric": 0.87, "f1_75": 0.87, "n_true": 12, "val_loss": 1.421}
    after = {"val_metric": 0.87, "f1_75": 0.783, "n_true": 12, "val_loss": 0.880}
    assert verdict_basis(_result(before, after)) == (
        " (F1, IoU 0.5 tied; F1, IoU 0.75: 0.870 → 0.783)")
