"""The verdict of a round whose held-out objects are a few of the one slice (or frame) the
user reviewed: it says to review another slice, since the held-out score measures the very
slice the round learnt from (a QA on phase-contrast bacteria read "F1 0.000 -> 0.800" over 3
objects of the one reviewed frame as a clear win; the caveat only said "review more
objects")."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


def _train_on(corrected, qtbot, slices):
    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    session.ensure_reviewed().mark_region((slices, slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = TrainPanel(session)
    panel.repredict_check.setChecked(False)
    qtbot.addWidget(panel)
    return panel


def test_few_held_out_objects_of_the_one_reviewed_slice_ask_for_another_slice(
        corrected, qtbot, quick_round):
    train = _train_on(corrected, qtbot, slice(5, 6))
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round())
    result = blocker.args[0]
    objects = result.metrics_before["n_true"]
    assert 1 <= objects < 10, objects  # (a few nuclei of one 96x96 slice held out)
    assert result.data_summary["slabs"] == 1 and result.extra["val_object_slabs"] == 1
    assert result.extra["val_plane_axes"] == "Z"
    text = train.status.text()
    assert (f"The held-out blocks hold only {objects} object{'s' if objects != 1 else ''}, "
            "all in the one slice reviewed:") in text
    assert ("the verdict is uncertain; review another slice too: the held-out score comes "
            "from the same slice the round learnt from.") in text
    assert "review more objects" not in text
