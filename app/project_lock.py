"""One writer per project folder: ``open.lock`` names the process that writes to it.

Two windows (or two processes) writing one project would overwrite each other's
``project.json`` (an image added in one vanishes), switch each other's label generations and
sweep each other's temp files mid-write. So the first opener holds the lock; a second one
opens the project read-only, is told why, and becomes the writer once the first closed it.
A lock whose process is gone (killed) is stale and taken over.
"""

from __future__ import annotations

import json
import os
import socket
import weakref
from pathlib import Path

LOCK_FILE = "open.lock"

# Folders this process holds, to their holder: a lock naming this process is stale once its
# holder is gone (a project never closed and collected).
_holders: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def lock_holder(folder: Path) -> str | None:
    """Who else writes to ``folder`` now ("process 123 on host"), or None when nobody does
    (no lock, or a stale one)."""
    path = Path(folder) / LOCK_FILE
    try:
        info = json.loads(path.read_text("utf-8"))
        pid, host = int(info["pid"]), str(info["host"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # (a damaged lock protects nothing: taken over)
    if host != socket.gethostname():
        return f"process {pid} on {host}"  # (cannot tell whether it still runs)
    if pid == os.getpid():
        return "another window of this program" if _key(folder) in _holders else None
    return f"process {pid}" if _alive(pid) else None


def take_lock(folder: Path, holder: object) -> bool:
    """Make ``holder`` the writer of ``folder``; False when someone else is (see
    :func:`lock_holder`) or the lock cannot be written (a read-only folder: then nobody
    can write there anyway, and the writes themselves say so)."""
    if lock_holder(folder) is not None:
        return False
    info = {"pid": os.getpid(), "host": socket.gethostname()}
    try:
        (Path(folder) / LOCK_FILE).write_text(json.dumps(info) + "\n", "utf-8")
    except OSError:
        return True  # (no lock to write: the project's own writes will tell the user)
    _holders[_key(folder)] = holder
    return True


def release_lock(folder: Path, holder: object) -> None:
    """``holder`` stops writing ``folder``: the lock goes, if it is its own."""
    if _holders.get(_key(folder)) is not holder:
        return
    del _holders[_key(folder)]
    try:
        (Path(folder) / LOCK_FILE).unlink(missing_ok=True)
    except OSError:
        pass  # (a read-only folder: the lock is stale from now on anyway)


def _key(folder: Path) -> str:
    return os.path.realpath(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # (another user's process)
    except OSError:
        return False
    return True
