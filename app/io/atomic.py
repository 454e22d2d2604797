"""Never leave half-written outputs: write to a temporary sibling, then rename into place.

A temporary sibling's name carries its writer's process id, so that what a killed writer
left (a hidden ``.part`` file or folder beside the output, tens of MB for a stack) is swept
by the next write of that output, once no process of that id runs; so is the old output a
writer killed while replacing a folder had renamed aside (``.old``): put back when the new
one never took its place, else removed. An output name too long
to fit in a temporary name whole is cut and given a hash (``bounded_name``): any name the
file system accepts for the output can be written.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from unet_studio.app.errors import InputFileError
from unet_studio.app.processes import process_runs
from unet_studio.models.files import bounded_name

log = logging.getLogger(__name__)


def temporary_sibling(path: Path, suffix: str = "part") -> Path:
    """A hidden, unique name in ``path``'s folder (same file system, so renaming is atomic),
    naming this process; the ``.part`` siblings of ``path`` that killed writers left are
    removed first (:func:`sweep_abandoned`)."""
    sweep_abandoned(path)
    return path.with_name(f".{bounded_name(path.name)}.p{os.getpid()}.{uuid.uuid4().hex[:10]}.{suffix}")


def sweep_abandoned(path: Path) -> int:
    """Remove the ``.part`` siblings of ``path`` whose writer process no longer runs; how
    many. A sibling of a running process (this one's other writes, another program's) is
    kept, and so is one of a name without a process id (an older version's: its writer
    cannot be told).

    An ``.old`` sibling of a dead writer is the previous output it had renamed aside in
    :func:`commit`: killed before the new one took the name, the user's previous output is
    put back (:func:`put_back_abandoned`; better than none, should this write fail too);
    killed after, it is removed.
    """
    put_back_abandoned(path)
    missing = not os.path.lexists(path)
    swept = 0
    for sibling, kind in abandoned_siblings(path):
        if kind == "old" and missing:
            continue  # (could not be put back: the only copy of the user's output, kept)
        remove_quietly(sibling)
        swept += 1
    return swept


def put_back_abandoned(path: Path) -> Path | None:
    """When ``path`` is missing because a writer was killed between the two renames of
    :func:`commit`, rename the previous output it had set aside (its ``.old`` sibling) back
    to ``path``; the sibling it was, None when there was none or it could not be renamed.

    Called by every write of ``path`` (the sweep) and by opening it (``validate``): an
    output that is only opened, or whose next write is refused early, is found again."""
    if os.path.lexists(path):
        return None
    for sibling, kind in abandoned_siblings(path):
        if kind != "old":
            continue
        try:
            os.rename(sibling, path)  # (the user's previous output, under its name again)
        except OSError:
            continue  # (the write, or the "does not exist" naming the sibling, says more)
        log.info("%s: put back the previous output, set aside as %s by a write that was "
                 "killed while replacing it", path, sibling.name)
        return sibling
    return None


def abandoned_siblings(path: Path) -> list[tuple[Path, str]]:
    """The hidden siblings of ``path`` that a writer process which no longer runs left,
    each with its kind: "part" (a half-written new output) or "old" (the previous output,
    renamed aside by :func:`commit`). Sorted by name; empty when the folder cannot be read."""
    pattern = re.compile(rf"^\.{re.escape(bounded_name(path.name))}\.p(\d+)\.[0-9a-f]+\.(part|old)$")
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError:
        return []  # (the write or the opening itself will say what is wrong with the folder)
    found = [(sibling, pattern.match(sibling.name)) for sibling in siblings]
    return [(sibling, match.group(2)) for sibling, match in found
            if match and not process_runs(int(match.group(1)))]


def remove_quietly(path: Path) -> None:
    """Remove a file or folder if it exists (clean-up after a failure). Quiet: a folder that
    cannot be written (the failure being cleaned up after) must not hide the first error."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def commit(temporary: Path, path: Path) -> Path:
    """Move ``temporary`` to ``path``, replacing what was there.

    Files are replaced atomically by ``os.replace``. A folder (Zarr) cannot replace a non-empty
    folder in one step, so the old one is first renamed aside and removed afterwards.
    """
    if temporary.is_dir() and path.exists():
        aside = temporary_sibling(path, "old")  # (a kill before the next line: put back by the sweep)
        os.replace(path, aside)
        os.replace(temporary, path)
        remove_quietly(aside)
    else:
        os.replace(temporary, path)
    return path


def refuse_overwriting_source(path: Path, source: str | Path | None) -> None:
    """InputFileError when ``path`` is (or lies inside) the input image ``source``."""
    if source is None:
        return
    source = Path(source)
    target = path.resolve()
    original = source.resolve()
    same = target == original or (path.exists() and source.exists() and os.path.samefile(path, source))
    if same or original in target.parents:
        raise InputFileError(path, "is the input image; choose another output name")


def ensure_parent_folder(path: Path) -> None:
    """Create the output's folder if needed; InputFileError when that is impossible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputFileError(path, f"cannot be written ({error.strerror or error})") from error


class _Stopped(Exception):
    """Raised by ``check()`` in the worker of :func:`run_interruptibly` to end its work."""


def run_interruptibly(work: Callable[[Callable[[], None]], None]) -> None:
    """Run ``work(check)`` in a worker thread while this one waits; ``check()``, which
    ``work`` calls between two steps, raises once this thread has been interrupted (Ctrl-C,
    SIGTERM, any exception), and the interruption goes on only when the worker has stopped.

    Why: Zarr writes chunks from its own I/O thread, which an exception in the calling
    thread does not stop. Removing the temporary folder while a chunk is in flight could
    see it created again, half-written, after the removal. Stopping between steps leaves
    nothing in flight. The worker's own errors are raised here, as if the work ran here.
    """
    interrupted, finished = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def check() -> None:
        if interrupted.is_set():
            raise _Stopped

    def run() -> None:
        try:
            work(check)
        except BaseException as error:  # handed to the waiting thread
            errors.append(error)
        finally:
            finished.set()

    # Waited for with an Event, not Thread.join: a KeyboardInterrupt inside join() can mark
    # a running thread as ended (CPython 3.11), and the wait after it would not wait.
    threading.Thread(target=run, name="unet-studio-write", daemon=True).start()
    try:
        while not finished.wait(0.05):  # (short waits: signal handlers run in between)
            pass
    except BaseException:
        interrupted.set()
        finished.wait()
        raise
    if errors and not isinstance(errors[0], _Stopped):
        raise errors[0]
