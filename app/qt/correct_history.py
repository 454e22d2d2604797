"""The Correct panel's status line around the labels' history: what an undo or redo did,
that there was nothing to undo or redo, and the help text back after a stroke of napari's
own tools. A mixin of :class:`CorrectPanel`, which provides ``session``, ``tools``,
``keys``, ``undo_button``, ``redo_button``, ``_run``, ``_host_call``, ``_say`` and
``_update_tool_state``.

The history of the labels is napari's (and the host's): it starts when the labels are
shown, and showing other labels in their layer (a Segment run, a project opened, labels
brought back) clears it, as napari keeps no history across new pixels. napari tells
nothing when Ctrl+Z finds nothing, so the QA walkthrough read the silence as a broken key.
"""

from __future__ import annotations

NOTHING_TO = {
    "undo": "Nothing to undo: the history starts when these labels were opened or last "
            "replaced (a Segment run, a project opened) and keeps only the latest changes.",
    "redo": "Nothing to redo: only changes undone since the last edit can be redone.",
}


class CorrectHistory:
    def _follow_history(self) -> None:
        """Listen to the session's undo and redo, and to the host's strokes and undos of
        nothing (a host that tells them: napari's)."""
        session, host = self.session, self.session.host
        # (Ctrl+Z, Ctrl+Shift+Z and the Undo and Redo buttons: the status line tells what
        # was undone, not what the undone action did)
        session.connect_history(self._say_history)
        if hasattr(host, "connect_nothing_to_undo"):  # (Ctrl+Z too, not only the buttons)
            host.connect_nothing_to_undo(self._say_nothing_to)
        if hasattr(host, "connect_user_edits"):
            host.connect_user_edits(self._forget_said_on_stroke)
        self.undo_button.clicked.connect(lambda: self._run(self._history_call("undo")))
        self.redo_button.clicked.connect(lambda: self._run(self._history_call("redo")))

    def _history_call(self, kind: str):
        """The Undo (``kind`` "undo") or Redo button's action: a host that found nothing to
        do returns False (napari's host tells its listeners as well: said once)."""
        call = self._host_call(kind)

        def step() -> None:
            if call() is False:
                self._say_nothing_to(kind)

        return step

    def _say_nothing_to(self, kind: str) -> None:
        # (a turn later, as "Undone: ...": the last told wins, after the button's own update)
        self.session._tell_text(NOTHING_TO[kind])

    def _say_history(self, text: str) -> None:
        """After an undo or redo: what it did, and a click tool's prompt after it (without
        "Deleted object 7.": that deletion may be the one undone)."""
        try:
            self.tools.deleted = None
            self._say(text)
            if self.tools.mode is not None:
                self.tool_status.setText(f"{text} {self.tools.status()}")
        except RuntimeError:  # (the panel's widgets deleted: closed with its window)
            pass

    def _forget_said_on_stroke(self, _edit, kind: str) -> None:
        """A stroke of napari's brush, eraser, fill or polygon ("paint"): what the status
        line said of an earlier action ("Filled the slices between...", "Undone: ...") is
        of the past; the help text (or the click tool's prompt) follows. A merge or split
        waiting for its next key keeps its prompt: it still stands. Told once per dab of a
        stroke: only the first changes anything."""
        if kind != "paint":
            return
        pending = self.keys.pending_points()
        if (not self.keys.message or pending) and self.tools.deleted is None:
            return
        if not pending:
            self.keys.message = ""
        self.tools.deleted = None
        try:
            self._update_tool_state()
        except RuntimeError:  # (the panel's widgets deleted: host listeners outlive them)
            pass
