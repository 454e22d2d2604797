"""Notice models added to or removed from the library folders by someone else: the command
line (``finetune -o``, a copy by hand), another window of this process, another process.
The lists of models were refilled only after an action of this window (Use, Import, a
project opened), so a model just made from a terminal was not offered.

One watch per session (``StudioSession.library_watch``), living as long as it: made by a
panel, it watched only while that panel was open, and the Segment panel alone (napari's
Plugins menu) never listed a model the command line made.

The user models folder and the project's models folder are watched (their own entries: a
model folder made, renamed or deleted), and each folder there until it holds a model (a big
model is saved in seconds, its config last); the user folder's parent while it does not
exist yet (the first model saved there makes it); and the current model's folder, replaced
or removed by another program (``model_on_disk``). Changes are gathered for a moment, then
``session.models_listed`` is emitted once: every list of the window refills."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import QObject

from unet_studio.app.model_folder import CONFIG_FILE
from unet_studio.app.qt.model_on_disk import CurrentModelOnDisk
from unet_studio.app.qt.shared_watch import shared_watcher


class LibraryWatch(QObject):
    """Watches ``session.library``'s user and project folders and the current model's folder
    for the life of ``parent`` (the session)."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.current = CurrentModelOnDisk(session)
        self._told: set[str] = set()  # the library's problems told (``tell_problems``)
        # (methods: Qt ends the connections with the watch)
        session.model_changed.connect(self._model_changed)
        session.project_changed.connect(self.follow)  # (the project's models folder)
        session.models_listed.connect(self.follow)  # (a models folder made by a Train round)
        self.current.remember()
        self.follow()

    _stopped = False

    def follow(self) -> None:
        """Watch the folders the library lists now and the current model's (the project's
        change with the project)."""
        watcher = shared_watcher()
        if watcher is not None and not self._stopped:
            watcher.want(self, [*self._folders(), *self.current.watched_paths()])

    def stop(self) -> None:
        """Watch nothing from now on: the window closed (its session may outlive it, held
        by the viewer's finalizer, and its watch would go on refilling lists no one sees)."""
        self._stopped = True
        watcher = shared_watcher()
        if watcher is not None:
            watcher.want(self, [])

    def tell_problems(self, problems: list[str]) -> None:
        """Warn of each model folder of the library that cannot be read once (the lists
        refill at every change of the library: three models made by the command line told
        one broken folder four times); told again when it changes, or comes back after
        it was mended."""
        for problem in problems:
            if problem not in self._told:
                self.session.host.notify(problem, "warning")
        self._told = set(problems)

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

    def _model_changed(self, _info) -> None:
        self.current.remember()
        self.follow()

    def changed(self) -> None:
        """(From ``shared_watch``, once for the changes of a moment.)"""
        # (first: a model replaced or removed is made current, or given up, before the lists
        # refill, so that they show the model Run uses)
        self.current.check()
        # (its first listener is ``follow``: a folder made or deleted since is watched, or
        # let go)
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
