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

A folder copied while open (``shutil.copytree``, a file manager) carries its writer's lock
along, and that lock would keep the copy read-only for as long as the writer runs, or for
ever when it names another host. So the lock also records the folder it was written for:
its real path and its identity (device and inode numbers, which a copy never shares and a
rename keeps). The rule, reading a lock that records them:

* on the host that wrote it: another identity than this folder's is another folder (a copy,
  a folder restored or moved to another disk, which its writer no longer writes): the lock
  is stale, taken over without alarming anybody (logged). A folder renamed or moved on its
  disk while open keeps its identity: still locked, wherever the old path now points.
* on another host device numbers are that host's own and the folder's path may differ (a
  shared drive mounted elsewhere), so the lock counts as copied only on evidence: its
  recorded path shows a folder here with the recorded inode number (a shared drive shows the
  server's numbers to every host), and this folder is another one. Otherwise (the path is
  not seen here, or names some unrelated folder) the lock stays live, as before.

A lock of an older version records no folder: it keeps the rules above.

A lock that cannot be written (a full disk) makes nobody the writer: an opening goes on
read-only, kept in memory (``Project.open``), and becomes the writer once the lock can be
written. Written whole or not at all, a lock is never empty; an empty one (an older
version's failed write) is nobody's, and no sign of a crash.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import weakref
from pathlib import Path

from unet_studio.app.atomic import atomic_write_json
from unet_studio.app.processes import process_runs

log = logging.getLogger(__name__)

LOCK_FILE = "open.lock"

# Folders this process holds, to their holder: a lock naming this process is stale once its
# holder is gone (a project never closed and collected).
_holders: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def lock_holder(folder: Path) -> str | None:
    """Who else writes to ``folder`` now ("process 123 on host"), or None when nobody does
    (no lock, or a stale one)."""
    return _holder(folder)[0]


def _holder(folder: Path) -> tuple[str | None, str | None]:
    """:func:`lock_holder`, and the folder a lock copied here was written for (else None)."""
    path = Path(folder) / LOCK_FILE
    try:
        info = json.loads(path.read_text("utf-8"))
        pid, host = int(info["pid"]), str(info["host"])
        started = info.get("started")  # (absent in locks of older versions)
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError, KeyError, TypeError):
        return None, None  # (a damaged lock protects nothing: taken over)
    copied = _copied_from(folder, info, host)
    return (None if copied else _live_holder(folder, pid, host, started)), copied


def _live_holder(folder: Path, pid: int, host: str, started: object) -> str | None:
    if host != socket.gethostname():
        return f"process {pid} on {host}"  # (cannot tell whether it still runs)
    if pid == os.getpid():
        return "another window of this program" if _key(folder) in _holders else None
    return f"process {pid}" if _alive(pid, started) else None


def stale_lock(folder: Path) -> str | None:
    """The writer of a lock left behind ("process 123"): it stopped without closing the
    project (killed, crashed, a power cut). None: no lock, a writer still running (or on
    another host), a lock of this process (a project of its own never closed), or an
    empty lock (never written: see :func:`claim_lock`)."""
    text = ""
    try:
        text = (Path(folder) / LOCK_FILE).read_text("utf-8")
        info = json.loads(text)
        pid, host = int(info["pid"]), str(info["host"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        # (an empty lock was never written: an older version's write failed on a full
        # disk, and it went on without it. Nothing to tell: its writer may well have
        # closed the project. Anything else is a lock cut short by a kill)
        return "a process" if text.strip() else None
    if host != socket.gethostname() or pid == os.getpid() or _alive(pid, info.get("started")):
        return None
    if _copied_from(folder, info, host):
        return None  # (its writer left another folder, not this copy: nothing to tell)
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
    :func:`lock_holder`), and when the lock cannot be written (logged): a writer without
    its lock would let another window write the folder too, once it can be written."""
    try:
        return claim_lock(folder, holder)
    except OSError as error:
        log.info("%s: the lock cannot be written (%s); not the writer", folder, error)
        return False


def claim_lock(folder: Path, holder: object) -> bool:
    """:func:`take_lock`, raising the OSError (a WriteError naming the lock) of a lock
    that cannot be written (a full disk, a read-only folder), so that the caller can
    tell why the project cannot be written.

    The lock is written whole or not at all (a temporary file, flushed, renamed): a
    failed write leaves no empty lock behind (read as a crash's at the next opening, and
    kept by the folder after closing), and keeps the lock it was to replace."""
    holder_now, copied = _holder(folder)
    if holder_now is not None:
        return False
    if copied:
        log.info("%s: its lock was copied from %s with the folder; taken over", folder, copied)
    atomic_write_json(Path(folder) / LOCK_FILE, _lock_info(folder))
    _holders[_key(folder)] = holder
    return True


def _lock_info(folder: Path) -> dict:
    """What the lock of ``folder`` written by this process records (module docstring)."""
    info = {"pid": os.getpid(), "host": socket.gethostname()}
    started = process_started(os.getpid())
    if started is not None:
        info["started"] = started
    identity = _identity(folder)
    if identity is not None:
        info["folder"], info["folder_id"] = _key(folder), list(identity)
    return info


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
        try:  # (the recorded path, for other hosts; atomic: a half lock would be taken over)
            atomic_write_json(Path(new) / LOCK_FILE, _lock_info(new), fsync=False)
        except OSError:
            pass  # (the identity recorded still says it is this folder, on this host)


def _key(folder: Path) -> str:
    return os.path.realpath(folder)


def _identity(folder: str | Path) -> tuple[int, int] | None:
    """The folder's (device, inode) numbers; None where unknown (gone, or a file system
    that gives no inode numbers)."""
    try:
        stat = os.stat(folder)
    except (OSError, ValueError):
        return None
    return (stat.st_dev, stat.st_ino) if stat.st_ino else None


def _copied_from(folder: Path, info: dict, host: str) -> str | None:
    """The folder a lock found in ``folder`` was written for, when that is another folder
    (the lock was copied here with it); None when it is this one, or cannot be told (a
    lock of an older version). The rule is the module docstring's."""
    recorded, written_for = info.get("folder"), info.get("folder_id")
    if (not isinstance(recorded, str) or not isinstance(written_for, list)
            or len(written_for) != 2 or not all(isinstance(n, int) for n in written_for)):
        return None
    here = _identity(folder)
    if here is None or here == tuple(written_for):
        return None
    if host == socket.gethostname():
        return recorded
    there = _identity(recorded)  # (the recorded path as this host sees it, if at all)
    if there is not None and there[1] == written_for[1] != here[1]:
        return recorded
    return None


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
