"""Ids over time: how often linking gives an object its own id, with known motion.

    python benchmarks/bench_link_accuracy.py --data ../shared/data [--write] [--seeds 5]

The development data hold no tracks, so the truth is made: a real reference frame (HeLa
H2B-GFP frame 3, 183 nuclei; Hoechst scratch assay frame 8, 79 nuclei) is the first time
point, and the next one is the same objects moved: each by a common drift (8 px, as a
stage drifts) plus its own random step (a Gaussian per axis: a random walk), the median step
length given in units of the median object diameter; objects are pasted in random order and a pixel already taken stays
with the first (crowding), 5 % of the objects leave and as many new copies appear in free
places, and the ids of the next time point are shuffled. ``TimeLinker`` links the two; the
figures (median over seeds): of the objects that stay, the share given their own id
(right), the share given another object's id (wrong), and the share of new objects given
an old id (wrong too); and, on the same time points, the first two for linking by overlap
alone (``max_step=0``, the linking before motion was taken into account). A second table:
three time points, a tenth of the objects missed at the middle one (as the network misses a
dim nucleus in one frame): the share of those given their own id again after the gap, with
and without gap closing (``close_gaps``), and the share of all wrong ids.

``--write`` puts the table into ``benchmarks/results/link_accuracy.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import tifffile
from results_file import write_result

ROOT = Path(__file__).resolve().parents[1]
FRAMES = {"HeLa H2B-GFP frame 3 (183 nuclei)": ("ctc_Fluo-N2DL-HeLa_02_5t_errseg.tif", 3),
          "Hoechst scratch frame 8 (79 nuclei)": ("ndev_scratch_hoechst_10t_nuclei_labels.tif", 8)}
STEPS = (0.1, 0.25, 0.35, 0.5, 0.75, 1.0)  # the median own step / median diameter
DRIFT = np.array([6.0, -5.0])  # the common drift, pixels (~8 px)
TURNOVER = 0.05  # the share of objects that leave, and of new ones


def moved(labels: np.ndarray, step: float, rng) -> tuple[np.ndarray, dict[int, int], set[int]]:
    """(next time point, {its id: the first's id} for objects that stay, its new ids)."""
    ids = np.unique(labels)[1:]
    sizes = np.bincount(labels.ravel())[ids]
    diameter = float(np.median(2 * np.sqrt(sizes / np.pi)))
    leaving = set(rng.choice(ids, int(round(TURNOVER * len(ids))), replace=False).tolist())
    out = np.zeros_like(labels)
    truth: dict[int, int] = {}
    fresh = rng.permutation(np.arange(1, 2 * len(ids) + 1))  # (shuffled ids of the next)
    taken = 0
    for label in rng.permutation(ids):
        if label in leaving:
            continue
        # (a random walk: a Gaussian step per axis, its length's median ``step`` diameters)
        sigma = step * diameter / np.sqrt(2 * np.log(2))
        shift = DRIFT + rng.normal(0, sigma, 2)
        new_id = int(fresh[taken])
        if _paste(out, labels == label, np.round(shift).astype(int), new_id):
            truth[new_id] = int(label)
            taken += 1
    new_ids = set()
    for source in rng.choice(ids, len(leaving), replace=False):  # new objects, free places
        for _ in range(50):
            shift = rng.integers(-np.array(labels.shape) // 2, np.array(labels.shape) // 2)
            mask = _shifted(labels == source, shift)
            if mask is not None and mask.any() and not out[mask].any():
                out[mask] = fresh[taken]
                new_ids.add(int(fresh[taken]))
                taken += 1
                break
    return out, truth, new_ids


def _shifted(mask, shift):
    out = np.zeros_like(mask)
    src = tuple(slice(max(-s, 0), n - max(s, 0)) for s, n in zip(shift, mask.shape))
    dst = tuple(slice(max(s, 0), n - max(-s, 0)) for s, n in zip(shift, mask.shape))
    if any(d.stop <= d.start for d in dst):
        return None
    out[dst] = mask[src]
    return out


def _paste(out, mask, shift, label) -> bool:
    moved_mask = _shifted(mask, shift)
    if moved_mask is None:
        return False
    free = moved_mask & (out == 0)  # (crowding: what another object took stays its)
    if free.sum() < 0.5 * moved_mask.sum() or not free.any():
        return False
    out[free] = label
    return True


def score(first: np.ndarray, second: np.ndarray, truth, new_ids, max_step=None
          ) -> tuple[float, float, float]:  # fmt: skip
    from unet_studio.models.time_links import TimeLinker

    linker = TimeLinker(2, max_step=max_step)
    a, b = first.astype(np.int32), second.astype(np.int32)
    order = np.unique(b)[1:]  # (the engine's numbering: 1..N)
    renumber = np.zeros(int(b.max()) + 1, np.int32)
    renumber[order] = np.arange(1, len(order) + 1)
    a = a.copy()
    linker.link(0, a)  # (its own ids: a first time point keeps 1..N order)
    first_ids = {int(i): int(j) for i, j in zip(np.unique(first)[1:], np.unique(a)[1:])}
    b2 = renumber[b]
    linker.link(1, b2)
    given = {int(label): int(b2[b == label][0]) for label in order}
    right = sum(given[n] == first_ids[o] for n, o in truth.items()) / max(len(truth), 1)
    wrong = sum(given[n] in first_ids.values() and given[n] != first_ids[o]
                for n, o in truth.items()) / max(len(truth), 1)
    new_wrong = sum(given[n] in first_ids.values() for n in new_ids) / max(len(new_ids), 1)
    return right, wrong, new_wrong


def gap_score(first: np.ndarray, step: float, seed: int, close_gaps: bool) -> tuple[float, float]:
    """Three time points; a tenth of the objects are missed (taken away) at the middle one.
    (share of those given their first id at the third, share of all objects of the third
    given another object's id)."""
    from unet_studio.models.time_links import TimeLinker

    rng = np.random.default_rng(seed)
    middle, to_first, _ = moved(first, step, rng)
    last, to_middle, _ = moved(middle, step, rng)
    stay = sorted(to_first)
    missed = set(rng.choice(stay, max(1, len(stay) // 10), replace=False).tolist())
    seen = np.where(np.isin(middle, list(missed)), 0, middle)
    series = [first.copy(), _sequential(seen), _sequential(last)]
    linker = TimeLinker(3, close_gaps=close_gaps)
    for t, labels in enumerate(series):
        linker.link(t, labels)
    given = {int(n): int(series[2][last == n][0]) for n in np.unique(last)[1:]}
    first_id = {int(o): int(series[0][first == o][0]) for o in np.unique(first)[1:]}
    through = {n: to_first[m] for n, m in to_middle.items() if m in to_first}  # last -> first
    gap = [n for n, m in to_middle.items() if m in missed]
    right = sum(given[n] == first_id[through[n]] for n in gap) / max(len(gap), 1)
    wrong = sum(given[n] in first_id.values() and given[n] != first_id[through[n]]
                for n in through) / max(len(through), 1)
    return right, wrong


def _sequential(labels: np.ndarray) -> np.ndarray:
    """Ids 1..N, as the engine labels a time point."""
    ids = np.unique(labels)[1:]
    lookup = np.zeros(int(labels.max()) + 1, np.int32)
    lookup[ids] = np.arange(1, len(ids) + 1)
    return lookup[labels]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the development data folder")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    header = ["| reference frame | median own step / diameter | right id | another object's id "
              "| new object given an old id | overlap only: right id | overlap only: another "
              "object's id |", "|---|---|---|---|---|---|---|"]
    rows = []
    for name, (file, index) in FRAMES.items():
        first = tifffile.imread(Path(args.data) / file)[index].astype(np.int32)
        for step in STEPS:
            series = [moved(first, step, np.random.default_rng(seed)) for seed in range(args.seeds)]
            right, wrong, new_wrong = np.median([score(first, *s) for s in series], axis=0)
            overlap = np.median([score(first, *s, max_step=0) for s in series], axis=0)
            rows.append(f"| {name} | {step:g} | {100 * right:.0f} % | {100 * wrong:.1f} % "
                        f"| {100 * new_wrong:.0f} % | {100 * overlap[0]:.0f} % "
                        f"| {100 * overlap[1]:.1f} % |")
            print(rows[-1], flush=True)
    gap_header = ["| reference frame | median own step / diameter | missed at the middle time "
                  "point: own id after it | without gap closing | another object's id (all) "
                  "| without gap closing |", "|---|---|---|---|---|---|"]
    gap_rows = []
    for name, (file, index) in FRAMES.items():
        first = tifffile.imread(Path(args.data) / file)[index].astype(np.int32)
        for step in (0.1, 0.25, 0.5):
            closed = np.median([gap_score(first, step, seed, True) for seed in range(args.seeds)], axis=0)
            open_ = np.median([gap_score(first, step, seed, False) for seed in range(args.seeds)], axis=0)
            gap_rows.append(f"| {name} | {step:g} | {100 * closed[0]:.0f} % | {100 * open_[0]:.0f} % "
                            f"| {100 * closed[1]:.1f} % | {100 * open_[1]:.1f} % |")
            print(gap_rows[-1], flush=True)
    if args.write:
        gaps = ("Objects missed at one time point (a tenth of them, taken away from the middle "
                "of three time points):\n\n" + "\n".join(gap_header + gap_rows))
        write_result("link_accuracy", "Ids over time: right and wrong links with known motion",
                     "\n".join(header + rows) + "\n\n" + gaps)


if __name__ == "__main__":
    main()
