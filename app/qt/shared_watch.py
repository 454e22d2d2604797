"""One file system watcher for every ``LibraryWatch`` of the process.

A QFileSystemWatcher takes one of the system's inotify instances (128 per user by default,
shared by every program of that user). Each session has its watch and lives as long as its
viewer (whose finalizer holds it), so a watcher per session used them up in a test run of a
few hundred windows, and every later watcher, of any program of the user, fell back to
polling. Here one watcher serves them all: each watch says which paths it wants, and hears
of the changes to those. It holds no widget and no model: paths and weak references only.
GUI thread only.
"""

from __future__ import annotations

import weakref

from qtpy.QtCore import QCoreApplication, QFileSystemWatcher, QObject, QTimer

from unet_studio.app.qt.alive import alive

_shared: SharedWatcher | None = None


def shared_watcher() -> SharedWatcher | None:
    """The process's watcher (made with the application, which it lives as long as); None
    before there is an application: a watcher made then never heard of any change, not
    even once the application was there (a session made first, as a script may)."""
    global _shared
    application = QCoreApplication.instance()
    if application is None:
        return None
    if _shared is None or not alive(_shared) or _shared.parent() is not application:
        _shared = SharedWatcher(application)
    return _shared


SETTLE_MS = 300  # a copy makes and renames a temp folder: one call for all of it


class SharedWatcher(QObject):
    """Watches the union of the paths its clients want; the changes of a moment
    (``SETTLE_MS``) to paths a client wants are passed to it once (``client.changed()``).

    The settling timer is this watcher's, which lives as long as the application: a timer
    of each client's, running when its session was collected by Python's garbage collector
    (which may run in any thread, deleting the session's Qt objects there), crashed Qt's
    event loop when it fired (a test run: SIGSEGV in QTimerInfoList::activateTimers)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._clients: dict[int, tuple[weakref.ref, frozenset[str]]] = {}
        self._due: set[int] = set()  # clients a change is waiting for (ids)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._tell)
        self._watcher.directoryChanged.connect(self._changed)
        self._watcher.fileChanged.connect(self._changed)

    def want(self, client: QObject, paths) -> None:
        """``client`` hears of changes to ``paths`` from now on (only those: none, to stop)."""
        paths = frozenset(str(path) for path in paths)
        if paths:
            self._clients[id(client)] = (weakref.ref(client), paths)
        else:
            self._clients.pop(id(client), None)
        self._sync()

    def watched(self) -> set[str]:
        """The paths the system watches now (a file replaced is let go: see ``_sync``)."""
        return {*self._watcher.directories(), *self._watcher.files()}

    def _live_clients(self) -> list[tuple[QObject, frozenset[str]]]:
        """The clients still there; those gone (their session deleted) are forgotten."""
        live = []
        for key, (ref, paths) in list(self._clients.items()):
            client = ref()
            if client is None or not alive(client):
                del self._clients[key]
            else:
                live.append((client, paths))
        return live

    def _sync(self) -> None:
        """Compared with what the system watches, not with what was asked before: a file
        replaced (a config renamed over) or a folder deleted is no longer watched, and is
        watched again once it is there."""
        wanted = set().union(*(paths for _client, paths in self._live_clients()))
        watched = self.watched()
        if watched - wanted:
            self._watcher.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self._watcher.addPaths(sorted(wanted - watched))

    def _changed(self, path: str) -> None:
        for client, paths in self._live_clients():
            if path in paths:
                self._due.add(id(client))
        if self._due:
            self._settle.start()

    def _tell(self) -> None:
        due, self._due = self._due, set()
        for client, _paths in self._live_clients():
            if id(client) in due:
                client.changed()
