"""The models a user can pick: the bundled default, their own, and the project's.

* bundled: ``unet_studio/resources/models/<name>/`` (read-only; the default is "default");
* user: ``$UNET_STUDIO_HOME/models/`` (``~/.unet-studio/models/`` without the variable);
* project: ``<project>/models/`` (fine-tuned rounds, with their lineage).

A model is referred to by ``"<source>:<folder name>"`` (e.g. ``"user:nuclei-v2"``); a bare
name or a folder path works too. A ref stored with the model's identity (``model_identity``)
is followed by :meth:`ModelLibrary.find`: in another user's library the name may be another
model's. Listing reads ``config.json`` files only (no torch);
:meth:`ModelLibrary.load` builds the network. The chosen default is kept in
``$UNET_STUDIO_HOME/settings.json``.
"""

from __future__ import annotations

import logging
import os
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
    check_model_folder,
    check_safetensors_header,
    copy_model_folder,
    model_info,
    read_model_config,
    write_model_name,
)
from unet_studio.app.model_identity import NotThisModel, identity_of, with_identity
from unet_studio.app.model_library_edits import (
    RENAMED,
    AlreadyInLibrary,
    ModelLibraryEdits,
    free_model_name,
    same_model_in,
)
from unet_studio.app.model_names import rename_keys
from unet_studio.app.settings import read_settings, settings_path

log = logging.getLogger(__name__)

SOURCES = ("project", "user", "bundled")  # search order for bare names: most specific first
DEFAULT_BUNDLED = "bundled:default"
CHECKPOINTS = ".checkpoints"  # what an unfinished ``finetune -o FOLDER`` run has written


def user_home() -> Path:
    """``$UNET_STUDIO_HOME``, or ``~/.unet-studio``."""
    return Path(os.environ.get("UNET_STUDIO_HOME") or Path.home() / ".unet-studio")


def bundled_models_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "resources" / "models"


class NoSuchModel(UserError):
    """No model of that ref, name or path. Its message lists the models there are, built
    only when it is shown: listing them checks every model's weights header, and the
    history's entries of removed models raise this by the hundred as a panel refreshes
    (measured: 25 s per model change in a project of 100 removed rounds and 30 versions)."""

    def __init__(self, text: str, library: ModelLibrary):
        super().__init__(f"no model {text!r}")
        self.text, self._library = text, library

    def __str__(self) -> str:
        return f"no model {self.text!r}; {self._library._choices_text()}"

    def __reduce__(self):  # (sent to another process: as the plain error it reads as)
        return UserError, (str(self),)


class ModelLibrary(ModelLibraryEdits):
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
        self.unreadable: list[tuple] = []  # (ref, folder, InputFileError) of those, by list()

    @property
    def settings_path(self) -> Path:
        return settings_path(self.home)

    def list(self) -> list[ModelInfo]:
        """Every readable model: bundled, then user, then project, each sorted by name."""
        self.problems = []
        self.unreadable = []
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
                    self.unreadable.append((f"{source}:{entry.name}", entry, error))
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
        if (path / CHECKPOINTS).is_dir():  # (a finetune's -o folder, before it saved)
            raise UserError(f"unfinished fine-tuning run in {path}: run the same finetune "
                            "again to finish it")
        if path.is_dir():  # a folder, but no model's: said as Import says it (config.json missing)
            return model_info(path, source=self._source_of(path), config=read_model_config(path))
        raise NoSuchModel(text, self)

    def find(self, model: str | Path, identity: str | None = None) -> ModelInfo:
        """The model ``model`` (a ref, name or path, as :meth:`get`) was recorded as, when
        its ``identity`` was recorded with it: the model with that identity, the ref's own
        if it has it, else one found by it (project models first: e.g. an imported copy,
        "user:nuclei-A-2"). NotThisModel (a UserError naming the ref) where the ref names
        another model and none has the identity; the ref's UserError where it names none.
        Without ``identity`` (recorded before identities were), :meth:`get`."""
        if not isinstance(identity, str) or not identity:
            return self.get(model)
        try:
            info = self.get(model)
        except UserError as missing:
            info, error = None, missing
        else:
            if identity_of(info) == identity.lower():
                return info
            error = NotThisModel(str(model))
        found = with_identity(self.list(), identity.lower())
        if found is None:
            raise error
        return found

    def checked(self, model: str | Path | ModelInfo) -> ModelInfo:
        """The model ``model`` names (see :meth:`get`; or a ModelInfo), checked as Import
        checks a folder before it becomes anyone's current model: config valid, weights
        whole and of the config's network (``check_model_folder``: the weights' header is
        read, not the weights), and a model that segments images (2D or 3D). UserError or
        InputFileError naming the file and the problem."""
        info = model if isinstance(model, ModelInfo) else self.get(model)
        check_model_folder(info.path)
        check_segments_images(info)
        return info

    def _choices_text(self) -> str:
        """"choose one of: a, b; not usable: c (config.json is not valid JSON)": the models
        found, those whose files are damaged apart, checked cheaply (config and the weights'
        header, no weights loaded)."""
        usable, broken = [], []
        for info in self.list():
            try:
                check_safetensors_header(info.path / WEIGHTS_FILE)
                usable.append(info.ref)
            except InputFileError as error:
                broken.append((info.ref, info.path, error))
        broken += self.unreadable
        text = f"choose one of: {', '.join(usable)}"
        if broken:
            text += "; not usable: " + ", ".join(
                f"{ref} ({_problem_in(folder, error)})" for ref, folder, error in broken)
        if self.folders.get("project") is None:  # (the CLI: a GUI round's model is not listed)
            text += "; or a project's model by its folder: PROJECT/models/NAME"
        return text

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
        settings["default_model"] = info.lasting_ref
        self.home.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.settings_path, settings)
        return info

    def import_model(self, folder: str | Path, *, name: str | None = None, to: str = "user"):
        """Copy a validated model folder into the user (or project) models, under its own
        name (or ``name``). Returns the imported model's :class:`ModelInfo`.

        Where a model there has that name, the copy is named "<name>-2" (listed name, card
        title and folder: Rename refuses two models of one name, so Import makes none).
        Where the very same model is there already (the same network and task, and the same
        weights: its identity), nothing is copied: AlreadyInLibrary (a UserError) names it.

        The folder is checked first (``check_model_folder``: its config builds a network and
        the weights' header fits it; imports torch: call it off the GUI thread, as the copy
        of a big model takes seconds anyway), so that a folder that cannot segment anything is
        refused here, naming its file, and not at the first Run."""
        folder = Path(folder)
        check_model_folder(folder)
        target_root = self.folders.get(to) if to in ("user", "project") else None
        if target_root is None:
            raise UserError(f"cannot import into {to!r}; use 'user' or a library with a project")
        incoming = model_info(folder, source="folder")
        present = [info for info in self.list() if info.source == to]
        same = same_model_in(present, incoming)
        if same is not None:
            raise AlreadyInLibrary(same)
        target_root.mkdir(parents=True, exist_ok=True)
        # (its folder by the model's own name: an export's folder is often just "export")
        new_name, target = free_model_name(target_root, name or incoming.name,
                                           {info.name.casefold() for info in present})
        renamed = new_name != incoming.name
        copy_model_folder(folder, target,
                          edit=(lambda temp: write_model_name(temp, new_name)) if renamed else None)
        if renamed and name is None:
            log.info("a model named %r is already in the %s models: imported as %r",
                     incoming.name, to, new_name)
        return model_info(target, source=to)

    def export_model(self, model: str | Path, destination: str | Path) -> Path:
        """Copy a model to ``destination``: a new folder, or an existing folder (not itself a
        model) to put it in, without the owner's folders in its config (``model_share``).
        Returns the new model folder; never overwrites."""
        from unet_studio.app.model_share import strip_owner_paths

        info = self.get(model)
        destination = Path(destination)
        if destination.is_dir() and not (destination / CONFIG_FILE).exists():
            destination = destination / info.path.name
        if destination.exists():
            raise UserError(f"{destination} already exists; choose another place to export to")
        made = list(takewhile(lambda folder: not folder.exists(), destination.parents))
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            copy_model_folder(info.path, destination, edit=strip_owner_paths)
        except BaseException:
            for folder in made:  # deepest first: the folders made for this export go too
                with suppress(OSError):
                    folder.rmdir()  # (only while empty)
            raise
        return destination

    def lineage(self, model: str | Path) -> list[ModelInfo]:
        """The model, its parent, its parent's parent, ... as far as they can be found (the
        last one's ``parent`` names the first missing ancestor, if any: also one whose ref
        names another model here, see :meth:`find`)."""
        chain = [self.get(model)]
        seen = {chain[0].path.resolve()}
        while chain[-1].parent:
            try:  # (a parent recorded with its identity is that model, not its name's)
                parent = self.find(chain[-1].parent, chain[-1].parent_weights_sha256)
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

        # (the same check as when the model was chosen, so a Run and the command line say
        # what Folder… and Import say: weights missing, damaged, or not the config's network)
        info = self.checked(model)
        try:
            return load_model(info.path, device=device)
        except ValueError as error:  # names the file and the problem
            raise InputFileError(info.path, f"cannot be loaded: {error}") from None

    def _renamed_to(self, text: str, seen: frozenset = frozenset()) -> ModelInfo | None:
        """The model a user model once known as ``text`` (a ref or folder path) was renamed
        to, if it still exists (``note_rename``; a bare name as its user ref, see
        ``rename_keys``)."""
        renamed = self._settings().get(RENAMED) or {}
        target = next((renamed[key] for key in rename_keys(text)
                       if isinstance(renamed.get(key), str)), None)
        if target is None or target in seen:
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


def where_listed(info: ModelInfo, models: list[ModelInfo]) -> str:
    """What a list of models shows beside a model's name: its source ("user"), or its ref
    ("user:nuclei-2") where another model of that source has the same name (a model
    imported twice), so that two entries never read the same."""
    twins = [m for m in models if m.name == info.name and m.source == info.source]
    return info.ref if len(twins) > 1 else info.source


def _problem_in(folder: Path, error: InputFileError) -> str:
    """``error`` said of a file of the model ``folder`` ("config.json is not valid JSON"),
    without its details in parentheses: a list of models stays one line."""
    where = f"{error.path.name} " if error.path.parent == folder else ""
    return where + error.problem.split(" (", 1)[0]
