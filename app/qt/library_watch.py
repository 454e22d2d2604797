"""Notice models added to or removed from the library folders by someone else: the command
line (``finetune -o``, a copy by hand), another window of this process, another process.
The lists of models were refilled only after an action of this window (Use, Import, a
project opened), so a model just made from a terminal was not offered.

The user models folder and the project's models folder are watched (their own entries: a
model folder made, renamed or deleted), and each folder there until it holds a model (a big
model is saved in seconds, its config last); the user folder's parent while it does not
exist yet (the first model saved there makes it). Changes are gathered for a moment, then
``session.models_listed`` is emitted once: every list of the window refills."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import QFileSystemWatcher, QObject, QTimer

from unet_studio.app.model_folder import CONFIG_FILE

SETTLE_MS = 300  # a copy makes and renames a temp folder: one refill for all of it


class LibraryWatch(QObject):
    """Watches ``session.library``'s user and project folders for the life of ``parent``."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self._watcher = QFileSystemWatcher(self)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._watcher.directoryChanged.connect(lambda _path: self._settle.start())
        self._settle.timeout.connect(self._changed)
        self.follow()

    def follow(self) -> None:
        """Watch the folders the library lists now (the project's changes with the
        project: call it after the project changed)."""
        wanted = {str(folder) for folder in self._folders()}
        watched = set(self._watcher.directories())
        if watched - wanted:
            self._watcher.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self._watcher.addPaths(sorted(wanted - watched))

    def _folders(self) -> list[Path]:
        folders = self.session.library.folders
        user, project = folders.get("user"), folders.get("project")
        models = [folder for folder in (user, project) if folder is not None and folder.is_dir()]
        # The user folder's parent holds the settings alone, while the project's holds its
        # autosaves (watched, every save refilled the lists): the project's models folder is
        # made by a Train round, which refills them anyway.
        made_later = [user.parent] if user is not None and not user.is_dir() else []
        return [*models, *(p for p in made_later if p.is_dir()),
                *(entry for folder in models for entry in _unfinished(folder))]

    def _changed(self) -> None:
        self.follow()  # (a folder made or deleted since: watched, or let go)
        self.session.models_listed.emit()


def _unfinished(folder: Path) -> list[Path]:
    """The folders in ``folder`` that are no model yet: one being saved (its weights take
    seconds, ``config.json`` is written last) or a ``finetune -o`` run still training. Its
    own entries are watched too: the model is listed when its config arrives."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return [entry for entry in entries if not entry.name.startswith(".") and entry.is_dir()
            and not (entry / CONFIG_FILE).is_file()]
