"""What the Correct panel's edits mark as reviewed in a 3D stack and a time series (only
reviewed pixels become training data): no more than what the user looked at or changed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from unet_studio.app.host import FakeHost, full_view

pytestmark = pytest.mark.qt

MARGIN = 2  # (ReviewedRegions' default edit margin)


def _grown(mask: np.ndarray, margin: int = MARGIN) -> np.ndarray:
    """``mask`` dilated by a square in each plane of its last two axes, never across."""
    structure = np.zeros((3,) * (mask.ndim - 2) + (2 * margin + 1,) * 2, bool)
    structure[(1,) * (mask.ndim - 2)] = True
    return ndi.binary_dilation(mask, structure)


def _panel(tmp_path, monkeypatch, qtbot, image, axes, labels):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(image, axes, name="img")
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    session.show_labels(labels)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    return session, panel


def _stack() -> tuple[np.ndarray, np.ndarray]:
    """(image, labels) (Z, Y, X) = (12, 64, 64): an L-shaped nucleus 1 leaning across planes
    1-9 with a nucleus 2 in the crook of the L (in 1's box in each plane, but apart from
    it), a dumbbell 3 through planes 2-8
    (two lobes to split), a nucleus 4 painted on planes 2 and 8 only (to fill between), a
    nucleus 5 with a hole in each plane, and a bright nucleus the network missed."""
    labels = np.zeros((12, 64, 64), np.int32)
    for z in range(1, 10):
        corner = 2 + 3 * z
        labels[z, corner : corner + 11, corner : corner + 3] = 1
        labels[z, corner : corner + 3, corner : corner + 13] = 1
        if 3 <= z <= 6:
            labels[z, corner + 6 : corner + 10, corner + 6 : corner + 10] = 2
    labels[2:9, 44:52, 2:10] = labels[2:9, 44:52, 18:26] = 3
    labels[4:7, 47:49, 10:18] = 3
    labels[2, 4:12, 50:58] = labels[8, 6:14, 52:60] = 4
    labels[3:9, 20:30, 50:60] = 5
    labels[3:9, 24:26, 54:56] = 0
    image = np.full(labels.shape, 100.0)
    image[labels > 0] = 800.0
    zz, yy, xx = np.ogrid[:12, :64, :64]
    image[(zz - 6) ** 2 + (yy - 56) ** 2 + (xx - 40) ** 2 <= 16] = 1000.0  # (missed)
    return image, labels


def test_edits_of_a_3d_stack_mark_their_own_voxels_not_the_boxes_around(tmp_path, monkeypatch,
                                                                         qtbot):  # fmt: skip
    """Delete, merge across planes, split, Add object, Fill between slices (I), Shift+I and
    fill holes each mark the voxels they changed (a merge or split: the objects it leaves,
    whole), grown by the margin in each plane: a box per plane around them marked other
    nuclei (2 in 1's box) the user never looked at."""
    image, labels = _stack()
    session, panel = _panel(tmp_path, monkeypatch, qtbot, image, "ZYX", labels.copy())
    host, live, tools, keys = session.host, session.host.current_labels(), panel.tools, panel.keys
    host.view = full_view(labels.shape, (5, 0, 0))

    def check(action, unlooked=None, whole=False):
        before = live.copy()
        action()
        changed = live != before
        assert changed.any() and len({z for z in np.nonzero(changed)[0]}) > 1  # (3D edits)
        if whole:  # (a split or merge: the objects it leaves, all of them, the user's decision)
            ids = np.union1d(before[changed], live[changed])
            changed = changed | np.isin(live, ids[ids != 0])
        np.testing.assert_array_equal(session.reviewed.mask, _grown(changed))
        assert unlooked is None or not session.reviewed.mask[unlooked].any()
        host.undo()
        np.testing.assert_array_equal(live, before)
        assert not session.reviewed.any()  # (the undo took its marks back)
        return changed

    tools.set_mode("delete")
    check(lambda: tools.click((5, 18, 18)), unlooked=labels == 2)
    tools.set_mode("merge")
    tools.click((2, 9, 9))  # 1 in plane 2 and 2 in plane 4: merged through every plane
    tools.click((4, 21, 21))
    check(tools.apply, whole=True)
    tools.set_mode("split")
    tools.click((5, 48, 5))
    tools.click((5, 48, 22))
    check(tools.apply, whole=True)
    check(lambda: keys.press("add", (6, 56, 40)))
    check(lambda: keys.press("interpolate", (2, 8, 54)))
    check(lambda: keys.press("interpolate all", (5, 0, 0)))
    check(panel.fill_button.click)
    session.close_project()


def _broken_track() -> np.ndarray:
    """(T, Y, X) = (6, 40, 48): a cell 1 at time points 0-2 that the linking lost and
    called 7 from 3 on, and a cell 3 next to it all along."""
    movie = np.zeros((6, 40, 48), np.int32)
    for t in range(6):
        movie[t, 10:16, 4 + 5 * t : 10 + 5 * t] = 1 if t < 3 else 7
    movie[:, 24:30, 10:16] = 3
    return movie


def _box_at(shape, t: int, mask: np.ndarray) -> np.ndarray:
    """The box around ``mask`` (one time point) grown by the margin, at ``t``."""
    ys, xs = np.nonzero(mask)
    out = np.zeros(shape, bool)
    out[t, max(ys.min() - MARGIN, 0) : ys.max() + 1 + MARGIN,
        max(xs.min() - MARGIN, 0) : xs.max() + 1 + MARGIN] = True  # fmt: skip
    return out


def test_joining_and_cutting_tracks_mark_the_picked_time_point_only(tmp_path, monkeypatch, qtbot):
    """G over the cell before the break (time point 1) and after it (4) gives it one id at
    3, 4 and 5; only time point 4 was looked at, and the new id is no new outline: 3 and 5
    stay unreviewed (their unchecked outlines are no training data). Undo takes the marks
    back, redo makes the same again; C (cut) marks its time point only."""
    movie = _broken_track()
    session, panel = _panel(tmp_path, monkeypatch, qtbot, movie.astype(float), "TYX", movie.copy())
    host, live, keys = session.host, session.host.current_labels(), panel.keys
    keys.press("merge", (1, 12, 12))
    assert keys.press("merge", (4, 12, 26)) == "Joined track 7 to 1."
    assert not (live == 7).any()
    joined = _box_at(movie.shape, 4, movie[4] == 7)
    np.testing.assert_array_equal(session.reviewed.mask, joined)
    np.testing.assert_array_equal(session.reviewed.changed, movie == 7)
    host.undo()
    assert not session.reviewed.any()
    host.redo()
    np.testing.assert_array_equal(session.reviewed.mask, joined)

    new_id = int(keys.press("cut", (4, 12, 26)).split()[-1].rstrip("."))
    assert (live[4:][movie[4:] == 7] == new_id).all()
    np.testing.assert_array_equal(session.reviewed.mask, joined)  # (4: marked already)
    keys.press("cut", (1, 12, 12))  # from time point 1 on, seen at 1
    np.testing.assert_array_equal(session.reviewed.mask,
                                  joined | _box_at(movie.shape, 1, movie[1] == 1))  # fmt: skip
    session.close_project()


def test_filling_between_time_points_marks_the_filled_cell_not_boxes(tmp_path, monkeypatch, qtbot):
    """A cell outlined at time points 0 and 4 of a 2D time series (I fills 1-3), a cell 3
    beside its path: the time points filled, never looked at, are marked only where the
    cell was filled, grown by the margin."""
    movie = np.zeros((5, 40, 48), np.int32)
    movie[0, 10:16, 4:10] = movie[4, 10:16, 30:36] = 1
    movie[0, 10:14, 4:20] = 1  # (not a square: a box per time point would be bigger)
    movie[:, 20:24, 14:30] = 3
    session, panel = _panel(tmp_path, monkeypatch, qtbot, movie.astype(float), "TYX", movie.copy())
    live = session.host.current_labels()
    assert panel.keys.press("interpolate", (0, 12, 6)).startswith("Filled the time points")
    changed = live != movie
    assert set(np.nonzero(changed)[0]) == {1, 2, 3}
    np.testing.assert_array_equal(session.reviewed.mask, _grown(changed))
    session.close_project()
