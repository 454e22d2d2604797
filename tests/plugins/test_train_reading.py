"""A round reads its data in its worker thread: finding the reviewed box reads the whole
mask (seconds for a big stack) and froze the window when done at the click."""

import threading

import pytest

from unet_studio.models.training import examples

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_the_reviewed_box_is_found_in_the_worker_and_the_panel_says_so(
        corrected, qtbot, monkeypatch, quick_round, after_each_step):
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
    # (what the worker reports: the status line may skip a fast step, throttled)
    after_each_step(train, lambda report: statuses.append(getattr(report, "text", "")))
    with qtbot.waitSignal(train.finished, timeout=120_000) as blocker:
        train.start(config=quick_round())
    assert threads and threading.main_thread() not in threads
    assert any(text.startswith("Measuring the intensities of nuclei") for text in statuses)
    assert blocker.args[0].steps == 3
    assert blocker.args[0].data_summary["reviewed_pixels"] == 6 * 96 * 96  # (unchanged)


@pytest.mark.slow
def test_segment_and_train_on_the_same_pixels_take_one_intensity_pass(
        corrected, qtbot, passes, quick_round, run_segment, segment_panel_of):  # fmt: skip
    """The whole stack's percentiles are a pass over every pixel (~20 s a GiB): taken by a
    Segment run, a round on the same image reuses them, and so do a second round and the
    Segment run after it; the round's examples are normalised alike either way."""
    from unet_studio.app.qt.train_intensity import whole_image_key
    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    run_segment(segment_panel_of(corrected))
    assert len(passes) == 1
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    train = TrainPanel(session)
    qtbot.addWidget(train)
    ranges = []
    for _ in range(2):
        with qtbot.waitSignal(train.finished, timeout=120_000):
            train.start(config=quick_round())
        ranges.append(train.round.examples[0].intensity)
        train.reject_button.click()
    run_segment(segment_panel_of(corrected))
    assert len(passes) == 1  # (the Segment run's, before the rounds)
    key = whole_image_key(session.host.current_image(), None)
    taken = session.intensities.known(key)[(1.0, 99.8)]  # (the model's percentiles)
    for intensity in ranges:
        assert (intensity.low, intensity.high) == (taken.low, taken.high)
