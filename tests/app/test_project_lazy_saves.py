"""The autosave of an edit touching many chunks reads them in the writer thread, not at the
call (an edit of every object of a stack: hundreds of MB that the GUI thread copied), and
the saved labels still end equal to the live ones after edits made while it writes."""

from __future__ import annotations

import threading

import numpy as np

from unet_studio.app.label_edit import edit_from_region
from unet_studio.app.project import Project


class Watched(np.ndarray):
    """Live labels that note the threads reading chunks of them."""

    readers: set = set()

    def __getitem__(self, key):
        if isinstance(key, tuple) and all(isinstance(k, slice) for k in key):
            Watched.readers.add(threading.current_thread())
        return super().__getitem__(key)


def _small_threshold(monkeypatch, nbytes=2 << 20) -> None:
    from unet_studio.app import project_arrays

    monkeypatch.setattr(project_arrays, "LAZY_SNAPSHOT_BYTES", nbytes)


def test_an_edit_of_many_chunks_is_read_by_the_writer(tmp_path, monkeypatch):
    _small_threshold(monkeypatch)  # (2 MiB: 2 chunks of 512 x 512 int32)
    live = np.zeros((4, 600, 600), np.int32).view(Watched)
    with Project.create(tmp_path / "p", autosave_delay=60) as project:
        ref = project.add_image(tmp_path / "a.tif", axes="ZYX")
        project.attach_labels(ref.id, live)
        project.flush()
        small = edit_from_region(live, (slice(1, 2), slice(10, 20), slice(10, 20)), 3)
        small.apply_to(live)
        Watched.readers.clear()
        project.record_edit(ref.id, small)  # (one chunk, 1 MiB: copied at the call)
        assert Watched.readers == {threading.main_thread()}
        big = edit_from_region(live, (slice(0, 4), slice(300, 310), slice(300, 310)), 8)
        big.apply_to(live)  # (4 chunks: 4 MiB)
        Watched.readers.clear()
        project.record_edit(ref.id, big)
        assert Watched.readers == set()  # (nothing copied at the call)
        project.flush()
        assert Watched.readers and threading.main_thread() not in Watched.readers
    with Project.open(tmp_path / "p") as again:
        np.testing.assert_array_equal(again.labels(ref.id), live)


def test_saved_labels_equal_the_live_ones_after_an_edit_storm(tmp_path, monkeypatch):
    """Edits of every plane (saved lazily) and small ones, made while the writer (no
    delay) reads and writes chunks of the labels: what is saved in the end is the labels
    as they are, never a chunk read mid-edit."""
    _small_threshold(monkeypatch)
    rng = np.random.default_rng(7)
    live = np.zeros((6, 700, 700), np.int32)
    with Project.create(tmp_path / "p", autosave_delay=0) as project:
        ref = project.add_image(tmp_path / "a.tif", axes="ZYX")
        project.attach_labels(ref.id, live)
        for step in range(60):
            if step % 3:
                y, x = rng.integers(0, 650, 2)
                region = (slice(0, 6), slice(int(y), int(y) + 50), slice(int(x), int(x) + 50))
            else:
                z, y, x = rng.integers(0, 6), *rng.integers(0, 690, 2)
                region = (slice(int(z), int(z) + 1), slice(int(y), int(y) + 5), slice(int(x), int(x) + 5))
            edit = edit_from_region(live, region, step + 1)
            edit.apply_to(live)
            project.record_edit(ref.id, edit)
            if step % 7 == 0:
                edit.revert(live)  # (an undo: its region saved again)
                project.mark_dirty(ref.id, edit.bbox)
        assert project.flush(timeout=120)
        expected = live.copy()
    with Project.open(tmp_path / "p") as again:
        np.testing.assert_array_equal(again.labels(ref.id), expected)
