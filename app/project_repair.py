"""What a project does with the traces of a killed save and with files it cannot read:
leftovers are removed (never read as data), damaged files are set aside (never overwritten,
never deleted), and each is said in one line for the user."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

from unet_studio.app.atomic import TEMP_PREFIX, remove_stale_temps

log = logging.getLogger(__name__)


def sweep_leftovers(folder: Path) -> list[str]:
    """Remove what a killed save left in a project ``folder``: temp files and half-written
    model folders (``models/.tmp-*``). Only the folder's writer may (another writer may be
    writing them now). Returns the problems to tell (a read-only folder: they stay)."""
    try:
        removed = remove_stale_temps(folder)
        for partial in (Path(folder) / "models").glob(f"{TEMP_PREFIX}*"):
            if partial.is_dir():
                shutil.rmtree(partial)
                removed += 1
    except OSError as error:
        return [f"{folder}: could not remove the temp files of an interrupted save ({error}); "
                "they are ignored."]
    if removed:
        log.info("removed %d temp files left by an interrupted save in %s", removed, folder)
    return []


def set_aside(path: Path, what: str, error: Exception, *, move: bool = True) -> str:
    """Rename ``path`` (a file or a store folder that cannot be read) aside, so that the
    next save starts afresh instead of overwriting it; the line that tells the user."""
    problem = f"{path}: cannot read {what} ({error})"
    if not move:
        return problem + "."
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.stem}-unreadable-{stamp}{path.suffix}")
    try:
        path.rename(aside)
    except OSError as rename_error:
        return problem + f"; it could not be set aside ({rename_error})."
    return problem + f"; the damaged files were set aside as {aside.name}, and it starts afresh."
