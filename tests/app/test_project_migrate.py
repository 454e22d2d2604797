"""Projects saved before stacks opened in T Z C Y X order: their images' labels, prediction
and reviewed marks are turned to that order once, at the opening by the folder's writer,
and a kill at any step leaves a state the next opening finishes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tifffile

from unet_studio.app.chunk_store import ChunkStore
from unet_studio.app.errors import UserError
from unet_studio.app.project import Project
from unet_studio.app.project_migrate import MARKER
from unet_studio.app.reviewed import ReviewedRegions
from unet_studio.app.training_data import project_examples

Z, T, Y, X = 3, 2, 600, 700  # Y and X span two chunks each


def old_project(folder, tmp_path, axes="ZTYX", shape=(Z, T, Y, X)):
    """A project as the earlier version saved it for an OME-TIFF stored ``axes``: the ref
    has the file's order and the arrays are in it. Returns (labels, prediction, reviewed,
    changed), in that old order."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, shape).astype(np.uint16)
    labels[labels < 3] = 0  # (some background chunks too)
    prediction = rng.integers(0, 9, shape).astype(np.uint32)
    reviewed = rng.random(shape) < 0.3
    changed = reviewed & (rng.random(shape) < 0.5)
    image = tmp_path / "cells.ome.tif"
    if axes == "ZTYX":  # (the training test reads it)
        tifffile.imwrite(image, labels.astype(np.uint8), ome=True, metadata={"axes": axes})
    with Project.create(folder, autosave_delay=0.01) as project:
        ref = project.add_image(str(image), axes=axes, name="cells", shape=shape)
        project.attach_labels(ref.id, labels.copy())
        project.save_prediction(ref.id, prediction)
    ReviewedRegions.write_arrays(folder / "images" / ref.id / "reviewed.npz", {
        "format": np.array("unet-studio-reviewed"), "shape": np.array(shape),
        "settings": np.array(json.dumps({"auto_from_edits": True, "edit_margin": 2})),
        "reviewed": reviewed, "changed": changed})  # fmt: skip
    return labels, prediction, reviewed, changed


def assert_migrated(project, old, order=(1, 0, 2, 3), axes="TZYX"):
    labels, prediction, reviewed, changed = old
    (ref,) = project.images
    assert ref.axes == axes and ref.shape == tuple(labels.shape[i] for i in order)
    np.testing.assert_array_equal(project.labels(ref.id), labels.transpose(order))
    np.testing.assert_array_equal(project.prediction(ref.id), prediction.transpose(order))
    regions = project.reviewed(ref.id)
    np.testing.assert_array_equal(regions.mask, reviewed.transpose(order))
    np.testing.assert_array_equal(regions.changed, changed.transpose(order))
    image_dir = project.path / "images" / ref.id
    assert sorted(p.name for p in image_dir.iterdir()) == ["labels", "prediction", "reviewed.npz"]
    on_disk = json.loads((project.path / "project.json").read_text())["images"][0]
    assert on_disk["axes"] == axes and tuple(on_disk["shape"]) == ref.shape


def file_times(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.name != "open.lock"}


def test_an_old_order_project_opens_in_tzyx_and_is_told_once(tmp_path):
    folder = tmp_path / "p"
    old = old_project(folder, tmp_path)
    with Project.open(folder) as project:
        assert_migrated(project, old)
        (note,) = project.problems
        assert "cells" in note and "ZTYX" in note and "TZYX" in note
        assert [e for e in project.history() if e["action"] == "update axes"]
    before = file_times(folder)
    with Project.open(folder) as again:
        assert_migrated(again, old)
        assert not again.problems  # (told once)
    assert file_times(folder) == before  # (nothing rewritten)


def test_training_takes_the_migrated_corrections_from_the_file(tmp_path):
    folder = tmp_path / "p"
    labels = old_project(folder, tmp_path)[0]
    with Project.open(folder) as project:
        examples, problems = project_examples(project, skip=set(), open_image=lambda name: None,
                                              percentiles=(1.0, 99.8))  # fmt: skip
        assert problems == [] and len(examples) == 1
        example = examples[0]
        np.testing.assert_array_equal(example.labels, labels.transpose(1, 0, 2, 3)[example.box])
        pixels = example.read()  # the file's pixels (the labels, as uint8) lie under them
        assert pixels.image.shape[-2:] == example.labels.shape[-2:]


def test_chunks_are_turned_one_by_one_never_read_whole(tmp_path, monkeypatch):
    folder = tmp_path / "p"
    old = old_project(folder, tmp_path)

    def whole_read(self):
        raise AssertionError("the whole array was read")

    monkeypatch.setattr(ChunkStore, "read", whole_read)
    project = Project.open(folder)
    monkeypatch.undo()
    assert_migrated(project, old)
    project.close()


@pytest.mark.parametrize("axes, shape, order, new", [
    ("YXZ", (40, 30, 3), (2, 0, 1), "ZYX"),  # (Y and X move: the whole-array path)
    ("CZTYX", (3, 2, 20, 30), (1, 0, 2, 3), "TZCYX"),  # (labels have no C)
    ("ZTYXC", (3, 2, 20, 30), (1, 0, 2, 3), "TZYXC"),  # (RGB colours stay last)
])
def test_other_old_orders(tmp_path, axes, shape, order, new):
    folder = tmp_path / "p"
    old = old_project(folder, tmp_path, axes=axes.replace("C", ""), shape=shape)
    meta = json.loads((folder / "project.json").read_text())
    meta["images"][0]["axes"] = axes
    (folder / "project.json").write_text(json.dumps(meta))
    with Project.open(folder) as project:
        assert_migrated(project, old, order, new)


@pytest.mark.parametrize("axes", ["TZYX", "ZYX", "YXC", "TZCYX", "YX"])
def test_canonical_projects_are_untouched(tmp_path, axes):
    folder = tmp_path / "p"
    shape = {"TZYX": (2, 3, 20, 30), "TZCYX": (2, 3, 20, 30), "ZYX": (3, 20, 30)}.get(axes, (20, 30))
    old_project(folder, tmp_path, axes=axes.replace("C", ""), shape=shape)
    meta = json.loads((folder / "project.json").read_text())
    meta["images"][0]["axes"] = axes
    (folder / "project.json").write_text(json.dumps(meta))
    before = file_times(folder)
    with Project.open(folder) as project:
        assert project.images[0].axes == axes and not project.problems
        assert project.labels(project.images[0].id).shape == shape
    assert file_times(folder) == before


KILLS = {  # where the process dies: (module, object, function, calls let through first)
    "while preparing": ("unet_studio.app.project_migrate", "", "_transpose_store", 1),
    "before switching": ("unet_studio.app.project_migrate", "", "_switch", 0),
    "mid switch": ("pathlib", "Path", "rename", 1),
    "before the project file": ("unet_studio.app.project_opening", "", "atomic_write_json", 0),
    "before the marker goes": ("unet_studio.app.project_opening", "", "finish", 0),
}


@pytest.mark.parametrize("where", KILLS)
def test_a_kill_at_any_step_is_finished_by_the_next_opening(tmp_path, where):
    folder = tmp_path / "p"
    old = old_project(folder, tmp_path)
    module, within, name, calls = KILLS[where]
    script = textwrap.dedent(f"""
        import importlib, os
        from unet_studio.app.project import Project
        owner = importlib.import_module({module!r})
        owner = getattr(owner, {within!r}) if {within!r} else owner
        original, seen = getattr(owner, {name!r}), []
        def dying(*args, **kwargs):
            if len(seen) == {calls}:
                os._exit(9)
            seen.append(1)
            return original(*args, **kwargs)
        setattr(owner, {name!r}, dying)
        Project.open({str(folder)!r})
        os._exit(0)
    """)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    assert (folder / "images" / "cells" / MARKER).exists()
    with Project.open(folder) as project:
        assert_migrated(project, old)


def test_a_read_only_opening_refuses_and_changes_nothing(tmp_path):
    folder = tmp_path / "p"
    old_project(folder, tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = {"pid": other.pid, "host": __import__("socket").gethostname()}
        (folder / "open.lock").write_text(json.dumps(lock))
        before = file_times(folder)
        with pytest.raises(UserError, match="cells.*axis order.*Close it there"):
            Project.open(folder)
        assert file_times(folder) == before
    finally:
        other.kill()
        other.wait()


def test_an_old_order_image_with_nothing_saved_gets_its_axes_only(tmp_path):
    folder = tmp_path / "p"
    with Project.create(folder) as project:
        project.add_image("/data/cells.ome.tif", axes="ZTYX", shape=(Z, T, Y, X))
    with Project.open(folder) as project:
        assert project.images[0].axes == "TZYX" and project.images[0].shape == (T, Z, Y, X)
        assert project.labels(project.images[0].id) is None
    assert not (folder / "images").exists()  # (no folder made for nothing)
