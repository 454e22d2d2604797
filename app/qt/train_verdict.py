"""The figures a round's verdict rests on, in words: which held-out measure decided it (as
``models.training.ranking`` weighs them), or that they all tied within their margins. No
widgets here; ``train_review`` and ``train_waiting`` put it after "better than" / "not
better than" in the status line."""

from __future__ import annotations

from unet_studio.app.qt import train_logic

# The outline measure as the verdict names it (the table row says "mean IoU of matches").
OUTLINES = "mean IoU of matched objects"


def verdict_basis(result) -> str:
    """The figures the verdict rests on, as ``train_logic.is_better`` weighs them, e.g.
    " (F1, IoU 0.5: 0.724 → 0.702)": without them a user sees some scores up, some down in
    the table and cannot tell why the round is "not better". Where the score tied and the
    outlines or the loss decided, it says so ("F1 and outlines tied; the held-out loss
    decided: 1.859 → 1.621, 13% lower"), and a tie says it is one. With the decimals that
    tell the two apart ("held-out loss: 0.2431 → 0.2429"): "0.243 → 0.243" under "better"
    read as a contradiction."""
    before, after = result.metrics_before, result.metrics_after
    comparison = train_logic.verdict_comparison(result)
    if comparison is None:
        return ""
    if comparison.decided_by is None:
        shown = [key for key in comparison.compared if key in ("val_metric", "val_loss")]
        figures = "; ".join(_figure(key, before, after) for key in shown)
        return f" ({figures}; a tie: changes this small do not count{_per_class(before, after)})"
    key, tied = comparison.decided_by, comparison.compared[:-1]
    figure = _figure(key, before, after)
    if key == "mean_matched_iou":
        figure = f"the outlines decided, {figure}"
    elif key == "val_loss" and tied:
        figure = f"the held-out loss decided: {figure.split(': ', 1)[1]}"
    prefix = f"{_tied_text(tied, before)}; " if tied else ""
    return f" ({prefix}{figure}{_per_class(before, after)})"


def _name(key: str, before: dict) -> str:
    if key == "val_metric":
        return "F1, IoU 0.5" if "n_true" in before else "mean Dice"
    return {"f1_75": "F1, IoU 0.75", "mean_matched_iou": OUTLINES,
            "val_loss": "held-out loss"}[key]


def _figure(key: str, before: dict, after: dict) -> str:
    """"held-out loss: 1.859 → 1.621, 13% lower": the loss's change relative, as its margin."""
    old, new, note = train_logic.change_texts(before[key], after[key])
    if key == "val_loss" and before[key] and not note:  # (a note: smaller than any digits)
        change = (after[key] - before[key]) / abs(before[key])
        size = f"{abs(change):.0%}" if abs(change) >= 0.01 else "less than 1%"
        note += f", {size} {'lower' if change < 0 else 'higher'}"
    return f"{_name(key, before)}: {old} → {new}{note}"


def _tied_text(tied: tuple[str, ...], before: dict) -> str:
    """"F1, IoU 0.5 tied", "F1 tied at IoU 0.5 and 0.75", "F1 and outlines tied"."""
    if tied == ("val_metric", "f1_75", "mean_matched_iou"):
        return "F1 and outlines tied"
    if tied == ("val_metric", "f1_75"):
        return "F1 tied at IoU 0.5 and 0.75"
    return ", ".join(_name(key, before) for key in tied) + " tied"


def _per_class(before: dict, after: dict) -> str:
    """"; per class after: mitochondria 0.71, membrane 0.53" for a semantic model, whose mean
    Dice hides a class it fails on (a thin membrane class behind a large background)."""
    from unet_studio.models.training.lineage import class_scores_text

    text = class_scores_text(after) or class_scores_text(before)
    return f"; per class {'after' if class_scores_text(after) else 'before'}: {text}" if text else ""

