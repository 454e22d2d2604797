"""What a project does with the traces of a killed save and with files it cannot read:
leftovers are removed (never read as data), damaged files are set aside (never overwritten,
never deleted), and each is said in one line for the user."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

from unet_studio.app.atomic import TEMP_PREFIX, remove_stale_temps
from unet_studio.app.round_checkpoints import TRAINING_DIR, remove_orphaned_checkpoints

log = logging.getLogger(__name__)


def sweep_leftovers(folder: Path) -> list[str]:
    """Remove what a killed save left in a project ``folder``: temp files and half-written
    model folders (``models/.tmp-*``), and the checkpoints of stopped rounds from a project
    model no longer there (``round_checkpoints``). Only the folder's writer may (another
    writer may be writing them now). Returns the problems to tell (a read-only folder: they
    stay)."""
    return _sweep_temps(folder) + _sweep_orphaned_checkpoints(folder)


def _sweep_orphaned_checkpoints(folder: Path) -> list[str]:
    """A cancelled or killed round keeps its checkpoints (hundreds of MB for a big network)
    for the next round from the same model; once that model was removed from the project,
    no round can resume them."""
    try:
        removed = remove_orphaned_checkpoints(folder)
    except OSError as error:
        return [f"{folder}: could not remove the checkpoints of a stopped round from a model "
                f"that was removed ({error}); they stay in {TRAINING_DIR}/."]
    if removed:
        log.info("removed the checkpoints of stopped rounds from removed models: %s",
                 ", ".join(path.name for path in removed))
    return []


def _sweep_temps(folder: Path) -> list[str]:
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
