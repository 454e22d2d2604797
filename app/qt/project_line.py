"""The Correct panel's line on the project (``session.project_line()``): its folder, and why
its changes are not saved there, if so, as a warning that lasts as long as that does.

Saves failing on the autosave thread (a full disk) change no signal the panel hears: the
line looks again every ``interval_ms`` (the project's failures are a dictionary read, no
file is touched), so that the warning comes while saves fail and goes once they work.
"""

from __future__ import annotations

from qtpy.QtCore import QTimer

from unet_studio.app.qt.names_label import NamesLabel

INTERVAL_MS = 1000
# Amber, readable on napari's dark theme and on its light one (a text colour of contrast
# at least 4.5 on either background).
WARNING_ON_DARK, WARNING_ON_LIGHT = "#ffb74d", "#9a4a00"


class ProjectLine(NamesLabel):
    """``session``'s project line; ``refresh()`` reads it again (the panel calls it when the
    project changes, and a timer while it is shown)."""

    def __init__(self, session, parent=None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.session = session
        self.warning = False  # is the line a warning (the project's saving note shown)?
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def refresh(self) -> None:
        text = self.session.project_line()
        project = self.session.project
        warning = project is not None and project.saving_note() is not None
        if text != self.text():  # (a new text re-lays the panel out: only when it changed)
            self.setText(text)
        if warning != self.warning:
            self.warning = warning
            self.setStyleSheet(f"color: {self._warning_colour()}; font-weight: bold"
                               if warning else "")

    def _warning_colour(self) -> str:
        background = self.palette().color(self.backgroundRole())
        return WARNING_ON_DARK if background.lightnessF() < 0.5 else WARNING_ON_LIGHT
