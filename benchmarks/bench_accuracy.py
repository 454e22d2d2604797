"""Object-level accuracy of the bundled default model next to a classical baseline.

Held-out images only (the split is defined in ``resources/models/recipes/default_data.py``).
For each data set we pool the matches over its images and report object F1 and AP at IoU 0.5
and 0.75 plus the mean IoU of the matches at 0.5. AP follows the nuclei-segmentation usage
(DSB 2018, StarDist): ``TP / (TP + FP + FN)`` at one IoU threshold.

(a) baseline: Gaussian smoothing + Otsu threshold + distance-transform watershed
    (scikit-image). One recipe for every data set; its two free parameters (smoothing and
    the minimum peak distance, both as fractions of the nucleus diameter) are chosen per data
    set by a small grid search on that data set's *training* side.
(b) the bundled default model through the product path: ``predict_image`` on the raw image
    (it normalises), ``output_type="labels"``, with the model's own post-processing defaults
    (``task.extra["postprocess"]``), and again with the plain post-processing of version 1.

Usage (repository root):
    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_accuracy.py [--data DIR] [--only baseline|model]
        [--out benchmarks/results/accuracy.md] [--json ...] [--model DIR] [--baseline-from JSON]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "resources" / "models" / "recipes"))
import default_data  # noqa: E402  (the split lives next to the training recipe)

log = logging.getLogger("bench_accuracy")
MODEL_DIR = ROOT / "resources" / "models" / "default"
SIGMA_FRACTIONS = (0.03, 0.06, 0.1)
PEAK_DISTANCE_FRACTIONS = (0.2, 0.3, 0.4, 0.5)
PRODUCT_MIN_SIZE = 16  # models.postprocess.labels_from_masks' default, pixels or voxels


# --- scoring ---------------------------------------------------------------------------------

def drop_edge_objects(labels: np.ndarray) -> np.ndarray:
    """Labels (``(*lead, Y, X)``) without the objects that touch the Y or X image edge."""
    edge = np.concatenate([labels[..., 0, :].ravel(), labels[..., -1, :].ravel(),
                           labels[..., :, 0].ravel(), labels[..., :, -1].ravel()])
    return np.where(np.isin(labels, np.setdiff1d(edge, [0])), 0, labels)


def pooled_scores(pairs: list[tuple[np.ndarray, np.ndarray]], *, ignore_edge_objects=False) -> dict:
    """The product's scores (``models.metrics``) with matches counted over all (pred, true)
    pairs of a data set; edge objects dropped from both first where the set asks for it."""
    from unet_studio.models.metrics import object_scores_many

    if ignore_edge_objects:
        pairs = [(drop_edge_objects(p), drop_edge_objects(t)) for p, t in pairs]
    return object_scores_many(pairs)


# --- baseline --------------------------------------------------------------------------------

def baseline_labels(image: np.ndarray, *, sigma_px: float, peak_distance_px: float,
                    min_size_px: float, sampling: tuple[float, ...]) -> np.ndarray:
    """Gaussian + Otsu + distance-transform watershed; ``image`` (Y, X) or (Z, Y, X).

    Distances are in in-plane pixels; ``sampling`` (voxel size relative to the in-plane pixel)
    makes smoothing, distance transform and peak footprint anisotropic where voxels are.
    """
    from skimage.feature import peak_local_max
    from skimage.filters import gaussian, threshold_otsu
    from skimage.segmentation import watershed

    lo, hi = np.percentile(image, (1.0, 99.8))
    normed = (image.astype(np.float32) - lo) / max(hi - lo, 1e-6)
    smooth = gaussian(normed, sigma=[sigma_px / s for s in sampling])
    mask = ndi.binary_fill_holes(smooth > threshold_otsu(smooth))
    mask = _drop_small(ndi.label(mask)[0], min_size_px) > 0
    distance = ndi.distance_transform_edt(mask, sampling=sampling)
    footprint = np.ones([2 * max(round(peak_distance_px / s), 1) + 1 for s in sampling], bool)
    peaks = peak_local_max(distance, footprint=footprint, labels=ndi.label(mask)[0],
                           exclude_border=False)
    seeds = np.zeros(mask.shape, bool)
    seeds[tuple(peaks.T)] = True
    # Neighbouring peaks on one distance plateau are one seed.
    markers = ndi.label(seeds, structure=np.ones((3,) * image.ndim))[0]
    labels = watershed(-distance, markers, mask=mask)
    return _drop_small(labels, min_size_px)


def _drop_small(labels: np.ndarray, min_size_px: float) -> np.ndarray:
    """Labels with objects under ``min_size_px`` pixels set to background (int32)."""
    sizes = np.bincount(labels.ravel())
    small = sizes < min_size_px
    small[0] = False
    return np.where(small[labels], 0, labels).astype(np.int32)


def _baseline_params(labelled, sigma_fraction, peak_fraction) -> dict:
    d = labelled.diameter_px
    ndim = len(labelled.axes)
    volume_px = (0.1 * d) ** 2 * np.pi if ndim == 2 else (0.1 * d) ** 3 * 4 / labelled.sampling[0]
    return {"sigma_px": sigma_fraction * d, "peak_distance_px": peak_fraction * d,
            "min_size_px": volume_px, "sampling": labelled.sampling}


def tune_baseline(train_set) -> dict:
    """Grid search on the training side, by pooled F1 at IoU 0.5."""
    best, best_f1 = None, -1.0
    for sf, pf in itertools.product(SIGMA_FRACTIONS, PEAK_DISTANCE_FRACTIONS):
        params = _baseline_params(train_set, sf, pf)
        pairs = [(baseline_labels(im, **params), lab)
                 for im, lab in zip(train_set.images, train_set.labels)]
        f1 = pooled_scores(pairs, ignore_edge_objects=train_set.ignore_edge_objects)["f1_50"]
        log.info("  %s sigma=%.2fd peak=%.2fd F1@0.5=%.3f", train_set.name, sf, pf, f1)
        if f1 > best_f1:
            best, best_f1 = {"sigma_fraction": sf, "peak_fraction": pf}, f1
    return best


def evaluate_baseline(test_set, train_set) -> tuple[dict, dict]:
    choice = tune_baseline(train_set)
    params = _baseline_params(test_set, choice["sigma_fraction"], choice["peak_fraction"])
    pairs = [(baseline_labels(im, **params), lab)
             for im, lab in zip(test_set.images, test_set.labels)]
    return pooled_scores(pairs, ignore_edge_objects=test_set.ignore_edge_objects), choice


# --- the bundled model -----------------------------------------------------------------------

def evaluate_model(net, test_set, postprocess: dict | None = None) -> tuple[dict, float]:
    """Product path: predict_image on the raw image; returns scores and seconds per image.

    ``postprocess``: options for the post-processing (None: the product's defaults)."""
    from unet_studio.models.inference import predict_image

    pairs, start = [], time.perf_counter()
    for image, labels in zip(test_set.images, test_set.labels):
        predicted = predict_image(net, image, axes=test_set.axes, task=net.task,
                                  output_type="labels", device="cpu", postprocess=postprocess,
                                  **_scale_argument(test_set))
        pairs.append((np.asarray(predicted), labels))
    scores = pooled_scores(pairs, ignore_edge_objects=test_set.ignore_edge_objects)
    return scores, (time.perf_counter() - start) / len(pairs)


def _scale_argument(test_set) -> dict:
    """Voxel size for a 3D stack, so the watershed measures true distances along Z."""
    if test_set.axes != "ZYX":
        return {}
    return {"scale": dict(zip("ZYX", test_set.sampling))}


# --- report ----------------------------------------------------------------------------------

def _row(set_desc: str, method: str, s: dict, note: str = "") -> str:
    return (f"| {set_desc} | {method} | {s['f1_50']:.3f} | {s['ap_50']:.3f} | {s['f1_75']:.3f} | "
            f"{s['ap_75']:.3f} | {s['mean_matched_iou']:.3f} | {s['n_pred']} / {s['n_true']} | {note} |")


def run(data_dir: Path, only: str | None, model_dir: Path = MODEL_DIR,
        baseline_from: Path | None = None) -> tuple[list[str], dict]:
    """Markdown rows and the raw scores ``{set name: {"baseline": ..., "model": ...}}``.

    ``baseline_from``: a JSON written by an earlier run (``--json``); its baseline scores are
    reused instead of re-tuning the baseline (deterministic, and minutes on a busy CPU)."""
    net = None
    if only != "baseline" and (model_dir / "config.json").exists():
        import torch

        from unet_studio.models.weights import load_model

        torch.set_num_threads(2)
        net = load_model(model_dir).eval()
    earlier = json.loads(baseline_from.read_text()) if baseline_from else {}
    rows, results = [], {}
    for name in default_data.SET_NAMES:
        test_set = default_data.load_set(name, "test", data_dir)
        found = results.setdefault(name, {"description": test_set.description})
        if only != "model":
            if name in earlier:
                found["baseline"] = earlier[name]["baseline"]
                choice = earlier[name]["baseline_parameters"]
            else:
                train_set = default_data.load_set(name, "train", data_dir)
                found["baseline"], choice = evaluate_baseline(test_set, train_set)
            found["baseline_parameters"] = choice
            note = f"sigma {choice['sigma_fraction']}d, peak distance {choice['peak_fraction']}d"
            rows.append(_row(test_set.description, "baseline", found["baseline"], note))
            log.info(rows[-1])
        if net is not None:
            rows += _model_rows(net, test_set, found)
    return rows, results


# Post-processing as it was before models carried their own defaults (version 1 of the
# default model): the whole predicted boundary band given to the objects, a fixed size floor.
PLAIN_POSTPROCESS = {"grow": None, "min_size_fraction": 0.0, "min_size": PRODUCT_MIN_SIZE,
                     "seed_height": 2.0}


def _model_rows(net, test_set, found: dict) -> list[str]:
    """The model with its own post-processing defaults (``task.extra["postprocess"]``, what a
    user gets), then with the plain post-processing, to show what those defaults do."""
    found["model"], seconds = evaluate_model(net, test_set)
    found["model_seconds_per_image"] = seconds
    found["model_postprocess"] = dict(net.task.extra.get("postprocess", {}))
    rows = [_row(test_set.description, "default model", found["model"],
                 f"its post-processing defaults {found['model_postprocess'] or ''}; "
                 f"{seconds:.2f} s per image")]
    if found["model_postprocess"]:
        found["model_plain_postprocess"], _ = evaluate_model(net, test_set, PLAIN_POSTPROCESS)
        rows.append(_row(test_set.description, "default model, plain post-processing",
                         found["model_plain_postprocess"], "grow None, min_size 16, seed height 2 px"))
    for row in rows:
        log.info(row)
    return rows


HEADER = ("| held-out data | method | F1@0.5 | AP@0.5 | F1@0.75 | AP@0.75 | mean IoU (matched) "
          "| predicted / true objects | notes |\n|---|---|---|---|---|---|---|---|---|")

PREAMBLE = """# Accuracy of the default model on held-out data

Object-level scores on images the default model never saw in training (split:
`resources/models/recipes/default_data.py`). Matches are pooled over the images of a data set.
F1 = 2TP / (n_pred + n_true); AP = TP / (TP + FP + FN) at one IoU threshold (the DSB 2018 /
StarDist usage); mean IoU over the matches at IoU >= 0.5. HeLa: objects touching the image edge
are removed from prediction and reference alike (the CTC reference leaves most of them out).
3D data sets are matched in 3D.

Baseline: Gaussian smoothing + Otsu threshold + distance-transform watershed (scikit-image),
one recipe; its smoothing sigma and minimum seed distance (fractions of the nucleus diameter d)
are picked per data set by grid search on that data set's training side (the synthetic stack
has none: tuned on itself, which flatters the baseline).
Default model: `predict_image(net, raw_image, axes=..., task=net.task, output_type="labels")`,
the product path (percentile normalisation, tiling, post-processing with the model's own
defaults from `task.extra["postprocess"]`; 2D net slice by slice with one 3D watershed on 3D
stacks, voxel size passed as `scale`). "plain post-processing": the same network with
`postprocess={{"grow": None, "min_size_fraction": 0.0, "min_size": 16, "seed_height": 2}}`, the post-processing
of version 1 (whole predicted boundary band given to the objects, fixed 16-pixel floor, fixed
2-pixel seed height).

Command: `{command}` ({date}).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data.DEFAULT_DATA_DIR)
    parser.add_argument("--only", choices=("baseline", "model"))
    parser.add_argument("--out", type=Path, help="write the results here as Markdown")
    parser.add_argument("--json", type=Path, help="and the raw scores here (for the model card)")
    parser.add_argument("--model", type=Path, default=MODEL_DIR, help="model folder to score")
    parser.add_argument("--baseline-from", type=Path,
                        help="reuse the baseline scores of this earlier --json output")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows, results = run(args.data, args.only, args.model, args.baseline_from)
    if args.json:
        _write_atomic(args.json, json.dumps(results, indent=1) + "\n")
    table = HEADER + "\n" + "\n".join(rows) + "\n"
    print(table)
    if args.out:
        command = "OMP_NUM_THREADS=2 .venv/bin/python " + " ".join(sys.argv)
        text = PREAMBLE.format(command=command, date=time.strftime("%Y-%m-%d")) + "\n" + table
        _write_atomic(args.out, text)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    temp.replace(path)


if __name__ == "__main__":
    main()
