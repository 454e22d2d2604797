"""The images of a project: the list of image files it refers to (never copies), with what
the user chose of each (axes, channel, name), found again by the layer that shows them.
Mixed into ``Project``."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from unet_studio.app.project_images import ImageRef, new_image_id


class ProjectImageList:
    """Uses the project's ``images`` (ImageRefs), ``path``, ``_save_meta`` and ``log``."""

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
