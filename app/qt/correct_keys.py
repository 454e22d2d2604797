"""The Correct panel's keys on the viewer, bound while the panel is in a window.

napari's X on a dock takes the panel out of its window (``remove_dock_widget`` sets its
parent to None) and keeps it, to dock it again from the Plugins menu as it was left
(``plugins.widgets``). Its keys stayed bound: D over an object deleted it with no panel
open. So the keys go with the panel's window: unbound (and the click tool left) when it
leaves, bound again when it is docked again. A mixin of :class:`CorrectPanel`, which
provides ``session``, ``key_of``, ``keys`` (PointerTools), ``find_step``, ``_run`` and
``_choose_tool``.
"""

from __future__ import annotations

from qtpy.QtCore import QEvent

from unet_studio.app.qt.hand_only_hint import hand_only_said


class CorrectKeys:
    def _bind_keys(self) -> None:
        """The pointer tools' keys on the viewer (a host without keys: buttons only)."""
        bind = getattr(self.session.host, "set_key_handler", None)
        if bind is None:
            return
        for action, key in self.key_of.items():
            if action in ("next", "previous"):  # (Find objects to check: no pointer needed)
                bind(key, lambda _coord, a=action: self._run(lambda: self.find_step(a == "next")))
            else:
                bind(key, lambda coord, a=action: self._run(lambda: self._press(a, coord)))
        self._bind_history_keys(True)
        self.keys_bound = True

    def _press(self, action: str, coord) -> None:
        """A key's action (or its button's). A review mark's warning that it teaches the
        unpainted pixels as background (``hand_only_hint``) becomes the status line: the
        notification fades in seconds, unseen by eyes on the canvas; the line stays until
        the next action replaces it."""
        with hand_only_said() as said:
            self.keys.press(action, coord)
        if said:
            self.keys.message = said[-1]

    def _unbind_keys(self) -> None:
        bind = getattr(self.session.host, "set_key_handler", None)
        if bind is None:
            return
        for key in self.key_of.values():
            bind(key, None)
        self._bind_history_keys(False)
        self.keys_bound = False

    def _bind_history_keys(self, bound: bool) -> None:
        """Ctrl+Z and Ctrl+Shift+Z with the image layer active: the keys above act on its
        labels there, so undo and redo do too (a host that can: napari's)."""
        bind = getattr(self.session.host, "bind_history_keys", None)
        if bind is not None:
            bind(bound)

    def event(self, event) -> bool:
        # (built without a parent, the panel binds its keys at once: a host with no window)
        if event.type() == QEvent.Type.ParentChange and hasattr(self, "key_of"):
            if self.parent() is None:
                self._choose_tool(None)  # (a click tool's clicks on the canvas too)
                self._unbind_keys()
            elif not getattr(self, "keys_bound", False):
                self._bind_keys()
        return super().event(event)
