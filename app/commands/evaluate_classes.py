"""``unet-studio evaluate --classes/--model`` (or files recording their classes): two class
maps scored class by class.

A semantic model's output is no set of objects: a class's pixels are one region, so object
F1 and tracks mean nothing there. Each class gets its IoU and Dice over all pixels (all time
points together), read slab by slab as the object scores are.
"""

from __future__ import annotations

import numpy as np


def classes_of(args) -> tuple[str, ...] | None:
    """The class names the files are scored by: ``--classes``, else those of a semantic
    ``--model``; None for object scores (an instance model, or neither given)."""
    from unet_studio.app.model_task import parse_class_names

    if getattr(args, "classes", None):
        return parse_class_names(args.classes)
    if getattr(args, "model", None):
        from unet_studio.app.commands.predict import load_network

        task = load_network(args.model).task
        return tuple(task.class_names) if task.kind == "semantic" else None
    return None


# Label files with at most this many distinct values besides 0 (both of them) may well be
# class maps given without --classes: scored as objects, each class counts as one object.
FEW_VALUES = 7
CLASS_MAP_HINT = ("note: both files hold few label values; if they are class maps (a "
                  "semantic model's classes), pass --classes NAMES or --model MODEL to score "
                  "IoU and Dice per class instead of objects")


def recorded_classes(prediction: str, truth: str, axes: str | None) -> tuple[tuple[str, ...], str] | None:
    """The class names the files record (our TIFF tag, Zarr attributes: a class map saved by
    the app or the CLI) and the line that says so (``class_map_note``); None when neither
    records any. One file recording them is enough (a hand-made ground truth records none):
    the other is read as a class map of the same classes, a value that is none of them an
    error naming it. Two different lists are refused: which classes to score by is the
    user's to say."""
    import contextlib

    from unet_studio.app.errors import InputFileError
    from unet_studio.app.io import open_stack
    from unet_studio.app.measure_inputs import class_map_note, file_classes

    with contextlib.ExitStack() as files:  # (metadata only: no pixel is read)
        recorded = [file_classes(files.enter_context(open_stack(path, axes=axes)))
                    for path in (prediction, truth)]
    if not any(recorded):
        return None
    if all(recorded) and recorded[0] != recorded[1]:
        raise InputFileError(truth, f"is a class map of {', '.join(recorded[1])}, the prediction "
                                    f"{prediction} one of {', '.join(recorded[0])}; pass "
                                    "--classes to say which classes to score")
    names = recorded[0] or recorded[1]
    only = None if all(recorded) else (prediction if recorded[0] else truth)
    return names, class_map_note(names, recorded_by=only)


def looks_like_class_maps(scores: dict) -> bool:
    """Do object scores come from files with few distinct values each (FEW_VALUES at most
    besides 0, over all time points)? Then they may be class maps scored as objects."""
    counts = [scores.get("tracks_pred", scores["n_pred"]), scores.get("tracks_true", scores["n_true"])]
    return all(0 < count <= FEW_VALUES for count in counts)


def iter_class_counts(pred, true, axes: str, class_names, *, slab_pixels: int,
                      names: tuple[str, str]):
    """Yields the fraction done; returns the confusion counts ``(K, K)`` (predicted class,
    true class) over every pixel. InputFileError naming the file with a value that is no
    class (K: ``len(class_names)``)."""
    from unet_studio.app.measure import RELEASE_EVERY_BYTES, block_key, slab_blocks, spatial_axes
    from unet_studio.models.mapped import PageReleaser

    k = len(class_names)
    sizes = dict(zip(axes, pred.shape))
    spatial = spatial_axes(axes)
    frames = range(sizes["T"]) if "T" in axes else (None,)
    blocks = slab_blocks([sizes[a] for a in spatial], max(int(slab_pixels), 1))
    pages = PageReleaser(pred, true, every_bytes=RELEASE_EVERY_BYTES)
    counts = np.zeros(k * k, dtype=np.int64)
    total, done = max(len(frames) * len(blocks), 1), 0
    yield 0.0
    for frame in frames:
        for block in blocks:
            key = block_key(axes, frame, spatial, block)
            p, t = (_classes(array, key, axes, name, class_names) for array, name in
                    zip((pred, true), names))
            counts += np.bincount((p * k + t).ravel(), minlength=k * k)
            pages.tick(p.nbytes + t.nbytes)
            done += 1
            yield done / total
    pages.release()
    return counts.reshape(k, k)


def _classes(labels, key, axes: str, name: str, class_names) -> np.ndarray:
    from unet_studio.app.errors import InputFileError
    from unet_studio.models.training.unknown_classes import classes_text, position_text

    block = np.asarray(labels[key]).astype(np.int64)
    bad = (block < 0) | (block >= len(class_names))
    if bad.any():
        local = iter(np.argwhere(bad)[0].tolist())
        where = tuple(k if isinstance(k, int) else (k.start or 0) + next(local) for k in key)
        raise InputFileError(name, f"holds the value {int(block[bad][0])} (first at "
                                   f"{position_text(where, axes)}), no class of "
                                   f"{classes_text(class_names)}: is it a class map of these?")
    return block


def class_scores(confusion: np.ndarray, class_names) -> dict:
    """{"classes": {name: iou, dice, pixels_pred, pixels_true}, "mean_iou", "mean_dice"}:
    means over the classes after the first (the background), each class present in either
    file (a class in neither has no score)."""
    rows = {}
    for c, name in enumerate(class_names):
        overlap, pred, true = int(confusion[c, c]), int(confusion[c].sum()), int(confusion[:, c].sum())
        union = pred + true - overlap
        rows[name] = {"iou": overlap / union if union else None,
                      "dice": 2 * overlap / (pred + true) if pred + true else None,
                      "pixels_pred": pred, "pixels_true": true}
    scored = [r for r in list(rows.values())[1:] if r["iou"] is not None]
    def mean(key: str) -> float | None:  # (None, not NaN: the JSON stays valid)
        return float(np.mean([r[key] for r in scored])) if scored else None

    return {"kind": "semantic", "classes": rows, "mean_iou": mean("iou"), "mean_dice": mean("dice")}


def format_class_scores(scores: dict) -> str:
    names = list(scores["classes"])
    width = max(len(name) for name in names)
    lines = []
    for name, row in scores["classes"].items():
        if row["iou"] is None:
            lines.append(f"{name:{width}s}  not in either file")
            continue
        lines.append(f"{name:{width}s}  IoU {row['iou']:.4f}  Dice {row['dice']:.4f}  "
                     f"(pixels: {row['pixels_pred']} predicted, {row['pixels_true']} true)")
    if scores["mean_iou"] is not None:
        lines.append(f"mean over {', '.join(names[1:])}: IoU {scores['mean_iou']:.4f}  "
                     f"Dice {scores['mean_dice']:.4f}")
    return "\n".join(lines)
