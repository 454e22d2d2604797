"""Two windows on one project: the first writes it, the second opens it read-only and keeps
its changes in memory; when the first closes it the second becomes the writer and merges
(``project_merge``) instead of undoing what the first saved. Two real projects on one real
folder, as two windows of one program have them."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.label_edit import diff_labels
from unet_studio.app.project import Project

SHAPE = (2, 600, 700)  # (Z, Y, X): four chunks per plane (512 x 512 at most)


def _objects() -> np.ndarray:
    """Objects 3 and 4 in one chunk (plane 0), object 5 in another chunk of plane 0,
    object 7 in plane 1."""
    labels = np.zeros(SHAPE, np.int32)
    labels[0, 10:40, 10:40] = 3
    labels[0, 60:90, 60:90] = 4
    labels[0, 550:590, 600:650] = 5
    labels[1, 100:150, 100:150] = 7
    return labels


def _delete(project: Project, image_id: str, live: np.ndarray, label: int) -> None:
    """Delete an object as the Correct panel does: the edit applied, then recorded."""
    edit = diff_labels(live, np.where(live == label, 0, live))
    edit.apply_to(live)
    project.record_edit(image_id, edit)


def _saved_labels(folder, image_id: str) -> np.ndarray:
    """The labels on disk, read by a third opening."""
    with Project.open(folder, autosave_delay=0.0) as reopened:
        return reopened.labels(image_id).copy()


@pytest.fixture
def two_windows(tmp_path):
    """(first, second, image id): the first holds the project with labels saved, the second
    opened it after, read-only."""
    first = Project.create(tmp_path / "p", autosave_delay=0.0)
    ref = first.add_image("img.tif", axes="ZYX")
    first.attach_labels(ref.id, _objects())
    first.reviewed(ref.id, SHAPE)
    assert first.flush(10)
    second = Project.open(tmp_path / "p", autosave_delay=0.0)
    assert second.read_only
    yield first, second, ref.id
    first.close()
    second.close()


def test_both_windows_edits_are_kept_on_disk_and_in_the_second_windows_labels(two_windows):
    first, second, image_id = two_windows
    live = second.labels(image_id)
    _delete(first, image_id, first.labels(image_id), 3)
    _delete(first, image_id, first.labels(image_id), 5)  # (a chunk the second never touched)
    assert first.flush(10)
    _delete(second, image_id, live, 4)  # (the chunk of object 3: kept in memory)
    first.close()
    assert second.sharing_problem() is None  # (the writer now: caught up)
    assert second.flush(10)
    for labels in (live, _saved_labels(second.path, image_id)):
        assert not np.isin(labels, [3, 4, 5]).any()
        assert (labels == 7).sum() == 50 * 50
    arrays, _ = second.take_merged()
    assert any(array is live for array in arrays)  # (for the window to redraw)
    assert any("merged" in problem for problem in second.problems)
    # A later edit here saves the merged chunk, not the other window's objects back.
    _delete(second, image_id, live, 7)
    assert second.flush(10)
    assert not np.isin(_saved_labels(second.path, image_id), [3, 4, 5, 7]).any()


def test_nothing_saved_by_the_other_window_changes_nothing(two_windows):
    first, second, image_id = two_windows
    live = second.labels(image_id)
    _delete(second, image_id, live, 4)
    first.close()
    assert second.sharing_problem() is None and second.flush(10)
    assert second.take_merged() == ((), ())
    assert not second.problems
    expected = _objects()
    expected[expected == 4] = 0
    np.testing.assert_array_equal(_saved_labels(second.path, image_id), expected)


def test_reviewed_marks_of_both_windows_are_kept(two_windows):
    first, second, image_id = two_windows
    mine = second.reviewed(image_id, SHAPE)
    first.reviewed(image_id).mark_slice(0)
    first.save_reviewed(image_id)
    assert first.flush(10)
    mine.mark_slice(1)
    second.save_reviewed(image_id)
    first.close()
    assert second.sharing_problem() is None and second.flush(10)
    assert mine.mask.all()  # (this window's regions: both planes)
    _, regions = second.take_merged()
    assert any(merged is mine for merged in regions)
    with Project.open(second.path, autosave_delay=0.0) as reopened:
        assert reopened.reviewed(image_id).mask.all()
