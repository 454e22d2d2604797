"""The verdict's words follow ``ranking``'s rule: "better" only beyond the margins, and the
measure that decided is named (a new user read "better (held-out loss: 0.360 -> 0.353)"
under a table whose outline quality fell, 0.994 -> 0.985)."""

from __future__ import annotations

from types import SimpleNamespace

from unet_studio.app.qt.train_logic import is_better
from unet_studio.app.qt.train_review import verdict_basis


def _result(before: dict, after: dict, best_step: int = 11):
    return SimpleNamespace(metrics_before=before, metrics_after=after, best_step=best_step,
                           extra={}, config=SimpleNamespace(select_best_by="val_metric"))


def test_worse_outlines_at_a_lower_loss_are_not_better_and_say_why(qa_rounds):
    result = _result(qa_rounds.hela_before, qa_rounds.hela_after)
    assert not is_better(result)  # (auto-accept leaves it)
    assert verdict_basis(result) == (" (F1 tied at IoU 0.5 and 0.75; the outlines decided, "
                                     "mean IoU of matched objects: 0.994 → 0.985)")
    from unet_studio.app.commands.finetune_report import verdict_text

    assert verdict_text(result).startswith("verdict: not better than the starting model")
    assert "mean IoU of matched objects (the outlines) (0.9940 -> 0.9850" in verdict_text(result)


def test_better_by_the_loss_says_the_loss_decided(qa_rounds):
    result = _result(qa_rounds.cells3d_before, qa_rounds.cells3d_after)
    assert is_better(result)
    assert verdict_basis(result) == (" (F1 and outlines tied; the held-out loss decided: "
                                     "1.859 → 1.621, 13% lower)")
    from unet_studio.app.commands.finetune_report import verdict_text

    assert verdict_text(result) == (
        "verdict: better than the starting model on the held-out data, by the held-out loss "
        "(1.8590 -> 1.6210; held-out score, F1 at IoU 0.75, mean IoU of matched objects "
        "(the outlines) tied)")


def test_a_tie_is_not_called_better(qa_rounds):
    result = _result(qa_rounds.cells3d_before, {**qa_rounds.cells3d_before, "val_loss": 1.84})
    assert not is_better(result)
    assert verdict_basis(result) == (" (F1, IoU 0.5: 0.857 → 0.857; held-out loss: 1.859 → "
                                     "1.840, 1% lower; a tie: changes this small do not count)")
    from unet_studio.app.commands.finetune_report import verdict_text

    assert "a tie" in verdict_text(result)


def test_the_cli_says_a_model_of_the_starting_weights_is_not_fine_tuned(tmp_path):
    """A round no step of which beat the start: the CLI said "saved the starting weights"
    and then "saved fine-tuned model to ft" (README QA)."""
    from types import SimpleNamespace

    from unet_studio.app.commands.finetune_report import saved_model_text

    kept = SimpleNamespace(best_step=0, data_summary={"val_pixels": 900}, extra={})
    assert saved_model_text(kept, tmp_path / "ft") == (
        f"saved the model to {tmp_path / 'ft'}: the starting weights, unchanged (the Train "
        "panel makes no model of such a round)")
    tuned = SimpleNamespace(best_step=7, data_summary={"val_pixels": 900}, extra={})
    assert saved_model_text(tuned, tmp_path / "ft") == f"saved fine-tuned model to {tmp_path / 'ft'}"
    unscored = SimpleNamespace(best_step=0, data_summary={}, extra={})  # (the last step's kept)
    assert saved_model_text(unscored, tmp_path / "ft").startswith("saved fine-tuned model")
