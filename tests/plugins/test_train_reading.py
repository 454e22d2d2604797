"""A round reads its data in its worker thread: finding the reviewed box reads the whole
mask (seconds for a big stack) and froze the window when done at the click."""

import threading

import pytest

from unet_studio.models.training import examples

pytestmark = pytest.mark.qt


def test_the_reviewed_box_is_found_in_the_worker_and_the_panel_says_so(
        corrected, qtbot, monkeypatch, quick_round):
    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    train = TrainPanel(session)
    qtbot.addWidget(train)
    threads, real = [], examples.reviewed_box
    monkeypatch.setattr(examples, "reviewed_box",
                        lambda *a, **k: threads.append(threading.current_thread()) or real(*a, **k))
    statuses = []
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round())
        train.worker.yielded.connect(lambda _: statuses.append(train.status.text()))
    assert threads and threading.main_thread() not in threads
    assert any(text.startswith("Measuring the intensities of nuclei") for text in statuses)
    assert blocker.args[0].steps == 3
    assert blocker.args[0].data_summary["reviewed_pixels"] == 6 * 96 * 96  # (unchanged)
