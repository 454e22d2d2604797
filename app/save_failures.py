"""The words for saves that keep failing (a full disk, a folder that became read-only or
was deleted), as a microscopist reads them: since when nothing was saved, why in a few
words, which images' changes are at stake, and what saving or discarding does now.

The failures themselves (``ProjectJobs.failing``: the job's key -> a sentence naming the
file) name internal files (``labels/journal/0.0.0.npy.zst``) and say "saving is retried":
true while the window is open, not in the question asked as it closes. These texts name
the images instead, and say what is true at the time they are read.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Hashable, Mapping
from pathlib import Path

from unet_studio.app.project_jobs import WHAT

# (a failure's sentence holds the error's strerror: the first one found here names it)
REASONS = ((errno.ENOSPC, "the disk is full"), (errno.EDQUOT, "the disk quota is used up"),
           (errno.EROFS, "the disk became read-only"),
           (errno.EACCES, "the project folder may not be written"),
           (errno.EPERM, "the project folder may not be written"))  # fmt: skip
FOLDER_GONE = "the project folder was moved or deleted"
UNKNOWN = "saving fails"
PROJECT_WIDE = {key: WHAT[key] for key in ("project.json", "history")}  # (the project's own files)
IMAGE_KINDS = ("labels", "prediction", "reviewed")  # the keys (kind, image id) of an image


def short_reason(failing: Mapping[Hashable, str], gone_key: Hashable = "folder") -> str:
    """Why the saves in ``failing`` (key -> sentence) fail, in a few words."""
    if gone_key in failing:
        return FOLDER_GONE
    for code, words in REASONS:
        if any(os.strerror(code) in text for text in failing.values()):
            return words
    return UNKNOWN


def clock(since: float, now: float | None = None) -> str:
    """"14:02" today, "2026-12-07 14:02" another day (a window left open overnight)."""
    then, today = time.localtime(since), time.localtime(time.time() if now is None else now)
    same_day = then[:3] == today[:3]
    return time.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M", then)


def failing_note(since: float, reason: str) -> str:
    """The project line's note while saves fail."""
    return (f"Not saved since {clock(since)}: {reason} — your work is kept in memory and "
            "saved when it can be.")


def saved_again_text(path: Path) -> str:
    return f"Saved again: all your corrections are on disk in {path}."


def unsaved_things(keys: list[Hashable], names: Mapping[str, str]) -> list[str]:
    """What the failing ``keys`` hold, for the user: each image once (by its name in
    ``names``: id -> name), then the project's own files; never a file path."""
    images, others = [], []
    for key in keys:
        if isinstance(key, tuple) and len(key) == 2 and key[0] in IMAGE_KINDS:
            image = f"\u201c{names.get(key[1], key[1])}\u201d"
            if image not in images:
                images.append(image)
        elif key in PROJECT_WIDE and PROJECT_WIDE[key] not in others:
            others.append(PROJECT_WIDE[key])
    return images + others


def joined(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return " and ".join(filter(None, [", ".join(items[:-1]), items[-1]])) if items else ""


def close_text(path: Path, since: float, reason: str, things: list[str]) -> str:
    """The close question's sentence while saves fail: what is not saved, since when, and
    what Save and Discard do now (the window's retries end with it)."""
    at = clock(since)
    what = f" to {joined(things)}" if things else ""
    return (f"The project {path} has not been saved since {at}: {reason}. Your changes "
            f"since then{what} are kept in memory only. Save tries to write them again now "
            "(free some space first: if it still fails, the window stays open); Discard "
            f"closes the window and loses the changes made since {at}.")
