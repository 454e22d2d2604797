"""Where an open project's folder is now: followed when it is moved or renamed while open,
noticed when it is deleted (or moved where it cannot be found), so that saving never
recreates a half project (folders without ``project.json``) at the old path.

On POSIX the folder stays open as a directory file descriptor: the descriptor follows the
folder through a rename, and the system tells its current path (Linux: the link
``/proc/self/fd/N``, macOS: ``fcntl F_GETPATH``). Checking costs two ``stat`` calls (the
path still names the folder opened, and ``project.json`` is in it), cheap enough to run
before every save instead of watching the folder.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_FILE = "project.json"  # (as ``project_saving.PROJECT_FILE``: the project's own file)
_DELETED = " (deleted)"  # what Linux appends to the link of a descriptor of a deleted folder


class FolderGone(OSError):
    """Saving stopped: the project folder was moved where it cannot be found, or deleted."""

    def __init__(self, folder: Path):
        super().__init__(folder_gone_message(folder))
        self.folder = folder

    def __str__(self) -> str:
        return self.args[0]


def folder_gone_message(folder: Path) -> str:
    return (f"The project folder {folder} was moved or deleted while it was open: nothing is "
            "saved there now. Put it back (the changes are kept in memory and saved there as "
            "soon as it is back), or keep this window open and save the labels elsewhere "
            "(File > Save Selected Layers…).")


def folder_moved_message(folder: Path) -> str:
    return f"The project folder was moved to {folder}; saving there now."


class ProjectFolder:
    """The folder of an open project. ``locate()`` before writing: the current path, or
    None when the folder is gone. ``on_moved(old, new)`` runs once per move, on the thread
    that noticed it (the GUI's or the autosave thread)."""

    def __init__(self, path: str | Path, on_moved: Callable[[Path, Path], None]):
        self.path = Path(path)
        self._on_moved = on_moved
        self._lock = threading.RLock()  # (on_moved may read the path again)
        self._fd, self._identity = _open_folder(self.path)
        self._closed = False
        if self._fd is not None:  # (a project never closed must not leak its descriptor)
            self._finalizer = weakref.finalize(self, os.close, self._fd)

    def locate(self) -> Path | None:
        """The folder's path now (followed after a move), or None when it holds no project
        any more: moved out of sight, deleted, or its ``project.json`` gone."""
        with self._lock:
            if self._closed or self._in_place(self.path):
                return self.path
            new = self._path_of_descriptor()
            if new == self.path and _holds_project(new):
                return self.path  # (in place by the system's word: inode numbers that vary)
            if new is None or new == self.path or not self._in_place(new):
                return None
            old, self.path = self.path, new
            log.info("project folder moved from %s to %s", old, new)
            self._on_moved(old, new)
            return new

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._fd is not None:
                self._finalizer()  # (closes the descriptor, once)
                self._fd = None

    def _in_place(self, path: Path) -> bool:
        """Is ``path`` the folder opened (not another one made at its name) with its
        project file?"""
        try:
            if self._identity is not None:
                stat = os.stat(path)
                if (stat.st_dev, stat.st_ino) != self._identity:
                    return False
            return _holds_project(path)
        except OSError:
            return False

    def _path_of_descriptor(self) -> Path | None:
        if self._fd is None:
            return None
        try:
            if sys.platform.startswith("linux"):
                target = os.readlink(f"/proc/self/fd/{self._fd}")
                return None if target.endswith(_DELETED) or not target.startswith("/") \
                    else Path(target)
            if sys.platform == "darwin":
                import fcntl

                raw = fcntl.fcntl(self._fd, fcntl.F_GETPATH, bytes(1024)).split(b"\0", 1)[0]
                return Path(os.fsdecode(raw)) if raw.startswith(b"/") else None
        except (OSError, AttributeError, ValueError):
            return None
        return None


def _holds_project(path: Path) -> bool:
    return os.path.isfile(path / PROJECT_FILE)


def _open_folder(path: Path) -> tuple[int | None, tuple[int, int] | None]:
    """A descriptor of the folder and its (device, inode); (None, None) where folders
    cannot be opened (Windows): then only the project file's presence is checked."""
    if os.name != "posix":
        return None, None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None, None
    stat = os.fstat(fd)
    return fd, (stat.st_dev, stat.st_ino)
