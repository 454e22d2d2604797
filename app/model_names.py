"""What a model may be called: the rules for a name the user types (Rename) and the names a
copy gets (Duplicate). A model's name is shown in every list and kept in its ``config.json``;
its folder is the name made safe (:func:`model_folder_name`), so the two stay recognisable.
A user model's earlier names lead to it (:func:`note_rename`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from unet_studio.app.errors import UserError

MAX_NAME_LENGTH = 100
# Characters no folder may hold on Windows; ":" would also read as "<source>:<name>".
FORBIDDEN = '<>:"|?*'


def model_folder_name(name: str) -> str:
    """A model's name as a folder name the library lists: letters, digits, "-_." only, and
    no leading dot (a hidden folder is never listed; ".." is no folder of its own)."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.") or "model"


def check_model_name(name: str) -> str:
    """The name without surrounding blanks; UserError saying what is wrong with it. A name
    is refused rather than silently changed where it could not be a folder name anywhere
    (a path separator would move the model elsewhere, not rename it)."""
    text = name.strip()
    if not text:
        raise UserError("a model name cannot be empty")
    if "/" in text or "\\" in text:
        raise UserError(f"the model name {text!r} contains a path separator (/ or \\); "
                        "a name is not a path")
    bad = sorted({c for c in text if c in FORBIDDEN or not c.isprintable()})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise UserError(f"the model name {text!r} contains {shown}, not allowed in a name "
                        f"(nor any of {FORBIDDEN})")
    if not text.strip("."):
        raise UserError(f"{text!r} is not a model name; use letters or digits")
    if len(text) > MAX_NAME_LENGTH:
        raise UserError(f"the model name is {len(text)} characters long; "
                        f"use at most {MAX_NAME_LENGTH}")
    return text


def copy_name(name: str, root: Path, taken: Callable[[str], bool]) -> str:
    """The first of "<name> copy", "<name> copy 2", ... that no model of ``root`` is called
    (``taken(name)``) and whose folder in ``root`` does not exist yet."""
    n = 1
    while True:
        candidate = f"{name} copy" if n == 1 else f"{name} copy {n}"
        if not taken(candidate) and not (root / model_folder_name(candidate)).exists():
            return candidate
        n += 1


def note_rename(renamed: dict, old, new) -> dict:
    """The map of renamed user models after ``old`` became ``new``: ``old``'s ref and folder
    lead to ``new``'s ref. User models are shared by every project, and a project closed
    during the rename still names the model by its old ref or folder (its current model,
    its history, the lineage of its own models): they find it through this map. What led
    to ``old`` leads to ``new`` (no chains); ``new``'s own names are in use again, so they
    lead nowhere else."""
    renamed = {key: (new.ref if value == old.ref else value) for key, value in renamed.items()
               if key not in (new.ref, str(new.path))}
    renamed[old.ref] = renamed[str(old.path)] = new.ref
    return renamed


def rename_keys(text: str) -> list[str]:
    """The keys of :func:`note_rename`'s map that may lead from ``text`` (a ref, a folder
    path or a bare name) to a renamed model: ``text``, and for a bare name the user ref it
    stands for ("nuclei" is "user:nuclei" wherever no project model has that name). The
    map holds refs and folders only, while the command line's ``--model nuclei`` means the
    same model as ``--model user:nuclei``: after a rename both must find it."""
    bare = not any(mark in text for mark in (":", "/", os.sep))
    return [text, f"user:{text}"] if bare and text else [text]


def first_free_folder(parent: Path, base: str) -> Path:
    """``parent / base``, or the first of ``base-2``, ``base-3``... not taken yet: two rounds
    saved within one second get the same dated name."""
    candidate, n = parent / base, 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{base}-{n}"
    return candidate
