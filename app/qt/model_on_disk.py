"""The current model's folder, as it was when the model became current: another program may
replace it (``finetune -o FOLDER --overwrite``, a copy over it) or remove it while a window
uses it. Run loads the weights from the folder, so a window that kept the model read before
ran the new weights under the old name, card and identity without a word ("labA: 0 objects"
where it found 1), and its project recorded the old identity for them.

``LibraryWatch`` watches the folder (``watched_paths``) and calls :meth:`CurrentModelOnDisk.
check` when something changed there: a new identity (``model_identity``) is read again and
made current, once, and told; a folder gone falls back to the default model, as a window
does whose project's model is missing."""

from __future__ import annotations

import logging
from pathlib import Path

from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.model_folder import CONFIG_FILE
from unet_studio.app.model_identity import identity_of

log = logging.getLogger(__name__)

OWN_FOLDER_SOURCES = ("user", "project", "folder")  # (bundled models ship read-only)


def own_folder(info) -> Path | None:
    """The folder of ``info`` that other programs may change (None: a bundled model, or none)."""
    if info is None or getattr(info, "source", None) not in OWN_FOLDER_SOURCES:
        return None
    return Path(info.path)


def _config_stamp(folder: Path) -> tuple | None:
    """What changes when ``config.json`` is written or replaced (None: there is none)."""
    try:
        stat = (folder / CONFIG_FILE).stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class CurrentModelOnDisk:
    """The identity of the session's current model when it became current, and what became
    of its folder since. GUI thread only."""

    def __init__(self, session):
        self.session = session
        self._path: Path | None = None  # the folder remembered, None: nothing to follow
        self._identity: str | None = None
        self._stamp: tuple | None = None

    def watched_paths(self) -> list[Path]:
        """The current model's folder and its config (a config written in place changes no
        entry of the folder)."""
        folder = own_folder(self.session.model)
        if folder is None or not folder.is_dir():
            return []
        config = folder / CONFIG_FILE
        return [folder, config] if config.is_file() else [folder]

    def remember(self) -> None:
        """The current model as it is now is the one chosen (call when it became current)."""
        info = self.session.model
        folder = own_folder(info)
        self._path = folder
        self._identity = None if folder is None else identity_of(info)
        self._stamp = None if folder is None else _config_stamp(folder)

    def check(self) -> None:
        """Something changed in the current model's folder, or near it: a model replaced is
        read again and made current, a model removed gives way to the default; either is
        told once."""
        info = self.session.model
        folder = own_folder(info)
        if folder != self._path:  # (renamed in this process: followed, the same model)
            self.remember()
            return
        if folder is None:
            return
        stamp = _config_stamp(folder)
        if stamp == self._stamp:
            return
        if stamp is None:
            # (no config while the folder is there: one being saved over, config last)
            if not folder.exists():
                self._removed(info)
            return
        self._stamp = stamp
        try:
            now = self.session.library.get(str(folder) if info.source == "folder" else info.ref)
        except (UserError, InputFileError) as error:  # (a config left invalid: Run will say)
            log.info("current model %s changed and cannot be read: %s", folder, error)
            return
        if now.path == folder and identity_of(now) != self._identity:
            self._replaced(info, now)

    def _replaced(self, old, new) -> None:
        # The project records the new identity (``set_model`` > ``_record_model``): its
        # labels from now on are made by these weights, and a project keeping the old one
        # would, reopened, find "a different model has that name here" and leave the very
        # model it was last used with.
        self.session.set_model(new)
        self.session.host.notify(
            f"{old.name} was replaced on disk by another program: Run uses its new weights "
            "from now on", "warning")

    def _removed(self, old) -> None:
        """Its folder is gone: as for a project whose model is missing, the window goes on
        with the default model (said), rather than fail at the next Run with "no model"."""
        self._path = None
        default = self.session.library.default()
        if default is None:  # (no bundled model either: nothing to fall back to)
            self.session.host.notify(f"{old.name} was removed from disk by another program; "
                                     "choose another model", "warning")
            return
        self.session.set_model(default)
        self.session.host.notify(f"{old.name} was removed from disk by another program: "
                                 f"now using {default.name}", "warning")
