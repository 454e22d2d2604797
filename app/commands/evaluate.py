"""``unet-studio evaluate PRED GT``: object-level scores of a segmentation against ground truth.

Objects match when their IoU reaches 0.5 (or 0.75), one to one. Time series are matched
frame by frame (an object never matches one in another frame) and counted together; their
distinct ids (tracks, where ids are linked over time) are said beside those sums.

Both files may be larger than RAM: they are read a slab of planes at a time (as ``measure``
reads them, handing back the memory-mapped pages as it goes), and each slab adds its object
areas and overlapping pairs to the frame's contingency table; the scores equal those of the
whole images in memory.

Class maps (of a semantic model: ``--classes`` names them, ``--model`` gives its classes, or
without either the files record their class names, as our writers do: one recording them is
enough, two must agree) are scored class by class instead, IoU and Dice per class
(``evaluate_classes``); files scored as objects that hold few values get a hint that class
maps need ``--classes`` or ``--model``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Generator

HELP = ("score predicted labels against ground truth: object F1 and AP at IoU 0.5 and 0.75 "
        "(class maps: IoU and Dice per class)")
THRESHOLDS = (0.5, 0.75)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prediction", metavar="PRED", help="predicted label image")
    parser.add_argument("truth", metavar="GT", help="ground-truth label image (same shape)")
    parser.add_argument("--axes", default=None,
                        help="axes of both files if they do not say (e.g. TYX for a time series)")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument("--classes", default=None, metavar="NAMES",
                         help="the files are class maps of these classes, background first "
                              "(e.g. background,mitochondria,membrane): IoU and Dice per class "
                              "instead of object scores (default: the class names the files record, if any)")
    classes.add_argument("--model", default=None, metavar="NAME_OR_DIR",
                         help="the model that made PRED: a semantic model's files are scored "
                              "as class maps of its classes, an instance model's as objects")


def _open_labels(files, path: str, axes: str | None, class_names=None):
    """The opened stack (pixels left on disk) and whether its axes were guessed.
    ``class_names``: the files are class maps of these (not judged as intensity images)."""
    import numpy as np

    from unet_studio.app.errors import InputFileError
    from unet_studio.app.io import open_stack
    from unet_studio.app.label_files import refuse_intensities

    stack = files.enter_context(open_stack(path, axes=axes))
    if "C" in stack.axes:
        raise InputFileError(path, f"has a channel axis ({stack.axes}); give a label image")
    if not (np.issubdtype(stack.dtype, np.integer) or stack.dtype == bool):
        raise InputFileError(path, f"holds {stack.dtype} values, not integer labels")
    # An image given for labels (uint16 too) would be scored as thousands of tiny objects.
    refuse_intensities(stack, "give two label images", class_names=class_names)
    return stack, axes is None and stack.metadata.get("axes_source") == "guessed"


def _axes_together(prediction: str, truth: str, opened) -> str:
    """The axes both files are read with: the same shape is required; the axes a file
    states win over those guessed for the other (a series saved without axes would be
    scored as one 3D volume); two stated ones must agree."""
    from unet_studio.app.errors import InputFileError

    (pred, pred_guessed), (true, true_guessed) = opened
    if pred.shape != true.shape:
        raise InputFileError(prediction, f"has shape {pred.shape} ({pred.axes}), the ground "
                                         f"truth {truth} has {true.shape} ({true.axes})")
    if pred.axes != true.axes and not (pred_guessed or true_guessed):
        raise InputFileError(truth, f"has axes {true.axes}, the prediction {prediction} has "
                                    f"{pred.axes}; pass --axes to say which")
    return true.axes if pred_guessed and not true_guessed else pred.axes


def score_files(prediction: str, truth: str, axes: str | None = None, *,
                slab_pixels: int | None = None,
                progress: Callable[[float], None] | None = None, tracks: bool = False,
                class_names: tuple[str, ...] | None = None) -> dict:
    """Object scores of two label files; frames of a T axis are matched separately.

    ``slab_pixels``: pixels of each file read at once (default: ``measure``'s slab);
    ``progress``: called with the fraction done after each slab; ``tracks``: for a time
    series, add ``time_points`` and its distinct ids, ``tracks_pred`` and ``tracks_true``;
    ``class_names``: the files are class maps of these: ``evaluate_classes.class_scores``.
    """
    import contextlib

    from unet_studio.app.distinct_ids import DistinctIds
    from unet_studio.app.measure import SLAB_PIXELS
    from unet_studio.models.generators import drain, relay

    with contextlib.ExitStack() as files:
        opened = [_open_labels(files, path, axes, class_names) for path in (prediction, truth)]
        together = _axes_together(prediction, truth, opened)
        if class_names is not None:
            return _score_classes(opened, together, class_names, (prediction, truth),
                                  slab_pixels, progress)
        # (a series: its objects are summed over time points, its ids counted beside them)
        ids = (DistinctIds(), DistinctIds()) if tracks and "T" in together else None
        steps = iter_scores(opened[0][0].data, opened[1][0].data, together,
                            names=(prediction, truth), ids=ids,
                            slab_pixels=SLAB_PIXELS if slab_pixels is None else slab_pixels)
        scores = drain(steps if progress is None else relay(steps, progress))
        if ids is None:
            return scores
        time_points = dict(zip(together, opened[0][0].shape))["T"]
        return {**scores, "time_points": time_points, "tracks_pred": ids[0].count,
                "tracks_true": ids[1].count}


def _score_classes(opened, axes: str, class_names, names, slab_pixels, progress) -> dict:
    from unet_studio.app.commands.evaluate_classes import class_scores, iter_class_counts
    from unet_studio.app.measure import SLAB_PIXELS
    from unet_studio.models.generators import drain, relay

    steps = iter_class_counts(opened[0][0].data, opened[1][0].data, axes, class_names,
                              slab_pixels=SLAB_PIXELS if slab_pixels is None else slab_pixels,
                              names=names)
    confusion = drain(steps if progress is None else relay(steps, progress))
    return class_scores(confusion, class_names)


def iter_scores(pred, true, axes: str, *, slab_pixels: int,
                names: tuple[str, str] = ("prediction", "ground truth"),
                ids: tuple | None = None) -> Generator[float, None, dict]:
    """Score two label images slab by slab; yields the fraction done, returns what
    ``object_scores_many`` returns for the whole images (frame by frame with a T axis).

    ``pred``, ``true``: array-likes of the same shape (numpy, memmap, lazy stack), integer or
    bool, one dimension per letter of ``axes`` (over "TZYX"). Each time point gets its own
    contingency table (matches never cross frames); a slab is ~``slab_pixels`` pixels of one
    frame, cut as ``measure`` cuts them. ``names``: the files, named by an id error.
    ``ids``: two ``DistinctIds`` (prediction, truth) that every block read is added to.
    """
    import numpy as np

    from unet_studio.app.measure import RELEASE_EVERY_BYTES, block_key, slab_blocks, spatial_axes
    from unet_studio.models.mapped import PageReleaser
    from unet_studio.models.metrics import (
        OverlapTable,
        match_counts,
        scores_from_totals,
        summed_counts,
    )

    sizes = dict(zip(axes, pred.shape))
    spatial = spatial_axes(axes)
    frames = range(sizes["T"]) if "T" in axes else (None,)
    blocks = slab_blocks([sizes[a] for a in spatial], max(int(slab_pixels), 1))
    # A memory-mapped stack keeps every page read resident unless handed back.
    pages = PageReleaser(pred, true, every_bytes=RELEASE_EVERY_BYTES)
    pixel_bytes = np.dtype(pred.dtype).itemsize + np.dtype(true.dtype).itemsize
    total, done, counts = max(len(frames) * len(blocks), 1), 0, []
    yield 0.0
    for frame in frames:
        table = OverlapTable()
        for block in blocks:
            key = block_key(axes, frame, spatial, block)
            blocks_read = (_read_block(pred, key, names[0]), _read_block(true, key, names[1]))
            table.add(*blocks_read)
            for distinct, block_read in zip(ids or (), blocks_read):
                distinct.add(block_read)
            pages.tick(pixel_bytes * math.prod(s.stop - s.start for s in block))
            done += 1
            yield done / total
        counts.append(match_counts(table.overlaps(), THRESHOLDS))
    pages.release()
    return scores_from_totals(summed_counts(counts), THRESHOLDS)


def _read_block(labels, key: tuple, name: str):
    """One block of labels, its ids checked (negative ones, uint64 ids beyond int64) before
    anything is counted: the error names the file."""
    import numpy as np

    from unet_studio.app.errors import InputFileError
    from unet_studio.app.measure import LabelIdError, check_ids

    block = np.asarray(labels[key])
    try:
        check_ids(block)
    except LabelIdError as error:
        raise InputFileError(name, error.problem) from None
    return block


def format_scores(scores: dict) -> str:
    lines = [f"objects: {scores['n_pred']} predicted, {scores['n_true']} true"]
    if "tracks_pred" in scores:  # (a series: the objects above are summed over time points)
        lines[0] += (f" in {scores['time_points']} time points; distinct ids (tracks): "
                     f"{scores['tracks_pred']} predicted, {scores['tracks_true']} true")
    for tag in ("50", "75"):
        lines.append(f"IoU 0.{tag}: F1 {scores[f'f1_{tag}']:.4f}  AP {scores[f'ap_{tag}']:.4f}  "
                     f"precision {scores[f'precision_{tag}']:.4f}  "
                     f"recall {scores[f'recall_{tag}']:.4f}")
    lines.append(f"mean matched IoU (at 0.5): {scores['mean_matched_iou']:.4f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unet_studio.app.commands.evaluate_classes import (
        CLASS_MAP_HINT,
        classes_of,
        format_class_scores,
        looks_like_class_maps,
        recorded_classes,
    )
    from unet_studio.app.status_line import StatusLine

    class_names, note = classes_of(args), None
    if class_names is None and not getattr(args, "model", None):  # (neither option given)
        class_names, note = recorded_classes(args.prediction, args.truth, args.axes) or (None, None)
    status = StatusLine(Path(args.prediction).name)  # (a big stack takes a while)
    scores = score_files(args.prediction, args.truth, args.axes, tracks=class_names is None,
                         progress=lambda fraction: status.update(fraction, 1),
                         class_names=class_names)
    if status.live:  # (the status line ends; the scores go to stdout, for scripts)
        status.finish("scored")
    if note:  # (what made these class scores; JSON output stays JSON, the note goes aside)
        print(note, file=sys.stderr if args.json else sys.stdout)
    text = format_scores if class_names is None else format_class_scores
    print(json.dumps(scores, indent=2) if args.json else text(scores))
    if class_names is None and not getattr(args, "model", None) and looks_like_class_maps(scores):
        print(CLASS_MAP_HINT, file=sys.stderr)  # (stdout stays the scores, for scripts)
    return 0
