"""Changing the library's user and project models: removing, renaming, duplicating and
making room for a new one, with what refers to a model following it (the default setting,
the lineage of the models fine-tuned from it). Mixed into ``ModelLibrary``; apart from it
because listing and loading models only read, while these write folders and settings.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

from unet_studio.app.atomic import TEMP_PREFIX, atomic_write_json
from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.model_folder import (
    ModelInfo,
    copy_model_folder,
    model_info,
    relink_parent,
    restore_files,
    write_model_name,
)
from unet_studio.app.model_identity import identity_of
from unet_studio.app.model_names import check_model_name, copy_name, model_folder_name, note_rename

log = logging.getLogger(__name__)

RENAMED = "renamed_models"  # settings key: user models' old refs and folders -> their ref now


class ModelLibraryEdits:
    """Uses the library's ``get``, ``find``, ``list``, ``folders``, ``settings_path`` and
    ``_settings``."""

    def remove_model(self, model: str | Path) -> None:
        """Delete a user or project model (bundled ones are read-only). Models fine-tuned
        from it are relinked to its own parent: their lineage (Roll back, the card) skips
        it instead of ending there."""
        info = self.get(model)
        if info.source not in ("user", "project"):
            raise UserError(f"{info.ref} is not a user or project model and cannot be removed")
        children = [m for m in self.list() if self._is_parent_of(info, m)]
        try:  # (the parent recorded with its identity: not merely a model of its name)
            grandparent = self.find(info.parent, info.parent_weights_sha256) if info.parent else None
        except (UserError, InputFileError):
            grandparent = None
        delete_model_folder(info.path)
        if grandparent is not None:
            _relink(children, grandparent, info)

    def rename_model(self, model: str | Path, new_name: str) -> ModelInfo:
        """Rename a user or project model: its listed name and its folder (the name made
        safe). What refers to it follows: the default model setting and the lineage of the
        library's models fine-tuned from it. Returns the renamed model's ModelInfo.

        The name is written first (atomically), then the folder renamed in one step: a
        crash leaves the model whole, under its old folder or its new one, never split."""
        info = self.get(model)
        if info.source not in ("user", "project"):
            hint = ("duplicate it and rename the copy" if info.source == "bundled"
                    else "import it first")
            raise UserError(f"{info.ref} is read-only and cannot be renamed; {hint}")
        name = check_model_name(new_name)
        target = info.path.parent / model_folder_name(name)
        self._refuse_taken(name, target, info.source, info.path)
        children = [m for m in self.list() if self._is_parent_of(info, m)]
        originals = {}
        try:
            originals = write_model_name(info.path, name)
            if target != info.path:
                os.rename(info.path, target)
        except OSError as error:
            restore_files(originals)  # (the folder kept its name: all is as it was)
            raise UserError(f"cannot rename {info.path} to {target.name}: "
                            f"{error.strerror or error}") from None
        renamed = model_info(target, source=info.source)
        self._follow_rename(info, renamed, children)
        return renamed

    def duplicate_model(self, model: str | Path) -> ModelInfo:
        """Copy a model under the first free name of "<name> copy", "<name> copy 2", ...: a
        user or project model beside itself, a bundled one into the user's models. The copy
        is made in a temp folder and renamed into place (never half a folder)."""
        info = self.get(model)
        source = info.source if info.source in ("user", "project") else "user"
        root = self.folders[source]
        root.mkdir(parents=True, exist_ok=True)
        names = {m.name.casefold() for m in self.list() if m.source == source}
        name = copy_name(info.name, root, lambda candidate: candidate.casefold() in names)
        target = root / model_folder_name(name)
        copy_model_folder(info.path, target,
                          edit=lambda temp: write_model_name(temp, name, copied_from=info.ref))
        return model_info(target, source=source)

    def new_model_folder(self, name: str, to: str = "user") -> tuple[str, Path]:
        """The checked name and the folder of a new model called ``name`` in the user's (or
        the project's) models: the rules and the clash check of :meth:`rename_model`, so
        that a model is never created under a name it could not be renamed to. UserError
        saying what is wrong. The folder is not made."""
        root = self.folders.get(to) if to in ("user", "project") else None
        if root is None:
            raise UserError(f"cannot create a model in {to!r}; use 'user' or a library with a project")
        name = check_model_name(name)
        target = root / model_folder_name(name)
        self._refuse_taken(name, target, to, None)
        return name, target

    def _refuse_taken(self, name: str, target: Path, source: str, own: Path | None) -> None:
        """UserError when another model of ``source`` than the one in folder ``own`` (None:
        a new model) has the name or the folder."""
        for other in self.list():
            if other.source == source and other.path != own and (
                    other.name.casefold() == name.casefold()
                    or other.path.name.casefold() == target.name.casefold()):
                raise UserError(f"a model named {other.name!r} already exists ({other.ref}); "
                                "choose another name")
        if target.exists() and (own is None or not same_folder(target, own)):
            raise UserError(f"{target} already exists; choose another name")

    def _is_parent_of(self, info: ModelInfo, child: ModelInfo) -> bool:
        """Whether ``child`` was fine-tuned from ``info``: its recorded parent is found as
        ``info`` by ref AND identity. A round copied from another user names its parent's
        ref ("user:nuclei-A"); this user's own model of that name is not its parent (a
        NotThisModel), so renaming or removing it leaves the round's record alone."""
        if not child.parent or child.source not in ("user", "project"):
            return False  # (a bundled model is read-only)
        try:
            return self.find(child.parent, child.parent_weights_sha256).path == info.path
        except (UserError, InputFileError):
            return False

    def _follow_rename(self, old: ModelInfo, new: ModelInfo, children: list[ModelInfo]) -> None:
        """The default setting and the children's lineage name the renamed model again. A
        child that cannot be rewritten is logged, not fatal: the rename itself is done."""
        settings = self._settings()
        before = dict(settings)
        if settings.get("default_model") in (old.ref, str(old.path)):
            settings["default_model"] = new.ref
        if old.source == "user":
            settings[RENAMED] = note_rename(settings.get(RENAMED) or {}, old, new)
        if settings != before:
            atomic_write_json(self.settings_path, settings)
        _relink(children, new, old)


def _relink(children: list[ModelInfo], parent: ModelInfo, was: ModelInfo) -> None:
    """The ``children`` of ``was`` (renamed or removed) name ``parent`` as theirs now. One
    that cannot be rewritten is logged, not fatal: the rename or removal itself is done."""
    for child in children:
        try:
            relink_parent(child.path, parent)
        except (OSError, UserError) as error:
            log.warning("%s still names its parent %s: %s", child.path, was.ref, error)


def delete_model_folder(folder: Path) -> None:
    """Delete a model folder: first renamed to a hidden temp name in one step (the library
    skips "." names), then deleted. A delete cut off (a kill, a file held open) never leaves
    half a model listed: the hidden rest of a project's model is swept when the project
    next opens (``project_repair``). UserError when the folder cannot be renamed (it stays whole)."""
    hidden = folder.with_name(f"{TEMP_PREFIX}removing-{uuid.uuid4().hex[:12]}")
    try:
        os.rename(folder, hidden)
    except OSError as error:
        raise UserError(f"cannot remove {folder}: {error.strerror or error}") from None
    try:
        shutil.rmtree(hidden)
    except OSError as error:  # (the model is gone from every list; only disk is left)
        log.warning("the removed model's files stay in %s: %s", hidden, error)


class AlreadyInLibrary(UserError):
    """The model imported is one the library has (the same network and weights): not
    copied again, so that a model shared twice is not listed twice."""

    def __init__(self, info: ModelInfo):
        where = "the project's models" if info.source == "project" else "your models"
        super().__init__(f"{info.name} is already in {where} as {info.ref} (the same "
                         "network and weights): not imported again")
        self.info = info


def same_model_in(models: list[ModelInfo], incoming: ModelInfo) -> ModelInfo | None:
    """The first of ``models`` that is ``incoming`` itself: the same architecture, options
    and task (what the weights mean) and the same identity (its weights' bytes; hashed only
    for a model of the same network whose config recorded none). Name, card and other
    metadata may differ: the model segments the same."""
    candidates = [info for info in models if _same_network(info, incoming)]
    if not candidates:
        return None
    identity = identity_of(incoming)
    if identity is None:
        return None
    return next((info for info in candidates if identity_of(info) == identity), None)


def _same_network(info: ModelInfo, other: ModelInfo) -> bool:
    return (info.architecture, info.architecture_config, info.task) == (
        other.architecture, other.architecture_config, other.task)


def free_model_name(root: Path, name: str, taken: set[str]) -> tuple[str, Path]:
    """``name``, else the first of "<name>-2", "<name>-3", ... that no model of ``root`` is
    called (``taken``: their names, casefolded) and whose folder no entry of ``root`` has
    (whatever its case): a name Rename would accept, with its folder."""
    present = {entry.name.casefold() for entry in root.iterdir()} if root.is_dir() else set()
    candidate, n = name, 1
    while (candidate.casefold() in taken
           or model_folder_name(candidate).casefold() in present):
        n += 1
        candidate = f"{name}-{n}"
    return candidate, root / model_folder_name(candidate)


def same_folder(path: Path, other: Path) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False
