"""A project holding a file written by a newer unet-studio (a ``format_version`` above what
this build reads) is refused at opening, in the GUI's ``Project.open`` and by ``finetune
--project``, in one line naming the file, and not a byte of it changes (no lock, no history
entry, no autosave, no migration). Entries of ``project.json`` this build does not know
survive its rewrites."""

from __future__ import annotations

import json

import numpy as np
import pytest

from unet_studio.app.chunk_store import ChunkStore
from unet_studio.app.errors import UserError
from unet_studio.app.format_versions import NewerFormatError
from unet_studio.app.project import Project

FAST = ("--max-steps", "2", "--patch-size", "32", "--batch-size", "2", "--device", "cpu")


@pytest.fixture
def saved_project(tmp_path):
    """A closed project with one image's labels, prediction and reviewed marks saved."""
    folder = tmp_path / "proj"
    labels = np.zeros((32, 32), np.uint16)
    labels[4:12, 4:12] = 1
    with Project.create(folder, autosave_delay=0.0) as project:
        ref = project.add_image(str(tmp_path / "img.tif"), axes="YX", shape=labels.shape)
        project.attach_labels(ref.id, labels)
        project.save_prediction(ref.id, labels)
        project.reviewed(ref.id, labels.shape).mark_region((slice(0, 16), slice(0, 32)))
        project.save_reviewed(ref.id)
    return folder


def _bump_json(path, version):
    data = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**data, "format_version": version}), "utf-8")


def _bump_npz(path, version):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    with open(path, "wb") as file:
        np.savez_compressed(file, **{**arrays, "format_version": np.array(version)})


def _state(folder) -> dict:
    """Every entry under ``folder``: a file's bytes and modification time, a folder's name."""
    return {str(path.relative_to(folder)):
            (path.read_bytes(), path.stat().st_mtime_ns) if path.is_file() else "folder"
            for path in sorted(folder.rglob("*"))}


NEWER = [("project.json", _bump_json, 2, 1),
         ("images/img/labels/array.json", _bump_json, 2, 1),
         ("images/img/prediction/array.json", _bump_json, 5, 1),
         ("images/img/reviewed.npz", _bump_npz, 3, 2)]


@pytest.mark.parametrize(("name", "bump", "version", "reads"), NEWER,
                         ids=[name for name, *_ in NEWER])
def test_a_file_of_a_newer_version_refuses_the_project_and_nothing_is_written(
        saved_project, run_finetune, model_dir, tmp_path, name, bump, version, reads):
    file = saved_project / name
    bump(file, version)
    before = _state(saved_project)
    said = (f"{file}: was saved by a newer unet-studio: update unet-studio to open this "
            f"project (format_version {version}; this version reads 1 to {reads})")
    with pytest.raises(UserError) as refused:
        Project.open(saved_project, autosave_delay=0.0)
    assert str(refused.value) == said
    out = tmp_path / "round"
    code, _, err = run_finetune("--project", saved_project, "--model", model_dir, "-o", out,
                                *FAST)
    assert code == 2 and err.count("\n") == 1 and said in err, err
    assert not out.exists()
    assert _state(saved_project) == before  # no lock, history line, autosave or migration


def test_a_chunk_store_of_a_newer_version_is_not_written_over(saved_project):
    store = ChunkStore(saved_project / "images" / "img" / "labels")
    _bump_json(store.directory / "array.json", 2)
    before = _state(store.directory)
    with pytest.raises(NewerFormatError, match=r"newer unet-studio.*\(format_version 2;"):
        store.write_generation((8, 8), np.uint16, {(0, 0): np.ones((8, 8), np.uint16)})
    assert _state(store.directory) == before


def test_entries_a_newer_build_added_to_project_json_survive_a_rewrite(saved_project):
    file = saved_project / "project.json"
    meta = json.loads(file.read_text("utf-8"))
    meta["tracking"] = {"linked": True}
    meta["images"][0]["colour_map"] = "magma"
    file.write_text(json.dumps(meta), "utf-8")
    with Project.open(saved_project, autosave_delay=0.0) as project:
        project.set_image_classes("img", ["background", "cell"])  # (rewrites the file)
        project.set_current_model("user:nuclei")
    saved = json.loads(file.read_text("utf-8"))
    assert saved["format_version"] == 1 and saved["current_model"] == "user:nuclei"
    assert saved["tracking"] == {"linked": True}
    (image,) = saved["images"]
    assert image["colour_map"] == "magma" and image["classes"] == ["background", "cell"]
