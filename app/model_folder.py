"""Reading and checking a model folder (``config.json`` + ``model.safetensors`` + ``card.md``).
Listing reads configs without torch, so that it is instant; nothing is ever unpickled.
:func:`check_model_folder` is the one check a folder passes before it is imported or
chosen (it builds the config's network on torch's meta device: no weights are loaded).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unet_studio.app.atomic import TEMP_PREFIX, atomic_write_bytes, atomic_write_json
from unet_studio.app.errors import InputFileError
from unet_studio.app.weights_header import WEIGHTS_FILE, check_safetensors_header
from unet_studio.models.files import usual_folder_mode
from unet_studio.models.weights import IDENTITY_KEY  # (torch-free: torch is imported where used)

log = logging.getLogger(__name__)

MODEL_FORMAT = "unet-studio-model"
SUPPORTED_FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
CARD_FILE = "card.md"
# What an import copies; anything else (pickled checkpoints, scripts) stays behind.
COPIED_SUFFIXES = (".json", ".safetensors", ".md", ".png", ".txt", ".yaml")


@dataclass(frozen=True)
class ModelInfo:
    """A model as the Models panel lists it, read from its ``config.json``.

    ``ref``: "<source>:<folder name>", the stable handle (e.g. "bundled:default");
    ``source``: "bundled", "user", "project" or "folder" (a folder chosen by path).
    Card fields come from ``config.json["metadata"]``: ``training_data``, ``metrics``,
    ``parent`` (a ref, name or path of the model it was fine-tuned from), ``date``.
    ``weights_sha256``: the weights' identity recorded at save (None in older folders:
    ``model_identity`` hashes their weights); ``parent_weights_sha256``: the parent's, as
    its lineage recorded it (None before identities were recorded).
    """

    ref: str
    name: str
    source: str
    path: Path
    architecture: str
    architecture_config: dict = field(default_factory=dict)
    task: dict = field(default_factory=dict)
    training_data: Any = None
    metrics: dict = field(default_factory=dict)
    parent: str | None = None
    date: str | None = None
    description: str = ""
    metadata: dict = field(default_factory=dict)
    weights_sha256: str | None = None
    parent_weights_sha256: str | None = None

    @property
    def lasting_ref(self) -> str:
        """What a record that must find this model again later writes (a lineage's parent,
        the default model): its ``ref``, but the path of a folder chosen by path, whose ref
        ("folder:tiny") no library resolves."""
        return str(self.path) if self.source == "folder" else self.ref

    @property
    def card_path(self) -> Path | None:
        card = self.path / CARD_FILE
        return card if card.is_file() else None

    def card_text(self) -> str:
        """The model card (markdown), or a short one built from the config."""
        if self.card_path is not None:
            return self.card_path.read_text("utf-8", errors="replace")
        lines = [f"# {self.name}", "", f"Architecture: {self.architecture}"]
        if self.training_data:
            lines.append(f"Training data: {self.training_data}")
        if self.metrics:
            lines.append("Metrics: " + ", ".join(f"{k} {v}" for k, v in self.metrics.items()))
        if self.parent:
            lines.append(f"Parent: {self.parent}")
        if self.date:
            lines.append(f"Date: {self.date}")
        return "\n".join(lines) + "\n"


def read_model_config(folder: str | Path) -> dict:
    """The validated ``config.json`` of a model folder; InputFileError naming the problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "is not a model folder")
    path = folder / CONFIG_FILE
    try:
        config = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise InputFileError(folder, f"is not a model folder ({CONFIG_FILE} missing)") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputFileError(path, f"is not valid JSON ({error})") from None
    _check_config(path, config)
    return config


def check_model_folder(folder: str | Path) -> dict:
    """Check a folder before it is imported or becomes the current model: its config is
    valid, its weights a safetensors file that is whole, and every tensor the shape the
    config's network needs. Reads the config and the weights' header only (milliseconds,
    whatever the model's size); InputFileError naming the file and the problem. Returns the
    config."""
    folder = Path(folder)
    config = read_model_config(folder)
    header = check_safetensors_header(folder / WEIGHTS_FILE)
    _check_weights_fit_config(folder, config, header)
    return config


def _check_weights_fit_config(folder: Path, config: dict, header: dict) -> None:
    """InputFileError when the config builds no network (an unknown option, a wrong type),
    or the weights are not that network's (another architecture's, other channels)."""
    from unet_studio.models.weights import config_shapes, shapes_mismatch

    config_path = folder / CONFIG_FILE
    try:
        expected = config_shapes(config, config_path)
    except ValueError as error:  # ("<config.json>: problem", as when loading)
        raise InputFileError(config_path, str(error).removeprefix(f"{config_path}: ")) from None
    found = {name: entry["shape"] for name, entry in header.items() if name != "__metadata__"}
    problem = shapes_mismatch(expected, found)
    if problem:
        raise InputFileError(folder / WEIGHTS_FILE, problem)


def model_info(folder: str | Path, *, source: str, config: dict | None = None) -> ModelInfo:
    """The :class:`ModelInfo` of a model folder (config read and validated if not given)."""
    folder = Path(folder)
    config = config if config is not None else read_model_config(folder)
    architecture = dict(config["architecture"])
    meta = config.get("metadata") or {}
    parent = meta.get("parent", meta.get("parent_model"))
    parent_identity = None
    if isinstance(parent, dict):
        parent_identity = parent.get(IDENTITY_KEY)
        parent = parent.get("ref") or parent.get("name") or parent.get("path")
    return ModelInfo(
        ref=f"{source}:{folder.name}",
        name=str(meta.get("name") or folder.name),
        source=source,
        path=folder,
        architecture=str(architecture.pop("name")),
        architecture_config=architecture,
        task=dict(config.get("task") or {}),
        training_data=meta.get("training_data", meta.get("data_summary", meta.get("data"))),
        metrics=dict(meta.get("metrics") or {}),
        parent=None if parent is None else str(parent),
        date=_as_text(meta.get("date", meta.get("created"))),
        description=str(meta.get("description") or ""),
        metadata=dict(meta),
        weights_sha256=_identity_text(config.get(IDENTITY_KEY)),
        parent_weights_sha256=_identity_text(parent_identity),
    )


def copy_model_folder(source: Path, target: Path, *, edit: Callable[[Path], Any] | None = None):
    """Copy the model's files (see COPIED_SUFFIXES) into a temp folder beside ``target``,
    ``edit(temp)`` them there (a copy's new name), then rename it into place, so a
    half-copied model never appears in a list (nor in an export's destination)."""
    temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=target.parent))
    try:
        for entry in source.iterdir():
            if entry.is_file() and entry.suffix.lower() in COPIED_SUFFIXES:
                shutil.copy2(entry, temp / entry.name)
            else:
                log.info("not copying %s (not part of a model folder)", entry)
        if edit is not None:
            edit(temp)
        usual_folder_mode(temp)  # (mkdtemp makes it 0700: colleagues could not list it)
        os.rename(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def write_model_name(folder: Path, name: str, **metadata) -> dict[Path, bytes]:
    """Set the name a model is listed under (``config.json``'s ``metadata.name``, plus any
    ``metadata`` given) and the title of its card (``model_card_title``: a copy's card,
    ``copied_from`` given or recorded, also says whose notes it holds). Each file is
    replaced atomically (and put back if another fails); returns their former bytes for
    :func:`restore_files`."""
    from unet_studio.app.model_card_title import retitled_card

    config = read_model_config(folder)
    meta = dict(config.get("metadata") or {})
    config["metadata"] = {**meta, "name": name, **metadata}
    copied_from = config["metadata"].get("copied_from")
    copy = {"copied_from": copied_from if isinstance(copied_from, str) else None,
            # (the original's name: known when the copy is made, its config still the original's)
            "copied_name": str(meta.get("name") or folder.name) if "copied_from" in metadata else None}
    if isinstance(meta.get("card"), str):  # (the card as saved with the weights)
        config["metadata"]["card"] = retitled_card(meta["card"], name, **copy)
    text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    changes = {folder / CONFIG_FILE: text.encode("utf-8")}
    card_path = folder / CARD_FILE
    if card_path.is_file():
        card = card_path.read_text("utf-8", errors="replace")
        if retitled_card(card, name, **copy) != card:
            changes[card_path] = retitled_card(card, name, **copy).encode("utf-8")
    originals = {}
    try:
        for path, data in changes.items():
            original = path.read_bytes()
            atomic_write_bytes(path, data)
            originals[path] = original
    except BaseException:
        restore_files(originals)
        raise
    return originals


def restore_files(originals: dict[Path, bytes]) -> None:
    """Put back files as :func:`write_model_name` found them."""
    for path, data in originals.items():
        atomic_write_bytes(path, data)


def relink_parent(folder: Path, parent: ModelInfo) -> None:
    """Point a model's lineage (``metadata.parent``) at ``parent``, its parent under a new
    name: the record's ref, name and path, or a bare reference kept a path or a ref."""
    config = read_model_config(folder)
    meta = config["metadata"]
    key = "parent" if "parent" in meta else "parent_model"
    old = meta[key]
    if isinstance(old, dict):
        meta[key] = {**old, "ref": parent.lasting_ref, "name": parent.name,
                     "path": str(parent.path)}
        if IDENTITY_KEY in old:  # (a grandparent, when the parent was removed: its identity)
            from unet_studio.app.model_identity import identity_of  # (which imports this module)

            meta[key][IDENTITY_KEY] = identity_of(parent)
    else:
        meta[key] = (str(parent.path) if ("/" in str(old) or os.sep in str(old))
                     else parent.lasting_ref)
    # (the card's "fine-tuned from `old`" follows, in config.json and in card.md, which an
    # export carries along)
    was = f"fine-tuned from `{old.get('name') or old.get('path')}`" if isinstance(old, dict) else None
    now = f"fine-tuned from `{parent.name}`"
    if was and isinstance(meta.get("card"), str):
        meta["card"] = meta["card"].replace(was, now)
    atomic_write_json(folder / CONFIG_FILE, config)
    card_path = folder / CARD_FILE
    if was and card_path.is_file():
        card = card_path.read_text("utf-8", errors="replace")
        if was in card:
            atomic_write_bytes(card_path, card.replace(was, now).encode("utf-8"))


def _check_config(path: Path, config) -> None:
    if not isinstance(config, dict) or config.get("format") != MODEL_FORMAT:
        raise InputFileError(
            path, f"is not a unet-studio model config (format must be {MODEL_FORMAT!r})"
        )
    version = config.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= SUPPORTED_FORMAT_VERSION:
        raise InputFileError(
            path,
            f"has format_version {version!r}; this version reads "
            f"1 to {SUPPORTED_FORMAT_VERSION}; update unet-studio",
        )
    architecture = config.get("architecture")
    if not isinstance(architecture, dict) or not isinstance(architecture.get("name"), str):
        raise InputFileError(path, "has no architecture name")
    for key in ("task", "metadata"):
        if config.get(key) is not None and not isinstance(config[key], dict):
            raise InputFileError(path, f"has a {key!r} entry that is not an object")
    _check_task(path, config.get("task"))
    metrics = (config.get("metadata") or {}).get("metrics")
    if metrics is not None and not isinstance(metrics, dict):
        raise InputFileError(path, "has metadata 'metrics' that are not an object")


def _check_task(path: Path, task: dict | None) -> None:
    """The task as the engine reads it (TaskSpec, torch-free): the panels read its axes
    before any network is built, so a wrong type must be refused here, naming the file."""
    from unet_studio.models.task import TaskSpec

    if not task:
        return
    try:
        TaskSpec.from_dict(task)
    except (TypeError, ValueError) as error:
        raise InputFileError(path, f"has a task that cannot be used ({error})") from None


def _as_text(value) -> str | None:
    return None if value is None else str(value)


def _identity_text(value) -> str | None:
    """A recorded identity (a hex digest), None where none is, or it is no text (edited by
    hand): such a model is compared as an older one is, by its weights' hash."""
    return value.lower() if isinstance(value, str) and value else None
