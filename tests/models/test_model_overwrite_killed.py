"""A model saved over another one (``finetune -o LIB/X --overwrite``) and killed at any point
of replacing its files: the folder is the old model whole, the new one whole, or no model
(refused, saying why), never new weights under the old config and identity."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


class Killed(BaseException):
    """The process died here: nothing after it changes the disk."""


def _net(seed: int):
    import torch

    from unet_studio.models.registry import build_model

    torch.manual_seed(seed)
    return build_model("unet", spatial_dims=2, base_channels=4, depth=2)


def _save(net, folder: Path, card: str):
    from unet_studio.models.weights import save_model

    return save_model(net, folder, metadata={"name": folder.name, "card": card})


def _state(folder: Path) -> tuple[str, str, str]:
    """(identity recorded in config.json, hash of the weights, card text)."""
    from unet_studio.models.weights import weights_sha256

    config = json.loads((folder / "config.json").read_text("utf-8"))
    card = (folder / "card.md").read_text("utf-8") if (folder / "card.md").exists() else ""
    return config["weights_sha256"], weights_sha256(folder / "model.safetensors"), card


def _die_at(monkeypatch, folder: Path, call: int) -> None:
    """The ``call``-th rename into ``folder`` kills the process: it and every later rename
    or removal (the dead process's cleanup) raise Killed and change nothing."""
    real_replace, real_unlink = os.replace, os.unlink
    renames = []

    def replace(source, target, *args, **kwargs):
        if Path(target).parent == folder:
            renames.append(target)
        if len(renames) >= call:
            raise Killed(target)
        return real_replace(source, target, *args, **kwargs)

    def unlink(path, *args, **kwargs):
        if len(renames) >= call:
            raise Killed(path)
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", replace)
    monkeypatch.setattr(os, "unlink", unlink)
    monkeypatch.setattr(os, "remove", unlink)


@pytest.mark.parametrize("call", [1, 2, 3, 4])
def test_a_model_replaced_and_killed_midway_is_never_new_weights_under_the_old_config(
        tmp_path, monkeypatch, call):
    from unet_studio.app.errors import UserError
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.models.weights import load_model

    library = ModelLibrary(home=tmp_path / "home", bundled_dir=tmp_path / "no bundled")
    folder = library.folders["user"] / "nuclei"
    _save(_net(0), folder, "old model")
    old = _state(folder)
    assert old[0] == old[1]

    _die_at(monkeypatch, folder, call)
    with pytest.raises(Killed):
        _save(_net(1), folder, "new model")
    monkeypatch.undo()

    if (folder / "config.json").exists():  # the old model whole, or the new one whole
        now = _state(folder)
        assert now[0] == now[1], "the config records other weights than the folder holds"
        assert now == old or (now[0] != old[0] and now[2] == "new model")
    else:  # no model: refused everywhere, saying why
        with pytest.raises(ValueError, match="no model config here"):
            load_model(folder)
        with pytest.raises(UserError, match="no model 'user:nuclei'"):
            library.find("user:nuclei", old[0])  # (a project recording the old model)
        assert [info.ref for info in library.list()] == []

