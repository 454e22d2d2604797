"""Atomic file writes: a temp file in the same folder, flushed, then ``os.replace``.

A reader therefore sees the old file or the new one, never a half-written one, even when the
process is killed mid-write. Temp names start with ``.tmp-`` so that a store can sweep
leftovers from a killed writer (:func:`remove_stale_temps`). Nothing here pickles.

A failed write raises :class:`WriteError`, naming the file the user knows, never the temp
file: the temp's random name told nothing, and made a failure retried by autosave look new
each time (it was told again at every retry).
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from unet_studio.app.errors import InputFileError, UserError
from unet_studio.models import files
from unet_studio.models.files import TEMP_PREFIX, remove_stale_temps

__all__ = ["TEMP_PREFIX", "WriteError", "atomic_write_bytes", "atomic_write_json",
           "atomic_writing", "check_folder_writable", "load_npz", "naming_output", "npz_bytes",
           "refuse_unsafe_output", "remove_stale_temps", "short_write", "with_filename"]


class WriteError(UserError, OSError):
    """An output (a file, or a folder written whole) could not be written: "cannot write
    m.csv in /x/y: Read-only file system". An OSError still (``errno``, ``strerror``, and
    ``filename``: the output's path), and a UserError: a full disk or a read-only folder is
    the user's situation, told in one line, not a bug's traceback."""

    def __str__(self) -> str:
        path = Path(self.filename)
        return f"cannot write {path.name} in {path.parent}: {self.strerror}"


def naming_output(error: OSError, path: str | Path, temp: str | Path | None = None) -> OSError:
    """``error`` as a :class:`WriteError` naming ``path`` when it is about writing ``path``:
    it names no file (a full disk fails a ``write()``; a write cut short, :func:`short_write`,
    is a full disk too), or names ``temp`` or a file in it
    (a folder written whole), a ``.tmp-`` file beside ``path``, or ``path`` itself. An
    error about another file (an input read on the way) is returned unchanged."""
    if isinstance(error, WriteError):
        return error
    if short_write(error):
        return WriteError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    if error.errno is None:
        return error
    path = Path(path)
    if error.filename is not None:
        named = Path(os.fsdecode(error.filename))
        ours = (named == path or (temp is not None and Path(temp) in (named, *named.parents))
                or (named.parent == path.parent and named.name.startswith(TEMP_PREFIX)))
        if not ours:
            return error
    return WriteError(error.errno, error.strerror or str(error), str(path))


# numpy's ``tofile`` (tifffile's uncompressed TIFFs, its large pages) tells a write cut
# short by "262144 requested and 1920 written", an OSError without errno.
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def short_write(error: OSError) -> bool:
    """Is ``error`` a write cut short? The disk filled up (or a quota was used up) under it:
    the C library's ``fwrite`` stops short there, and numpy tells the counts, not why."""
    return error.errno is None and _SHORT_WRITE.fullmatch(str(error)) is not None


def replace_problem(path: str | Path, *, folder_ok: bool = False) -> str | None:
    """Why renaming a new file over ``path`` would do harm (None when it would not).

    ``os.replace`` swaps whatever has the name: a named pipe or a device node (``-o
    /dev/null``) would be destroyed, a symbolic link replaced instead of the file it points
    to, and a folder cannot be replaced by a file at all. ``lstat`` looks at the name itself,
    not at what a link points to.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "is a symbolic link; give the file it points to, or another name"
    if stat.S_ISDIR(mode):
        return None if folder_ok else "is a folder, not a file; give a file name"
    return "is not a regular file (a pipe, device or socket); give a file name"


def refuse_unsafe_output(path: str | Path, *, inputs: Iterable[str | Path] = (),
                         folder_ok: bool = False) -> None:
    """InputFileError when writing ``path`` would harm something: see :func:`replace_problem`,
    and an output that is one of ``inputs`` (the data being read would be replaced)."""
    problem = replace_problem(path, folder_ok=folder_ok)
    if problem is None and any(_same_file(path, source) for source in inputs):
        problem = "is an input of this command; choose another output name"
    if problem:
        raise InputFileError(path, problem)


def _same_file(path: str | Path, other: str | Path) -> bool:
    # samefile also sees hard links and other spellings of one path; both must exist.
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def check_folder_writable(folder: str | Path) -> None:
    """InputFileError unless files can be created in ``folder`` (or, when it does not exist
    yet, in the nearest folder above it, where it would be created).

    Why a real file and not ``os.access``: access() does not see every reason a write fails
    (read-only mounts seen through some file systems, ACLs, root on NFS), a file does. Run
    before long work, so that hours of training are not lost to an unwritable output.
    """
    folder = Path(folder)
    existing = next((p for p in (folder, *folder.parents) if os.path.lexists(p)), Path("."))
    if not existing.is_dir():
        raise InputFileError(existing, "is a file, not a folder; choose another output folder")
    try:
        with tempfile.TemporaryFile(prefix=TEMP_PREFIX, dir=existing):
            pass
    except OSError as error:
        raise InputFileError(existing, f"cannot write in this folder "
                                       f"({(error.strerror or str(error)).lower()})") from None


def with_filename(error: OSError, path: str | Path) -> OSError:
    """``error`` naming ``path`` when it names no file: a full disk fails a ``write()``, and
    "[Errno 28] No space left on device" alone does not tell the user which file (or which
    disk) it was. Same class (ENOSPC stays OSError, EACCES PermissionError)."""
    if short_write(error):  # (told as the full disk it is, see :func:`short_write`)
        named = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        named.__cause__ = error
        return named
    if error.filename is not None or error.errno is None:
        return error
    named = OSError(error.errno, error.strerror or str(error), str(path))
    named.__cause__ = error
    return named


@contextmanager
def atomic_writing(path: str | Path, *, fsync: bool = True) -> Iterator[Path]:
    """:func:`unet_studio.models.files.atomic_writing`, refusing first to replace anything
    but a regular file (see :func:`replace_problem`); its errors about the file written
    are :class:`WriteError` naming ``path``."""
    refuse_unsafe_output(path)
    temp = None
    try:
        with files.atomic_writing(path, fsync=fsync) as temp:
            yield temp
    except OSError as error:
        named = naming_output(error, path, temp)
        if named is error:
            raise
        raise named from error  # (the temp's name stays in a traceback, for a bug report)


def atomic_write_bytes(path: str | Path, data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (never over a pipe, device, link or folder);
    an error is a :class:`WriteError` naming ``path``."""
    refuse_unsafe_output(path)
    try:
        return files.atomic_write_bytes(path, data, fsync=fsync)
    except OSError as error:
        named = naming_output(error, path)
        if named is error:
            raise
        raise named from error

def atomic_write_json(path: str | Path, obj, *, fsync: bool = True) -> Path:
    """Write ``obj`` as indented UTF-8 JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync)


def npz_bytes(arrays: dict[str, np.ndarray], *, compress: bool = True) -> bytes:
    """The bytes of an ``.npz`` holding ``arrays`` (no object arrays: loading never pickles)."""
    buffer = io.BytesIO()
    for name, array in arrays.items():
        if np.asarray(array).dtype.hasobject:
            raise TypeError(f"array {name!r} has object dtype; refusing to write a pickle")
    (np.savez_compressed if compress else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, read eagerly, never unpickling."""
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}
