"""The models a user can pick: the bundled default, their own, and the project's.

* bundled: ``unet_studio/resources/models/<name>/`` (read-only; the default is "default");
* user: ``$UNET_STUDIO_HOME/models/`` (``~/.unet-studio/models/`` without the variable);
* project: ``<project>/models/`` (fine-tuned rounds, with their lineage).

A model is referred to by ``"<source>:<folder name>"`` (e.g. ``"user:nuclei-v2"``); a bare
name or a folder path works too. Listing reads ``config.json`` files only (no torch);
:meth:`ModelLibrary.load` builds the network. The chosen default is kept in
``$UNET_STUDIO_HOME/settings.json``.
"""

from __future__ import annotations

import logging
import os
import shutil
from contextlib import suppress
from itertools import takewhile
from pathlib import Path

from unet_studio.app.atomic import atomic_write_json
from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.model_checks import check_segments_images
from unet_studio.app.model_folder import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    ModelInfo,
    check_safetensors_header,
    copy_model_folder,
    model_info,
    relink_parent,
    restore_files,
    validate_model_folder,
    write_model_name,
)
from unet_studio.app.model_names import (
    check_model_name,
    copy_name,
    model_folder_name,
    note_rename,
)
from unet_studio.app.settings import read_settings, settings_path

log = logging.getLogger(__name__)

SOURCES = ("project", "user", "bundled")  # search order for bare names: most specific first
DEFAULT_BUNDLED = "bundled:default"
RENAMED = "renamed_models"  # settings key: user models' old refs and folders -> their ref now


def user_home() -> Path:
    """``$UNET_STUDIO_HOME``, or ``~/.unet-studio``."""
    return Path(os.environ.get("UNET_STUDIO_HOME") or Path.home() / ".unet-studio")


def bundled_models_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "resources" / "models"


class ModelLibrary:
    """Lists, imports, exports, renames, duplicates and picks models. Cheap to create;
    reads folders on demand."""

    def __init__(
        self, *, home: str | Path | None = None, project_models_dir=None, bundled_dir=None
    ):
        self.home = Path(home) if home is not None else user_home()
        self.folders = {
            "bundled": Path(bundled_dir) if bundled_dir is not None else bundled_models_dir(),
            "user": self.home / "models",
            "project": Path(project_models_dir) if project_models_dir is not None else None,
        }
        self.problems: list[str] = []  # folders that look like models but could not be read

    @property
    def settings_path(self) -> Path:
        return settings_path(self.home)

    def list(self) -> list[ModelInfo]:
        """Every readable model: bundled, then user, then project, each sorted by name."""
        self.problems = []
        models = []
        for source in ("bundled", "user", "project"):
            folder = self.folders[source]
            if folder is None or not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                if entry.name.startswith(".") or not (entry / CONFIG_FILE).is_file():
                    continue
                try:
                    models.append(model_info(entry, source=source))
                except InputFileError as error:
                    self.problems.append(str(error))
        return models

    def get(self, model: str | Path) -> ModelInfo:
        """Find a model by ref ("user:name"), bare name, or folder path; UserError if none."""
        text = str(model)
        source, _, name = text.partition(":")
        if source in SOURCES and name and self.folders[source] is not None:
            folder = self.folders[source] / name
            if (folder / CONFIG_FILE).is_file():
                return model_info(folder, source=source)
        elif not (os.sep in text or "/" in text):
            for source in SOURCES:
                folder = self.folders[source]
                if folder is not None and (folder / text / CONFIG_FILE).is_file():
                    return model_info(folder / text, source=source)
        path = Path(text).expanduser()
        if (path / CONFIG_FILE).is_file():
            return model_info(path, source=self._source_of(path))
        renamed = self._renamed_to(text)
        if renamed is not None:
            return renamed
        raise UserError(
            f"no model {text!r}; choose one of: {', '.join(m.ref for m in self.list())}"
        )

    def default(self) -> ModelInfo | None:
        """The chosen default if it still exists, else the bundled default, else None."""
        chosen = self._settings().get("default_model")
        for candidate in (chosen, DEFAULT_BUNDLED):
            if candidate:
                try:
                    return self.get(candidate)
                except (UserError, InputFileError):
                    log.info("default model %r is not available", candidate)
        return None

    def set_default(self, model: str | Path) -> ModelInfo:
        """Make ``model`` the default (remembered in the settings file)."""
        info = self.get(model)
        settings = self._settings()
        settings["default_model"] = info.ref if info.source != "folder" else str(info.path)
        self.home.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.settings_path, settings)
        return info

    def import_model(self, folder: str | Path, *, name: str | None = None, to: str = "user"):
        """Copy a validated model folder into the user (or project) models; a name already
        taken gets a numeric suffix. Returns the imported model's :class:`ModelInfo`.

        The network is built and its weights loaded first (imports torch; seconds for a big
        one: call it off the GUI thread), so that a folder that cannot segment anything is
        refused here, naming its file, and not at the first Run."""
        folder = Path(folder)
        validate_model_folder(folder)
        _check_loads(folder)
        target_root = self.folders.get(to) if to in ("user", "project") else None
        if target_root is None:
            raise UserError(f"cannot import into {to!r}; use 'user' or a library with a project")
        target_root.mkdir(parents=True, exist_ok=True)
        target = _free_name(target_root, name or folder.name)
        copy_model_folder(folder, target)
        return model_info(target, source=to)

    def export_model(self, model: str | Path, destination: str | Path) -> Path:
        """Copy a model to ``destination``: a new folder, or an existing folder (not itself a
        model) to put it in. Returns the new model folder; never overwrites."""
        info = self.get(model)
        destination = Path(destination)
        if destination.is_dir() and not (destination / CONFIG_FILE).exists():
            destination = destination / info.path.name
        if destination.exists():
            raise UserError(f"{destination} already exists; choose another place to export to")
        made = list(takewhile(lambda folder: not folder.exists(), destination.parents))
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            copy_model_folder(info.path, destination)
        except BaseException:
            for folder in made:  # deepest first: the folders made for this export go too
                with suppress(OSError):
                    folder.rmdir()  # (only while empty)
            raise
        return destination

    def remove_model(self, model: str | Path) -> None:
        """Delete a user or project model (bundled ones are read-only). Models fine-tuned
        from it are relinked to its own parent: their lineage (Roll back, the card) skips
        it instead of ending there."""
        info = self.get(model)
        if info.source not in ("user", "project"):
            raise UserError(f"{info.ref} is not a user or project model and cannot be removed")
        children = [m for m in self.list() if self._is_parent_of(info, m)]
        try:
            grandparent = self.get(info.parent) if info.parent else None
        except (UserError, InputFileError):
            grandparent = None
        shutil.rmtree(info.path)
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

    def lineage(self, model: str | Path) -> list[ModelInfo]:
        """The model, its parent, its parent's parent, ... as far as they can be found (the
        last one's ``parent`` names the first missing ancestor, if any)."""
        chain = [self.get(model)]
        seen = {chain[0].path.resolve()}
        while chain[-1].parent:
            try:
                parent = self.get(chain[-1].parent)
            except UserError:
                break
            if parent.path.resolve() in seen:
                break  # a cycle in hand-edited metadata
            seen.add(parent.path.resolve())
            chain.append(parent)
        return chain

    def load(self, model: str | Path, *, device: str = "cpu"):
        """Build the network with its weights (imports torch). Never unpickles. UserError,
        before anything is built, for a model that cannot segment images (a 1D one: see
        ``model_checks``): the Segment and Train panels and the command line load here."""
        from unet_studio.models.weights import load_model

        info = self.get(model)
        check_segments_images(info)
        # (its weights missing: the message says what to do with a pickled model.pt beside)
        check_safetensors_header(info.path / WEIGHTS_FILE)
        try:
            return load_model(info.path, device=device)
        except ValueError as error:  # names the file and the problem
            raise InputFileError(info.path, f"cannot be loaded: {error}") from None

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
        if target.exists() and (own is None or not _same_folder(target, own)):
            raise UserError(f"{target} already exists; choose another name")

    def _is_parent_of(self, info: ModelInfo, child: ModelInfo) -> bool:
        if not child.parent or child.source not in ("user", "project"):
            return False  # (a bundled model is read-only)
        try:
            return self.get(child.parent).path == info.path
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

    def _renamed_to(self, text: str, seen: frozenset = frozenset()) -> ModelInfo | None:
        """The model a user model once known as ``text`` (a ref or folder path) was renamed
        to, if it still exists (``note_rename``)."""
        target = (self._settings().get(RENAMED) or {}).get(text)
        if not isinstance(target, str) or target in seen:
            return None
        try:
            return self.get(target)
        except UserError:
            return self._renamed_to(target, seen | {text})

    def _source_of(self, path: Path) -> str:
        for source, folder in self.folders.items():
            if folder is not None and path.resolve().parent == folder.resolve():
                return source
        return "folder"

    def _settings(self) -> dict:
        return read_settings(self.home)


def _relink(children: list[ModelInfo], parent: ModelInfo, was: ModelInfo) -> None:
    """The ``children`` of ``was`` (renamed or removed) name ``parent`` as theirs now. One
    that cannot be rewritten is logged, not fatal: the rename or removal itself is done."""
    for child in children:
        try:
            relink_parent(child.path, parent)
        except (OSError, UserError) as error:
            log.warning("%s still names its parent %s: %s", child.path, was.ref, error)


def where_listed(info: ModelInfo, models: list[ModelInfo]) -> str:
    """What a list of models shows beside a model's name: its source ("user"), or its ref
    ("user:nuclei-2") where another model of that source has the same name (a model
    imported twice), so that two entries never read the same."""
    twins = [m for m in models if m.name == info.name and m.source == info.source]
    return info.ref if len(twins) > 1 else info.source


def _same_folder(path: Path, other: Path) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def _check_loads(folder: Path) -> None:
    """UserError naming the file when the config builds no network of the family or the
    weights do not fit it (another architecture's weights, a wrong type in config.json)."""
    from unet_studio.models.weights import load_model

    try:
        load_model(folder)
    except ValueError as error:  # (its message starts with the file at fault)
        raise UserError(f"{error} (not imported)") from None


def _free_name(root: Path, name: str) -> Path:
    base = model_folder_name(name)
    candidate, n = root / base, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{base}-{n}"
    return candidate
