"""The images of a project: the list of image files it refers to (never copies), with what
the user chose of each (axes, channel, name), found again by the layer that shows them;
an image taken out of it, a file that moved pointed at again. Mixed into ``Project``."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.project_image_moves import (
    file_labels_shape,
    set_aside_removed,
    wrong_file_message,
)
from unet_studio.app.project_images import ImageRef, new_image_id


class ProjectImageList:
    """Uses the project's ``images`` (ImageRefs), ``path``, ``read_only``, ``flush``,
    ``_save_meta`` and ``log``, and to forget a removed image's arrays ``live_labels``,
    ``_disk_shapes``, ``_savers``, ``_reviewed``, ``_reviewed_saved`` and ``_old_shape_noted``
    (``project_labels``)."""

    def add_image(self, source: str | Path, *, axes: str, name: str | None = None, **details):
        """Reference an image file (not copied). ``details``: selection (dict, e.g.
        ``{"C": 0, "Z": [10, 40]}``), shape, dtype, scale. Returns the new :class:`ImageRef`."""
        name = name or Path(source).name
        ref = ImageRef(new_image_id(name, {i.id for i in self.images}), str(source), name,
                       axes, **details)  # fmt: skip
        self.images.append(ref)
        self._save_meta()
        self.log("add image", image=ref.id, path=ref.path, axes=axes)
        return ref

    def set_selection(self, image_id: str, **selection) -> None:
        """Record what of an image is segmented (e.g. ``C=1``: the channel a one-channel model
        sees; ``C=None`` forgets it), so that training learns from the same pixels."""
        ref = self.image(image_id)
        chosen = {k: v for k, v in {**ref.selection, **selection}.items() if v is not None}
        if chosen != ref.selection:
            self.images[self.images.index(ref)] = dataclasses.replace(ref, selection=chosen)
            self._save_meta()

    def rename_image(self, image_id: str, name: str) -> None:
        """The image's layer was renamed: the project follows, so that its corrections stay
        linked to it (images are found by name, see :meth:`find_image`)."""
        ref = self.image(image_id)
        if name != ref.name:
            self.images[self.images.index(ref)] = dataclasses.replace(ref, name=name)
            self._save_meta()
            self.log("rename image", image=image_id, old=ref.name, new=name)

    def set_image_axes(self, image_id: str, axes: str) -> None:
        """The user named the image's axes anew, a renaming in the same order (a guessed
        ZYX that is a time-lapse: TYX, see ``app.typed_axes``): its scale follows its
        letters. Its arrays keep their shape, so nothing else changes."""
        ref = self.image(image_id)
        if axes == ref.axes:
            return
        renamed = dict(zip(ref.axes, axes))
        scale = {renamed.get(letter, letter): value for letter, value in ref.scale.items()}
        self.images[self.images.index(ref)] = dataclasses.replace(ref, axes=axes, scale=scale)
        self._save_meta()
        self.log("set axes", image=image_id, old=ref.axes, new=axes)

    def remove_image(self, image_id: str, *, timeout: float = 60.0) -> Path | None:
        """Take the image out of the project: it is no longer opened with it nor learnt
        from. Its saved labels, reviewed marks and prediction are moved, as they are, into
        ``removed-images/`` (``project_image_moves``: never deleted); returns that folder
        (None when nothing of it was saved). What is pending is saved first, so that no
        save of it lands in its old folder afterwards. UserError when it cannot be done
        (another window writes the project, saving or moving fails): nothing changed."""
        ref = self.image(image_id)
        if self.read_only:
            raise UserError(f"{ref.name} cannot be removed from the project here: it is "
                            f"written by {self.read_only}.")
        if not self.flush(timeout):
            raise UserError(f"{ref.name} was not removed from the project: its changes could "
                            "not be saved first (see the saving problem told); nothing changed.")
        try:
            kept = set_aside_removed(self.path, ref)
        except OSError as error:
            raise UserError(f"{ref.name} was not removed from the project: its saved work "
                            f"could not be moved aside ({error}); nothing changed.") from None
        for kind in ("labels", "prediction"):  # (what is saved from now on is no longer its)
            self._savers.pop((kind, image_id), None)
        self._reviewed.pop(image_id, None)
        self._reviewed_saved.pop(image_id, None)
        if self._old_shape_noted:
            self._old_shape_noted.pop(image_id, None)
        self.images.remove(ref)
        self._save_meta()
        self.log("remove image", image=image_id, name=ref.name, path=ref.path,
                 kept=None if kept is None else str(kept.relative_to(self.path)))
        return kept

    def relink_image(self, image_id: str, path: str | Path) -> list[ImageRef]:
        """The image's file was moved or renamed: the project reads it from ``path`` from
        now on, and so does every project image read from the same old file (the channel
        layers of one file). Refused (UserError naming both shapes) when the file's labels
        would not have the shape of the image's saved ones: not its file. Returns the
        images that now point at ``path``."""
        ref = self.image(image_id)
        path = Path(path).absolute()
        shape = file_labels_shape(path, ref.series)
        saved = self._saved_labels_shape(image_id)
        if saved is not None and shape != saved:
            raise UserError(wrong_file_message(ref.name, path, shape, saved,
                                               str(self.resolve_image_path(image_id))))
        old = ref.path
        moved = [other for other in self.images
                 if other.id == image_id or (old and other.path == old)]
        for other in moved:
            new = dataclasses.replace(other, path=str(path))
            self.images[self.images.index(other)] = new
        self._save_meta()
        self.log("relink image", image=image_id, old=old, new=str(path),
                 images=[other.id for other in moved])
        return [self.image(other.id) for other in moved]

    def _saved_labels_shape(self, image_id: str) -> tuple[int, ...] | None:
        """The shape of the image's labels as the project keeps them: live, saved (or its
        reviewed marks'), else as recorded; None when nothing says."""
        live = self.live_labels(image_id)
        if live is not None:
            return tuple(live.shape)
        disk = self._disk_shapes(image_id)
        return disk.get("labels") or disk.get("reviewed.npz") or self.image(image_id).shape

    def find_image(self, name: str, source: str | None = None) -> ImageRef | None:
        """The project image that an open image layer called ``name`` (read from the file
        ``source``, when known) stands for: the one of that name, from that file when both
        files are known. (Not by file alone: the channels of one file split into layers
        share it.)"""
        for ref in self.images:
            if ref.name == name and (not source or not ref.path or self.same_file(ref, source)):
                return ref
        return None

    def same_file(self, ref: ImageRef, source: str) -> bool:
        """Is ``source`` (a path) the file of the project image ``ref``? The same file
        reached another way (through a symlinked folder, a hard link, ``..``) is: an image
        opened as ``real/img.tif`` was not found as the project's ``link/img.tif``, opened
        a second time and its corrections left behind."""
        if ref.path == source:
            return True
        return same_path(self.resolve_image_path(ref.id), Path(source))

    def image(self, image_id: str) -> ImageRef:
        for ref in self.images:
            if ref.id == image_id:
                return ref
        raise KeyError(f"project has no image {image_id!r}")

    def resolve_image_path(self, image_id: str) -> Path:
        """The image file's path; relative references are relative to the project folder."""
        path = Path(self.image(image_id).path)
        return path if path.is_absolute() else self.path / path


def same_path(a: Path, b: Path) -> bool:
    """Do ``a`` and ``b`` name the same file: the same inode where both exist, else the
    same path once the symlinks that exist along it are followed (a file gone: its path
    through the link still names it)."""
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # (one is missing, or cannot be reached)
        pass
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):  # (a symlink loop)
        return False
