"""Which typed axes rename an image's axes (and become its own), and the project's record of
them (Qt-free)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from unet_studio.app.host import FakeHost
from unet_studio.app.project import Project
from unet_studio.app.typed_axes import kept_axes_note, record_image_axes, relabels


@pytest.mark.parametrize("current, typed, renames", [
    ("ZYX", "TYX", True), ("ZYX", "tyx", True), ("TZYX", "TZYX", False),
    ("TZYX", "ZTYX", False),  # another order: the pixels would have to be transposed
    ("ZYX", "CYX", False), ("ZCYX", "TCYX", True), ("YXC", "YXC", False),
    ("ZYX", "TZX", False), ("ZYX", "ZZX", False), ("ZYX", "TZYX", False),
])  # fmt: skip
def test_only_a_renaming_in_the_image_s_order_relabels(current, typed, renames):
    assert relabels(current, typed) is renames
    note = kept_axes_note(current, typed)
    # Said exactly where typed axes are well formed but stay the run's only.
    well_formed = typed.upper() not in ("ZZX", "TZYX", current) and not renames
    assert bool(note) is well_formed, note


def test_fake_host_takes_the_axes_and_the_project_records_them(tmp_path):
    host = FakeHost()
    host.add_image(np.zeros((5, 8, 8), np.uint8), "ZYX", scale={"Z": 2.0, "Y": 0.5, "X": 0.5},
                   name="frames")
    with Project.create(tmp_path / "p", autosave_delay=0) as project:
        ref = project.add_image("frames.tif", axes="ZYX", name="frames", scale={"Z": 2.0})
        host.set_image_axes("frames", "TYX")
        image = host.current_image()
        assert image.axes == "TYX" and image.scale == {"T": 2.0, "Y": 0.5, "X": 0.5}
        assert "T" not in image.pixel_size_um and image.pixel_size_um["Y"] == 0.5
        assert record_image_axes(project, "frames", "frames.tif", "TYX")
        assert not record_image_axes(project, "frames", "frames.tif", "TYX")  # (recorded)
        assert project.flush(10)
        assert project.image(ref.id).scale == {"T": 2.0}
        saved = json.loads((project.path / "project.json").read_text("utf-8"))
        assert saved["images"][0]["axes"] == "TYX"
        assert project.history()[-1]["action"] == "set axes"
