"""FakeHost: the in-memory viewer host the panels are tested against."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.corrections import delete_object_edit, merge_labels_edit, split_object_edit
from unet_studio.app.errors import UserError
from unet_studio.app.host import FakeHost, HostImage, ViewerHost, ViewState, full_view


def host_with_labels() -> FakeHost:
    host = FakeHost()
    image = np.random.default_rng(0).random((4, 32, 48)).astype(np.float32)
    host.add_image(image, "ZYX", scale={"Z": 2.0, "Y": 0.5, "X": 0.5}, name="nuclei")
    labels = np.zeros((4, 32, 48), np.uint16)
    labels[1, 4:12, 4:30] = 3
    labels[1, 20:28, 4:12] = 4
    host.set_labels(labels)
    return host


def test_fake_host_satisfies_the_protocol():
    assert isinstance(FakeHost(), ViewerHost)


def test_image_view_and_notifications():
    host = host_with_labels()
    image = host.current_image()
    assert isinstance(image, HostImage)
    assert image.axes == "ZYX" and image.shape == (4, 32, 48) and image.scale["Z"] == 2.0
    view = host.view_state()
    assert view.displayed_axes == (1, 2)
    assert view.current_slice == (0, slice(None), slice(None))
    assert view.visible_region == (slice(0, 1), slice(0, 32), slice(0, 48))
    host.view = full_view((4, 32, 48), position=(2, 0, 0))
    assert host.view_state().current_slice[0] == 2
    host.notify("saved")
    host.notify("careful", "warning")
    assert host.notifications == [("info", "saved"), ("warning", "careful")]
    with pytest.raises(ValueError, match="level"):
        host.notify("x", "fatal")
    with pytest.raises(ValueError, match="axes"):
        host.add_image(np.zeros((3, 3)), "ZYX")


def test_each_edit_is_one_undo_step_and_redo_restores_it():
    host = host_with_labels()
    labels = host.current_labels()
    original = labels.copy()
    host.apply_label_edit(merge_labels_edit(labels, [3, 4]))
    after_merge = labels.copy()
    host.apply_label_edit(split_object_edit(labels, 3, [(1, 8, 8), (1, 8, 26)]))
    assert len(np.unique(labels)) == 3
    assert host.undo() and np.array_equal(labels, after_merge)
    assert host.undo() and np.array_equal(labels, original)
    assert not host.undo()
    assert host.redo() and np.array_equal(labels, after_merge)
    host.apply_label_edit(delete_object_edit(labels, 3))
    assert not host.redo_stack  # a new edit drops the redo branch
    host.apply_label_edit(delete_object_edit(labels, 99))  # no-op: no history step
    assert len(host.undo_stack) == 2


def test_replacing_labels_resets_history_and_overlay_is_kept():
    host = host_with_labels()
    host.apply_label_edit(delete_object_edit(host.current_labels(), 3))
    new = np.ones((4, 32, 48), np.uint16)
    host.set_labels(new, name="prediction")
    assert host.current_labels() is new and not host.undo_stack
    assert set(host.labels_layers) == {"labels", "prediction"}
    host.set_reviewed_overlay(new > 0)
    assert host.reviewed_overlay.dtype == bool and host.reviewed_overlay.all()
    host.refresh_labels((slice(0, 1), slice(0, 8), slice(0, 8)))
    assert host.refreshed[-1][1] == slice(0, 8)


def test_editing_without_labels_is_a_user_error():
    host = FakeHost()
    edit = delete_object_edit(np.ones((3, 3), np.uint8), 1)
    with pytest.raises(UserError, match="no labels layer"):
        host.apply_label_edit(edit)


def test_view_state_current_slice_in_3d_view():
    view = ViewState((5, 10, 20), (0, 1, 2), (slice(0, 8), slice(0, 30), slice(0, 40)))
    assert view.current_slice == (slice(None),) * 3


def test_extras_mirror_the_napari_host():
    host = host_with_labels()
    heard = []
    host.connect_user_edits(lambda edit, kind: heard.append((kind, edit.size)))
    labels = host.current_labels()
    from unet_studio.app.label_edit import edit_from_region

    stroke = edit_from_region(labels, (2, slice(0, 3), slice(0, 4)), 9)
    host.user_paint(stroke)
    assert (labels[2, :3, :4] == 9).all()
    host.apply_label_edit(delete_object_edit(labels, 4))  # a panel's own edit: not reported
    host.undo()
    host.undo()
    assert heard == [("paint", 12), ("undo", 64), ("undo", 12)]
    assert not labels[2].any()
    clicks = []
    host.set_click_handler(clicks.append)
    host.click((1, 5.5, 6))
    host.set_click_handler(None)
    host.click((0, 0, 0))
    assert clicks == [(1.0, 5.5, 6.0)]
    host.set_selected_label(12)
    assert host.selected_label() == 12
    host.drawn.append(np.array([[0, 1, 1], [0, 1, 5], [0, 5, 5]]))
    assert len(host.drawn_regions()) == 1
    host.clear_drawn_regions()
    assert host.drawn_regions() == []
