"""Which of two held-out measurements is better: one rule for picking a round's best step
and for the verdict on the round.

The measures, in order, each deciding only when the one before it tied:

1. the held-out score: object F1 at IoU 0.5, or a semantic model's mean Dice;
2. F1 at IoU 0.75 where objects are scored (a few held-out objects tie at IoU 0.5 all the
   time, and a round that drew their outlines worse, F1@0.75 0.870 -> 0.783, was called
   better because its loss fell);
3. the mean IoU of the objects matched at IoU 0.5, the outline quality (F1 tied at 0.920 at
   both thresholds while it fell 0.994 -> 0.985, and the round was called better);
4. the held-out loss (on images new to a model its F1 stays 0 for many steps while the
   loss falls: the loss alone decides there).

A measure counts only when it moves beyond its margin (``MARGINS``): an object F1 is made
of counts, so any change beyond float noise is real, but a mean Dice, a mean IoU and a loss
move a little with every step. Within every margin the two tie, and a tie is not better: a
round whose steps all tie its starting weights keeps them (no new model), and its verdict
never says "better" (a 2% loss drop, 0.360 -> 0.353, with the outlines worse, was).

With ``select_best_by="val_loss"``, or with no object in the held-out blocks (no score),
the loss alone, with its margin. The best step of a round is picked so by default
(``FinetuneConfig.select_best_by``: on a handful of held-out objects the score is too coarse
to pick steps, ``benchmarks/results/round_stability.md``); the verdict compares the step so
picked with the starting model by the score first.
"""

from __future__ import annotations

from dataclasses import dataclass

# (absolute margin, relative margin, higher is better) per measure. A change must exceed
# both to count: an F1 moves by whole objects; a mean IoU of matched objects wobbles by a
# few thousandths as boundaries move a pixel; a held-out loss drifts by a percent or two
# between steps that draw the same objects.
MARGINS = {
    "f1": (1e-9, 0.0, True),
    "dice": (0.005, 0.0, True),
    "f1_75": (1e-9, 0.0, True),
    "mean_matched_iou": (0.005, 0.0, True),
    "val_loss": (1e-9, 0.02, False),
}


@dataclass(frozen=True)
class Comparison:
    """``outcome``: 1 (better), -1 (worse) or 0 (a tie within every margin); ``decided_by``:
    the metrics key of the measure that decided (None on a tie); ``compared``: the keys
    compared, in order (those before ``decided_by`` tied)."""

    outcome: int
    decided_by: str | None
    compared: tuple[str, ...]


def ranked_keys(metrics: dict, select_best_by: str = "val_metric") -> tuple[str, ...]:
    """The keys of ``metrics`` that rank it, in the order they decide; () when there is
    nothing to rank by (no held-out data)."""
    if select_best_by == "val_metric" and "val_metric" in metrics:
        keys = ("val_metric", "f1_75", "mean_matched_iou", "val_loss")
        return tuple(key for key in keys if metrics.get(key) is not None)
    return ("val_loss",) if metrics.get("val_loss") is not None else ()


def compare(metrics: dict, than: dict, select_best_by: str = "val_metric") -> Comparison | None:
    """How ``metrics`` compares with ``than``; None when either cannot be ranked or they
    rank by different things (a score on one side only)."""
    keys, other_keys = ranked_keys(metrics, select_best_by), ranked_keys(than, select_best_by)
    if not keys or ("val_metric" in keys) != ("val_metric" in other_keys):
        return None
    compared = tuple(key for key in keys if key in other_keys)
    for position, key in enumerate(compared):
        outcome = _moved(key, metrics, than)
        if outcome:
            return Comparison(outcome, key, compared[:position + 1])
    return Comparison(0, None, compared)


def _moved(key: str, metrics: dict, than: dict) -> int:
    """1 or -1 when ``metrics[key]`` is better or worse than ``than[key]`` beyond the
    measure's margin, else 0."""
    measure = key
    if key == "val_metric":  # (an object F1 where objects are scored, else a mean Dice)
        measure = "f1" if "n_true" in metrics or "n_true" in than else "dice"
    absolute, relative, higher_is_better = MARGINS[measure]
    new, old = float(metrics[key]), float(than[key])
    if abs(new - old) <= max(absolute, relative * abs(old)):
        return 0
    return 1 if (new > old) == higher_is_better else -1


def ranks_better(metrics: dict, than: dict, select_best_by: str = "val_metric") -> bool:
    """Is ``metrics`` better than ``than`` beyond the margins? False on a tie, and when
    either cannot be ranked or they rank by different things."""
    comparison = compare(metrics, than, select_best_by)
    return comparison is not None and comparison.outcome > 0
