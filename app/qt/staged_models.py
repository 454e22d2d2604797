"""The models of the project open, copied for the project saved elsewhere
(``session_save_elsewhere``) in a worker thread, before that project exists.

Why a worker: the project's ``models/`` holds one folder per round, a ResNet-50 U-Net's
weights 122 MB and a ResNet-152's 261 MB, often read from a shared drive (for a project
whose folder cannot be written). Copied on the GUI thread, 3 ResNet-50 rounds froze the
window for 0.3-0.5 s from a local disk, and for seconds from a network share (100 MB/s:
~4 s), with no word of what it was doing.

Why staged: the copies go into a hidden folder beside the new project's folder (a
``.part`` sibling naming this process, swept by the next save into that folder once this
process is gone: ``app.io.atomic``), and the new project is made only when every copy is
whole; its model folders are then renamed into its ``models/`` (same file system: an
instant). A window closed or a program killed during the copy leaves no project there
that would open as complete with its models missing.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.io.atomic import remove_quietly

log = logging.getLogger(__name__)

CHUNK_BYTES = 8 << 20  # (a step between two cancels and progress reports: ~0.1 s on a share)


@dataclass
class StagedModels:
    """The model folders of ``source`` (the project left's ``models/``) copied whole into
    ``staging``, by folder name (``names``); ``problems``: the folders that could not be
    read, left where they are (named by their old paths, as before)."""

    source: Path
    staging: Path
    names: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def discard(self) -> None:
        remove_quietly(self.staging)


def model_folders(models_dir: Path) -> list[Path]:
    """The model folders a new project takes from ``models_dir`` (a folder's name starting
    with "." is a model being written when the project closed: never whole)."""
    try:
        return sorted(folder for folder in models_dir.iterdir()
                      if not folder.name.startswith(".") and folder.is_dir())  # fmt: skip
    except OSError:
        return []


def iter_stage_models(models_dir: Path, folder: Path,
                      staging: Path) -> Generator[tuple[int, int], None, StagedModels]:
    """Copy the model folders of ``models_dir`` into ``staging`` (made by the caller, on the
    file system of the new project's ``folder``), yielding (bytes copied, bytes in all)
    between chunks; returns the :class:`StagedModels`. A folder that cannot be read is a
    problem and stays out; a copy that cannot be written (a full disk) stops it all with a
    UserError naming ``folder``. Staging is removed when it fails or is cancelled."""
    staged = StagedModels(models_dir, staging)
    try:
        sources = {source: _files_of(source) for source in model_folders(models_dir)}
        total = sum(size for files in sources.values() for _, size in files)
        done = 0
        yield done, total
        for source, files in sources.items():
            target = staging / source.name
            try:
                for path, _ in files:
                    for copied in _iter_copy_file(path, target / path.relative_to(source)):
                        done += copied
                        yield done, total
            except _ReadError as error:
                remove_quietly(target)
                staged.problems.append(f"The model {source.name} was not copied into the new "
                                       f"project ({error.__cause__}); it stays in {models_dir}.")
                continue
            except OSError as error:
                raise UserError(not_saved_text(folder, error, source.name)) from error
            staged.names.append(source.name)
        return staged
    except BaseException:  # (a failure, or the worker cancelled: the window is closing)
        staged.discard()
        raise


def not_saved_text(folder: Path, error: OSError, model: str) -> str:
    """Why the project was not saved in ``folder``, and that nothing changed."""
    why = (error.strerror or str(error)).lower()
    return (f"The project was not saved in {folder}: {why} (copying its model {model}). "
            "The project open stays as it was: free some space there, or save it in "
            "another folder.")


class _ReadError(Exception):
    """A model's file could not be read (the share's, not the new folder's failure)."""


def _files_of(source: Path) -> list[tuple[Path, int]]:
    """(file, size) of every file under ``source`` (a copy takes the folder whole);
    [] when it cannot be listed (then told as a folder not copied)."""
    try:
        return [(path, path.stat().st_size) for path in sorted(source.rglob("*")) if path.is_file()]
    except OSError as error:
        log.warning("model folder %s cannot be listed: %s", source, error)
        return []


def _iter_copy_file(source: Path, target: Path) -> Generator[int, None, None]:
    """Copy one file, yielding the bytes copied by each chunk (by the kernel's sendfile on
    Linux, as ``shutil.copyfile`` does, a chunk at a time); its times and mode follow."""
    try:
        reader = open(source, "rb")  # noqa: SIM115 (closed below, around the yields)
    except OSError as error:
        raise _ReadError from error
    with reader:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as writer:
            if sys.platform.startswith("linux"):
                copy = _sendfile_chunk
            else:
                copy = _buffered_chunk
            while copied := copy(reader, writer):
                yield copied
    shutil.copystat(source, target)


def _sendfile_chunk(reader, writer) -> int:
    return os.sendfile(writer.fileno(), reader.fileno(), None, CHUNK_BYTES)


def _buffered_chunk(reader, writer) -> int:
    data = reader.read(CHUNK_BYTES)
    writer.write(data)
    return len(data)
