"""The Correct panel's keys (no widgets here): each acts on the object under the mouse
pointer, as its buttons and clicks do (``correct_tools``), one undo step each."""

from __future__ import annotations

from contextlib import contextmanager

from unet_studio.app import corrections
from unet_studio.app.class_map import class_text, labels_classes, refuse_on_class_map
from unet_studio.app.errors import UserError
from unet_studio.app.qt.correct_tips import OBJECT_ACTIONS
from unet_studio.app.qt.correct_tools import ObjectTools
from unet_studio.app.qt.key_map import DEFAULT_KEYS
from unet_studio.app.qt.review_marks import mark_reviewed_view


class PointerTools:
    """The object tools as keys over the mouse pointer: nothing to choose first, the hand
    stays on the mouse, each completed action one undo step (as with the buttons).

    Merging takes two presses (the first object, then the one to join it; the merged object
    keeps the first one's id), splitting a press per part then the split key. A pending merge or
    split is dropped by pressing its key over the background, or by choosing a click tool.
    """

    def __init__(self, tools: ObjectTools, keys: dict[str, str] | None = None):
        self.tools = tools
        self.keys = {a: k.replace("-", "+") for a, k in (keys or DEFAULT_KEYS).items()}  # (shown)
        self.merge_from = 0  # merge: the object pressed first
        self.merge_at: tuple[float, ...] | None = None  # and where
        self.seeds: list[tuple[float, ...]] = []  # split: points pressed in one object
        self.split_id = 0
        self.message = ""  # what the last key did, or what a pending action waits for

    @property
    def session(self):
        return self.tools.session

    def reset(self) -> None:
        self.merge_from, self.merge_at, self.seeds, self.split_id, self.message = 0, None, [], 0, ""

    def pending_points(self) -> list[tuple[float, ...]]:
        """Where the keys of an unfinished merge or split were pressed (shown on the canvas)."""
        return ([self.merge_at] if self.merge_from and self.merge_at else []) + list(self.seeds)

    def press(self, action: str, coord) -> str:
        """Do ``action`` (a key of ``key_map.DEFAULT_KEYS``) with the pointer at ``coord``
        (labels data coordinates; None: not over the labels); returns the status line."""
        if action == "review" or action == "unreview":
            with self._refusal_said():  # (in the 3D view: no slice to mark)
                done = mark_reviewed_view(self.session, reviewed=action == "review")
            self.message = done[:1].upper() + done[1:]  # ("Time point marked as reviewed.")
            return self.message
        labels = self.tools._labels()
        if action in OBJECT_ACTIONS:
            self._refuse_on_class_map(action)
        if action == "split":  # (at the seeds pressed: wherever the pointer is now)
            self.message = self._split(labels)
            return self.message
        handlers = {"add": self._add, "delete": self._delete, "merge": self._merge, "seed": self._seed,
                    "fill": self._fill, "pick": self._pick,
                    "interpolate": self._interpolate, "cut": self._cut,
                    "interpolate all": self._interpolate_all}  # fmt: skip
        if action not in handlers:
            raise ValueError(f"unknown pointer action {action!r}")
        if coord is None:  # (on a class map only K gets here: it picks a class)
            what = "a class" if labels_classes(self.session) else "an object"
            with self._refusal_said():
                raise UserError(f"the mouse pointer is not over the labels: point at {what} first")
        label = corrections.label_at(labels, coord)
        self.message = handlers[action](labels, label, tuple(float(c) for c in coord))
        return self.message

    @contextmanager
    def _refusal_said(self):
        """A refusal in the status line too, in place of what an earlier key or an undo
        said ("Undone: delete 7."), which would read as still current; a merge or split
        waiting for its next key keeps its prompt (it still stands)."""
        try:
            yield
        except UserError as refused:
            if not self.pending_points():
                self.message = _sentence(refused)
            raise

    def _refuse_on_class_map(self, action: str) -> None:
        """A class map refuses the object tools' keys: nothing pending is kept, and the
        status line says why (as the notification does)."""
        try:
            refuse_on_class_map(self.session, self.tools.action_name(action))
        except UserError as refused:
            self.reset()
            self.message = _sentence(refused)
            raise

    def _add(self, labels, label, coord) -> str:
        ray = getattr(self.session.host, "pointer_ray", lambda: None)()  # (3D rendering)
        added = self.tools.add_object(coord, ray=ray)  # (a UserError over an object)
        return f"Added object {added}."

    def _delete(self, labels, label, coord) -> str:
        if label == 0:
            raise UserError("no object under the pointer to delete")
        scope = self.tools.scope([coord])
        self.session.apply_edit(scope.lift(corrections.delete_object_edit(
            scope.labels, label, near=scope.coords[0])))
        return f"Deleted object {label}."

    def _merge(self, labels, label, coord) -> str:
        if label == 0:
            self.merge_from = 0
            return "Merge dropped."
        # The first pick still stands while its object is still where it was picked (one
        # pixel read: not a scan of a stack on every key press).
        stands = self.merge_from and corrections.label_at(labels, self.merge_at) == self.merge_from
        if not stands or self.merge_from == label:
            self.merge_from, self.merge_at = label, coord
            return (f"Merge: object {label} chosen; press {self.keys['merge']} over the object "
                    "to join to it.")
        first, at = self.merge_from, self.merge_at
        # The pick is used up, whatever follows: a refused join or merge (its reason told
        # in a notification) left it standing, marked, and the next G merged into it.
        self.merge_from, self.merge_at, self.message = 0, None, "Merge dropped."
        times = self.tools.pick_times([at, coord])
        if times and times[0] != times[1]:  # two time points: join their tracks
            edit = self.tools.join_edit([first, label], [at, coord])
            self.session.apply_edit(edit)
            early, late = (first, label) if times[0] < times[1] else (label, first)
            return f"Joined track {late} to {early}."
        scope = self.tools.scope([at, coord])
        self.session.apply_edit(scope.lift(corrections.merge_labels_edit(
            scope.labels, [first, label], near=scope.coords)))
        return f"Merged object {label} into {first}."

    def _seed(self, labels, label, coord) -> str:
        if label == 0:
            self.seeds, self.split_id = [], 0
            return "Split dropped."
        if label != self.split_id or not self._same_time_point(coord):  # a new object
            self.seeds, self.split_id = [], label
        self.seeds.append(coord)
        seed, split = self.keys["seed"], self.keys["split"]
        more = f"{seed} on another part" if len(self.seeds) < 2 else \
            f"{seed} on more parts, or {split} to split"
        return f"Split object {label}: {len(self.seeds)} seed{'s' * (len(self.seeds) != 1)}; {more}."

    def _same_time_point(self, coord) -> bool:
        """Is ``coord`` at the time point of the seeds so far (always, without time)?"""
        try:
            self.tools.scope([*self.seeds, coord])
        except UserError:
            return False
        return True

    def _split(self, labels) -> str:
        if len(self.seeds) < 2:
            raise UserError(f"press {self.keys['seed']} over each part of the object to split "
                            f"(two or more), then {self.keys['split']}")
        edit = self.tools.split_edit(self.split_id, self.seeds)
        label, parts = self.split_id, len(self.seeds)
        self.seeds, self.split_id = [], 0
        self.session.apply_edit(edit)
        return f"Split object {label} into {parts}."

    def _fill(self, labels, label, coord) -> str:
        if label == 0:
            raise UserError("no object under the pointer whose holes to fill")
        scope = self.tools.scope([coord])
        edit = scope.lift(corrections.fill_holes_edit(scope.labels, label,
                                                      per_slice=scope.labels.ndim == 3,
                                                      near=scope.coords[0]))  # fmt: skip
        if edit.is_empty:
            return f"Object {label} has no holes."
        self.session.apply_edit(edit)
        return f"Filled the holes of object {label}."

    def _interpolate(self, labels, label, coord) -> str:
        if label == 0:  # (in the gap between its painted slices: the brush's label)
            host = self.tools.host
            label = int(host.selected_label()) if hasattr(host, "selected_label") else 0
        if label == 0:
            key, pick, plane = self.keys["interpolate"], self.keys["pick"], self.tools.plane_word()
            raise UserError(f"no object under the pointer to fill between: press {key} over the "
                            f"object on one of its painted {plane}s, or in the gap with its "
                            f"label chosen ({pick} over it, or paint with it)")
        return self.tools.apply_interpolation(label, *self.tools.interpolate_edit(label, coord))

    def _interpolate_all(self, labels, label, coord) -> str:
        return self.tools.interpolate_all(coord)  # (wherever the pointer is: its time point)

    def _cut(self, labels, label, coord) -> str:
        if label == 0:
            raise UserError("no object under the pointer whose track to cut")
        new_id, t = self.tools.cut_track(label, coord)
        return f"Track {label} cut: from time point {t} on it is {new_id}."

    def _pick(self, labels, label, _coord) -> str:
        self.tools.pick_label(label)  # (a UserError over the background)
        classes = labels_classes(self.session)
        if classes:
            return f"Painting with {class_text(classes, label)} (napari's brush: P)."
        return f"Painting with label {label} (napari's brush: P)."


def _sentence(refused: UserError) -> str:
    """A refusal as the status line shows it: "Nothing to mark: ...". """
    text = str(refused)
    return f"{text[:1].upper()}{text[1:]}."
