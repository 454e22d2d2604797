"""Sharing models between users: an import whose name is taken is named apart and said, the
very same model is not imported twice; a duplicated (then renamed) model's card says its new
name and whose copy it is; a config from a newer version says so; a round's recorded parent
is its model by identity, not whichever model has its name here (rename, remove, finetune)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from unet_studio.app.errors import InputFileError


def _save(folder: Path, *, seed: int, name: str | None = None, parent=None,
          card: str | None = None) -> Path:
    """A real model folder (a tiny 2D U-Net, weights from ``seed``), named ``name``."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(seed)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    metadata = {"name": name or folder.name, **({"parent": parent} if parent else {})}
    save_model(net, folder, metadata=metadata)
    if card is not None:
        (folder / "card.md").write_text(card, "utf-8")
    return folder


def _library(tmp_path, **folders):
    from unet_studio.app.model_library import ModelLibrary

    return ModelLibrary(home=tmp_path / "home", bundled_dir=tmp_path / "bundled", **folders)


def test_an_import_of_a_taken_name_is_named_apart_and_said(tmp_path):
    from unet_studio.app.qt import model_actions

    library = _library(tmp_path)
    _save(library.folders["user"] / "nuclei-A", seed=1)  # this user's own nuclei-A
    theirs = _save(tmp_path / "from A" / "export", seed=2, name="nuclei-A", card="# nuclei-A\n\nA's\n")
    imported = library.import_model(theirs)
    assert (imported.ref, imported.name) == ("user:nuclei-A-2", "nuclei-A-2")
    assert (imported.path / "card.md").read_text("utf-8") == "# nuclei-A-2\n\nA's\n"
    assert model_actions.imported_text(theirs, imported) == (
        "a model named nuclei-A is already in your models: imported this one as nuclei-A-2 "
        "(user:nuclei-A-2)")
    # (Rename's rule holds: no two user models of one name)
    assert sorted(m.name for m in library.list()) == ["nuclei-A", "nuclei-A-2"]


def test_the_very_same_model_is_not_imported_twice(tmp_path):
    from unet_studio.app.model_library import AlreadyInLibrary
    from unet_studio.app.qt import model_actions

    library = _library(tmp_path)
    shared = _save(tmp_path / "from A" / "nuclei-A", seed=1)
    first = library.import_model(shared)
    assert model_actions.imported_text(shared, first) == "imported nuclei-A as user:nuclei-A"
    again = library.export_model(first.ref, tmp_path / "exported twice")  # the same bytes
    with pytest.raises(AlreadyInLibrary, match="nuclei-A is already in your models as "
                                               "user:nuclei-A") as told:
        _drain(model_actions.iter_import(library, again))
    assert told.value.info.path == first.path
    assert [m.ref for m in library.list()] == ["user:nuclei-A"]


def _drain(generator):
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        return stop.value


BUNDLED_CARD = ("# unet-studio default nuclei model (2D)\n\nBundled with unet-studio; "
                "no parent model.\n")


def test_a_duplicated_bundled_models_card_has_its_name_and_says_it_is_a_copy(tmp_path):
    from unet_studio.app.model_folder import read_model_config

    library = _library(tmp_path)
    _save(tmp_path / "bundled" / "default", seed=1, name="unet-studio default nuclei (2D)",
          card=BUNDLED_CARD)
    copy = library.duplicate_model("bundled:default")
    renamed = library.rename_model(copy.ref, "nuclei-A")
    exported = library.export_model(renamed.ref, tmp_path / "shared")
    card = (exported / "card.md").read_text("utf-8")
    heading, note = card.split("\n\n")[:2]
    assert heading == "# nuclei-A"
    assert "copy of the bundled model `unet-studio default nuclei (2D)` (`bundled:default`)" in note
    assert card.count("A copy of") == 1 and card.endswith("no parent model.\n")
    assert read_model_config(exported)["metadata"]["name"] == "nuclei-A"


def test_an_option_of_a_newer_version_says_so(tmp_path):
    from unet_studio.models.config import ModelConfig

    with pytest.raises(ValueError, match=r"unknown model option\(s\) \['stem'\].*newer "
                                         "unet-studio.*update unet-studio"):
        ModelConfig.from_dict({"stem": "conv7"})
    folder = _save(tmp_path / "newer", seed=1)
    config = json.loads((folder / "config.json").read_text("utf-8"))
    config["architecture"]["stem"] = "conv7"
    (folder / "config.json").write_text(json.dumps(config), "utf-8")
    with pytest.raises(InputFileError, match="newer unet-studio") as error:
        _library(tmp_path).import_model(folder)
    assert error.value.path == folder / "config.json"


@pytest.fixture
def shared_round(tmp_path):
    """At user B: B's own "nuclei-A" (fine-tuned from B's "base"), and a project round
    copied from user A whose parent record is A's "user:nuclei-A" (another model)."""
    from unet_studio.app.model_folder import model_info
    from unet_studio.app.model_identity import identity_of

    a_model = model_info(_save(tmp_path / "A" / "nuclei-A", seed=1), source="folder")
    library = _library(tmp_path, project_models_dir=tmp_path / "project" / "models")
    _save(library.folders["user"] / "base", seed=3)
    _save(library.folders["user"] / "nuclei-A", seed=2, parent="user:base")
    record = {"ref": "user:nuclei-A", "name": "nuclei-A", "path": str(a_model.path),
              "weights_sha256": identity_of(a_model)}
    round_ = _save(library.folders["project"] / "round-1", seed=4, parent=record)
    return library, round_, record


def _parent_record(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text("utf-8"))["metadata"]["parent"]


def test_renaming_a_model_of_a_rounds_parents_name_leaves_the_round_alone(shared_round):
    library, round_, record = shared_round
    library.rename_model("user:nuclei-A", "nuclei-B")
    assert _parent_record(round_) == record


def test_removing_a_model_of_a_rounds_parents_name_leaves_the_round_alone(shared_round):
    library, round_, record = shared_round
    library.remove_model("user:nuclei-A")
    assert _parent_record(round_) == record


def test_finetune_starts_from_the_projects_current_model_by_identity(
        shared_round, tmp_path, monkeypatch, capsys):
    """A project from A names "user:nuclei-A" with A's identity: at B the CLI fine-tunes
    A's model (here the project's copy of it), not B's model of that name."""
    from unet_studio.app.commands.finetune_model import starting_model
    from unet_studio.app.model_identity import identity_of
    from unet_studio.app.project import Project

    library, _, record = shared_round
    monkeypatch.setenv("UNET_STUDIO_HOME", str(library.home))
    with Project.create(tmp_path / "project from A", autosave_delay=0.0) as project:
        copy = _library(tmp_path, project_models_dir=project.models_dir).import_model(
            Path(record["path"]), to="project")  # A's model, carried in the project
        project.set_current_model("user:nuclei-A", identity=identity_of(copy))
        args = SimpleNamespace(new=False, model=None, classes=None, architecture=None)
        _, parent = starting_model(args, in_channels=1, spatial_dims=2, project=project)
    assert parent["path"] == str(copy.path)
    assert f"fine-tuning the project's current model {copy.ref}" in capsys.readouterr().err


def test_an_export_leaves_the_owners_folders_out_and_the_card_says_a_parent_is_not_here(tmp_path):
    """A colleague's import named its owner's folders ("/home/alice/...") in its config, and
    its card a parent the colleague never had, as if it were one of theirs."""
    from unet_studio.app.model_folder import read_model_config
    from unet_studio.app.qt.model_card import card_markdown

    alice = _library(tmp_path / "alice")
    base = _save(alice.folders["user"] / "nuclei-base", seed=3)
    owner_files = [{"image": "/home/alice/lab/secret/day1.tif", "labels": "/home/alice/lab/secret/day1_labels.tif"},
                   "/home/alice/lab/secret/day2.tif"]  # fmt: skip
    parent = {"ref": str(base), "name": "nuclei-base", "path": str(base)}
    tuned = _save(alice.folders["user"] / "nuclei-tuned", seed=4, parent=parent)
    config = read_model_config(tuned)
    config["metadata"]["training_data"] = {"files": owner_files, "summary": {}}
    (tuned / "config.json").write_text(json.dumps(config), "utf-8")

    exported = alice.export_model("user:nuclei-tuned", tmp_path / "to bob")
    text = (exported / "config.json").read_text("utf-8")
    assert "/home/alice" not in text and str(tmp_path) not in text, text
    shared = json.loads(text)["metadata"]
    assert shared["parent"] == {"ref": "nuclei-base", "name": "nuclei-base"}
    assert shared["training_data"]["files"] == [
        {"image": "day1.tif", "labels": "day1_labels.tif"}, "day2.tif"]
    assert "/home/alice" in (tuned / "config.json").read_text("utf-8")  # (the owner's: as it was)
    assert "- parent: nuclei-base\n" in card_markdown(alice.get("user:nuclei-tuned"), alice)

    bob = _library(tmp_path / "bob")
    imported = bob.import_model(exported)
    assert imported.parent == "nuclei-base"
    assert ("- parent: nuclei-base (not among your models: made elsewhere, or removed)"
            in card_markdown(imported, bob))
    bob.import_model(alice.export_model("user:nuclei-base", tmp_path / "base for bob"))
    assert "- parent: nuclei-base\n" in card_markdown(bob.get(imported.ref), bob)
