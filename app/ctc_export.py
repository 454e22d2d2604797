"""A time series' labels and tracks in the Cell Tracking Challenge's result ("RES") format.

The folder holds one mask per time point, ``maskTTT.tif`` (``maskTTTT.tif`` past 1000 time
points), uint16, 2D (YX) or 3D (ZYX), each object carrying its track's label, and
``res_track.txt``, one line ``L B E P`` per track (label, first and last time point,
parent label or 0), sorted by label. How ids become tracks and parents: ``ctc_lineage``.

The labels may be larger than RAM (a memory map): they are read a time point at a time,
twice: first the ids and the overlaps of the objects that appear, then each time point
relabelled and written. The folder is written under a temporary name beside the target
and renamed at the end, so it appears complete or not at all (closing the generator early,
a cancelled export, leaves nothing behind). Qt-free: the CLI drains
:func:`iter_export_ctc`, the Correct panel runs it in a worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_studio.app.atomic import naming_output
from unet_studio.app.ctc_lineage import Lineage, Track, mother_ids
from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.measure_inputs import LabelIdError, check_ids, labels_problem
from unet_studio.models.files import TEMP_PREFIX, bounded_name, usual_folder_mode
from unet_studio.models.mapped import PageReleaser

MAX_TRACKS = int(np.iinfo(np.uint16).max)  # the masks are uint16
TRACKS_FILE = "res_track.txt"


class FolderNotEmptyError(InputFileError):
    """The target folder holds files and overwriting was not asked for (the CLI names its
    ``--overwrite``, the panel asks for another folder)."""

    def __init__(self, folder: Path):
        super().__init__(folder, "is not empty; give a new or empty folder")


class TooManyTracksError(UserError):
    """More tracks than uint16 masks can number; ``problem`` lets the caller name the file."""

    def __init__(self, count: int):
        self.problem = (f"holds {count} tracks, more than the {MAX_TRACKS} that the Cell "
                        "Tracking Challenge's 16-bit masks can number")
        super().__init__(f"the labels {self.problem}")


@dataclass(frozen=True)
class CtcExport:
    """What was written: the folder, time points, tracks, and the tracks with a parent
    (``divisions``: inferred from overlaps; ``continued``: a mother's id going on after a
    division, cut into a daughter track too; ``gaps``: an id back after missing frames)."""

    folder: Path
    frames: int
    tracks: int
    parents: int
    divisions: int
    gaps: int
    continued: int = 0
    ids: int = 0  # the labels' ids over the whole series (the Segment panel's "tracks")

    def tracks_text(self) -> str:
        """"8 tracks (5 with a parent: 3 from divisions, 1 a mother's id going on, 1 after a
        gap)", and, where the format cut some ids into several tracks, how many ids the
        labels hold and why they differ (Segment said "190 tracks" of labels exported as
        225, unexplained)."""
        going_on = f", {self.continued} a mother's id going on" if self.continued else ""
        text = (f"{self.tracks} tracks ({self.parents} with a parent: {self.divisions} from "
                f"divisions{going_on}, {self.gaps} after a gap)")
        if self.ids and self.ids != self.tracks:
            text += (f" from {self.ids} ids (a new track starts where an id comes back after "
                     "missing frames or goes on after its division)")
        return text


def mask_name(t: int, frames: int) -> str:
    """``mask007.tif``; four digits when there are over 1000 time points (the CTC's rule)."""
    return f"mask{t:0{4 if frames > 1000 else 3}d}.tif"


def iter_export_ctc(labels, axes: str, folder: str | Path, *, overwrite: bool = False,
                    ) -> Generator[float, None, CtcExport]:
    """Write ``labels`` (array-like, one dimension per letter of ``axes``, over "TZYX",
    with T) as a CTC result folder ``folder``; yields the fraction done, returns a
    :class:`CtcExport`. Checked at the call (UserError), before any pixel is read: the
    labels' axes and type, and ``folder``: refused when it is a file or, unless
    ``overwrite``, a folder with anything in it; even with ``overwrite`` only a folder
    holding nothing but an earlier export (``mask*.tif``, ``res_track.txt``) is replaced."""
    problem = labels_problem(labels.dtype, axes, len(labels.shape))
    if problem:
        raise UserError(f"the labels {problem}")
    if "T" not in axes:
        raise UserError(f"CTC tracks need a time series: these labels have no T axis ({axes})")
    folder = Path(folder).expanduser()
    check_target(folder, overwrite)
    return _iter_export(labels, axes, folder)


def check_target(folder: Path, overwrite: bool) -> None:
    """InputFileError when writing the export at ``folder`` would lose something."""
    if os.path.lexists(folder) and (folder.is_symlink() or not folder.is_dir()):
        raise InputFileError(folder, "is a file, not a folder; give a new or empty folder")
    if not folder.is_dir():
        return
    names = os.listdir(folder)
    if names and not overwrite:
        raise FolderNotEmptyError(folder)
    others = [n for n in names if not (n == TRACKS_FILE or n.startswith("mask") and n.endswith(".tif"))]
    if others:  # (overwrite is for an earlier export, not for a folder of other files)
        raise InputFileError(folder, f"holds files other than a CTC export ({others[0]}); "
                                     "give a new or empty folder")


def _iter_export(labels, axes: str, folder: Path) -> Generator[float, None, CtcExport]:
    frames = labels.shape[axes.index("T")]
    pages = PageReleaser(labels)
    lineage = Lineage()
    previous = None
    yield 0.0
    for t in range(frames):  # first pass: the ids of each time point, the new ones' mothers
        current = _frame(labels, axes, t, pages)
        ids = _ids(current)
        new = ids[~np.isin(ids, list(lineage.open))]
        lineage.add(t, ids, {} if previous is None else mother_ids(previous, current, new))
        previous = current
        yield (t + 1) / (2 * frames)
    del previous
    tracks = lineage.finish()
    if len(tracks) > MAX_TRACKS:
        raise TooManyTracksError(len(tracks))
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = None
    try:
        # (the name cut to fit: a folder name the file system takes, plus ".tmp-" and
        # mkdtemp's random part, could be longer than it takes)
        temp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{bounded_name(folder.name)}-",
                                     dir=folder.parent))
        yield from _write_masks(labels, axes, temp, tracks, frames, pages)
        _write_tracks(temp / TRACKS_FILE, lineage, tracks)
        usual_folder_mode(temp)  # (mkdtemp makes it 0700)
        _put_in_place(temp, folder)
    except OSError as error:  # named after the folder asked for, not the temporary one
        _remove(temp)
        named = naming_output(error, folder, temp)
        if named is error:
            raise
        raise named from error
    except BaseException:
        _remove(temp)
        raise
    return CtcExport(folder, frames, len(tracks), sum(t.parent is not None for t in tracks),
                     lineage.divisions, lineage.gaps, lineage.continued, len(lineage.last))


def _write_masks(labels, axes, temp: Path, tracks: list[Track], frames: int,
                 pages: PageReleaser) -> Generator[float, None, None]:  # fmt: skip
    """Second pass: each time point with every id replaced by its track's label."""
    import tifffile

    starting: dict[int, list[Track]] = {}
    for track in tracks:
        starting.setdefault(track.begin, []).append(track)
    active: dict[int, Track] = {}  # id -> its track at this time point
    for t in range(frames):
        active = {i: track for i, track in active.items() if track.end >= t}
        active.update({track.id: track for track in starting.get(t, [])})
        current = _frame(labels, axes, t, pages)
        ids = np.asarray(sorted(active), dtype=np.int64)
        lut = np.asarray([0] + [active[i].label for i in ids.tolist()], dtype=np.uint16)
        # Index 0 is the background; an id's place in ``ids`` plus one is its entry.
        where = np.searchsorted(ids, current) + 1
        where[current == 0] = 0
        tifffile.imwrite(temp / mask_name(t, frames), lut[where], photometric="minisblack")
        yield 0.5 + (t + 1) / (2 * frames)


def _write_tracks(path: Path, lineage: Lineage, tracks: list[Track]) -> None:
    lines = sorted((t.label, t.begin, t.end, lineage.parent_label(t)) for t in tracks)
    path.write_text("".join(" ".join(map(str, line)) + "\n" for line in lines), encoding="ascii")


def _put_in_place(temp: Path, folder: Path) -> None:
    """Rename ``temp`` to ``folder``; an earlier export there (checked at the call) is set
    aside first and removed once the new one is in place."""
    old = None
    if folder.is_dir():
        if not os.listdir(folder):
            folder.rmdir()
        else:
            old = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}old-", dir=folder.parent))
            os.replace(folder, old / folder.name)
    os.replace(temp, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove(temp: Path | None) -> None:
    if temp is not None:
        shutil.rmtree(temp, ignore_errors=True)


def _frame(labels, axes: str, t: int, pages: PageReleaser) -> np.ndarray:
    """Time point ``t`` in memory, its axes in Z, Y, X order; negative ids refused."""
    key = tuple(t if a == "T" else slice(None) for a in axes)
    spatial = [a for a in axes if a != "T"]
    frame = np.array(labels[key])
    frame = np.transpose(frame, sorted(range(len(spatial)), key=lambda i: "ZYX".index(spatial[i])))
    if frame.dtype == bool:
        frame = frame.astype(np.uint8)
    check_ids(frame)
    if frame.dtype == np.uint64:  # (checked to fit: compared with int64 ids below)
        frame = frame.astype(np.int64)
    pages.tick(frame.nbytes)
    return frame


def _ids(frame: np.ndarray) -> np.ndarray:
    ids = np.unique(frame)
    return ids[ids > 0].astype(np.int64)


__all__ = ["CtcExport", "FolderNotEmptyError", "LabelIdError", "MAX_TRACKS", "TooManyTracksError", "iter_export_ctc",
           "mask_name"]
