"""Finding the work saved earlier on an image file: the projects that hold it.

An image opened again after a restart, with no project open, shows no labels, and its
first edit starts a new autosave project: the corrections made before sit in an earlier,
timestamped project that nothing leads to. This module finds those projects, cheaply
enough to run each time an image from a file becomes current: it reads ``project.json``
files only (and a few file dates of the projects that hold the image), of at most
:data:`MOST_SCANNED` projects, the newest first; a project it cannot read is skipped
without a word (a folder being written, deleted, damaged: not the user's question now).

Where it looks: the autosave folder's projects, and the projects the user opened before
(:func:`remember_project` keeps a short list of them in the studio home).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from unet_studio.app.atomic import atomic_write_json
from unet_studio.app.errors import InputFileError
from unet_studio.app.project import FORMAT as PROJECT_FORMAT
from unet_studio.app.project_image_list import same_path
from unet_studio.app.project_images import image_refs
from unet_studio.app.project_saving import PROJECT_FILE

log = logging.getLogger(__name__)

RECENT_FILE = "recent-projects.json"
RECENT_KEPT = 30  # (the projects opened by hand: a short list, newest first)
MOST_SCANNED = 200  # (the newest project.json files read per look: a few ms)


@dataclass(frozen=True)
class SavedWork:
    """A project holding corrections of an image file: its folder, its name, the project's
    name for the image, when its work on the image was last saved (seconds since the
    epoch) and the names of its other images (opening the project reopens those too)."""

    project: Path
    project_name: str
    image_name: str
    saved: float
    other_images: tuple[str, ...]


def find_saved_work(source: str | Path, folders: Iterable[Path], recent: Iterable[Path] = (),
                    *, series: int = 0, most: int = MOST_SCANNED) -> list[SavedWork]:
    """The projects, among those in ``folders`` (each a folder of project folders: the
    autosave home) and ``recent`` (project folders), that hold saved labels or reviewed
    marks of the image file ``source``, newest save first. The image is matched by its
    file, as the project records it (absolute, or relative to the project folder), the
    same file however reached (a symlink, ``..``), and by which image of it it is
    (``series``, from 0: a multi-series file's other images have other labels). Only the
    ``most`` newest projects (by their ``project.json``'s date) are read."""
    source = Path(source)
    found = []
    same_file = _same_file_as(source)
    for folder in newest_projects(folders, recent, most=most):
        work = _work_on(folder, same_file, series)
        if work is not None:
            found.append(work)
    return sorted(found, key=lambda work: work.saved, reverse=True)


def newest_projects(folders: Iterable[Path], recent: Iterable[Path] = (), *,
                    most: int = MOST_SCANNED) -> list[Path]:
    """The project folders in ``folders`` and among ``recent``, each once, the ``most``
    newest by their ``project.json``'s date (one stat each: no file is read)."""
    # (plain strings until the newest are chosen: pathlib's parsing was most of the time
    # of a look over a few thousand autosave projects)
    dated: dict[tuple[int, int], tuple[float, str]] = {}
    candidates = [*(_subfolders(folder) for folder in folders), map(str, recent)]
    for folder in (path for group in candidates for path in group):
        try:
            info = os.stat(os.path.join(folder, PROJECT_FILE))
        except (OSError, ValueError):  # (gone, unreachable, a name the system refuses)
            continue
        # (one project reached twice, a recent one in the autosave home: by its file)
        dated.setdefault((info.st_dev, info.st_ino), (info.st_mtime, folder))
    newest = sorted(dated.values(), key=lambda item: item[0], reverse=True)[:most]
    return [Path(folder) for _, folder in newest]


def _subfolders(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [entry.path for entry in entries if entry.is_dir()]
    except OSError:  # (no autosave home yet)
        return []


def _same_file_as(source: Path):
    """``is_it(path)``: is ``path`` the file ``source``, however reached? One stat a path
    (``same_path`` costs a few more, for each image of each project scanned: two thirds of
    the scan's time)."""
    try:
        info = os.stat(source)
    except OSError:  # (the file is gone meanwhile: by its path then)
        return lambda path: same_path(path, source)
    identity = (info.st_dev, info.st_ino)

    def is_it(path: Path) -> bool:
        try:
            other = os.stat(path)
        except (OSError, ValueError):  # (missing, unreachable: not the file opened)
            return False
        return (other.st_dev, other.st_ino) == identity

    return is_it


def _work_on(folder: Path, same_file, series: int) -> SavedWork | None:
    """What the project in ``folder`` saved of the image ``series`` of the image file that
    ``same_file(path)`` recognises, or None: it holds no such image, nothing saved of it, or cannot be read."""
    file = folder / PROJECT_FILE
    try:
        meta = json.loads(file.read_text("utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != PROJECT_FORMAT:
            return None
        refs = image_refs(file, meta)
    except (OSError, ValueError, InputFileError):  # (InputFileError: a damaged image entry)
        return None
    for ref in refs:
        path = Path(ref.path) if ref.path else None
        if path is None or ref.series != series or not same_file(path if path.is_absolute() else folder / path):
            continue
        saved = last_saved(folder, ref.id)
        if saved is None:
            continue  # (added, never saved: nothing of it to bring back)
        others = tuple(other.name for other in refs if other.id != ref.id)
        name = meta.get("name") if isinstance(meta.get("name"), str) else folder.name
        return SavedWork(folder, name or folder.name, ref.name, saved, others)
    return None


def last_saved(folder: Path, image_id: str) -> float | None:
    """When the project in ``folder`` last saved work on the image ``image_id`` (seconds
    since the epoch), or None when it saved none: the newest date of its labels store
    (its manifest, and the folders a chunk is written into: an edit rewrites a chunk,
    not the manifest) and of its reviewed marks."""
    image = folder / "images" / image_id
    labels = image / "labels"
    stamps = []
    try:
        stamps.append(os.stat(image / "reviewed.npz").st_mtime)
    except OSError:
        pass
    try:
        with os.scandir(labels) as entries:
            stamps += [entry.stat().st_mtime for entry in entries]
    except OSError:
        pass
    return max(stamps) if stamps else None


# ---- the projects opened before --------------------------------------------------------
def recent_projects(home: Path) -> list[Path]:
    """The project folders remembered in ``home``, newest first (an unreadable or damaged
    list is no list: it is only a help to find projects)."""
    try:
        listed = json.loads((home / RECENT_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(listed, list):
        return []
    return [Path(entry) for entry in listed if isinstance(entry, str) and entry]


def remember_project(home: Path, folder: Path) -> None:
    """Put the project ``folder`` first in the list in ``home`` (written atomically, at
    most :data:`RECENT_KEPT`: the oldest drop off). A home that cannot be written keeps
    the list as it was: logged, not told (the project itself says what fails)."""
    folder = Path(os.path.abspath(folder))
    listed = recent_projects(home)
    if listed[:1] == [folder]:
        return  # (reopened: nothing to write)
    kept = [folder, *(path for path in listed if not same_path(path, folder))][:RECENT_KEPT]
    try:
        home.mkdir(parents=True, exist_ok=True)
        # (no fsync: a list lost to a power cut costs nothing, a wait on the GUI thread does)
        atomic_write_json(home / RECENT_FILE, [str(path) for path in kept], fsync=False)
    except OSError as error:
        log.info("could not remember the project %s: %s", folder, error)
