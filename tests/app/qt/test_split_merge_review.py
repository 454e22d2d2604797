"""The Correct panel's split (S, S, Shift+S) and merge (G, G) in a time series mark the whole
objects they leave as reviewed at the time point edited; undo and redo take back and make
the same marks."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.host import FakeHost

pytestmark = pytest.mark.qt


def test_split_and_merge_keys_mark_their_objects_whole_at_their_time_point(
        tmp_path, monkeypatch, qtbot, test_data_dir):  # fmt: skip
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.session import StudioSession

    plane = tifffile.imread(test_data_dir / "default_hela_f3_labels.tif")  # 44 and 47 touch
    movie = np.stack([plane, plane]).astype(np.int32)  # (T, Y, X): the same nuclei at t=0
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(movie.astype(float), "TYX", name="img")
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    session.show_labels(movie.copy())
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    live, keys = host.current_labels(), panel.keys

    points = np.argwhere(plane == 49)  # (a big nucleus: seeds near its left and right ends)
    for x in (points[:, 1].min() + 4, points[:, 1].max() - 4):
        y = int(np.median(points[points[:, 1] == x, 0]))
        keys.press("seed", (1, y, int(x)))
    keys.press("split", None)
    new_id = int(live[1][plane == 49].max())
    assert new_id != 49 and ((live[1] == 49).sum() > 50)
    split = np.zeros(movie.shape, bool)
    split[1] = np.isin(live[1], [49, new_id])
    np.testing.assert_array_equal(session.reviewed.mask[split], True)
    split_marks = session.reviewed.mask.copy()

    keys.press("merge", (1, *np.argwhere(plane == 44)[0]))
    assert keys.press("merge", (1, *np.argwhere(plane == 47)[0])) == "Merged object 47 into 44."
    merged = np.zeros(movie.shape, bool)
    merged[1] = live[1] == 44
    assert merged.sum() == ((plane == 44) | (plane == 47)).sum()
    np.testing.assert_array_equal(session.reviewed.mask[merged | split], True)
    assert not session.reviewed.mask[0].any()  # (the other time point was not edited)
    both_marks = session.reviewed.mask.copy()

    host.undo()  # the merge: its marks go, the split's stay
    np.testing.assert_array_equal(session.reviewed.mask, split_marks)
    host.undo()
    assert not session.reviewed.any()
    host.redo()
    host.redo()
    np.testing.assert_array_equal(session.reviewed.mask, both_marks)
    session.close_project()
