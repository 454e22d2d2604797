"""The card the Models panel shows beside the list: the facts every model has (what it
outputs, architecture, data, metrics, parent, date, folder) on top, then its own card.md.
No widgets here."""

from __future__ import annotations

from unet_studio.app.model_checks import (
    UNTRAINED_ADVICE,
    is_untrained,
    scratch_warning,
    segment_refusal,
)
from unet_studio.app.model_task import INVERTED_TEXT, inverts_input, outputs_text
from unet_studio.app.qt.model_card_data import training_data_text


def card_markdown(info, library=None) -> str:
    """The card to show: the model's card.md, else one built from its config, with the
    facts the list needs (outputs, architecture, data, metrics, parent, date) always on top."""
    out_channels = info.architecture_config.get("out_channels")
    facts = [
        f"**{info.name}** — `{info.ref}`",
        f"- outputs: {outputs_text(info.task, out_channels)}",
        # (a colleague's copy: which files it can take; in the config only, before)
        f"- input channels: {_channels_text(info.architecture_config.get('in_channels', 1))}",
        *([f"- input: {INVERTED_TEXT}"] if inverts_input(info.task) else []),
        f"- architecture: {info.architecture} "
        + ", ".join(f"{k}={v}" for k, v in sorted(info.architecture_config.items())
                    if k in ("spatial_dims", "base_channels", "depth", "norm", "encoder")),
        f"- training data: {training_data_text(info.training_data)}",
        *([f"- **{UNTRAINED_ADVICE}**"] if is_untrained(info.metadata) else []),
        *([f"- **{hardly}**"] if (hardly := scratch_warning("it", info.metadata)) else []),
        *([f"- **cannot segment images**: {refusal}"] if (refusal := segment_refusal(info)) else []),
        *_metrics_lines(info.metrics),
        f"- parent: {_parent_text(info, library)}",
        f"- date: {info.date or 'unknown'}",
        f"- folder: `{info.path}`",
    ]  # fmt: skip
    card = "\n\n---\n\n" + _headings_down(info.card_text()) if info.card_path is not None else ""
    return "\n".join(facts) + card


def _parent_text(info, library) -> str:
    """The parent's name, and whether ``library`` (None: not asked) holds it: an imported
    model names a parent of its owner's that the colleague may never have had."""
    if not info.parent:
        return "none"
    if library is None:
        return info.parent
    from unet_studio.app.errors import UserError

    try:
        found = library.find(info.parent, info.parent_weights_sha256)
    except UserError:
        return f"{info.parent} (not among your models: made elsewhere, or removed)"
    return found.name  # (its name now: a ref may be a folder, or a name since changed)


def _channels_text(in_channels) -> str:
    count = int(in_channels)
    return "1" if count == 1 else f"{count} (all of an image's, in its channel order)"


def _headings_down(card: str) -> str:
    """``card`` (markdown) with its headings two levels down: its title repeats the name the
    facts start with, and as a top heading in a docked panel a long version name broke over
    two lines ("nuclei-ft-20261207-16530" / "1")."""
    return "\n".join("##" + line if line.startswith("#") else line for line in card.splitlines())


def _num(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


# The metric keys as people read them (a raw "f1_50 0.741, ... n_true 372" meant nothing to a
# microscopist); a key not here is shown with its underscores as spaces.
METRIC_NAMES = {
    "mean_matched_iou": "mean IoU of the matched objects",
    "n_pred": "objects predicted",
    "n_true": "objects in the held-out data",
    "val_loss": "held-out loss",
    "val_metric": "held-out score",
    "dice": "mean Dice",
    "class_dice": "Dice per class",
    "model": "this model",
    "baseline": "baseline",
}
SCORE_NAMES = {"f1": "F1", "ap": "AP", "precision": "precision", "recall": "recall"}


def metric_name(key: str) -> str:
    """"F1 at IoU 0.5" for "f1_50", "objects in the held-out data" for "n_true"."""
    if key in METRIC_NAMES:
        return METRIC_NAMES[key]
    score, _, threshold = key.rpartition("_")
    if score in SCORE_NAMES and threshold.isdigit() and len(threshold) == 2:
        return f"{SCORE_NAMES[score]} at IoU {int(threshold) / 100:g}"
    return key.replace("_", " ")


def _metrics_lines(metrics: dict) -> list[str]:
    """"- metrics: F1 at IoU 0.5: 0.810", or for scores per data set (and model / baseline)
    a nested list with 3 decimals, not one line of raw dictionaries."""
    plain = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    summary = _flat(plain) if plain else "none" if not metrics else ""  # ("": the list below)
    lines = [f"- metrics: {summary}".rstrip()]
    lines += _nested_lines({k: v for k, v in metrics.items() if isinstance(v, dict)}, "    ")
    return lines


def _nested_lines(groups: dict, indent: str) -> list[str]:
    lines = []
    for key, group in groups.items():
        about = group.get("description")
        plain = {k: v for k, v in group.items() if k != "description" and not isinstance(v, dict)}
        name = METRIC_NAMES.get(key, key)  # (a data set's name stays as it was given)
        head = f"{indent}- {name}" + (f" ({about})" if about else "") + ":"
        lines.append(f"{head} {_flat(plain)}" if plain else head)
        lines += _nested_lines({k: v for k, v in group.items() if isinstance(v, dict)}, indent + "    ")
    return lines


def _flat(values: dict) -> str:
    return "; ".join(f"{metric_name(k)}: {_num(v)}" for k, v in values.items())
