"""One image file reached through a symlink and through its real path is one project image
(its corrections found again), and so is one referred to from a project folder opened
through a symlink."""

from __future__ import annotations

import os

import pytest

from unet_studio.app.project import Project


@pytest.fixture
def linked(tmp_path):
    """``real/img.tif`` and ``link`` -> ``real``; a project folder ``proj`` and
    ``projlink`` -> ``proj``."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "img.tif").write_bytes(b"pixels")
    os.symlink(tmp_path / "real", tmp_path / "link")
    (tmp_path / "proj").mkdir()
    os.symlink(tmp_path / "proj", tmp_path / "projlink")
    return tmp_path


@pytest.mark.parametrize("stored, opened", [
    ("link/img.tif", "real/img.tif"),
    ("real/img.tif", "link/img.tif"),
])
def test_the_same_file_through_a_symlink_is_the_same_image(linked, stored, opened):
    with Project.create(linked / "proj", autosave_delay=0.0) as project:
        ref = project.add_image(str(linked / stored), axes="YX", name="img")
        assert project.find_image("img", str(linked / opened)) == ref
        (linked / "other.tif").write_bytes(b"pixels")  # (same bytes, another file)
        assert project.find_image("img", str(linked / "other.tif")) is None


def test_a_missing_file_through_a_symlink_is_still_its_image(linked):
    """The file is gone (a drive not mounted): the paths, links followed, still match."""
    with Project.create(linked / "proj", autosave_delay=0.0) as project:
        ref = project.add_image(str(linked / "link" / "img.tif"), axes="YX", name="img")
        (linked / "real" / "img.tif").unlink()
        assert project.find_image("img", str(linked / "real" / "img.tif")) == ref


def test_a_relative_image_of_a_project_opened_through_a_symlink(linked):
    with Project.create(linked / "proj", autosave_delay=0.0) as project:
        project.add_image("../real/img.tif", axes="YX", name="img")
    with Project.open(linked / "projlink", autosave_delay=0.0) as project:
        ref = project.find_image("img", str(linked / "real" / "img.tif"))
        assert ref is not None and project.resolve_image_path(ref.id).exists()
