"""The reviewed marks of an image are written after its labels in a batch of the autosave
thread: a kill between the two leaves the marks behind the labels (pixels unmarked), never
ahead of them (marks over edits the saved labels do not hold: the prediction there would be
learnt as checked). A QA kill run saw the marks ahead once."""

from __future__ import annotations

from unet_studio.app.autosave import AutosaveWriter
from unet_studio.app.project_folder import ProjectFolder
from unet_studio.app.project_jobs import ProjectJobs


def test_reviewed_marks_are_written_after_the_labels_whatever_the_order_queued(tmp_path):
    (tmp_path / "project.json").write_text("{}")
    writer = AutosaveWriter(delay=30.0)  # (nothing runs before the flush)
    jobs = ProjectJobs(writer, ProjectFolder(tmp_path, lambda old, new: None), lambda: True)
    written = []
    try:
        jobs.submit(("labels", "a"), lambda: written.append("labels a, edit 1"))
        jobs.submit(("reviewed", "a"), lambda: written.append("reviewed a"))
        jobs.submit("history", lambda: written.append("history"))
        jobs.submit(("labels", "a"), lambda: written.append("labels a, edit 2"))  # (queued last)
        assert writer.flush(10)
    finally:
        writer.close()
    assert written[-1] == "reviewed a"
    assert sorted(written[:-1]) == ["history", "labels a, edit 2"]
