"""Ids over time: how often linking gives an object its own id, with known motion.

    python benchmarks/bench_link_accuracy.py --data ../shared/data [--before OLD.py] [--write]

The development data hold no tracks, so the truth is made: a real reference frame (HeLa
H2B-GFP frame 3, 183 nuclei; Hoechst scratch assay frame 8, 79 nuclei) is the first time
point, and the next ones are the same objects moved: each by a common drift (8 px per time
point, as a stage drifts) plus its own motion, given in units of the median object
diameter: a random walk (a Gaussian step per axis, its median length given) or a steady
motion (each object its own speed and direction, the median speed given, jittered by a
twentieth of a diameter). Objects are pasted in random order and a pixel already taken
stays with the first (crowding; an object less than half seen is missing there), 5 % of the
objects leave at each time point and as many new copies appear in free places, and each
time point is numbered 1..N in a shuffled order, as the engine labels it. ``TimeLinker``
links them in time order. Figures (median over seeds), over the objects of time points
after the first: of the objects seen at the time point before, the share given their own
id (right), the share given another object's id (wrong); the share of new objects given an
old id (wrong too); and, where a tenth of the objects are missed at one or two time points
in a row (as the network misses a dim nucleus), the share of those given their own id
again after the gap.

Cases: two time points with a random walk (the table this benchmark began with); five
time points with a random walk (does following a track's own motion cost anything where
there is none?); five with steady motion; five with objects missed at time point 2 or 2-3.
Then the real series: the share of a frame's objects carrying on an id and the time per
frame (``bench_time_links.py``). ``--before`` names a copy of an earlier
``models/time_links.py``, loaded from its path and run on the same series: each figure is
then given as before -> now. ``--write`` puts the tables into
``benchmarks/results/link_accuracy.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tifffile
from bench_time_links import SERIES, measure
from results_file import write_result
from scipy import ndimage as ndi

FRAMES = {"HeLa frame 3 (183 nuclei)": ("ctc_Fluo-N2DL-HeLa_02_5t_errseg.tif", 3),
          "Hoechst frame 8 (79 nuclei)": ("ndev_scratch_hoechst_10t_nuclei_labels.tif", 8)}
DRIFT = np.array([6.0, -5.0])  # the common drift, pixels per time point (~8 px)
TURNOVER = 0.05  # the share of objects that leave at each time point, and of new ones
JITTER = 0.05  # steady motion: a Gaussian wobble per axis, in diameters
TIME_POINTS = 5
MISSED = 0.1  # the share of the objects missed in the gap cases


@dataclass
class Track:
    mask: np.ndarray  # the object's pixels (its bounding box in the reference frame)
    corner: np.ndarray  # where that box starts, reference frame
    velocity: np.ndarray  # its own steady step per time point (pixels)
    offset: np.ndarray = field(default_factory=lambda: np.zeros(2))  # own motion so far


def reference(data: Path, file: str, index: int) -> np.ndarray:
    return tifffile.imread(data / file)[index].astype(np.int32)


def make_series(first: np.ndarray, steps: int, step: float, steady: bool, rng,
                missed_at: tuple[int, ...] = ()) -> tuple[list[np.ndarray], set[int]]:  # fmt: skip
    """``steps`` time points whose labels are track numbers (0: background), and the tracks
    missed at ``missed_at`` (a tenth of those that stay, seen before and after)."""
    boxes = ndi.find_objects(first)
    ids = [i + 1 for i, box in enumerate(boxes) if box is not None]
    sizes = np.bincount(first.ravel())[ids]
    diameter = float(np.median(2 * np.sqrt(sizes / np.pi)))
    tracks = [_track(first, boxes[i - 1], i, diameter, step, steady, rng) for i in ids]
    frames, missed = [], set()
    for t in range(steps):
        if t:
            tracks = _moved_on(tracks, first, boxes, ids, diameter, step, steady, rng)
        if t == min(missed_at, default=-1):  # (chosen among those seen just before)
            seen = sorted(set(np.unique(frames[-1]).tolist()) - {0})
            missed = set(rng.choice(seen, max(1, round(MISSED * len(seen))), replace=False).tolist())
        hidden = missed if t in missed_at else set()
        frames.append(_pasted(tracks, first.shape, DRIFT * t, hidden, rng))
    return frames, missed


def _track(first, box, label, diameter, step, steady, rng) -> Track:
    # A random walk's step, or a steady speed: a Gaussian per axis whose length's median is
    # ``step`` diameters (a Rayleigh distribution).
    sigma = step * diameter / np.sqrt(2 * np.log(2))
    velocity = rng.normal(0, sigma, 2) if steady else np.zeros(2)
    return Track(first[box] == label, np.array([s.start for s in box]), velocity)


def _moved_on(tracks, first, boxes, ids, diameter, step, steady, rng) -> list[Track]:
    """The tracks one time point on: each moved, 5 % gone, as many new copies of objects
    placed anywhere (each with its own motion from there)."""
    sigma = step * diameter / np.sqrt(2 * np.log(2))
    for track in tracks:
        if track is None:
            continue
        wobble = JITTER * diameter if steady else sigma
        track.offset = track.offset + track.velocity + rng.normal(0, wobble, 2)
    alive = [k for k, track in enumerate(tracks) if track is not None]
    for k in rng.choice(alive, int(round(TURNOVER * len(alive))), replace=False):
        tracks[k] = None
    for source in rng.choice(ids, int(round(TURNOVER * len(alive))), replace=False):
        new = _track(first, boxes[source - 1], source, diameter, step, steady, rng)
        new.offset = rng.uniform(-0.4, 0.4, 2) * first.shape
        tracks.append(new)
    return tracks


def _pasted(tracks, shape, drift, hidden: set[int], rng) -> np.ndarray:
    out = np.zeros(shape, np.int32)
    for k in rng.permutation(len(tracks)):
        track = tracks[k]
        if track is None or k + 1 in hidden:
            continue
        corner = track.corner + np.round(track.offset + drift).astype(int)
        low, high = np.maximum(corner, 0), np.minimum(corner + track.mask.shape, shape)
        if np.any(high <= low):
            continue
        mask = track.mask[tuple(slice(lo - c, hi - c) for lo, hi, c in zip(low, high, corner))]
        region = out[tuple(slice(lo, hi) for lo, hi in zip(low, high))]
        free = mask & (region == 0)  # (crowding: what another object took stays its)
        if free.sum() >= 0.5 * track.mask.sum():
            region[free] = k + 1
    return out


def linked(frames: list[np.ndarray], linker_class, rng) -> list[dict[int, int]]:
    """{track: id given} per time point, linked in time order, each time point numbered
    1..N in a shuffled order first."""
    linker = linker_class(len(frames))
    given = []
    for t, frame in enumerate(frames):
        tracks = np.unique(frame)[1:]
        lookup = np.zeros(int(frame.max()) + 1, np.int32)
        lookup[tracks] = rng.permutation(len(tracks)) + 1
        labels = lookup[frame]
        linker.link(t, labels)
        boxes = ndi.find_objects(frame)
        given.append({int(k): int(labels[boxes[k - 1]][frame[boxes[k - 1]] == k][0]) for k in tracks})
    return given


def scored(given: list[dict[int, int]], missed: set[int], gap_end: int | None) -> np.ndarray:
    """(right, wrong, new given an old id, missed and back after the gap given their own
    id, another object's id) as shares; NaN where there was none to count."""
    right = wrong = stays = new_wrong = news = back = back_wrong = backs = 0
    owner: dict[int, int] = {}  # id -> the first track that held it
    last_id: dict[int, int] = {}
    for t, ids in enumerate(given):
        for track, label in ids.items():
            old = label in owner and owner[label] != track
            if t and track in given[t - 1]:
                stays += 1
                right += label == given[t - 1][track]
                wrong += label != given[t - 1][track] and old
            elif t and track not in last_id:
                news += 1
                new_wrong += old
            if t == gap_end and track in missed:
                backs += 1
                back += label == last_id[track]
                back_wrong += label != last_id[track] and old
        for track, label in ids.items():
            owner.setdefault(label, track)
            last_id[track] = label
    share = lambda a, b: a / b if b else np.nan  # noqa: E731
    return np.array([share(right, stays), share(wrong, stays), share(new_wrong, news),
                     share(back, backs), share(back_wrong, backs)])


def run_case(first, linker_classes, seeds, *, steps, step, steady, missed_at=()) -> list[np.ndarray]:
    """Median figures per linker over seeds (each linker on the same series)."""
    results = [[] for _ in linker_classes]
    gap_end = max(missed_at) + 1 if missed_at else None
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        frames, missed = make_series(first, steps, step, steady, rng, missed_at)
        for k, linker_class in enumerate(linker_classes):
            given = linked(frames, linker_class, np.random.default_rng(1000 + seed))
            results[k].append(scored(given, missed, gap_end))
    return [np.nanmedian(np.array(r), axis=0) for r in results]


def percent(values, index, digits=0) -> str:
    """``before -> now`` (or ``now``) of one figure, in %."""
    texts = ["-" if np.isnan(v[index]) else f"{100 * v[index]:.{digits}f} %" for v in values]
    return " -> ".join(texts)


CASES = [  # (table, steps, median step / diameter, steady, missed at)
    *[("two time points, random walk", 2, s, False, ()) for s in (0.1, 0.25, 0.35, 0.5, 0.75, 1.0)],
    *[("five time points, random walk", TIME_POINTS, s, False, ()) for s in (0.25, 0.5, 0.75)],
    *[("five time points, steady motion", TIME_POINTS, s, True, ())
      for s in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)],
    *[("missed at time point 2", TIME_POINTS, s, steady, (2,))
      for s, steady in ((0.1, False), (0.25, False), (0.5, False), (0.5, True), (1.0, True))],
    *[("missed at time points 2 and 3", TIME_POINTS, s, steady, (2, 3))
      for s, steady in ((0.1, False), (0.25, False), (0.5, False), (0.5, True), (1.0, True))],
]


def known_motion_tables(data: Path, linker_classes, seeds: int) -> str:
    header = ("| case | reference frame | median step / diameter | right id | another object's id "
              "| new object given an old id | missed, after the gap: own id | another's id |\n"
              "|---|---|---|---|---|---|---|---|")
    rows = []
    for table, steps, step, steady, missed_at in CASES:
        for name, (file, index) in FRAMES.items():
            values = run_case(reference(data, file, index), linker_classes, seeds, steps=steps,
                              step=step, steady=steady, missed_at=missed_at)
            motion = f"{step:g} ({'steady' if steady else 'random walk'})"
            rows.append(f"| {table} | {name} | {motion} | {percent(values, 0)} "
                        f"| {percent(values, 1, 1)} | {percent(values, 2)} | {percent(values, 3)} "
                        f"| {percent(values, 4, 1)} |")
            print(rows[-1], flush=True)
    return header + "\n" + "\n".join(rows)


def real_series_table(data: Path, linker_classes) -> str:
    header = ("| time series | carry on an id (median) | ids in all | ms per frame |\n"
              "|---|---|---|---|")
    rows = []
    for name, file in SERIES.items():
        found = [measure(data / file, linker_class) for linker_class in linker_classes]
        carried = " -> ".join(f"{100 * f['carried']:.0f} %" for f in found)
        ids = " -> ".join(str(f["ids"]) for f in found)
        ms = " -> ".join(f"{f['ms']:.1f}" for f in found)
        rows.append(f"| {name} | {carried} | {ids} | {ms} |")
        print(rows[-1], flush=True)
    return header + "\n" + "\n".join(rows)


def crowd_timing(data: Path, linker_classes) -> str:
    """Seconds to link a crowd moving far: the HeLa frame tiled 3 x 3 (~1,650 nuclei), five
    time points, steady motion of a diameter per time point."""
    first = reference(data, *FRAMES["HeLa frame 3 (183 nuclei)"])
    tiled = np.block([[first + (first > 0) * (k * first.max()) for k in range(3 * r, 3 * r + 3)]
                      for r in range(3)])  # fmt: skip
    frames, _ = make_series(tiled, TIME_POINTS, 1.0, True, np.random.default_rng(0))
    seconds = []
    for linker_class in linker_classes:
        start = time.perf_counter()
        linked(frames, linker_class, np.random.default_rng(0))
        seconds.append(time.perf_counter() - start)
    return (f"Crowd (HeLa frame tiled 3 x 3, {len(np.unique(tiled)) - 1} nuclei, 5 time points, "
            f"steady motion of a diameter per time point): "
            + " -> ".join(f"{s:.1f} s" for s in seconds) + " to label and link the series.")


def load_linker(path: Path):
    """``TimeLinker`` of the time_links module at ``path`` (an earlier copy)."""
    spec = importlib.util.spec_from_file_location("time_links_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TimeLinker


def main() -> None:
    from unet_studio.models.time_links import TimeLinker

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the development data folder")
    parser.add_argument("--before", help="an earlier copy of models/time_links.py to compare")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    data = Path(args.data)
    linker_classes = ([load_linker(Path(args.before))] if args.before else []) + [TimeLinker]
    body = "\n\n".join([known_motion_tables(data, linker_classes, args.seeds),
                        real_series_table(data, linker_classes),
                        crowd_timing(data, linker_classes)])  # fmt: skip
    print(body.split("\n\n")[-1])
    if args.write:
        note = "Each figure: before -> now.\n\n" if args.before else ""
        write_result("link_accuracy", "Ids over time: right and wrong links with known motion",
                     note + body)


if __name__ == "__main__":
    main()
