"""Model library: listing cards without torch, import/export, default, lineage."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.model_library import ModelLibrary


def write_model(folder, *, parent=None, metrics=None, name="unet", extra_files=()):
    """A real model folder: a tiny 2D U-Net saved by the engine's save_model."""
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    net = build_model(name, spatial_dims=2, in_channels=1, out_channels=3, base_channels=4, depth=2)
    metadata = {"training_data": "HeLa frames 0-3", "metrics": metrics or {"f1_50": 0.81},
                "date": "2026-11-20", "description": "test model"}  # fmt: skip
    if parent:
        metadata["parent"] = parent
    save_model(net, folder, metadata=metadata)
    for file_name in extra_files:
        (folder / file_name).write_bytes(b"\x80\x04 pickled things")
    return folder


@pytest.fixture()
def library(tmp_path):
    bundled = tmp_path / "bundled"
    write_model(bundled / "default")
    (bundled / "recipes").mkdir()  # not a model: ignored
    project_models = tmp_path / "project" / "models"
    write_model(project_models / "round-1", parent="bundled:default", metrics={"f1_50": 0.86})
    write_model(project_models / "round-2", parent="round-1", metrics={"f1_50": 0.9})
    return ModelLibrary(home=tmp_path / "home", project_models_dir=project_models,
                        bundled_dir=bundled)  # fmt: skip


def test_list_reads_cards_without_torch(library, tmp_path):
    refs = [m.ref for m in library.list()]
    assert refs == ["bundled:default", "project:round-1", "project:round-2"]
    round2 = library.get("round-2")
    assert round2.architecture == "unet" and round2.architecture_config["base_channels"] == 4
    assert round2.metrics == {"f1_50": 0.9} and round2.parent == "round-1"
    assert round2.training_data == "HeLa frames 0-3" and round2.date == "2026-11-20"
    assert round2.task["kind"] == "instance"
    assert "Parent: round-1" in round2.card_text()
    code = ("import sys; from unet_studio.app.model_library import ModelLibrary; "
            f"ModelLibrary(home={str(tmp_path / 'home')!r}, bundled_dir={str(tmp_path / 'bundled')!r},"
            f" project_models_dir={str(tmp_path / 'project' / 'models')!r}).list(); "
            "print('torch' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lineage_follows_parents(library):
    chain = library.lineage("project:round-2")
    assert [m.ref for m in chain] == ["project:round-2", "project:round-1", "bundled:default"]


def test_removing_a_model_in_a_lineage_relinks_its_children_to_its_parent(library):
    """Round 1 removed: round 2, fine-tuned from it, now descends from the bundled default
    (its lineage, Roll back and card skip the removed model instead of ending there)."""
    library.remove_model("project:round-1")
    round2 = library.get("project:round-2")
    assert round2.parent == "bundled:default"
    assert [m.ref for m in library.lineage("project:round-2")] == ["project:round-2", "bundled:default"]


def test_default_falls_back_to_bundled_and_is_remembered(library, tmp_path):
    assert library.default().ref == "bundled:default"
    library.set_default("round-1")
    settings = json.loads((tmp_path / "home" / "settings.json").read_text())
    assert settings == {"default_model": "project:round-1"}
    assert ModelLibrary(home=tmp_path / "home", project_models_dir=tmp_path / "project" / "models",
                        bundled_dir=tmp_path / "bundled").default().ref == "project:round-1"  # fmt: skip
    empty = ModelLibrary(home=tmp_path / "h2", bundled_dir=tmp_path / "nothing")
    assert empty.default() is None and empty.list() == []
    with pytest.raises(UserError, match="no model"):
        empty.set_default("bundled:default")


def test_import_copies_only_model_files_and_export_never_overwrites(library, tmp_path):
    source = write_model(tmp_path / "downloads" / "nuclei", extra_files=["optimizer.pt"])
    info = library.import_model(source)
    assert info.ref == "user:nuclei" and info.path.parent == tmp_path / "home" / "models"
    assert sorted(p.name for p in info.path.iterdir()) == ["config.json", "model.safetensors"]
    with pytest.raises(UserError, match="already in your models as user:nuclei"):
        library.import_model(source)  # the very same model: not copied again
    other = write_model(tmp_path / "elsewhere" / "nuclei")  # another model of that name
    assert library.import_model(other).ref == "user:nuclei-2"  # name taken: suffixed
    exported = library.export_model("user:nuclei", tmp_path / "out")
    assert (exported / "model.safetensors").read_bytes() == (
        source / "model.safetensors"
    ).read_bytes()
    with pytest.raises(UserError, match="already exists"):
        library.export_model("user:nuclei", tmp_path / "out")
    exported_into = library.export_model("user:nuclei", tmp_path)  # an existing folder: put inside
    assert exported_into == tmp_path / "nuclei"
    library.remove_model("user:nuclei-2")
    assert "user:nuclei-2" not in [m.ref for m in library.list()]
    with pytest.raises(UserError, match="cannot be removed"):
        library.remove_model("bundled:default")
    assert not list((tmp_path / "home" / "models").glob(".tmp-*"))


def test_an_import_is_named_by_the_model_not_its_folder(library, tmp_path):
    """An export's folder is often called "export": the imported model keeps its own name
    (it came in as "user:export" before)."""
    from unet_studio.app.model_folder import write_model_name

    source = write_model(tmp_path / "downloads" / "export")
    write_model_name(source, "nuclei v2")
    info = library.import_model(source)
    assert info.ref == "user:nuclei-v2" and info.name == "nuclei v2"


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: (f / "config.json").unlink(), "config.json missing"),
        (lambda f: (f / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda f: (f / "config.json").write_text('{"format": "pickle"}'), "not a unet-studio"),
        (lambda f: (f / "model.safetensors").unlink(), "no weights"),
        (
            lambda f: (f / "model.safetensors").write_bytes(b"\x80\x04\x95pickle"),
            "not a safetensors",
        ),
        (lambda f: _truncate(f / "model.safetensors"), "truncated or damaged"),
    ],
)
def test_import_refuses_broken_folders(library, tmp_path, damage, message):
    folder = write_model(tmp_path / "broken")
    damage(folder)
    with pytest.raises(InputFileError, match=message):
        library.import_model(folder)
    assert not (tmp_path / "home" / "models" / "broken").exists()


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])


def test_load_builds_the_network(library):
    import torch

    net = library.load("bundled:default")
    assert net.metadata["training_data"] == "HeLa frames 0-3"
    with torch.no_grad():
        out = net(torch.from_numpy(np.zeros((1, 1, 32, 32), np.float32)))
    assert tuple(out.shape) == (1, 3, 32, 32)


@pytest.mark.parametrize("section, key, value, problem", [
    ("metadata", "metrics", [0.9], "'metrics' that are not an object"),
    ("task", "spatial_axes", 2, "has a task that cannot be used"),
])  # fmt: skip
def test_a_config_with_wrong_types_in_the_user_folder_is_a_problem_not_a_crash(
        library, tmp_path, section, key, value, problem):
    """Every panel lists the models: one hand-edited config must not break them all."""
    folder = write_model(tmp_path / "home" / "models" / "edited")
    config = json.loads((folder / "config.json").read_text())
    config[section][key] = value
    (folder / "config.json").write_text(json.dumps(config))
    assert "user:edited" not in [m.ref for m in library.list()]
    (message,) = library.problems
    assert message.startswith(str(folder / "config.json")) and problem in message


def _config(folder) -> dict:
    return json.loads((folder / "config.json").read_text())


def test_rename_moves_the_model_and_what_names_it_follows(library, tmp_path):
    """Renamed: listed under its new name in a folder of that name, with its card's title;
    the default setting and the lineage of the models fine-tuned from it follow."""
    round1 = library.get("project:round-1").path
    (round1 / "card.md").write_text("# round-1\n\nnotes\n")
    child = write_model(tmp_path / "home" / "models" / "mine",
                        parent={"ref": "project:round-1", "name": "round-1", "path": str(round1)})
    library.set_default("project:round-1")
    renamed = library.rename_model("project:round-1", "round one")
    assert (renamed.ref, renamed.name) == ("project:round-one", "round one")
    assert not round1.exists() and (renamed.path / "model.safetensors").is_file()
    assert (renamed.path / "card.md").read_text() == "# round one\n\nnotes\n"
    assert [m.ref for m in library.lineage("project:round-2")] == [
        "project:round-2", "project:round-one", "bundled:default"]
    assert _config(child)["metadata"]["parent"] == {
        "ref": "project:round-one", "name": "round one", "path": str(renamed.path)}
    assert library.default().ref == "project:round-one"
    assert [m.ref for m in library.lineage("user:mine")][1] == "project:round-one"


def test_a_renamed_user_model_is_found_by_its_old_ref_and_folder(library, tmp_path):
    """User models serve every project: one closed during a rename still names the model
    by its old ref or folder (its current model, a lineage) and finds it renamed, through
    a second rename too; a model made later under the old name is that model."""
    old = write_model(tmp_path / "home" / "models" / "nuclei")
    other_project = write_model(tmp_path / "elsewhere" / "models" / "round-1",
                                parent={"ref": "user:nuclei", "name": "nuclei", "path": str(old)})
    library.rename_model("user:nuclei", "nuclei v2")
    for name in ("user:nuclei", str(old)):
        assert library.get(name).ref == "user:nuclei-v2"
    assert [m.ref for m in library.lineage(other_project)][1] == "user:nuclei-v2"
    library.rename_model("user:nuclei-v2", "nuclei v3")
    assert library.get("user:nuclei").ref == library.get("user:nuclei-v2").ref == "user:nuclei-v3"
    library.rename_model("user:nuclei-v3", "nuclei")  # (back to its first name)
    assert library.get("user:nuclei-v2").ref == library.get("user:nuclei").ref == "user:nuclei"
    write_model(tmp_path / "home" / "models" / "nuclei-v3")  # a new model takes an old name
    assert library.get("user:nuclei-v3").path == tmp_path / "home" / "models" / "nuclei-v3"
    library.remove_model("user:nuclei")
    with pytest.raises(UserError, match="no model 'user:nuclei-v2'"):
        library.get("user:nuclei-v2")


@pytest.mark.parametrize("model, name, problem", [
    ("bundled:default", "mine", "read-only and cannot be renamed; duplicate it"),
    ("project:round-1", "round-2", "a model named 'round-2' already exists"),
    ("project:round-1", "ROUND-2", "already exists"),
    ("project:round-1", "   ", "cannot be empty"),
    ("project:round-1", "../elsewhere", "path separator"),
    ("project:round-1", "a\\b", "path separator"),
    ("project:round-1", "user:x", "contains ':'"),
    ("project:round-1", "..", "is not a model name"),
    ("project:round-1", "tab\there", "contains '\\t'"),
])  # fmt: skip
def test_rename_refuses_a_taken_or_invalid_name_and_changes_nothing(library, model, name, problem):
    folder = library.get(model).path
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir())
    listed = [m.ref for m in library.list()]
    with pytest.raises(UserError, match=re.escape(problem)):
        library.rename_model(model, name)
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir()) == before
    assert [m.ref for m in library.list()] == listed


def test_a_rename_that_fails_leaves_the_model_as_it_was(library, monkeypatch):
    folder = library.get("project:round-1").path
    (folder / "card.md").write_text("# round-1\n")
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir())

    def refuse(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("unet_studio.app.model_library.os.rename", refuse)
    with pytest.raises(UserError, match=f"cannot rename {re.escape(str(folder))} to round-one: "
                                        "Permission denied"):
        library.rename_model("project:round-1", "round one")
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir()) == before


def test_duplicate_copies_under_a_new_name(library, tmp_path):
    first = library.duplicate_model("bundled:default")  # a bundled model: into the user's
    assert (first.ref, first.name) == ("user:default-copy", "default copy")
    assert library.duplicate_model("bundled:default").name == "default copy 2"
    assert library.duplicate_model("user:default-copy").name == "default copy copy"
    weights = (library.get("bundled:default").path / "model.safetensors").read_bytes()
    assert (first.path / "model.safetensors").read_bytes() == weights
    copy = library.duplicate_model("project:round-2")  # beside itself, the same lineage
    assert (copy.ref, copy.parent) == ("project:round-2-copy", "round-1")
    assert copy.metadata["copied_from"] == "project:round-2"
    assert library.get("project:round-2").name == "round-2"  # the original is untouched


def test_a_duplicate_that_fails_leaves_no_folder(library, tmp_path, monkeypatch):
    import shutil

    copy2 = shutil.copy2

    def fail_on_weights(source, target):
        if str(source).endswith(".safetensors"):
            raise OSError(28, "No space left on device")
        return copy2(source, target)

    monkeypatch.setattr("unet_studio.app.model_folder.shutil.copy2", fail_on_weights)
    before = sorted(p.name for p in (tmp_path / "project" / "models").iterdir())
    with pytest.raises(OSError, match="No space left"):
        library.duplicate_model("project:round-2")
    assert sorted(p.name for p in (tmp_path / "project" / "models").iterdir()) == before


def test_a_renamed_parent_is_named_anew_in_its_childs_card(tmp_path):
    """The card of a round says where it came from ("fine-tuned from `lab nuclei`"): after
    the parent's rename it says the new name, in config.json and card.md (which an export
    carries), not the old one beside a lineage giving the new."""
    from unet_studio.app.model_folder import CARD_FILE, read_model_config

    models = tmp_path / "project" / "models"
    write_model(models / "lab-nuclei")
    child = write_model(models / "round-1", parent={"ref": "project:lab-nuclei", "name": "lab-nuclei",
                                                    "path": str(models / "lab-nuclei")})
    card = "# round-1\n\nA U-Net fine-tuned from `lab-nuclei` on 1 image.\n"
    config = read_model_config(child)
    config["metadata"]["card"] = card
    (child / "config.json").write_text(json.dumps(config), "utf-8")
    (child / CARD_FILE).write_text(card, "utf-8")
    library = ModelLibrary(home=tmp_path / "home", project_models_dir=models,
                           bundled_dir=tmp_path / "none")
    library.rename_model("project:lab-nuclei", "nuclei v2")
    assert "fine-tuned from `nuclei v2`" in (child / CARD_FILE).read_text("utf-8")
    assert "fine-tuned from `nuclei v2`" in read_model_config(child)["metadata"]["card"]
    assert library.get("project:round-1").parent == "project:nuclei-v2"


def test_imported_duplicated_and_exported_models_have_the_folder_mode_of_a_plain_mkdir(library, tmp_path):
    """The folders are built in a mkdtemp folder (0700) and renamed into place: a model
    exported to a lab share, or imported, must be listable by the colleagues it is for."""
    import os
    import stat

    previous = os.umask(0o022)
    try:
        imported = library.import_model(write_model(tmp_path / "downloads" / "nuclei")).path
        duplicated = library.duplicate_model("user:nuclei").path
        exported = library.export_model("user:nuclei", tmp_path / "lab share")
        plain = tmp_path / "plain"
        plain.mkdir()
    finally:
        os.umask(previous)
    modes = {stat.S_IMODE(path.stat().st_mode) for path in (imported, duplicated, exported)}
    assert modes == {stat.S_IMODE(plain.stat().st_mode)} == {0o755}


def test_a_removed_model_of_a_folder_chosen_by_path_relinks_to_that_path(library, tmp_path):
    """A base model chosen by its folder (not in any library folder): round 1 from it, round 2
    from round 1, round 1 removed. Round 2's record names the base by its path, which the
    library finds again ("folder:base", its ref, no library resolves: the lineage ended)."""
    base = write_model(tmp_path / "elsewhere" / "base")
    models = tmp_path / "project" / "models"
    write_model(models / "r1", parent={"ref": str(base), "name": "base", "path": str(base)})
    write_model(models / "r2", parent={"ref": "project:r1", "name": "r1", "path": str(models / "r1")})
    library.remove_model("project:r1")
    record = library.get("project:r2").metadata["parent"]
    assert record["ref"] == str(base) and record["path"] == str(base)
    assert [m.path for m in library.lineage("project:r2")] == [models / "r2", base]
