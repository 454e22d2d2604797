"""Where a fine-tuned model came from: the metadata saved with it (``config.json``).

Keys follow what the model library reads for its cards: ``name``, ``description``,
``parent``, ``date``, ``training_data``, ``metrics``; ``finetune`` keeps the full record
(settings, data summary, held-out metrics before and after, steps, time).
"""

from __future__ import annotations

from datetime import datetime, timezone

from unet_studio.models.training.progress import FinetuneResult

CARD_METRICS = ("f1_50", "f1_75", "ap_50", "ap_75", "mean_matched_iou", "val_loss", "val_metric")


def _rounded(metrics: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def _card(name: str, parent: dict | None, result: FinetuneResult, date: str) -> str:
    origin = f"fine-tuned from `{parent.get('name') or parent.get('path')}`" if parent else (
        "trained from a newly built network")
    lines = [f"# {name}", "", f"{origin} on {date[:10]} with unet-studio.", "",
             f"- steps: {result.steps} ({result.elapsed:.0f} s, stopped by {result.stopped})",
             f"- reviewed pixels: {result.data_summary.get('reviewed_pixels')} "
             f"(held out: {result.data_summary.get('val_pixels')})"]
    if result.metrics_before or result.metrics_after:
        lines += ["", "| held-out metric | before | after |", "|---|---|---|"]
        for key in CARD_METRICS:
            if key in result.metrics_after:
                before = result.metrics_before.get(key)
                shown = "" if before is None else f"{before:.3f}"
                lines.append(f"| {key} | {shown} | {result.metrics_after[key]:.3f} |")
    return "\n".join(lines) + "\n"


def lineage_metadata(result: FinetuneResult, *, name: str, parent: dict | None = None,
                     data_files: list | None = None, date: str | None = None) -> dict:
    """Metadata for ``save_model(net, folder, metadata=...)`` after a fine-tuning run.

    parent: e.g. ``{"ref": "bundled:default", "name": ..., "path": ...}``, None for a new
    network; data_files: what the examples were read from (JSON-able, e.g. paths).
    """
    date = date or datetime.now(timezone.utc).isoformat(timespec="seconds")
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
