"""Segment with a user folder where no autosave project can be created (read-only, a file
in the way): the run makes its labels all the same, the user is told once that they are not
autosaved, and the edits after it neither raise nor tell it again. It raised at Run, with a
traceback on stderr, and nothing was segmented."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.label_edit import edit_from_region

pytestmark = pytest.mark.qt


def test_segment_runs_when_no_autosave_project_can_be_made(
        studio, segment_panel_of, run_segment, told, nuclei_crop, tmp_path, monkeypatch):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")  # (as root, chmod would not stop the writes)
    monkeypatch.setenv("UNET_STUDIO_HOME", str(blocker / "home"))  # (autosave only: models loaded)
    image, _ = nuclei_crop
    studio.viewer.add_image(np.ascontiguousarray(image[6, :64, :64]), name="img")
    panel = segment_panel_of(studio)
    run_segment(panel)
    labels = studio.host.current_labels()
    assert studio.session.project is None and labels is not None and labels.any()
    assert panel.status.text().startswith("Done")
    for value in (90, 91):  # (each edit would try again: still one message)
        studio.session.apply_edit(edit_from_region(labels, (slice(0, 3), slice(0, 3)), value))
    assert studio.host.current_labels()[1, 1] == 91
    warnings = [message for level, message in told if level in ("warning", "error")]
    assert len(warnings) == 1 and "NOT autosaved" in warnings[0]
    assert str(blocker / "home" / "projects") in warnings[0]
