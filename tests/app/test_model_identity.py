"""A model's identity (its weights' SHA-256): recorded at save, computed for a folder saved
before it was, kept by an import; and ``ModelLibrary.find`` follows a ref to the model with
the recorded identity, not to another one that has its name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest


def _save(folder: Path, seed: int) -> Path:
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(seed)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    return save_model(net, folder, metadata={"name": folder.name})


def _without_identity(folder: Path) -> Path:
    """The folder as a version before identities were recorded saved it."""
    config = json.loads((folder / "config.json").read_text("utf-8"))
    del config["weights_sha256"]
    (folder / "config.json").write_text(json.dumps(config), "utf-8")
    return folder


def test_a_ref_is_followed_to_the_model_with_its_identity(tmp_path):
    from unet_studio.app.model_identity import NotThisModel, identity_of
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.models.weights import weights_sha256

    theirs = _save(tmp_path / "theirs" / "nuclei", seed=1)
    recorded = json.loads((theirs / "config.json").read_text("utf-8"))["weights_sha256"]
    assert recorded == weights_sha256(theirs / "model.safetensors")
    library = ModelLibrary(home=tmp_path / "home", bundled_dir=tmp_path / "no bundled")
    _save(library.folders["user"] / "nuclei", seed=2)  # (another model, the same name)
    with pytest.raises(NotThisModel, match="user:nuclei is not in this library"):
        library.find("user:nuclei", recorded)
    assert library.find("user:nuclei").path == library.folders["user"] / "nuclei"  # (no identity)
    # an older copy (no identity in its config) is recognised by its weights' hash
    older = _without_identity(Path(shutil.copytree(theirs, tmp_path / "older copy")))
    imported = library.import_model(older)
    assert imported.ref == "user:nuclei-2" and identity_of(imported) == recorded
    assert library.find("user:nuclei", recorded).path == imported.path
    # and so is one whose ref names nothing here any more
    assert library.find("user:gone", recorded).path == imported.path


def test_a_removed_parents_children_name_the_grandparent_with_its_identity(tmp_path):
    """Removing a model relinks its children to its parent: their record's identity becomes
    that parent's, or the lineage would end at a model that is not the one recorded."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.models.weights import model_identity

    library = ModelLibrary(home=tmp_path / "home", bundled_dir=tmp_path / "no bundled")
    user = library.folders["user"]
    _save(user / "g", seed=1)
    for name, parent, seed in (("p", "g", 2), ("c", "p", 3)):
        _save(user / name, seed=seed)
        config = json.loads((user / name / "config.json").read_text("utf-8"))
        config["metadata"]["parent"] = {"ref": f"user:{parent}", "name": parent,
                                        "weights_sha256": model_identity(user / parent)}
        (user / name / "config.json").write_text(json.dumps(config), "utf-8")
    assert [m.name for m in library.lineage("user:c")] == ["c", "p", "g"]
    library.remove_model("user:p")
    assert [m.name for m in library.lineage("user:c")] == ["c", "g"]
