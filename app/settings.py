"""The user's settings file, ``$UNET_STUDIO_HOME/settings.json``: the default model
(``model_library``) and the Correct panel's keys (``app.qt.key_map``). A JSON object; a file
that cannot be read counts as empty (with a warning in the log), never as a crash."""

from __future__ import annotations

import json
import logging
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
