"""A Segment run over a time series stopped with "Stop, keep done" records what it kept: one
"predict" history entry per run of consecutive time points kept, with that region, the
model and "stopped". Then R on a kept time point painted by hand is the user's check of the
prediction (no warning), and R on a time point put back, painted by hand, warns (the kept
labels no longer read as labels opened, predicted everywhere)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

SIZE = 48  # each time point is SIZE x SIZE pixels


@pytest.fixture
def stopped_movie(studio, nuclei_crop, qtbot, segment_panel_of, stop_keep_after):
    """(studio, Correct panel, kept time points): a TYX series of 4 time points with new
    empty labels, the viewer at t=2, segmented and stopped with "Stop, keep done" once two
    time points were labelled (t=2, on screen, first; then t=0)."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    studio.viewer.add_image(nuclei_crop[0][3:7, :SIZE, :SIZE], name="movie",
                            metadata={"axes": "TYX"})
    correct = CorrectPanel(studio.session)
    qtbot.addWidget(correct)
    correct.fresh_button.click()
    studio.viewer.dims.set_current_step(0, 2)
    panel = segment_panel_of(studio)
    panel.scope_stack.setChecked(True)
    panel.tile_combo.setCurrentText("16")  # (9 tiles a time point: time to stop)

    seen = [t for t, _ in stop_keep_after(panel, 2)]
    assert panel.status.text().startswith(f"Stopped: {len(seen)} of 4 time points kept")
    return studio, correct, sorted(seen)


def _paint_and_mark(studio, panel, qtbot, t: int, centre=None) -> None:
    """Paint one new object at ``centre`` of time point ``t`` (none without one), then R
    there."""
    layer, session = studio.host.labels_layer(), studio.session
    if centre is not None:
        panel.fresh_button.click()
        layer.brush_size = 7
        layer.paint((t, *centre), layer.selected_label)
        qtbot.waitUntil(lambda: session.reviewed.changed[(t, *centre)])
    studio.viewer.dims.set_current_step(0, t)
    panel.keys.press("review", None)
    assert session.reviewed.mask[t].all()


def _warnings(told) -> list[str]:
    return [message for level, message in told if level == "warning"]


def _delete_every_object(session) -> None:
    """Delete every object of the current labels, one edit each (as the Correct panel does)."""
    from unet_studio.app.corrections import delete_object_edit

    labels = session.host.current_labels()
    for label_id in np.unique(labels)[1:].tolist():
        session.apply_edit(delete_object_edit(labels, label_id))
    assert not labels.any()


def test_stopped_run_logs_the_time_points_it_kept(stopped_movie, told, qtbot):
    studio, correct, kept = stopped_movie
    session = studio.session
    assert session.project.flush(10)
    entries = [e for e in session.project.history() if e.get("action") == "predict"]
    times = [e["region"][0] for e in entries]
    assert [t for first, stop in times for t in range(first, stop)] == kept  # (each once, in order)
    # (consecutive kept time points share one entry: two entries' time points never touch)
    assert all(before[1] < after[0] for before, after in zip(times, times[1:]))
    assert all(e["region"][1:] == [[0, SIZE], [0, SIZE]] for e in entries)
    assert all(e["stopped"] is True and e["image"] == session.current_image_id()
               and e["model"] == str(session.model.path) for e in entries)

    # R over a stroke in a time point put back (never predicted): told, although the
    # kept time points hold labels the user never painted (without their entries: labels
    # opened, the whole image read as predicted, and nothing said).
    put_back = min(set(range(4)) - set(kept))
    _paint_and_mark(studio, correct, qtbot, put_back, (30, 30))
    [warning] = _warnings(told)
    assert warning.startswith(f"Only your 1 painted object is taught in time point {put_back}:")
    # The model's objects deleted (all wrong, say), R on a kept time point left empty: her
    # check of the prediction, not told (without the entries: nothing predicted anywhere).
    _delete_every_object(session)
    _paint_and_mark(studio, correct, qtbot, kept[0])
    assert _warnings(told) == [warning]
