"""``unet-studio evaluate PRED GT``: object-level scores of a segmentation against ground truth.

Objects match when their IoU reaches 0.5 (or 0.75), one to one. Time series are matched
frame by frame (an object never matches one in another frame) and counted together.
"""

from __future__ import annotations

import argparse
import json

HELP = "score predicted labels against ground truth: object F1 and AP at IoU 0.5 and 0.75"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prediction", metavar="PRED", help="predicted label image")
    parser.add_argument("truth", metavar="GT", help="ground-truth label image (same shape)")
    parser.add_argument("--axes", default=None,
                        help="axes of both files if they do not say (e.g. TYX for a time series)")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")


def _read_labels(path: str, axes: str | None):
    import numpy as np

    from unet_studio.app.errors import InputFileError
    from unet_studio.app.io import open_stack
    from unet_studio.app.measure import LabelIdError, check_ids

    with open_stack(path, axes=axes) as stack:
        data, found_axes = np.asarray(stack.to_numpy()), stack.axes
        guessed = axes is None and stack.metadata.get("axes_source") == "guessed"
    if "C" in found_axes:
        raise InputFileError(path, f"has a channel axis ({found_axes}); give a label image")
    if not (np.issubdtype(data.dtype, np.integer) or data.dtype == bool):
        raise InputFileError(path, f"holds {data.dtype} values, not integer labels")
    try:  # before the cast to int64, which would turn a uint64 id >= 2**63 negative
        check_ids(data)
    except LabelIdError as error:
        raise InputFileError(path, error.problem) from None
    return data.astype(np.int64, copy=False), found_axes, guessed


def score_files(prediction: str, truth: str, axes: str | None = None) -> dict:
    """Object scores of two label files; frames of a T axis are matched separately."""
    import numpy as np

    from unet_studio.app.errors import InputFileError
    from unet_studio.models.metrics import object_scores_many

    pred, pred_axes, pred_guessed = _read_labels(prediction, axes)
    true, true_axes, true_guessed = _read_labels(truth, axes)
    if pred.shape != true.shape:
        raise InputFileError(prediction, f"has shape {pred.shape} ({pred_axes}), the ground "
                                         f"truth {truth} has {true.shape} ({true_axes})")
    # The axes a file states win over those guessed for the other (a series saved without
    # axes would be scored as one 3D volume); two stated ones must agree.
    if pred_axes != true_axes and not (pred_guessed or true_guessed):
        raise InputFileError(truth, f"has axes {true_axes}, the prediction {prediction} has "
                                    f"{pred_axes}; pass --axes to say which")
    together = true_axes if pred_guessed and not true_guessed else pred_axes
    if "T" in together:
        frames = np.moveaxis(pred, together.index("T"), 0), np.moveaxis(
            true, together.index("T"), 0)
        pairs = list(zip(*frames))
    else:
        pairs = [(pred, true)]
    return object_scores_many(pairs)


def format_scores(scores: dict) -> str:
    lines = [f"objects: {scores['n_pred']} predicted, {scores['n_true']} true"]
    for tag in ("50", "75"):
        lines.append(f"IoU 0.{tag}: F1 {scores[f'f1_{tag}']:.4f}  AP {scores[f'ap_{tag}']:.4f}  "
                     f"precision {scores[f'precision_{tag}']:.4f}  "
                     f"recall {scores[f'recall_{tag}']:.4f}")
    lines.append(f"mean matched IoU (at 0.5): {scores['mean_matched_iou']:.4f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    scores = score_files(args.prediction, args.truth, args.axes)
    print(json.dumps(scores, indent=2) if args.json else format_scores(scores))
    return 0
