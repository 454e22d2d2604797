"""Which versions of each project file this build reads, and the check that refuses a
project holding a file written by a newer unet-studio before anything is written into it.

Every project file that has a header names its ``format`` and its ``format_version``:

=================================  ======================  =======  ======================
file                               format                  version  what the version says
=================================  ======================  =======  ======================
``project.json``                   unet-studio-project     1
``images/<id>/labels/array.json``  unet-studio-chunks      1        (``chunk_store``; the
``images/<id>/prediction/...``                                      prediction's too)
``images/<id>/reviewed.npz``       unet-studio-reviewed    2        1: each mask whole,
                                   (its ``format`` and                bit-packed under its
                                   ``format_version``                 own name (``reviewed``,
                                   members)                           ``changed``); 2: only
                                                                      the marked blocks
                                                                      (``reviewed_blocks``,
                                                                      ``reviewed_bits``...,
                                                                      see ``reviewed_file``)
=================================  ======================  =======  ======================

The blocks form of ``reviewed.npz`` is version 2 because a reader of the whole masks reads
it as two empty masks (and a build that did so saved those over it: the reviewed marks were
lost). Blocks files written before the version was saved carry none; a reader tells the
two forms apart by their members, the version says which forms a reader must know.

``history.jsonl`` has no header: each line is an entry of its own, read one by one (a line
that is no JSON object is skipped), so a header line would show as an entry to every earlier
build. An entry of a newer build is read as any other; a change of the history that earlier
builds could not read must raise the version of ``project.json``.

A file without ``format_version`` is version 1 (written before versions were saved). A
version above what this build reads (or one that is no whole number from 1) refuses the
project as it opens: opening it read-only would still write its lock, history entries,
autosaves and axis migrations, each able to destroy what the newer build saved.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_studio.app.errors import InputFileError


@dataclass(frozen=True)
class FileFormat:
    """A file's ``format`` name and ``version``: the newest version this build reads, and
    the one it writes."""

    name: str
    version: int


PROJECT = FileFormat("unet-studio-project", 1)
CHUNKS = FileFormat("unet-studio-chunks", 1)
REVIEWED = FileFormat("unet-studio-reviewed", 2)

IMAGE_STORES = ("labels", "prediction")  # the chunk stores of ``images/<id>/``
STORE_MANIFEST = "array.json"
REVIEWED_FILE = "reviewed.npz"
_IMAGE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")  # (as ``ImageRef`` checks its id)


class NewerFormatError(InputFileError, ValueError):
    """A file written by a newer unet-studio (a ValueError too: the readers of a damaged
    file catch that, and must not write over this one either)."""


def version_problem(header: dict, file_format: FileFormat) -> str | None:
    """Why this build cannot read a file whose header is ``header`` (its version), or None."""
    version = header.get("format_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or not (
            1 <= version <= file_format.version):
        # (the point first, in a user's words; the versions for a bug report)
        return (f"was saved by a newer unet-studio: update unet-studio to open this project "
                f"(format_version {version!r}; this version reads 1 to {file_format.version})")
    return None


def check_version(path: Path, header: dict, file_format: FileFormat) -> None:
    """NewerFormatError naming ``path`` when its ``header``'s version is not read here."""
    problem = version_problem(header, file_format)
    if problem is not None:
        raise NewerFormatError(path, problem)


def check_project_files(folder: Path, meta: dict) -> None:
    """NewerFormatError naming the first file of the project in ``folder`` (``meta``: its
    ``project.json``) that a newer unet-studio wrote. Only versions are checked: a file
    missing or damaged is for its reader to tell (and set aside)."""
    folder = Path(folder)
    check_version(folder / "project.json", meta, PROJECT)
    entries = meta.get("images")
    for entry in entries if isinstance(entries, list) else ():
        image_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(image_id, str) or not _IMAGE_ID.fullmatch(image_id):
            continue  # (refused by ``image_refs`` with its own message)
        image_dir = folder / "images" / image_id
        for store in IMAGE_STORES:
            path = image_dir / store / STORE_MANIFEST
            check_version(path, _json_header(path), CHUNKS)
        path = image_dir / REVIEWED_FILE
        check_version(path, reviewed_header(path), REVIEWED)


def reviewed_header(path: Path) -> dict:
    """``format`` and ``format_version`` of a ``reviewed.npz`` (no mask is read); {} when
    there is none or it cannot be read."""
    header = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for name in ("format", "format_version"):
                if name in data.files and data[name].ndim == 0:
                    header[name] = data[name].item()
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError,
            zipfile.BadZipFile):  # (a plain .npy, an empty file...: damage, told by its reader)
        return {}
    return header


def _json_header(path: Path) -> dict:
    """The JSON object in ``path``; {} when there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
