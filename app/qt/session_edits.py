"""How every label change of a :class:`~unet_studio.app.qt.session.StudioSession` is saved
and learnt from (a mixin of it): the app's object tools call :meth:`EditRecording.apply_edit`;
napari's brush, fill, undo and redo arrive from the host's ``connect_user_edits``. Each edit
is saved into the project and its pixels noted in the reviewed regions; an undo takes back
the marks its edit made, a redo makes them again.

The marks of the edits are kept per labels (their :class:`ReviewedRegions`), newest last, an
entry per reported edit (napari reports a brush stroke as an edit per dab): an undo on one
image's labels takes back that image's newest edit's marks, whatever was edited elsewhere
since. They are bounded by bytes, not by count, as napari's history is (``undo_budget``):
napari keeps 100 *steps*, and a stroke is tens of dabs.

Uses the session's ``host``, ``labels_changes``, ``_fresh_ids``, ``_marks``, ``_unmarked``,
``_later`` (a TurnQueue), ``project``, ``ensure_reviewed``, ``_refresh_overlay``,
``reviewed_changed`` and ``_project_for_current``.
"""

from __future__ import annotations

from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.project import Project
from unet_studio.app.settings import undo_history_bytes

# No count bound on the session's deques of marks (see _keep_marks_within_budget): napari's
# 100 undo steps are thousands of edits reported when they are brush strokes.
MARKS_KEPT = None
# The marks are kept up to this many times napari's undo budget of bytes: they hold about as
# much as the history atoms of the same pixels (8-byte indices of the pixels changed and
# the boxes marked, against napari's masks and old values), so an undo napari can still do
# finds its marks.
MARKS_PER_HISTORY_BYTE = 2
HISTORY_TEXT = "history text"  # (the TurnQueue key of telling what was undone)
SAVE_LATER_PIXELS = 1 << 20  # an edit this big is saved a turn after it
SHOW_MARKS = "show marks"  # (the TurnQueue key of redrawing the marks)


class EditRecording:
    """Saving and marking the edits of the current labels. GUI thread only."""

    def apply_edit(self, edit: LabelEdit, *, review: bool = True, show_soon: bool = False,
                   marks: tuple | None = None) -> None:
        """Apply an object-tool edit as one undo step, then save it and (``review``) note
        its pixels as changed and its region as reviewed; a renumbering (Relabel 1..N, the
        one edit without ``review``) changes no outline and reviews nothing, and fresh ids
        count on from its numbers, not above the ids it removed. ``show_soon``: redraw the
        marks a turn later (an edit nobody waits to see at once: one computed in the
        background). ``marks``: ``(regions, regions.marks_for(edit),
        regions.flat_indices(edit))`` found before (in a worker), used if those regions are
        still the current labels' ones."""
        self.host.apply_label_edit(edit)
        self.labels_changes += 1
        if not review:
            self._fresh_ids.renumbered(self.host.current_labels())
        self._record(edit, review=review, show=self._show_marks_soon if show_soon else None,
                     marks=marks)

    def _on_user_edit(self, edit: LabelEdit, kind: str) -> None:
        self.labels_changes += 1
        if kind == "paint":
            self._record(edit, show=self._show_marks_soon)
            return
        # Undo / redo: the pixels are saved; an undone edit takes back the marks it made
        # (a mistaken key press leaves nothing reviewed), a redone one makes them again.
        self._fresh_ids.saw_edit(self.host.current_labels(), edit.new_values, edit.old_values)
        self._save_edit(edit, undone=True)
        regions = self.ensure_reviewed()
        if regions is None:
            return
        done, undone = (self._marks, self._unmarked) if kind == "undo" else (self._unmarked, self._marks)
        index = _newest_of(done, regions)  # (these labels' newest: others' may be newer)
        if index is None or done[index][1] != _edit_key(edit):
            self._tell_history(kind, "")
            return  # (an edit that made no marks, or its marks already gone)
        _, key, added, text = done[index]
        del done[index]
        self._tell_history(kind, text)
        if added is None:  # (a renumbering: no marks)
            undone.append((regions, key, None, text))
            return
        if kind == "undo":
            regions.take_back(added)
            undone.append((regions, key, added, text))
        else:  # (only what an undo took back is marked again: those very marks)
            undone.append((regions, key, regions.put_back(added), text))
        self._show_marks_soon()

    def _remember_marks(self, regions, edit: LabelEdit, added) -> None:
        self._forget_redo(regions)  # (a new edit: napari forgets what could be redone)
        self._marks.append((regions, _edit_key(edit), added, edit.description))
        self._keep_marks_within_budget(added)

    def _forget_redo(self, regions) -> None:
        """A new edit or mark of ``regions``' labels: napari forgets what they could redo
        (and only theirs: every labels layer has its own history)."""
        kept = [entry for entry in self._unmarked if entry[0] is not regions]
        if len(kept) != len(self._unmarked):
            self._unmarked.clear()
            self._unmarked.extend(kept)

    def _keep_marks_within_budget(self, added) -> None:
        """Drop the oldest edits' marks beyond :data:`MARKS_PER_HISTORY_BYTE` times the undo
        budget (counted as they come, and again exactly when that count goes over: the
        project's closing clears the deques behind its back)."""
        if not hasattr(self, "_marks_budget"):  # (read once: every dab comes here)
            self._marks_budget = undo_history_bytes(self.library.home)
        budget = self._marks_budget
        if budget is None:
            return
        budget *= MARKS_PER_HISTORY_BYTE
        self._marks_bytes = getattr(self, "_marks_bytes", 0) + _nbytes(added)
        if self._marks_bytes <= budget:
            return
        sizes = [_nbytes(entry[2]) for entry in self._marks]
        total = sum(sizes)
        for size in sizes:
            if total <= budget or len(self._marks) <= 1:
                break
            self._marks.popleft()
            total -= size
        self._marks_bytes = total

    def connect_history(self, listener) -> None:
        """Call ``listener(text)`` after an undo or redo, with what it did ("Undone: delete
        101."), a turn after it (a stroke's dabs are told once)."""
        self.__dict__.setdefault("_history_listeners", []).append(listener)

    def _tell_history(self, kind: str, what: str) -> None:
        verb = {"undo": "Undone", "redo": "Redone"}[kind]
        self._tell_text(f"{verb}: {_sentence(what)}" if what else f"{verb} the last change.")

    def _tell_text(self, text: str) -> None:
        listeners = self.__dict__.get("_history_listeners", [])
        self._later.drop(HISTORY_TEXT)  # (the last told wins)
        self._later.put(HISTORY_TEXT, lambda: [listener(text) for listener in listeners])

    def _record(self, edit: LabelEdit, *, review: bool = True, show=None, marks=None) -> None:
        """Save ``edit`` (applied) and note its marks (``marks``: see :meth:`apply_edit`);
        ``show``: how to show them (default: now)."""
        removed = edit.old_values if review else None  # (a renumbering frees no id for good)
        self._fresh_ids.saw_edit(self.host.current_labels(), edit.new_values, removed)
        regions = self.ensure_reviewed()
        if regions is not None:
            found = marks[1:] if marks is not None and marks[0] is regions else ()
            # (a renumbering too, without marks: its undo is told and matched in order)
            # (the labels tell a plane drawn by hand: there an edit marks no box)
            labels = self.host.current_labels()
            added = regions.record_edit(edit, *found, labels=labels) if review else None
            self._remember_marks(regions, edit, added)
        self._save_edit(edit)
        if review and regions is not None and regions.auto_from_edits:
            (show or self._show_marks)()

    def _save_edit(self, edit: LabelEdit, *, undone: bool = False) -> None:
        """Have the project save the chunks ``edit`` changed (an undo or redo: ``undone``;
        its reviewed marks are not the edit's). An edit of over :data:`SAVE_LATER_PIXELS`
        (every object of a stack) is handed to the project a turn later: the ~250 chunks of
        a 64 x 1024 x 1024 stack it touches are then read by the autosave writer (see
        ``LiveArraySaver._queue``); finding them (the box of its millions of pixels) still
        costs the GUI thread tens of ms, a turn apart from applying it."""
        project, image_id = self._project_for_edit()
        if project is None:
            return
        labels = self.host.current_labels()  # (None: its layer is closing)

        def save() -> None:
            if undone:
                project.mark_dirty(image_id, edit.bbox)
            else:
                project.record_edit(image_id, edit)

        def save_later() -> None:  # (unless the project closed or follows other labels since)
            if project is self.project and (labels is None or project.labels_are(image_id, labels)):
                save()

        if edit.size > SAVE_LATER_PIXELS:
            self._later.put(("save", id(edit)), save_later)
        else:
            save()

    def _show_marks(self) -> None:
        self._refresh_overlay()
        self.reviewed_changed.emit()

    def _show_marks_soon(self) -> None:
        """Show the marks in the event loop's next turn. napari reports a brush stroke, and
        the undo or redo of one, as an edit per dab: redrawing the overlay of a stack and
        recounting its marks (panels listen) after each of them cost tens of ms per dab on
        64 x 1024 x 1024 labels (a 15-dab stroke froze the window for 1-3 s); once after
        the last costs that once. The marks themselves are noted at once."""
        self._later.put(SHOW_MARKS, self._show_marks)

    def _project_for_edit(self) -> tuple[Project | None, str | None]:
        """The project and the current image's id, the labels being edited attached as that
        image's corrections: a labels layer the user opened and edits becomes what is saved
        (its edits would otherwise go unsaved, the project following another array)."""
        project, image_id = self._project_for_current(ensure=True)
        labels = self.host.current_labels()
        if project is not None and image_id is not None and labels is not None \
                and not project.labels_are(image_id, labels):
            project.attach_labels(image_id, labels, save=True)
        return project, image_id


def _newest_of(entries, regions) -> int | None:
    """Index of the newest entry of ``regions`` in ``entries`` (newest last), or None."""
    for index in range(len(entries) - 1, -1, -1):
        if entries[index][0] is regions:
            return index
    return None


def _nbytes(added) -> int:
    """Bytes a MarksAdded holds (None: an edit without marks)."""
    if added is None:
        return 0
    return added.changed.nbytes + sum(new.nbytes for _, new in added.reviewed or ())


def _sentence(what: str) -> str:
    """ "paint" (napari's brush, eraser, fill) and "delete 101" as the status line says it."""
    what = {"paint": "painting", "edit": "an edit"}.get(what, what)
    return what if what.endswith(".") else f"{what}."


def _edit_key(edit: LabelEdit) -> tuple:
    """What an edit and its undo share (the same pixels): size, first and last pixel."""
    if edit.is_empty:
        return (0,)
    return (edit.size, tuple(int(i[0]) for i in edit.indices), tuple(int(i[-1]) for i in edit.indices))
