"""The sessions of the windows open in this process: what a change to the shared user
models (a rename, a removal) must reach beyond the window where it was made.

Found through the panels, not kept in a registry: every panel holds its window's session
(``panel.session``: napari's docks and the launcher's alike), and a closed window's panels
are deleted with it, so the answer never names a closed window and nothing here keeps a
session alive. A session without any panel shows no model to anyone."""

from __future__ import annotations


def open_sessions() -> list:
    """The StudioSessions that a live panel works for, each once."""
    from qtpy.QtWidgets import QApplication

    from unet_studio.app.qt.session import StudioSession

    app = QApplication.instance()
    if app is None:
        return []
    found: dict[int, StudioSession] = {}
    for widget in app.allWidgets():
        session = getattr(widget, "session", None)
        if isinstance(session, StudioSession):
            found.setdefault(id(session), session)
    return list(found.values())


def other_sessions(session) -> list:
    """The open sessions but ``session`` (the other windows)."""
    return [other for other in open_sessions() if other is not session]
