"""Which of two held-out measurements is better: one rule for picking a round's best step
and for the verdict on the round.

By the held-out score (object F1 at IoU 0.5, or a semantic model's mean Dice) first; on a
tie, by F1 at IoU 0.75 where objects are scored (a few held-out objects tie at IoU 0.5 all
the time, and a round that drew their outlines worse, F1@0.75 0.870 -> 0.783, was called
better because its loss fell); then by the held-out loss (on images new to a model its F1
stays 0 for many steps while the loss falls). With ``select_best_by="val_loss"``, or with
no object in the held-out blocks (no score), the loss alone.
"""

from __future__ import annotations


def held_out_rank(metrics: dict, select_best_by: str = "val_metric") -> tuple | None:
    """A sort key of ``metrics`` (lower is better), None when it holds nothing to rank by."""
    loss = metrics.get("val_loss")
    if select_best_by == "val_metric" and "val_metric" in metrics:
        strict = metrics.get("f1_75")
        return (-metrics["val_metric"], -strict if strict is not None else 0.0,
                loss if loss is not None else 0.0)
    return None if loss is None else (loss,)


def ranks_better(metrics: dict, than: dict, select_best_by: str = "val_metric") -> bool:
    """Is ``metrics`` strictly better than ``than``? False when either cannot be ranked or
    they rank by different things (a score on one side only)."""
    rank, other = held_out_rank(metrics, select_best_by), held_out_rank(than, select_best_by)
    if rank is None or other is None or len(rank) != len(other):
        return False
    return rank < other
