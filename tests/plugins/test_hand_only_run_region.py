"""A Segment run on the slice on screen predicted that slice only: its "predict" history
entry records the region it covered, and R on another slice painted by hand warns (it
counted for the whole image: no warning, although nothing was predicted there). A mark in
the run's slice does not use up the warning; an old entry without a region still counts
for the whole image."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def run_on_slice_3(studio, nuclei_crop, qtbot, segment_panel_of, run_segment):
    """(studio, Correct panel): the nuclei crop (12, 96, 96) with new empty labels, segmented
    on slice 3 only (the tiny model finds nothing there)."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    studio.viewer.add_image(nuclei_crop[0], name="nuclei", metadata={"axes": "ZYX"})
    correct = CorrectPanel(studio.session)
    qtbot.addWidget(correct)
    correct.fresh_button.click()
    studio.host.labels_layer().brush_size = 7
    studio.viewer.dims.set_current_step(0, 3)
    segment = segment_panel_of(studio)
    segment.scope_slice.setChecked(True)
    run_segment(segment)
    return studio, correct


def _paint_and_mark(studio, panel, qtbot, z: int, centre=None) -> None:
    """Paint one new object at ``centre`` of slice ``z`` (none without one), then R there."""
    layer, session = studio.host.labels_layer(), studio.session
    if centre is not None:
        panel.fresh_button.click()
        layer.paint((z, *centre), layer.selected_label)
        qtbot.waitUntil(lambda: session.reviewed.changed[(z, *centre)])
    studio.viewer.dims.set_current_step(0, z)
    panel.keys.press("review", None)
    assert session.reviewed.mask[z].all()


def _warnings(told) -> list[str]:
    return [message for level, message in told if level == "warning"]


@pytest.mark.slow
def test_a_run_on_one_slice_counts_for_that_slice_only(run_on_slice_3, told, qtbot):
    studio, panel = run_on_slice_3
    session = studio.session
    [entry] = [e for e in session.project.history() if e.get("action") == "predict"]
    assert entry["region"] == [[3, 4], [0, 96], [0, 96]]
    _paint_and_mark(studio, panel, qtbot, 3, (40, 40))  # the run's slice: her check of it
    assert _warnings(told) == []
    _paint_and_mark(studio, panel, qtbot, 10, (20, 20))  # never predicted: told
    [warning] = _warnings(told)
    assert warning.startswith("Only your 1 painted object is taught in slice 10: the rest of "
                              "it as background.")


def test_an_old_entry_without_a_region_counts_for_the_whole_image(run_on_slice_3, told, qtbot):
    studio, panel = run_on_slice_3
    session = studio.session
    _paint_and_mark(studio, panel, qtbot, 8)  # (empty, outside the run: told)
    [warning] = _warnings(told)
    assert warning.startswith("Slice 8 is taught as all background: nothing was predicted there.")
    # A "predict" line as projects wrote it before runs recorded their region.
    project = session.project
    assert project.flush(10)
    old = {"time": "2025-01-01T00:00:00+00:00", "action": "predict",
           "image": session.current_image_id(), "model": "tiny"}
    with open(project.path / "history.jsonl", "a", encoding="utf-8") as file:
        file.write(json.dumps(old) + "\n")
    _paint_and_mark(studio, panel, qtbot, 9, (50, 50))  # (painted: would be told, but predicted)
    assert _warnings(told) == [warning]
