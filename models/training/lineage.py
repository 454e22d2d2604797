"""Where a fine-tuned model came from: the metadata saved with it (``config.json``).

Keys follow what the model library reads for its cards: ``name``, ``description``,
``parent``, ``date``, ``training_data``, ``metrics``; ``finetune`` keeps the full record
(settings, data summary, held-out metrics before and after, steps, time).
"""

from __future__ import annotations

from datetime import datetime, timezone

from unet_studio.models.training.progress import FinetuneResult, stop_text

# The held-out scores as people read them: (metric key, name, what it means), for the Train
# panel's before/after table and the model card. Object scores are for instance models; a
# semantic model's score is its mean Dice (its ``val_metric``). For instance models
# ``val_metric`` repeats F1 at IoU 0.5, so it has no row of its own there.
HELD_OUT_METRICS = (
    ("f1_50", "F1, IoU 0.5", "Object F1 on the held-out reviewed data: a predicted object counts "
     "as found when it overlaps a reference object with IoU of at least 0.5."),
    ("f1_75", "F1, IoU 0.75", "Object F1 with the stricter match (IoU at least 0.75): how well "
     "the outlines fit."),
    ("ap_50", "AP, IoU 0.5", "Average precision at IoU 0.5: found / (found + missed + extra)."),
    ("ap_75", "AP, IoU 0.75", "Average precision at IoU 0.75."),
    ("mean_matched_iou", "mean IoU of matches", "Mean IoU of the objects matched at IoU 0.5."),
    ("n_pred", "objects predicted", "Objects the model predicts in the held-out blocks."),
    ("n_true", "objects reviewed", "Objects in the reviewed labels of the held-out blocks."),
    ("dice", "mean Dice", "Mean Dice of the foreground classes on the held-out reviewed data."),
    ("val_loss", "held-out loss", "The training loss on the held-out reviewed data (lower is better)."),
)


def metric_text(value) -> str:
    """A metric as shown: scores to 3 decimals, counts whole, "" where missing."""
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def held_out_rows(before: dict, after: dict) -> list[tuple]:
    """(name, meaning, before value, after value) for each held-out metric either side has,
    in ``HELD_OUT_METRICS`` order; a value is None where that side lacks it."""
    def value(metrics: dict, key: str):
        if key == "dice":  # a semantic model's score (instance models count objects)
            return None if "n_true" in metrics else metrics.get("val_metric")
        return metrics.get(key)

    rows = []
    for key, name, meaning in HELD_OUT_METRICS:
        pair = value(before, key), value(after, key)
        if pair != (None, None):
            rows.append((name, meaning, *pair))
        if key == "dice":  # (each class under the mean, so a class that fails shows)
            rows += _class_rows(before, after)
    return rows


# The rows that replace the object counts when the held-out blocks hold no reviewed object
# (the objects cluster elsewhere and all stay in training): "objects predicted 0 | 0",
# "objects reviewed 0 | 0" read as "the model finds nothing", though there was nothing to
# find. Such blocks are background, so any object predicted there is an extra one.
NO_OBJECTS_ROW = ("no objects held out", "The held-out blocks hold no reviewed object (the "
                  "reviewed objects all stay in training), so there is nothing to count or "
                  "score: the verdict rests on the held-out loss.", "–", "–")
EXTRA_OBJECTS = ("extra objects predicted", "Objects the model predicts in the held-out "
                 "blocks, which hold no reviewed object: each one is an extra (fewer is better).")


def readable_held_out_rows(before: dict, after: dict) -> list[tuple]:
    """``held_out_rows`` as the Train panel and the model card show them: blocks without
    objects (``n_true`` 0 on each side that has it) show ``NO_OBJECTS_ROW`` first, then the
    extra objects only when either model predicted some; tables with objects stay as they
    are."""
    rows = held_out_rows(before, after)
    if {before.get("n_true"), after.get("n_true")} - {None} != {0}:
        return rows
    predicted, reviewed = (name for key, name, _ in HELD_OUT_METRICS if key in ("n_pred", "n_true"))
    shown = [NO_OBJECTS_ROW]
    shown += [(*EXTRA_OBJECTS, *row[2:]) for row in rows if row[0] == predicted and any(row[2:])]
    return shown + [row for row in rows if row[0] not in (predicted, reviewed)]


def _class_rows(before: dict, after: dict) -> list[tuple]:
    """A semantic model's "Dice <class>" rows (``validate.class_dice``), in class order."""
    old, new = before.get("class_dice") or {}, after.get("class_dice") or {}
    names = [*old, *(name for name in new if name not in old)]
    return [(f"Dice {name}", f"Dice of the class {name!r} on the held-out reviewed data.",
             old.get(name), new.get(name)) for name in names]


def class_scores_text(metrics: dict) -> str:
    """"mitochondria 0.71, membrane 0.53" for a semantic model's held-out metrics ("" when
    they have no per-class Dice)."""
    return ", ".join(f"{name} {dice:.2f}" for name, dice in (metrics.get("class_dice") or {}).items())


def _rounded(metrics: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else _rounded(v) if isinstance(v, dict) else v
            for k, v in metrics.items()}


def _scored_text(result: FinetuneResult) -> str:
    """"; scored: N" when a time budget left room for scoring only part of the held-out data."""
    scored, blocks = result.extra.get("scored_val_crops"), result.extra.get("val_crops")
    if scored is None or scored >= blocks:
        return ""
    return f"; scored within the time budget: {result.extra.get('scored_val_pixels')}"


def _norm_statistics_lines(result: FinetuneResult) -> list[str]:
    """The card's line on the BatchNorm statistics (``norm_stats.py``), when they were chosen
    by how well the starting model knew the images: the measured fact it rests on (the
    starting model's loss on the round's own corrections against chance), not what it was
    taken to mean (those may be the very images the model was trained on)."""
    loss = result.extra.get("starting_loss")
    if loss is None:
        return []
    measured = f"the starting model's loss on these corrections before training ({loss:.2f})"
    chance = _chance_loss(result.net)
    if chance is not None:
        side = "below" if loss < chance else "above" if loss > chance else "at"
        measured += f" was {side} chance ({chance:.2f})"
    if result.extra.get("norm_statistics") == "held":
        return [f"- normalisation statistics: kept from the starting model: {measured}"]
    return [f"- normalisation statistics: adapted to these images: {measured}"]


def _chance_loss(net) -> float | None:
    """The loss "auto" compares with (``norm_stats.chance_loss``), for ``net``'s outputs;
    None for a network that does not publish them."""
    outputs = getattr(net, "out_channels", None)
    if not isinstance(outputs, int):
        return None
    from unet_studio.models.training.norm_stats import chance_loss

    return chance_loss(outputs)


def _steps_line(result: FinetuneResult) -> str:
    """The card's line on the steps, and, for a run from random weights that no step beat
    yet (``extra["no_step_beat_start"]``), which step's weights these are."""
    line = f"- steps: {result.steps} ({result.elapsed:.0f} s; it stopped as {stop_text(result.stopped)})"
    if result.extra.get("no_step_beat_start"):
        line += (f"; no step beat the random starting weights on the held-out data yet: "
                 f"these are the weights of step {result.best_step}, hardly trained")
    return line


def _card(name: str, parent: dict | None, result: FinetuneResult, date: str) -> str:
    origin = f"fine-tuned from `{parent.get('name') or parent.get('path')}`" if parent else (
        "trained from a newly built network")
    lines = [f"# {name}", "", f"{origin} on {date[:10]} with unet-studio.", "",
             _steps_line(result),
             f"- reviewed pixels: {result.data_summary.get('reviewed_pixels')} "
             f"(held out: {result.data_summary.get('val_pixels')}{_scored_text(result)})",
             *_norm_statistics_lines(result), *_polarity_lines(result)]
    if result.metrics_before or result.metrics_after:
        lines += ["", "| held-out metric | before | after |", "|---|---|---|"]
        for name, _meaning, *pair in readable_held_out_rows(result.metrics_before, result.metrics_after):
            lines.append(f"| {name} | {metric_text(pair[0])} | {metric_text(pair[1])} |")
    return "\n".join(lines) + "\n"


def _polarity_lines(result: FinetuneResult) -> list[str]:
    """The model's inverted input (``polarity.py``): flipped by the round or kept from its
    parent."""
    from unet_studio.models.training.polarity import input_polarity_text

    text = input_polarity_text(result.extra)
    return [f"- input intensities: {text}"] if text else []


def _with_identity(parent: dict | None) -> dict | None:
    """``parent`` with its model's identity (``models.weights.model_identity``), read from
    its folder; as it is where the folder cannot be read (the lineage keeps the ref alone,
    as before identities were recorded)."""
    from unet_studio.models.weights import IDENTITY_KEY, model_identity

    if not parent or parent.get(IDENTITY_KEY) or not parent.get("path"):
        return parent
    try:
        return {**parent, IDENTITY_KEY: model_identity(parent["path"])}
    except (OSError, ValueError):
        return parent


def lineage_metadata(result: FinetuneResult, *, name: str, parent: dict | None = None,
                     data_files: list | None = None, date: str | None = None) -> dict:
    """Metadata for ``save_model(net, folder, metadata=...)`` after a fine-tuning run.

    parent: e.g. ``{"ref": "bundled:default", "name": ..., "path": ...}``, None for a new
    network; its identity (``weights_sha256``) is added from the folder at ``path`` when
    missing, so that the ref is followed to this very model in a library where it names
    another one. data_files: what the examples were read from (JSON-able, e.g. paths).
    """
    date = date or datetime.now(timezone.utc).isoformat(timespec="seconds")
    parent = _with_identity(parent)
    parent_text = (parent or {}).get("name") or (parent or {}).get("path")
    return {
        "name": name,
        "description": (f"Fine-tuned from {parent_text}" if parent else "Trained from scratch")
        + f" on {result.data_summary.get('examples', 0)} image(s)",
        "parent": parent,
        "date": date,
        "training_data": {"files": list(data_files or []), "summary": result.data_summary},
        "metrics": _rounded(result.metrics_after),
        "metrics_before": _rounded(result.metrics_before),
        "finetune": result.summary(),
        "card": _card(name, parent, result, date),
    }
