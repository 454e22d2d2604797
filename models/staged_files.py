"""The files of one folder replaced together: each written whole under a temporary name
first, then put in place in an order that never shows a mix of old and new files that
looks whole.

A model folder is the case: ``model.safetensors`` and ``config.json`` (which records the
weights' identity) belong together. Replaced one after the other, a process killed in
between would leave new weights under the old config and identity, a folder that loads and
is taken for the old model. So the key file (the config) is taken away before anything is
replaced and put back, new, last: a kill in between leaves a folder without one, which
every reader refuses, never a wrong one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .files import TEMP_PREFIX, _umask


def sync_folder(folder: Path) -> None:
    """Make the renames and removals in ``folder`` so far survive a power cut, in order.
    (Windows cannot open a folder for this: there the order is the file system's.)"""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


class StagedFiles:
    """Files written under temporary names in ``folder`` (``write``), then put in place
    together (``commit``), or removed (``discard``). Use as a context manager: what was
    not committed is discarded."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.temps: dict[str, Path] = {}  # final name -> temporary file holding it

    def __enter__(self) -> StagedFiles:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()

    def write(self, name: str, write: Callable[[Path], object]) -> Path:
        """``write(temp)`` to a new temporary file for ``name`` in the folder, synced to
        disk; returns the temporary file (to read back what was written, e.g. a hash)."""
        suffix = Path(name).suffix
        descriptor, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix,
                                                 dir=self.folder)
        os.close(descriptor)
        temp = Path(temp_name)
        self.temps[name] = temp
        write(temp)
        os.chmod(temp, 0o666 & ~_umask())  # (mkstemp's 0600: the mode a plain open gives)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        return temp

    def commit(self, key: str, *, drop: tuple[str, ...] = ()) -> None:
        """Put every written file in place, ``key`` last, and remove the files ``drop``
        names that were not written (an old file that belongs to what is replaced).

        The old ``key`` is moved aside first: until the new one is in place the folder has
        none. A failure before any file was replaced puts the old one back (the old files
        whole); after that it is removed, and the folder is left without ``key``."""
        old_key = self._move_aside(key)
        replaced = False
        try:
            for name, temp in self.temps.items():
                if name != key:
                    os.replace(temp, self.folder / name)
                    replaced = True
            for name in drop:
                if name not in self.temps:
                    with contextlib.suppress(FileNotFoundError):
                        (self.folder / name).unlink()
                        replaced = True
            sync_folder(self.folder)  # (all of it on disk before the new key is)
            os.replace(self.temps[key], self.folder / key)
        except BaseException:
            if old_key is not None and not replaced:
                with contextlib.suppress(OSError):
                    os.replace(old_key, self.folder / key)
                    old_key = None
            raise
        finally:
            if old_key is not None:  # (a key of old files, never beside new ones)
                with contextlib.suppress(OSError):
                    old_key.unlink()
        self.temps.clear()
        sync_folder(self.folder)

    def discard(self) -> None:
        for temp in self.temps.values():
            with contextlib.suppress(OSError):  # (a folder gone read-only: the first error tells)
                temp.unlink()
        self.temps.clear()

    def _move_aside(self, key: str) -> Path | None:
        """The old ``key`` renamed to a temporary name (swept as a killed writer's
        leftover), synced so that no replacement reaches the disk before it; None when
        there is none."""
        path = self.folder / key
        if not path.exists():
            return None
        descriptor, aside = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}old-",
                                             suffix=Path(key).suffix, dir=self.folder)
        os.close(descriptor)
        try:
            os.replace(path, aside)  # (over the empty file just made: a name no one else has)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(aside)
            raise
        sync_folder(self.folder)
        return Path(aside)
