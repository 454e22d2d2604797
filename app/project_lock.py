"""One writer per project folder: ``open.lock`` names the process that writes to it.

Two windows (or two processes) writing one project would overwrite each other's
``project.json`` (an image added in one vanishes), switch each other's label generations and
sweep each other's temp files mid-write. So the first opener holds the lock; a second one
opens the project read-only, is told why, and becomes the writer once the first closed it.
A lock whose process is gone (killed) is stale and taken over.

A process id alone does not say whether the lock's writer still runs: after a reboot or a long
uptime an unrelated process may carry the same id, and the project would open read-only for no
reason. So the lock also records when its writer started (Linux: the boot id and the start
time in clock ticks since boot, from ``/proc``); a process with the lock's id but another start
is a later one, and the lock is stale. Where the start cannot be read (other systems, locks of
older versions without it) the process id alone decides, as before.
"""

from __future__ import annotations

import json
import os
import socket
import weakref
from pathlib import Path

from unet_studio.app.processes import process_runs

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
        started = info.get("started")  # (absent in locks of older versions)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # (a damaged lock protects nothing: taken over)
    if host != socket.gethostname():
        return f"process {pid} on {host}"  # (cannot tell whether it still runs)
    if pid == os.getpid():
        return "another window of this program" if _key(folder) in _holders else None
    return f"process {pid}" if _alive(pid, started) else None


def stale_lock(folder: Path) -> str | None:
    """The writer of a lock left behind ("process 123"): it stopped without closing the
    project (killed, crashed, a power cut). None: no lock, a writer still running (or on
    another host), or a lock of this process (a project of its own never closed)."""
    try:
        info = json.loads((Path(folder) / LOCK_FILE).read_text("utf-8"))
        pid, host = int(info["pid"]), str(info["host"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return "a process"  # (killed while writing the lock itself)
    if host != socket.gethostname() or pid == os.getpid() or _alive(pid, info.get("started")):
        return None
    return f"process {pid}"


def not_closed_message(folder: Path, writer: str, autosave_delay: float) -> str:
    """What the user is told when opening a project whose writer stopped without closing
    it (see :func:`stale_lock`). Saving runs ``autosave_delay`` seconds after the first
    unsaved change (``autosave``): that much work, plus a write under way, may be lost."""
    lost = ("the last second or so" if autosave_delay <= 1
            else f"the last {autosave_delay:g} seconds or so")
    return (f"The project {folder} was not closed properly last time ({writer} stopped "
            "while it had it open: it was killed, crashed or lost power). What was saved is "
            f"back; edits made in {lost} before it stopped may be missing.")


def take_lock(folder: Path, holder: object) -> bool:
    """Make ``holder`` the writer of ``folder``; False when someone else is (see
    :func:`lock_holder`) or the lock cannot be written (a read-only folder: then nobody
    can write there anyway, and the writes themselves say so)."""
    if lock_holder(folder) is not None:
        return False
    info = {"pid": os.getpid(), "host": socket.gethostname()}
    started = process_started(os.getpid())
    if started is not None:
        info["started"] = started
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


def follow_lock(old: Path, new: Path, holder: object) -> None:
    """The folder ``holder`` writes was moved from ``old`` to ``new`` (its lock with it):
    ``holder`` still holds it there, so that another window opening it there is read-only."""
    if _holders.get(_key(old)) is holder:
        del _holders[_key(old)]
        _holders[_key(new)] = holder


def _key(folder: Path) -> str:
    return os.path.realpath(folder)


def process_started(pid: int) -> str | None:
    """When process ``pid`` started, as "boot id/clock ticks since boot": equal for one
    process, different for a later one given the same id. None where unknown (no ``/proc``,
    the process is gone, or an unexpected format)."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()
        stat = Path(f"/proc/{pid}/stat").read_text("ascii", errors="replace")
        # (the command name, field 2, is in parentheses and may hold spaces or ")": the
        # fields after the last ")" start with field 3, so the start time, field 22, is 19th)
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None
    return f"{boot_id}/{start_ticks}" if boot_id else None


def _alive(pid: int, started: object = None) -> bool:
    """Does the process that wrote a lock naming ``pid`` (started at ``started``, when the
    lock says) still run?"""
    if isinstance(started, str):
        now = process_started(pid)
        if now is not None:
            return now == started  # (another start: the id was given to a later process)
    return process_runs(pid)
