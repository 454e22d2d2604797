"""Labels started by hand from the Correct panel on an image that has none, and 8-bit labels
(napari's own "New labels layer") widened when their ids run out, in a real napari viewer:
painted with napari's brush and saved in the project."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

SCALE = (2.0, 0.5, 0.5)


@pytest.fixture
def unlabelled(studio, qtbot):
    """The studio with a (Z, Y, X) = (3, 24, 32) image and no labels, and a Correct panel."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    image = np.random.default_rng(0).random((3, 24, 32)).astype(np.float32)
    studio.viewer.add_image(image, name="cells", metadata={"axes": "ZYX"}, scale=SCALE)
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    return studio, panel


@pytest.mark.slow
def test_new_label_id_starts_labels_to_paint_by_hand(unlabelled, told, saved_labels, qtbot):
    studio, panel = unlabelled
    assert studio.host.current_labels() is None
    panel.tool_buttons["add"].click()  # (a tool that needs labels says how to start them)
    assert "press New label id to start labels" in panel.tool_status.text()
    panel.cancel_button.click()

    panel.fresh_button.click()
    layer = studio.host.labels_layer()
    assert layer.data.dtype == np.int32 and layer.data.shape == (3, 24, 32)
    assert tuple(layer.scale) == SCALE and not layer.data.any()
    assert layer.mode == "paint" and layer.selected_label == 1
    assert any("paint an object" in message for _, message in told)
    assert panel.tool_status.text().startswith("Started empty labels for cells")

    layer.brush_size = 3
    layer.paint((1, 10, 12), layer.selected_label)  # (napari's brush)
    painted = layer.data.copy()
    assert painted[1, 10, 12] == 1
    qtbot.waitUntil(lambda: studio.session.reviewed.changed[1, 10, 12])  # (the stroke is seen)
    np.testing.assert_array_equal(saved_labels(studio.session), painted)

    # Its labels layer closed, New label id brings the saved labels back, not empty ones.
    studio.viewer.layers.remove(layer)
    panel.fresh_button.click()
    np.testing.assert_array_equal(studio.host.current_labels(), painted)
    assert studio.host.labels_layer().selected_label == 2


def test_new_label_id_widens_napari_8_bit_labels_whose_ids_ran_out(unlabelled, told,
                                                                   saved_labels, qtbot):  # fmt: skip
    studio, panel = unlabelled
    mine = studio.viewer.add_labels(np.zeros((3, 24, 32), np.uint8), name="mine", scale=SCALE)
    mine.paint((0, 5, 5), 255)
    ran_out = mine.data.copy()

    panel.fresh_button.click()  # (first: an offer, nothing changed)
    level, message = told[-1]
    # (what to do comes first: a notification shows its first line only)
    assert level == "warning" and message.startswith("Press New label id again to give 'mine'")
    assert "undone" not in message  # (Ctrl+Z reaches back past the widening now)
    assert message.count(":") == 1 and "uint8 ids end at 255, and 255 has been used" in message
    assert mine.data.dtype == np.uint8

    panel.fresh_button.click()
    layer = studio.host.labels_layer()
    assert layer is mine and mine.data.dtype == np.int32
    np.testing.assert_array_equal(mine.data, ran_out)
    assert mine.selected_label == 256 and mine.mode == "paint"

    mine.paint((2, 15, 20), mine.selected_label)
    assert mine.data[2, 15, 20] == 256 and mine.data[0, 5, 5] == 255
    qtbot.waitUntil(lambda: studio.session.reviewed.changed[2, 15, 20])
    np.testing.assert_array_equal(saved_labels(studio.session), mine.data)


def _state(session) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, reviewed, changed) copies of the current labels and their marks."""
    regions = session.ensure_reviewed()
    return (session.host.current_labels().copy(), np.array(regions.mask), np.array(regions.changed))


def _assert_same(state, expected, when: str) -> None:
    for name, now, then in zip(("labels", "reviewed", "changed"), state, expected):
        differ = np.count_nonzero(now != then)
        assert differ == 0, f"{when}: {name} differ at {differ} pixels"


def _stroke(layer, z: int, y: int, label: int, qtbot) -> None:
    """One stroke of napari's brush along row ``y`` of plane ``z`` (a drag paints inside
    ``block_history``: one undo step), seen by the app a turn later."""
    with layer.block_history():
        for x in (6, 10, 14, 18):
            layer.paint((z, y, x), label, refresh=False)
    qtbot.wait(10)


def test_widening_keeps_the_undo_history_of_the_narrow_labels(unlabelled, told, saved_labels, qtbot):
    studio, panel = unlabelled
    session = studio.session
    mine = studio.viewer.add_labels(np.zeros((3, 24, 32), np.uint8), name="mine", scale=SCALE)
    mine.brush_size = 3
    states = [_state(session)]
    _stroke(mine, z=0, y=4, label=254, qtbot=qtbot)
    states.append(_state(session))
    _stroke(mine, z=1, y=8, label=255, qtbot=qtbot)
    states.append(_state(session))
    studio.viewer.dims.set_point(0, 2 * SCALE[0])
    panel.mark_slice_button.click()  # (an app action between napari's steps)
    states.append(_state(session))
    _stroke(mine, z=2, y=12, label=254, qtbot=qtbot)
    states.append(_state(session))

    panel.fresh_button.click()
    assert not any("no longer be undone" in message for _, message in told)
    panel.fresh_button.click()
    assert mine.data.dtype == np.int32 and studio.host.labels_layer() is mine
    _stroke(mine, z=0, y=16, label=mine.selected_label, qtbot=qtbot)
    states.append(_state(session))
    assert states[-1][0][0, 16, 10] == 256

    for k in range(len(states) - 1, 0, -1):  # Ctrl+Z back past the widening, marks included
        panel.undo_button.click()
        qtbot.wait(10)
        _assert_same(_state(session), states[k - 1], f"undo to step {k - 1}")
    for k in range(1, len(states)):
        panel.redo_button.click()
        qtbot.wait(10)
        _assert_same(_state(session), states[k], f"redo to step {k}")
    assert mine.data.dtype == np.int32
    np.testing.assert_array_equal(saved_labels(session), states[-1][0])
