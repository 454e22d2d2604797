"""Finding the projects that hold the corrections of an image file opened again after a
restart (``app.saved_work``): the autosave folder's projects and those opened before, the
newest save first, skipping what cannot be read. Without it, the earlier corrections were
on disk but nothing led to them."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from unet_studio.app.project import Project
from unet_studio.app.saved_work import (
    RECENT_FILE,
    RECENT_KEPT,
    find_saved_work,
    newest_projects,
    recent_projects,
    remember_project,
)


@pytest.fixture
def make_project(tmp_path):
    """``make(folder, *images, saved=None, labelled=True)``: a real project in ``folder``
    holding ``images`` (file paths, as the session records them), each with saved labels
    (``labelled``) dated ``saved`` seconds ago."""

    def make(folder, *images, saved=None, labelled=True):
        with Project.create(folder, autosave_delay=0.01) as project:
            refs = [project.add_image(str(image), axes="YX", name=os.path.basename(image).split(".")[0])
                    for image in images]  # fmt: skip
            if labelled:
                for ref in refs:
                    labels = np.zeros((8, 8), np.int32)
                    labels[2:4, 2:4] = 1
                    project.attach_labels(ref.id, labels, save=True)
        if saved is not None:
            stamp = time.time() - saved
            for path in (folder / "images").rglob("*"):
                os.utime(path, (stamp, stamp))
        return folder

    return make


def test_autosave_projects_holding_the_file_are_found_newest_first(tmp_path, make_project):
    autosave = tmp_path / "home" / "projects"
    image, other = tmp_path / "data" / "nuclei.tif", tmp_path / "data" / "cells.tif"
    image.parent.mkdir()
    image.write_bytes(b"pixels")
    other.write_bytes(b"pixels")
    old = make_project(autosave / "nuclei-20261201-090000", image, saved=3 * 86400)
    new = make_project(autosave / "nuclei-20261207-101500", image, other, saved=60)
    make_project(autosave / "cells-20261205-080000", other, saved=10)
    make_project(autosave / "nuclei-20261206-080000", image, labelled=False)  # (nothing saved)

    found = find_saved_work(image, [autosave])

    assert [work.project for work in found] == [new, old]
    assert found[0].image_name == "nuclei" and found[0].other_images == ("cells",)
    assert found[1].other_images == ()
    assert abs(found[0].saved - (time.time() - 60)) < 5
    # (the same file reached through a symlinked folder is the same image)
    os.symlink(image.parent, tmp_path / "link")
    assert [work.project for work in find_saved_work(tmp_path / "link" / "nuclei.tif",
                                                     [autosave])] == [new, old]


def test_a_recent_project_elsewhere_is_found_by_its_relative_path(tmp_path, make_project):
    """A project the user made next to the data records the image relative to its folder."""
    home = tmp_path / "home"
    image = tmp_path / "study" / "nuclei.tif"
    image.parent.mkdir()
    image.write_bytes(b"pixels")
    project = make_project(tmp_path / "study" / "project", "../nuclei.tif")
    remember_project(home, project)

    found = find_saved_work(image, [home / "projects"], recent_projects(home))

    assert [work.project for work in found] == [project]


def test_moved_deleted_and_unreadable_projects_are_skipped(tmp_path, make_project):
    home = tmp_path / "home"
    autosave = home / "projects"
    image = tmp_path / "nuclei.tif"
    image.write_bytes(b"pixels")
    good = make_project(autosave / "good", image)
    for name, text in (("garbage", "{not json"), ("a-list", "[1, 2]"),
                       ("bad-entry", json.dumps({"format": "unet-studio-project",
                                                 "images": [{"id": "../x", "path": str(image)}]})),
                       ("not-ours", json.dumps({"images": [{"id": "n", "path": str(image),
                                                            "name": "n", "axes": "YX"}]}))):
        (autosave / name).mkdir()
        (autosave / name / "project.json").write_text(text)
    (autosave / "unreadable" / "project.json").mkdir(parents=True)  # (read fails, even as root)
    (autosave / "empty-folder").mkdir()
    (autosave / "a-file").write_text("not a project")
    moved = make_project(tmp_path / "moved", image)
    deleted = make_project(tmp_path / "deleted", image)
    remember_project(home, moved)
    remember_project(home, deleted)
    moved.rename(tmp_path / "moved-away")
    for path in sorted(deleted.rglob("*"), reverse=True):
        path.unlink() if not path.is_dir() else path.rmdir()
    deleted.rmdir()

    found = find_saved_work(image, [autosave], recent_projects(home))

    assert [work.project for work in found] == [good]


def test_only_the_newest_projects_are_read(tmp_path, make_project):
    autosave = tmp_path / "projects"
    image = tmp_path / "nuclei.tif"
    image.write_bytes(b"pixels")
    folders = [make_project(autosave / f"p{n}", image) for n in range(4)]
    for age, folder in enumerate(reversed(folders)):  # (p3 newest)
        stamp = time.time() - 100 * (age + 1)
        os.utime(folder / "project.json", (stamp, stamp))

    assert newest_projects([autosave], most=2) == [folders[3], folders[2]]
    assert {work.project for work in find_saved_work(image, [autosave], most=2)} == set(folders[2:])


def test_recent_projects_are_kept_newest_first_capped_and_once(tmp_path):
    home = tmp_path / "home"
    for n in range(RECENT_KEPT + 5):
        remember_project(home, tmp_path / f"p{n}")
    remember_project(home, tmp_path / "p30" / ".." / "p30")  # (the same folder again: first)

    listed = recent_projects(home)

    assert len(listed) == RECENT_KEPT and listed[0] == tmp_path / "p30"
    assert listed.count(tmp_path / "p30") == 1 and listed[1] == tmp_path / f"p{RECENT_KEPT + 4}"
    assert not [name for name in os.listdir(home) if name != RECENT_FILE]  # (no temp left)


def test_an_unwritable_home_keeps_no_list_and_raises_nothing(tmp_path):
    home = tmp_path / "home"
    home.write_text("a file where the home folder should be")
    remember_project(home, tmp_path / "project")
    assert recent_projects(home) == []
    (tmp_path / "home2").mkdir()
    (tmp_path / "home2" / RECENT_FILE).write_text('{"not": "a list"}')
    assert recent_projects(tmp_path / "home2") == []
