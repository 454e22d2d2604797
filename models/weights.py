"""A model on disk: ``model.safetensors`` + ``config.json`` (+ ``card.md``).

``config.json``::

    {"format": "unet-studio-model", "format_version": 1,
     "architecture": {"name": ..., **ModelConfig.to_dict()},
     "task": TaskSpec.to_dict(), "metadata": {...}}

Loading reads tensors with safetensors and JSON with ``json``: nothing is ever unpickled.
Every file is written whole to a temporary name in the same folder, then all are renamed
into place, ``config.json`` last (``staged_files``).

``config.json["weights_sha256"]`` (written since it was introduced; absent in older folders)
is the SHA-256 of ``model.safetensors`` as saved: the model's identity, which a copy, an
export, an import, a rename or a duplicate keep, so that a ref recorded elsewhere (a
project's current model, a round's parent) can tell the same model from another one that
merely has its name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

from .staged_files import StagedFiles
from .task import TaskSpec

FORMAT = "unet-studio-model"
FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CARD_FILE = "card.md"
IDENTITY_KEY = "weights_sha256"  # (config.json's key of the weights' identity)

log = logging.getLogger(__name__)


def default_task(net) -> TaskSpec:
    """The task a net is assumed to do when none is given: instance segmentation for
    3 outputs (background, foreground, boundary), otherwise one semantic class per output."""
    axes = "ZYX"[-net.spatial_dims:]
    if net.out_channels == 3:
        return TaskSpec(kind="instance", spatial_axes=axes)
    names = tuple(f"class_{i}" for i in range(net.out_channels))
    return TaskSpec(kind="semantic", class_names=names, spatial_axes=axes)


def _check_task(net, task: TaskSpec) -> None:
    if task.out_channels != net.out_channels:
        raise ValueError(f"the task has {task.out_channels} classes but {net.name} has "
                         f"{net.out_channels} output channels")
    if len(task.spatial_axes) != net.spatial_dims:
        raise ValueError(f"task.spatial_axes={task.spatial_axes!r} does not fit a "
                         f"{net.spatial_dims}D network")


def save_model(net, directory, *, task: TaskSpec | None = None, metadata: dict | None = None,
               dtype=None) -> Path:
    """Writes ``net`` to ``directory`` (created if needed) and returns the directory.

    ``dtype`` (e.g. ``torch.float16``) converts floating-point tensors for a smaller file;
    loading casts them back to the network's float32. ``metadata["card"]`` (markdown) is also
    written to ``card.md``.
    """
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    task = task or getattr(net, "task", None) or default_task(net)
    _check_task(net, task)
    metadata = dict(metadata if metadata is not None else getattr(net, "metadata", None) or {})
    tensors = {}
    for key, value in net.state_dict().items():
        value = value.detach().cpu()
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        tensors[key] = value.contiguous()
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": {"name": net.name, **net.config.to_dict()},
        "task": task.to_dict(),
        "metadata": metadata,
    }
    # Every file written whole before any is replaced, the config put in place last
    # (``staged_files``): a model saved over another one, killed midway, leaves a folder
    # without a config (refused), never new weights under the old config and identity.
    with StagedFiles(directory) as staged:
        weights = staged.write(WEIGHTS_FILE, lambda p: _save_tensors(save_file, tensors, p))
        # (the file's hash, as a folder saved before this key existed is hashed when compared)
        document[IDENTITY_KEY] = weights_sha256(weights)
        text = json.dumps(document, indent=2, sort_keys=False) + "\n"
        staged.write(CONFIG_FILE, lambda p: p.write_text(text, encoding="utf-8"))
        if isinstance(metadata.get("card"), str):
            staged.write(CARD_FILE, lambda p: p.write_text(metadata["card"], encoding="utf-8"))
        # (a card of the model replaced would describe another model than this one)
        staged.commit(CONFIG_FILE, drop=(CARD_FILE,))
    log.info("saved %s (%d parameters) to %s", net.name, net.num_parameters(), directory)
    return directory


def weights_sha256(path) -> str:
    """The hex SHA-256 of a weights file's bytes (read in blocks; never loaded as tensors)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_identity(directory) -> str:
    """The identity of the model folder ``directory``: recorded in its config, else its
    weights file's hash (a folder saved before identities were recorded). OSError or
    ValueError when neither can be read."""
    directory = Path(directory)
    recorded = read_config(directory).get(IDENTITY_KEY)
    if isinstance(recorded, str) and recorded:
        return recorded.lower()
    return weights_sha256(directory / WEIGHTS_FILE)


def _save_tensors(save_file, tensors: dict, path: Path) -> None:
    """safetensors' ``save_file``, its I/O failures raised as the OSError they are: it
    raises its own SafetensorError ("Error while serializing: I/O error: No space left on
    device (os error 28)"), which is no OSError, so a full disk reached callers that
    handle one (a Train round waiting for Accept) as an unexpected crash."""
    try:
        save_file(tensors, str(path), metadata={"format": FORMAT})
    except Exception as error:
        code = re.search(r"\(os error (\d+)\)", str(error))
        if isinstance(error, OSError) or code is None:
            raise
        number = int(code.group(1))
        raise OSError(number, os.strerror(number), str(path)) from error


def read_config(directory) -> dict:
    """The parsed and checked ``config.json`` of a model folder (ValueError naming the file)."""
    path = Path(directory) / CONFIG_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no model config here (is {path.parent} a model folder?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable JSON model config ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path}: not a unet-studio model config (format must be {FORMAT!r})")
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{path}: format_version {version!r} is not supported "
                         f"(this version reads up to {FORMAT_VERSION})")
    if not isinstance(document.get("architecture"), dict) or "name" not in document["architecture"]:
        raise ValueError(f"{path}: 'architecture' with a 'name' is missing")
    return document


def _build(document: dict, path: Path):
    from .registry import build_model

    options = dict(document["architecture"])
    name = options.pop("name")
    try:
        net = build_model(name, **options)
        task = TaskSpec.from_dict(document["task"]) if document.get("task") else default_task(net)
        _check_task(net, task)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
    net.task = task
    net.metadata = dict(document.get("metadata") or {})
    return net


def _read_tensors(path: Path, device: str) -> dict:
    from safetensors.torch import load_file

    if not path.is_file():
        raise ValueError(f"{path}: the weights file is missing")
    try:
        return load_file(str(path), device=device)
    except Exception as error:  # safetensors raises its own error types for corrupt files
        raise ValueError(f"{path}: not a readable safetensors file ({error})") from None


def config_shapes(document: dict, path: Path) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor the network of ``document`` (a parsed ``config.json``)
    holds, by state_dict name. The network is built on torch's meta device: no memory, no
    initialisation, milliseconds even for a ResNet-152 U-Net, so a model folder's weights
    can be checked against its config from the safetensors header alone, before anything
    is loaded. ValueError naming ``path`` for a config that builds no network."""
    import torch

    with torch.device("meta"):
        net = _build(document, path)
    return {name: tuple(tensor.shape) for name, tensor in net.state_dict().items()}


def shapes_mismatch(expected: dict, found: dict) -> str | None:
    """How tensors ``found`` (name: shape) differ from those a network needs (``expected``),
    naming the first tensor of each kind of difference; None when they fit."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = [k for k in expected if k in found and tuple(found[k]) != tuple(expected[k])]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
    if wrong:
        k = wrong[0]
        problems.append(f"{len(wrong)} with the wrong shape (e.g. {k}: "
                        f"{tuple(found[k])} instead of {tuple(expected[k])})")
    if not problems:
        return None
    return f"weights do not match the architecture in {CONFIG_FILE}: " + "; ".join(problems)


def _check_tensors(net, tensors: dict, path: Path) -> None:
    problem = shapes_mismatch({k: tuple(v.shape) for k, v in net.state_dict().items()},
                              {k: tuple(v.shape) for k, v in tensors.items()})
    if problem:
        raise ValueError(f"{path}: {problem}")


def load_model(directory, *, device="cpu"):
    """Rebuilds the network saved in ``directory``, in eval mode, on ``device``.

    The returned net also carries ``.task`` (TaskSpec) and ``.metadata`` (dict).
    Raises ValueError naming the file for a missing, corrupt or mismatched file.
    """
    directory = Path(directory)
    document = read_config(directory)
    net = _build(document, directory / CONFIG_FILE)
    weights = directory / WEIGHTS_FILE
    tensors = _read_tensors(weights, "cpu")
    _check_tensors(net, tensors, weights)
    net.load_state_dict(tensors, strict=True)
    return net.to(device).eval()
