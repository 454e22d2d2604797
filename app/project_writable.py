"""Can a project folder be written? Asked when a project opens, so that a folder on a
read-only file system (a read-only mount, a write-protected card or share) or without the
right to write opens in a mode that keeps the user's work in memory and says so at once,
instead of opening as writable and failing at the first edit.

Why a real file and not ``os.access``: access() ignores permission bits for root and does
not see a read-only mount through some file systems (nor ACLs, root on NFS); creating a file
does. The file is an unnamed one where the system allows (``O_TMPFILE``), else one removed
at once: nothing is left in the folder, not even after a kill.
"""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

from unet_studio.app.atomic import TEMP_PREFIX

# Why a folder cannot be written, in words for the user, by the error's number.
_REASONS = {
    errno.EROFS: "read-only file system",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.ENOSPC: "the disk is full",
    getattr(errno, "EDQUOT", -1): "the disk quota is used up",  # (none on Windows)
}


def write_problem(folder: str | Path) -> str | None:
    """Why no file can be written in ``folder`` ("read-only file system", "the disk is
    full"), or None when one can. The seam the project's tests replace to play a read-only
    folder. A byte is written: a full disk still creates empty files (the project's lock
    would be one: see ``project_lock.claim_lock``)."""
    try:
        with tempfile.TemporaryFile(prefix=TEMP_PREFIX, dir=folder) as probe:
            probe.write(b"\0")
            probe.flush()
    except OSError as error:
        return problem_of(error)
    return None


def problem_of(error: OSError) -> str:
    """Why a folder cannot be written, in words for the user, from a write's error."""
    return _REASONS.get(error.errno) or (error.strerror or str(error)).lower()


def unwritable_message(folder: Path, why: str) -> str:
    """What the user is told when the project opens (a notification)."""
    return (f"{folder} cannot be written ({why}): your corrections are kept in memory only. "
            "Use New project… (Correct panel) to save them in a folder you choose; they are "
            "saved here once the folder can be written again.")


def unwritable_note(why: str) -> str:
    """The same, in a few words, for the project line of the Correct panel (under the
    folder's path)."""
    return (f"Cannot be written ({why}): corrections are kept in memory only; New project… "
            "saves them elsewhere.")


class FolderUnwritable(OSError):
    """A write outside the autosave (a fine-tuned model, the training's files) refused:
    the project opened on a folder that cannot be written (see :func:`write_problem`)."""

    def __init__(self, folder: Path, why: str):
        super().__init__(f"the project folder {folder} cannot be written ({why}); use New "
                         "project… (Correct panel) to save the project in a folder you choose")
        self.folder = folder

    def __str__(self) -> str:
        return self.args[0]
