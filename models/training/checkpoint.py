"""Training checkpoints: one safetensors file each, written atomically, never pickled.

A checkpoint holds the network's state (``model.*``), optionally the optimiser's tensors
(``optimizer.*``) and RNG state (``rng.*``), and a JSON document (in the safetensors header
under ``"unet_studio"``) with everything else: step, timings, history, optimiser settings.
It is written to a temporary file in the same folder, flushed to disk and renamed over the
old one, so a crash or kill mid-save leaves the previous checkpoint intact; a write that
fails (a full disk) leaves neither its temporary file nor a folder it created behind.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import torch

from unet_studio.models.files import atomic_write_bytes, remove_stale_temps

log = logging.getLogger(__name__)

FORMAT = "unet-studio-checkpoint"
FORMAT_VERSION = 1
LAST, BEST = "last.safetensors", "best.safetensors"


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Split an optimiser state dict into tensors and a JSON-able remainder."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{key}"] = value
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict, saved: dict) -> None:
    """Inverse of :func:`optimizer_tensors`."""
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for name, value in saved["scalars"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    groups = [dict(g, betas=tuple(g["betas"])) if "betas" in g else g
              for g in saved["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def save_checkpoint(path: Path, weights: dict[str, torch.Tensor], document: dict, *,
                    optimizer: torch.optim.Optimizer | None = None,
                    rng: dict[str, torch.Tensor] | None = None) -> Path:
    """Write network ``weights`` (a ``state_dict``), optionally the optimiser and RNG
    tensors, and the JSON ``document`` to one file, atomically."""
    from safetensors.torch import save

    tensors = {f"model.{k}": v for k, v in weights.items()}
    document = dict(document, format=FORMAT, format_version=FORMAT_VERSION)
    if optimizer is not None:
        extra, document["optimizer"] = optimizer_tensors(optimizer)
        tensors.update(extra)
    for key, value in (rng or {}).items():
        tensors[f"rng.{key}"] = value
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    data = save(tensors, metadata={"unet_studio": json.dumps(document)})
    folder = Path(path).parent
    remove_stale_temps(folder, recursive=False)
    created = _missing_folders(folder)
    try:
        return atomic_write_bytes(Path(path), data)
    except OSError:
        # (the temp file is gone already; an empty folder made for it would outlive the run:
        # the CLI's output folder was left holding an empty .checkpoints/)
        _remove_empty(created)
        raise


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those above it that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove each of ``folders`` (deepest first) that is empty; leave the others."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:  # (not empty, never made, or this folder cannot be changed either)
            return


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a checkpoint: all tensors by name and the JSON document. Never unpickles."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt", device="cpu") as handle:
        metadata = handle.metadata() or {}
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    if "unet_studio" not in metadata:
        raise ValueError(f"{path} is not a unet-studio checkpoint")
    document = json.loads(metadata["unet_studio"])
    if document.get("format") != FORMAT or document.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported checkpoint format {document.get('format')!r}")
    return tensors, document


def model_state(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The ``model.*`` tensors of a checkpoint as a ``state_dict``."""
    return {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}


def load_weights(path: Path, net: torch.nn.Module) -> dict:
    """Load a checkpoint's network weights into ``net`` (strict); returns its document."""
    tensors, document = load_checkpoint(path)
    net.load_state_dict(model_state(tensors))
    return document
