"""The user's settings file, ``$UNET_STUDIO_HOME/settings.json``: the default model
(``model_library``), the Correct panel's keys (``app.qt.key_map``) and the undo history
limit per labels layer (``undo_history_mib``). A JSON object; a file that cannot be read
counts as empty (with a warning in the log), never as a crash."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)


def settings_path(home: Path) -> Path:
    return Path(home) / "settings.json"


def read_settings(home: Path) -> dict:
    """The settings in ``home`` ({} when there are none or they cannot be read)."""
    path = settings_path(home)
    try:
        settings = json.loads(path.read_text("utf-8"))
        return settings if isinstance(settings, dict) else {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable settings file %s: %s", path, error)
        return {}


# ---- undo history budget -------------------------------------------------------------------
# napari keeps 100 undo steps per Labels layer whatever their size: 100 whole-stack edits of
# a 15 MiB stack are ~2 GiB. 512 MiB still holds all 100 steps of a brush-and-merge session
# (steps of KB to a few MiB) and ~17 whole-stack relabels of such a stack, and is 1/16 of an
# 8 GiB laptop; on machines with little memory, 1/8 of it (most of the rest is the stack,
# its display copies and the predictions).
UNDO_HISTORY_KEY = "undo_history_mib"  # in settings.json: MiB per labels layer, or "unlimited"
UNDO_HISTORY_ENV = "UNET_STUDIO_UNDO_MIB"  # the same, overriding the settings file
DEFAULT_UNDO_HISTORY_MIB = 512


def undo_history_bytes(home: Path, environ: Mapping[str, str] | None = None) -> int | None:
    """Bytes of undo history each labels layer may keep (None: no limit but napari's count).

    ``$UNET_STUDIO_UNDO_MIB``, else ``undo_history_mib`` in the settings, else the default;
    a value that is not a positive number or "unlimited" is ignored with a warning.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(UNDO_HISTORY_ENV) or read_settings(home).get(UNDO_HISTORY_KEY)
    if raw is None:
        return default_undo_history_bytes()
    if str(raw).strip().lower() == "unlimited":
        return None
    try:
        mib = float(raw)
    except (TypeError, ValueError):
        mib = float("nan")
    if not mib > 0 or mib == float("inf"):
        log.warning("ignoring undo history limit %r: give a number of MiB above 0, or "
                    '"unlimited"', raw)  # fmt: skip
        return default_undo_history_bytes()
    return int(mib * 2**20)


def default_undo_history_bytes() -> int:
    """512 MiB, or 1/8 of the physical memory where that is less (when it can be known)."""
    budget = DEFAULT_UNDO_HISTORY_MIB * 2**20
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return budget
    return min(budget, physical // 8) if physical > 0 else budget
