"""The images of a :class:`~unet_studio.app.qt.session.StudioSession`'s project as the user
manages them (a mixin of it, through ``ProjectLink``): the list the Correct panel shows
(each image's reviewed share, whether its file is missing), taking one out of the project,
and pointing one whose file moved at its new place.

An image taken out keeps its layers open, but they are no longer the project's: its edits
are not saved into it, nor is it added back by them (as any image new to the project would
be at its first edit), and what is marked reviewed on it meanwhile (by hand, or by its
edits) stays in memory and is not learnt from (``current_left_out``: Segment keeps those
marks' pixels, training leaves them out). It stays out until its file is opened again
(its layer closed and opened anew: a new layer, added at its first edit as a new image)
or the user opens it into another project.

Uses the session's ``host``, ``project``, ``image_id``, ``reviewed``, ``_reviewed_key``,
``_marks``, ``_unmarked``, ``_later``, ``_last_image``, ``select_image``,
``_refresh_overlay``, ``reviewed_changed`` and ``project_changed``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.project_images import ImageRef
from unet_studio.app.qt.session_autosave import same_folder
from unet_studio.app.qt.train_replay import drop_from_replay
from unet_studio.app.share_text import percent_text


@dataclass(frozen=True)
class ProjectImageRow:
    """What the Correct panel lists of a project image."""

    id: str
    name: str
    file: Path | None  # (None: it has no file)
    missing: bool  # its file cannot be found (moved, renamed, on a drive not mounted)
    reviewed: str  # "12.5%", "none"


@dataclass
class LeftOut:
    """An open image taken out of the project in ``folder``; ``pixels()``: its layer's
    pixels then (a weak reference: None once they are gone)."""

    folder: Path
    pixels: Callable[[], object | None]


class ProjectImageChanges:
    """Removing a project image, locating a moved one. GUI thread only."""

    # Open images taken out of a project, by layer name (see :meth:`left_out_of_project`).
    _left_out: dict[str, LeftOut] | None = None

    def project_image_rows(self, *, shares: bool = True) -> list[ProjectImageRow]:
        """The open project's images, in its order (empty without a project); ``shares``
        False: their reviewed share not looked up ("", each image's marks not read)."""
        project = self.project
        if project is None:
            return []
        rows = []
        for ref in project.images:
            file = project.resolve_image_path(ref.id) if ref.path else None
            rows.append(ProjectImageRow(ref.id, ref.name, file,
                                        file is not None and not file.exists(),
                                        self._reviewed_share(ref) if shares else ""))  # fmt: skip
        return rows

    def missing_project_images(self) -> list[ProjectImageRow]:
        """The project images whose file is missing (to locate)."""
        return [row for row in self.project_image_rows(shares=False) if row.missing]

    def remove_project_image(self, image_id: str) -> Path | None:
        """Take the image out of the open project (``Project.remove_image``: its saved work
        moved into ``removed-images/``, returned). Its open layers stay, no longer the
        project's; if it is the current image its reviewed marks on screen go with it
        (they are in the folder set aside: training no longer learns from them)."""
        project = self.project
        ref = project.image(image_id)
        self._later.run_all()  # (the last edits' saves: into its folder before it moves)
        kept = project.remove_image(image_id)
        try:  # (earlier rounds' examples of it: not revisited either)
            drop_from_replay(project, ref.name)
        except (UserError, OSError) as error:  # (an unreadable buffer: training says so too)
            self.host.notify(f"{ref.name} could not be taken out of the replay buffer: "
                             f"{error}", "warning")
        image = self._open_image(ref.name)
        if image is not None:  # (its layer stays open: its edits must not add it back)
            self._leave_out(ref.name, project.path, image.data)
        if self.image_id == image_id:
            self.image_id = None
            self.reviewed, self._reviewed_key = None, None
            self._marks.clear()  # (an undo can no longer take back marks set aside)
            self._unmarked.clear()
        self._refresh_overlay()
        self.project_changed.emit()
        self.reviewed_changed.emit()
        return kept

    def locate_project_image(self, image_id: str, path: str | Path) -> None:
        """The image's file was moved or renamed: the project reads it from ``path`` from
        now on (``Project.relink_image``: UserError for a file of another shape), and it is
        opened, with its labels and marks when it becomes current."""
        project = self.project
        refs = project.relink_image(image_id, path)
        opener = getattr(self.host, "open_image_file", None)
        if opener is not None:
            names = set(self.host.image_names()) if hasattr(self.host, "image_names") else set()
            located = project.image(image_id)
            name = located.name
            if name not in names:
                # (the project images of the image of the file opened: other series of a
                # multi-series file are other images, opened when located themselves)
                same_image = [ref for ref in refs if ref.series == located.series]
                # (a file of channel layers opens as several, each named as the project
                # knows it by the channel it recorded: napari names them after the file)
                channels = {ref.selection["C"]: ref.name for ref in same_image
                            if isinstance(ref.selection.get("C"), int)}
                opener(Path(path), name=name if len(same_image) == 1 else None,
                       channel_names=channels or None,
                       **({"series": located.series} if located.series else {}))
            if hasattr(self.host, "image_names") and name in self.host.image_names():
                self._last_image = None  # (a new layer, even if one of its name was current)
                self.select_image(name)  # (its labels and marks come back)
        self.host.notify(f"{project.image(image_id).name} is read from {path} from now on")
        self.project_changed.emit()

    def left_out_of_project(self, image) -> bool:
        """Is the open image ``image`` (a HostImage) one taken out of the open project, so
        that its edits must not add it back? No longer once its layer shows other pixels
        (its file opened again) or another project is open."""
        entry = None if self._left_out is None else self._left_out.get(image.name)
        if entry is None or self.project is None:
            return False
        if entry.pixels() is not image.data:
            del self._left_out[image.name]  # (opened anew: an image like any other)
            return False
        return same_folder(entry.folder, self.project.path)

    def current_left_out(self) -> str | None:
        """The current image's name when the user took it out of the open project, else
        None. Its labels and marks on screen stay usable (Segment, Correct) but live in
        memory only, and training does not learn from them: the removal promised so."""
        image = self.host.current_image()
        return image.name if image is not None and self.left_out_of_project(image) else None

    def follow_left_out(self, old: str, new: str) -> None:
        """The image layer ``old``, taken out of the project, was renamed ``new``: it stays out."""
        if self._left_out and old in self._left_out:
            self._left_out[new] = self._left_out.pop(old)

    def _open_image(self, name: str):
        """The open image layer ``name`` as a HostImage, or None."""
        named = getattr(self.host, "image_named", None)
        if named is not None:
            return named(name)
        image = self.host.current_image()
        return image if image is not None and image.name == name else None

    def _leave_out(self, name: str, folder: Path, pixels) -> None:
        if self._left_out is None:
            self._left_out = {}
        self._left_out[name] = LeftOut(folder, _weak(pixels))

    def _reviewed_share(self, ref: ImageRef) -> str:
        """The share of the image's pixels marked reviewed: its training data."""
        try:
            regions = self.project.reviewed(ref.id)
        except (OSError, ValueError):  # (unreadable marks are told when they are opened)
            return "?"
        if regions is None or not regions.any():
            return "none"
        return percent_text(regions.count(), int(np.prod(regions.shape)))


def removed_text(name: str) -> str:
    """Why the open image ``name``, taken out of the project, is not learnt from."""
    return (f"{name} was removed from the project, so training does not learn from it: "
            "open its file again to work on it in the project")


def _weak(pixels) -> Callable[[], object | None]:
    """A reference that does not keep a closed layer's pixels (a whole stack) alive."""
    try:
        return weakref.ref(pixels)
    except TypeError:  # (a type without weak references: by identity, kept while noted)
        return lambda: pixels
