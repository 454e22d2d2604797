"""Panel logic without napari: the panels run on the in-memory FakeHost too."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.errors import UserError
from unet_studio.app.host import FakeHost, full_view
from unet_studio.app.qt.segment_logic import (
    SegmentRequest,
    SegmentResult,
    merge_into_labels,
    plan_job,
)
from unet_studio.app.qt.train_logic import held_out_caveat, is_better, metric_table, parse_duration

pytestmark = pytest.mark.qt


@pytest.fixture
def session(tmp_path, monkeypatch, qtbot):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    labels = np.zeros((4, 32, 32), np.int32)
    labels[:, 4:12, 4:12] = 1
    labels[:, 14:24, 14:24] = 2
    labels[:, 15:18, 15:18] = 0  # a hole in object 2
    host.add_image(np.random.default_rng(0).random((4, 32, 32)), "ZYX", name="img")
    studio = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    studio.show_labels(labels)
    yield studio
    studio.close_project()


def test_correct_panel_runs_on_fake_host(session, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host = session.host
    labels = host.current_labels()
    panel.fill_button.click()
    assert (labels[:, 15:18, 15:18] == 2).all() and len(host.undo_stack) == 1
    panel.tool_buttons["delete"].click()
    panel.tools.click((1, 6, 6))
    assert not (labels == 1).any() and len(host.undo_stack) == 2
    assert session.reviewed.changed[1, 6, 6] and session.project is not None
    host.undo()
    assert (labels[:, 4:12, 4:12] == 1).all()
    with pytest.raises(UserError, match="no object"):
        panel.tools.click((0, 30, 30))
    panel._on_click((0, 30, 30))  # through the panel it becomes a notification
    assert host.notifications[-1][0] == "warning"


def test_plan_job_selects_the_slice_on_screen():
    host = FakeHost()
    host.add_image(np.zeros((5, 3, 40, 50), np.uint16), "TCYX", name="movie")
    view = full_view(host.image.shape, position=(2, 0, 0, 0))
    request = SegmentRequest(model_path="m", scope="slice", channel=1)
    job = plan_job(host.image, request, view, "YX")
    assert job.axes == "TYX" and job.data.shape == (1, 40, 50)
    assert job.labels_shape == (5, 40, 50) and job.target[0] == slice(2, 3)
    assert job.streams_into_labels
    with pytest.raises(UserError, match="axes"):
        plan_job(host.image, SegmentRequest(model_path="m", axes="TTYX"), view, "YX")
    with pytest.raises(UserError, match="channel 7"):
        plan_job(host.image, SegmentRequest(model_path="m", channel=7), view, "YX")


def test_a_run_on_the_plane_shown_is_normalised_by_the_whole_image():
    """The plane shown takes the range of the whole time series (the same channel), as a
    run over the series and a Train round normalise it: its own range stretched a dim frame."""
    from unet_studio.app.qt.segment_intensity import iter_find_intensity
    from unet_studio.models.task import TaskSpec

    movie = np.random.default_rng(1).integers(0, 1000, (5, 2, 40, 50)).astype(np.uint16)
    movie[2] //= 10  # (a dim frame)
    movie[:, 0] += 5000  # (another channel, brighter: not part of channel 1's range)
    host = FakeHost()
    host.add_image(movie, "TCYX", name="movie")
    task = TaskSpec()
    found = {}
    for scope in ("stack", "slice"):
        job = plan_job(host.image, SegmentRequest(model_path="m", scope=scope, channel=1),
                       full_view(movie.shape, position=(2, 0, 0, 0)), "YX")
        steps = iter_find_intensity(job, task, {})
        with pytest.raises(StopIteration) as done:
            while True:
                next(steps)
        found[scope] = done.value.value
    assert found["slice"].key.same_pixels(found["stack"].key)  # (a range kept is reused)
    lower, upper = np.percentile(movie[:, 1], (task.lower_percentile, task.upper_percentile))
    for scope in found:
        np.testing.assert_allclose(np.ravel(found[scope].intensity.low), lower, rtol=1e-6)
        np.testing.assert_allclose(np.ravel(found[scope].intensity.high), upper, rtol=1e-6)


def test_slice_results_keep_other_planes_and_get_fresh_ids():
    host = FakeHost()
    host.add_image(np.zeros((3, 8, 8)), "ZYX")
    current = np.zeros((3, 8, 8), np.int32)
    current[0, :2, :2] = 5
    job = plan_job(host.image, SegmentRequest(model_path="m", scope="slice"),
                   full_view((3, 8, 8), position=(1, 0, 0)), "YX")
    output = np.zeros((1, 8, 8), np.int32)
    output[0, 4:, 4:] = 1
    merged = merge_into_labels(SegmentResult(job, output, "net"), current)
    assert merged[0, 0, 0] == 5 and merged[1, 5, 5] == 6 and not merged[2].any()


@pytest.mark.parametrize(("text", "seconds"), [("60 s", 60), ("90", 90), ("2 min", 120), ("1.5 h", 5400), ("", None)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_parse_duration_rejects_nonsense():
    with pytest.raises(UserError, match="60 s"):
        parse_duration("soon")


def test_is_better_prefers_the_validation_score():
    class Result:
        def __init__(self, before, after, improved=None):
            self.metrics_before, self.metrics_after, self.improved = before, after, improved

    assert is_better(Result({"val_metric": 0.5}, {"val_metric": 0.6}))
    assert not is_better(Result({"val_metric": 0.6}, {"val_metric": 0.5}, improved=True))
    assert not is_better(Result({}, {}, improved=True))  # (nothing held out: nothing measured)
    # Held-out crops without reference objects: the 1-or-0 F1 gives way to the loss.
    no_objects = ({"val_metric": 1.0, "n_true": 0, "val_loss": 0.5},
                  {"val_metric": 0.0, "n_true": 0, "val_loss": 0.4})
    assert is_better(Result(*no_objects, improved=True))
    assert not is_better(Result(*reversed(no_objects), improved=False))
    # F1 at IoU 0.5 tied: the outlines decide (F1 at 0.75) before the loss does; a round
    # whose loss fell while its outlines got worse is no better.
    tied = {"val_metric": 0.87, "f1_75": 0.87, "val_loss": 1.42, "n_true": 12}
    worse_outlines = {"val_metric": 0.87, "f1_75": 0.78, "val_loss": 0.92, "n_true": 12}
    assert not is_better(Result(tied, worse_outlines, improved=True))
    assert is_better(Result(worse_outlines, tied, improved=False))
    assert is_better(Result(tied, {**tied, "val_loss": 1.0}, improved=True))  # then the loss


def test_the_verdict_says_when_held_out_data_cannot_tell():
    class Result:
        def __init__(self, before):
            self.metrics_before = before

    assert held_out_caveat(Result({"val_loss": 0.3, "val_metric": 0.8, "n_true": 25})) == ""
    assert "no objects" in held_out_caveat(Result({"val_loss": 0.3, "val_metric": 1.0,
                                                   "n_true": 0}))
    assert "No reviewed data was held out" in held_out_caveat(Result({}))
    assert held_out_caveat(Result({"val_loss": 0.3, "val_metric": 0.7})) == ""  # semantic


def test_a_verdict_on_one_reviewed_time_point_says_time_point_as_the_correct_panel_does():
    from types import SimpleNamespace

    def caveat(plane_axes: str) -> str:
        return held_out_caveat(SimpleNamespace(
            metrics_before={"val_loss": 0.3, "val_metric": 0.5, "n_true": 4},
            extra={"val_object_slabs": 1, "val_plane_axes": plane_axes},
            data_summary={"slabs": 1}))

    assert "all in the one time point reviewed" in caveat("T")
    assert "review another time point too" in caveat("T")
    assert "review another slice too" in caveat("Z")


def test_loss_plot_paints_its_series(qtbot):

    from unet_studio.app.qt.loss_plot import LossPlot, plot_colours

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(300, 160)
    for step in range(1, 30):
        plot.add(step, train_loss=1.0 / step, val_score=step / 30 if step % 5 == 0 else None)
    image = plot.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(0, 300, 2) for y in range(0, 160, 2)}
    assert plot_colours(plot.palette())["train loss"].name() in colours  # the loss line was drawn
    assert len(plot.series["held-out score"]) == 5


def test_live_destination_writes_around_reviewed_pixels_and_restores():
    from unet_studio.app.qt.live_labels import LiveLabelsDestination, id_offset_outside
    from unet_studio.app.reviewed import ReviewedRegions

    live = np.zeros((3, 6, 6), np.int32)
    live[0] = 9  # another plane's object
    live[1, :2] = 4  # the user's checked object
    regions = ReviewedRegions(live.shape)
    regions.mark_region((slice(1, 2), slice(0, 2), slice(None)))
    target = (slice(1, 2), slice(None), slice(None))
    offset = id_offset_outside(live, target)
    assert offset == 9
    out = LiveLabelsDestination(live, target, regions, offset)
    assert out.shape == (1, 6, 6)
    out[(0, Ellipsis)] = np.ones((6, 6), np.int32)  # the engine's labels for the group
    assert (live[1, :2] == 4).all() and (live[1, 2:] == 10).all() and (live[0] == 9).all()
    out.restore()
    assert (live[1, :2] == 4).all() and not live[1, 2:].any()


def test_live_destination_keeps_no_copy_of_empty_labels_and_restores_them_to_zeros():
    """Fresh labels (a first run) need no backup: a stack's labels are not held twice."""
    from unet_studio.app.qt.live_labels import LiveLabelsDestination

    live = np.zeros((4, 8, 8), np.int32)
    out = LiveLabelsDestination(live, (slice(None),) * 3)
    assert out.backup is None
    out[...] = np.ones((4, 8, 8), np.int32)
    out.restore()
    assert not live.any()


def test_live_destination_finish_gives_clashing_objects_fresh_ids():
    from unet_studio.app.qt.live_labels import LiveLabelsDestination
    from unet_studio.app.reviewed import ReviewedRegions

    live = np.zeros((8, 8), np.int32)
    live[:2, :2] = 1  # the user's object 1, reviewed
    regions = ReviewedRegions(live.shape)
    regions.mark_region((slice(0, 2), slice(0, 2)))
    out = LiveLabelsDestination(live, (slice(None), slice(None)), regions)
    predicted = np.zeros((8, 8), np.int32)
    predicted[5:, 5:] = 1  # the engine numbers its objects from 1 too
    out[...] = predicted
    out.finish()
    assert (live[:2, :2] == 1).all() and (live[5:, 5:] == 2).all()


def test_object_options_are_checked_and_only_set_ones_are_passed_on():
    assert SegmentRequest(model_path="m").postprocess_options() == {}
    request = SegmentRequest(model_path="m", min_size=0, seed_height=0.5)
    assert request.postprocess_options() == {"min_size": 0, "seed_height": 0.5}
    with pytest.raises(ValueError, match="minimum object size"):
        SegmentRequest(model_path="m", min_size=-2)
    with pytest.raises(ValueError, match="split depth"):
        SegmentRequest(model_path="m", seed_height=0.0)


def test_metric_table_names_the_scores_and_shows_what_either_side_has():
    before = {"f1_50": 0.5, "f1_75": 0.25, "ap_50": 0.4, "ap_75": 0.2, "mean_matched_iou": 0.8,
              "n_pred": 7, "n_true": 9, "val_metric": 0.5, "val_loss": 0.9}
    after = dict(before, f1_50=0.75, val_metric=0.75, n_pred=9, val_loss=0.5)
    rows = metric_table(before, after)
    names = [row[0] for row in rows]
    assert names == ["F1, IoU 0.5", "F1, IoU 0.75", "AP, IoU 0.5", "AP, IoU 0.75",
                     "mean IoU of matches", "objects predicted", "objects reviewed", "held-out loss"]
    assert rows[0][2:] == ("0.500", "0.750") and rows[5][2:] == ("7", "9")
    assert all(row[1] for row in rows)  # every row explains itself in a tooltip
    # A semantic model: its score is a Dice; no object rows.
    semantic = metric_table({"val_metric": 0.61, "val_loss": 0.7}, {"val_metric": 0.72, "val_loss": 0.6})
    assert [row[0] for row in semantic] == ["mean Dice", "held-out loss"]
    assert semantic[0][2:] == ("0.610", "0.720")
    # No validation at all (too little reviewed): an empty table, and one side only.
    assert metric_table({}, {}) == []
    assert metric_table({}, {"val_loss": 0.3}) == [("held-out loss", rows[-1][1], "", "0.300")]


def test_objects_found_reads_as_a_count_per_image_or_per_time_series():
    from unet_studio.app.predict_files import objects_found

    assert objects_found([]) == ""  # a mask or probabilities: no objects to count
    assert objects_found([1]) == ": 1 object"
    assert objects_found([76]) == ": 76 objects"
    assert objects_found([70, 73, 0]) == ": 143 objects in 3 time points"


def test_pointer_keys_act_on_the_object_under_the_pointer(session, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    keys, host = panel.keys, session.host
    labels = host.current_labels()
    before = labels.copy()
    keys.press("fill", (1, 20, 20))  # H over object 2 fills its hole, in every plane
    assert (labels[:, 15:18, 15:18] == 2).all() and len(host.undo_stack) == 1
    assert keys.press("merge", (1, 6, 6)).startswith("Merge: object 1 chosen")
    assert len(host.undo_stack) == 1  # nothing merged yet
    assert keys.press("merge", (1, 20, 20)) == "Merged object 2 into 1."
    assert set(np.unique(labels)) == {0, 1} and len(host.undo_stack) == 2
    host.undo()
    keys.press("seed", (2, 15, 15))
    keys.press("seed", (2, 22, 22))
    assert "Shift+S" in panel.tool_status.text()
    assert keys.press("split", None) == "Split object 2 into 2."
    split = labels[before == 2]
    assert len(np.unique(split)) == 2 and 0 not in split and (labels[before == 1] == 1).all()
    host.undo()
    with pytest.raises(UserError, match="Shift"):
        keys.press("split", (2, 6, 6))  # no seeds any more
    panel.keys.press("merge", (0, 6, 6))
    assert keys.press("merge", (0, 30, 30)) == "Merge dropped."  # the background drops it
    assert keys.press("merge", (0, 20, 20)).startswith("Merge: object 2 chosen")
    assert keys.press("pick", (0, 20, 20)).startswith("Painting with label 2")
    assert host.selected_label() == 2
    keys.press("delete", (3, 8, 8))
    assert not (labels == 1).any()
    assert session.reviewed.changed[3, 8, 8]  # a key's edit is marked like a click's
    with pytest.raises(UserError, match="not over the labels"):
        keys.press("delete", None)
    panel.tool_buttons["merge"].click()  # choosing a click tool drops the pending key merge
    assert keys.merge_from == 0 and "Click the objects" in panel.tool_status.text()


def _timed_progress_bar(qtbot, labelling=False):
    """A live redraw's progress bar and the list holding its clock's time (seconds)."""
    from qtpy.QtWidgets import QProgressBar

    from unet_studio.app.qt.live_redraw import LiveRedraw
    from unet_studio.app.time_left import RunTimeLeft

    bar = QProgressBar()
    qtbot.addWidget(bar)
    redraw = LiveRedraw(None, bar)
    redraw.start(None, (4, 8), (0, 1), labelling=labelling)
    now = [0.0]
    redraw.time_left = RunTimeLeft(clock=lambda: now[0], labelling=labelling)
    return bar, redraw, now


def test_the_progress_bar_says_the_time_left_once_it_can_tell(qtbot):
    from types import SimpleNamespace

    bar, redraw, now = _timed_progress_bar(qtbot)
    for done in (1, 2, 3):  # a tile every 60 s after the first
        redraw.note(SimpleNamespace(done=done, total=20, region=None))
        redraw.redraw()
        now[0] += 60
    assert bar.value() == 15 and bar.format() == "%p%  (about 17 min left)"
    redraw.stop()
    assert bar.format() == "%p%"


def test_the_time_left_starts_over_when_the_intensity_pass_gives_way_to_the_tiles(qtbot):
    """The pass over the pixels counts pixels, the tiles count tiles: the rate of the one
    says nothing of the other."""
    from types import SimpleNamespace

    bar, redraw, now = _timed_progress_bar(qtbot)

    def report(stage: str, done: int, total: int) -> str:
        redraw.note(SimpleNamespace(stage=stage, done=done, total=total, region=None))
        redraw.redraw()
        now[0] += 10
        return bar.format()

    assert [report("intensity", done, 100) for done in (10, 20, 30)][-1] == "%p%  (about 2 min left)"
    assert report("predict", 1, 20) == "%p%"  # a new count: no estimate from the pass's rate
    assert bar.value() == 5
    assert [report("predict", done, 20) for done in (2, 3)][-1] == "%p%  (about 3 min left)"
    redraw.stop()


def test_a_labelling_after_the_tiles_has_its_own_bar_and_time_left(qtbot):
    """A 3D stack's objects are labelled after all its tiles, one engine step that may take
    longer than them: the time left is said to be the tiles' until then, and the labelling
    shows its own progress rather than "99 %" for minutes."""
    from types import SimpleNamespace

    bar, redraw, now = _timed_progress_bar(qtbot, labelling=True)

    def report(stage: str, done: float) -> str:
        redraw.note(SimpleNamespace(stage=stage, done=done, total=21, region=None))
        redraw.redraw()
        now[0] += 10
        return bar.format()

    # (the labels read before the first tile: their own time left, not the tiles')
    assert [report("backup", done) for done in (1, 2, 3)][-1] == "%p%  (about 3 min left)"
    redraw.next_stage()
    assert [report("predict", done) for done in (1, 2, 3)][-1] == (
        "%p%  (about 3 min left for the tiles, then labelling objects)")
    report("predict", 20)
    assert report("labelling", 20.25) == "labelling objects %p%" and bar.value() == 25
    assert report("labelling", 20.5) == "labelling objects %p%  (about 20 s left)"
    redraw.stop()


def test_a_slow_redraw_of_the_labels_spaces_the_next_ones_but_not_the_bar(qtbot):
    """Redrawing a big plane's labels can take a second or two (software OpenGL): the next
    redraw of the labels waits several times as long, so that the window is mostly the
    user's, while the bar and the time left go on at every tick (they sat at 0 % for a
    minute on a large mosaic); the regions waiting are drawn later, none dropped; a new run
    starts at the usual pace."""
    import time
    from types import SimpleNamespace

    from qtpy.QtWidgets import QProgressBar

    from unet_studio.app.qt.live_redraw import REDRAW_SHARE, LiveRedraw

    drawn = []
    host = SimpleNamespace(refresh_labels=lambda region: drawn.append(region) or time.sleep(0.3))
    bar = QProgressBar()
    qtbot.addWidget(bar)
    redraw = LiveRedraw(host, bar)
    target = (slice(0, 4), slice(0, 8))
    redraw.start(target, (4, 8), (0, 1))
    redraw.note(SimpleNamespace(stage="predict", done=1, total=4, region=(slice(0, 1),)))
    redraw.redraw()
    assert len(drawn) == 1 and redraw._labels_due >= time.perf_counter() + REDRAW_SHARE * 0.3 - 0.35
    redraw.note(SimpleNamespace(stage="predict", done=3, total=4, region=(slice(2, 3),)))
    redraw.redraw()  # (too soon for the labels: the bar moves all the same)
    assert bar.value() == 75 and len(drawn) == 1
    redraw._labels_due = 0.0  # (time has come)
    redraw.redraw()
    assert drawn[-1] == (slice(2, 3), slice(0, 8))  # (kept, not dropped)
    redraw.stop()
    redraw.start(target, (4, 8), (0, 1))
    assert redraw._labels_due == 0.0
    redraw.stop()


def test_one_time_point_segmented_takes_the_ids_of_the_time_point_before():
    """A run over time point 1 of a series: its new objects take the ids of those they
    overlap at time point 0; an id a reviewed object of time point 1 holds is not given
    again; an object with no partner keeps its fresh id."""
    from unet_studio.app.qt.live_labels import LiveLabelsDestination, id_offset_outside
    from unet_studio.app.reviewed import ReviewedRegions

    live = np.zeros((3, 20, 30), np.int32)
    live[0, 2:8, 2:8], live[0, 12:18, 2:8], live[0, 2:8, 20:26] = 5, 9, 7
    live[1, 2:8, 20:26] = 7  # the user's object 7 at time point 1, reviewed
    regions = ReviewedRegions(live.shape)
    regions.mark_region((slice(1, 2), slice(0, 10), slice(18, 30)))
    target = (slice(1, 2), slice(None), slice(None))
    out = LiveLabelsDestination(live, target, regions, id_offset_outside(live, target), time_axis=0)
    predicted = np.zeros((1, 20, 30), np.int32)
    predicted[0, 3:9, 3:9] = 1  # moved a pixel: continues 5
    predicted[0, 12:18, 3:8] = 2  # continues 9
    predicted[0, 12:18, 14:18] = 3  # new
    predicted[0, 11:18, 22:28] = 4  # overlaps no object of time point 0 strongly enough
    out[...] = predicted
    out.finish()
    assert (live[1, 3:9, 3:9] == 5).all() and (live[1, 12:18, 3:8] == 9).all()
    assert (live[1, 2:8, 20:26] == 7).all()  # the reviewed object untouched
    fresh = {int(live[1, 14, 15]), int(live[1, 14, 24])}
    assert len(fresh) == 2 and not fresh & {5, 7, 9}
    # A run over the whole series is linked by the engine: the destination leaves it be.
    whole = np.zeros((2, 8, 8), np.int32)
    out = LiveLabelsDestination(whole, (slice(None),) * 3, None, 0, time_axis=0)
    engine = np.zeros((2, 8, 8), np.int32)
    engine[0, :4, :4], engine[1, :4, :4] = 1, 2
    out[...] = engine
    out.finish()
    np.testing.assert_array_equal(whole, engine)


def test_one_time_point_segmented_again_leaves_the_other_time_points_ids_alone():
    """Nucleus 5 is reviewed at time point 1 and goes on, unreviewed, at time points 0
    and 2; segmenting time point 2 again changes time point 2 only: 5 stays 5 before, and
    the nucleus found again at time point 2 goes on as 5 (renumbering the unreviewed 5 of
    time point 0 as a clash with the reviewed one broke its track in two)."""
    from unet_studio.app.qt.live_labels import LiveLabelsDestination, id_offset_outside
    from unet_studio.app.reviewed import ReviewedRegions

    live = np.zeros((3, 20, 20), np.int32)
    live[:, 2:8, 2:8] = 5
    live[0, 12:16, 12:16] = 6  # another nucleus, at time point 0 only
    regions = ReviewedRegions(live.shape)
    regions.mark_slice(1)
    before = live[:2].copy()
    target = (slice(2, 3), slice(None), slice(None))
    out = LiveLabelsDestination(live, target, regions, id_offset_outside(live, target), time_axis=0)
    predicted = np.zeros((1, 20, 20), np.int32)
    predicted[0, 3:9, 2:8] = 1  # nucleus 5, moved a pixel
    out[...] = predicted
    out.finish()
    np.testing.assert_array_equal(live[:2], before)
    assert (live[2, 3:9, 2:8] == 5).all() and set(np.unique(live[2])) == {0, 5}


def test_a_series_segmented_around_a_reviewed_time_point_goes_on_under_its_ids():
    """Time point 2 of a series is reviewed (the user's ids 40 and 41); a new run over the
    whole series links its own objects 1 and 2 over time: the track that continues 40
    before and after time point 2 is 40 in every time point, the other keeps its id, and
    nothing inside the reviewed pixels changes."""
    from unet_studio.app.qt.live_labels import LiveLabelsDestination
    from unet_studio.app.reviewed import ReviewedRegions

    live = np.zeros((4, 20, 20), np.int32)
    live[2, 2:8, 2:8], live[2, 12:16, 12:16] = 40, 41  # the user's, reviewed
    regions = ReviewedRegions(live.shape)
    regions.mark_region((slice(2, 3), slice(None), slice(None)))
    out = LiveLabelsDestination(live, (slice(None),) * 3, regions, 0, time_axis=0)
    engine = np.zeros((4, 20, 20), np.int32)
    for t in range(4):  # (as the engine links them)
        engine[t, 2 + t // 2:8 + t // 2, 2:8] = 1  # the reviewed nucleus 40, drifting
        engine[t, 2:5, 14:18] = 2  # another one, nowhere near 41
    out[...] = engine
    out.finish()
    for t in (0, 1, 3):
        assert (live[t, 2 + t // 2:8 + t // 2, 2:8] == 40).all()
        assert live[t, 3, 15] == 2  # no kept object goes on as it: the engine's id
    assert (live[2, 2:8, 2:8] == 40).all() and (live[2, 12:16, 12:16] == 41).all()


def test_object_tools_in_a_time_series_act_on_the_time_point_picked(tmp_path, monkeypatch, qtbot):
    """Ids go on over time, so one id is one object at every time point: deleting, merging,
    splitting or filling it where it is picked changes that time point alone (as napari's
    brush edits the time point on screen), by click and by key alike."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.random.default_rng(0).random((3, 32, 32)), "TYX", name="movie")
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    labels = np.zeros((3, 32, 32), np.int32)
    labels[:, 4:12, 4:20] = 1  # one nucleus over three time points (a dumbbell: two lobes)
    labels[:, 7:9, 11:13] = 0
    labels[:, 20:28, 20:28] = 2
    labels[:, 23:25, 23:25] = 0  # with a hole
    session.show_labels(labels)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    live, keys = host.current_labels(), panel.keys
    before = live.copy()
    keys.press("delete", (1, 6, 6))
    assert not (live[1] == 1).any() and (live[[0, 2]] == before[[0, 2]]).all()
    host.undo()
    panel.tool_buttons["delete"].click()
    panel.tools.click((2, 24, 21))
    assert not (live[2] == 2).any() and (live[:2] == before[:2]).all()
    host.undo()
    keys.press("merge", (0, 6, 6))
    keys.press("merge", (0, 24, 21))
    assert set(np.unique(live[0])) == {0, 1} and (live[1:] == before[1:]).all()
    host.undo()
    keys.press("seed", (2, 8, 5))
    keys.press("seed", (2, 8, 18))
    keys.press("split", None)
    assert len(np.unique(live[2][before[2] == 1])) == 2 and (live[:2] == before[:2]).all()
    host.undo()
    keys.press("fill", (1, 21, 21))
    assert (live[1, 23:25, 23:25] == 2).all() and not live[[0, 2], 23:25, 23:25].any()
    host.undo()
    keys.press("seed", (0, 8, 5))  # the same id at another time point: a split starts over
    assert "1 seed" in keys.press("seed", (1, 8, 18))
    keys.press("merge", (0, 6, 6))  # picks at two time points join tracks: not these two,
    with pytest.raises(UserError, match="object 1 goes on at time point 1"):  # (both go on)
        keys.press("merge", (1, 24, 21))
    np.testing.assert_array_equal(live, before)
    panel.tool_buttons["merge"].click()  # the same by clicks
    panel.tools.click((0, 6, 6))
    panel.tools.click((1, 24, 21))
    with pytest.raises(UserError, match="goes on at time point 1"):
        panel.tools.apply()
    np.testing.assert_array_equal(live, before)
    session.close_project()


def test_a_refused_join_drops_its_first_pick(tmp_path, monkeypatch, qtbot):
    """G over a cell, G over another at a later time point where the first goes on too: the
    join is refused, and the first pick is gone with it (it stood, marked, and the next G
    over a third cell merged that into it)."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    movie = np.zeros((3, 20, 40), np.int32)
    movie[:, 2:6, 2:6] = 1  # a cell all along
    movie[2, 12:16, 20:24] = 2  # another, at the last time point only
    movie[0, 12:16, 30:34] = 5  # a third, at the first
    session = _studio(tmp_path / "home", monkeypatch, movie.shape, "TYX", movie)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    keys, live = panel.keys, session.host.current_labels()
    before = live.copy()
    keys.press("merge", (0, 3, 3))
    assert keys.pending_points()
    with pytest.raises(UserError, match="goes on at time point 2"):
        keys.press("merge", (2, 13, 21))
    assert keys.pending_points() == [] and keys.message == "Merge dropped."
    assert keys.press("merge", (0, 13, 31)).startswith("Merge: object 5 chosen")  # a new pick
    np.testing.assert_array_equal(live, before)


def test_picks_at_two_time_points_join_a_broken_track(tmp_path, monkeypatch, qtbot):
    """A cell is id 1 up to time point 1 and id 7 from time point 2 on (the linking lost it):
    G over it before the break, G over it after: one track, one undo step; by clicks too."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    movie = np.zeros((4, 20, 40), np.int32)
    for t in range(4):
        movie[t, 5:10, 2 + 6 * t:7 + 6 * t] = 1 if t < 2 else 7
    movie[:, 14:18, 30:34] = 3  # another cell, all along
    session = _studio(tmp_path / "home", monkeypatch, movie.shape, "TYX", movie)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host, live, keys = session.host, session.host.current_labels(), panel.keys
    before = live.copy()
    assert "U cut its track" in panel.tool_status.text()  # (a time series: the track key)
    keys.press("merge", (3, 7, 21))  # after the break first: the order does not matter
    assert keys.press("merge", (1, 7, 9)) == "Joined track 7 to 1."
    assert set(np.unique(live)) == {0, 1, 3} and (live[before == 7] == 1).all()
    assert len(host.undo_stack) == 1
    host.undo()
    np.testing.assert_array_equal(live, before)
    panel.tool_buttons["merge"].click()
    assert "tracks are joined" in panel.tool_status.text()
    panel.tools.click((0, 7, 4))
    panel.tools.click((2, 7, 15))
    panel.tools.apply()
    assert (live[before == 7] == 1).all()
    keys.press("merge", (0, 7, 4))  # one track now: the second G picks it anew
    assert keys.press("merge", (3, 7, 21)).startswith("Merge: object 1 chosen")
    assert len(host.undo_stack) == 1
    # C cuts it again where it was joined: from time point 2 on a new id.
    assert keys.press("cut", (2, 7, 15)) == "Track 1 cut: from time point 2 on it is 8."
    np.testing.assert_array_equal(live[:2], before[:2])
    assert (live[2:][before[2:] == 7] == 8).all() and (live[before == 3] == 3).all()
    with pytest.raises(UserError, match="starts at time point 2"):
        keys.press("cut", (2, 7, 15))
    with pytest.raises(UserError, match="no object under the pointer"):
        keys.press("cut", (2, 0, 0))
    session.close_project()


def _studio(home, monkeypatch, image, axes, labels):
    """A session on the FakeHost with ``image`` (an array, or a shape: random pixels)."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(home))
    host = FakeHost()
    if isinstance(image, tuple):
        image = np.random.default_rng(0).random(image)
    host.add_image(image, axes, name="img")
    session = StudioSession(host, library=ModelLibrary(home=home))
    session.show_labels(labels)
    return session


def test_fill_between_slices_by_key_and_button_along_the_axis_the_view_scrolls(
        tmp_path, monkeypatch, qtbot):  # fmt: skip
    from unet_studio.app.host import ViewState
    from unet_studio.app.qt.correct_panel import CorrectPanel

    labels = np.zeros((9, 32, 32), np.int32)
    labels[:, 2:6, 2:6] = 1  # an object on every slice
    labels[0, 10:16, 10:16] = 5  # painted on slices 0 and 8 only
    labels[8, 10:16, 16:22] = 5
    session = _studio(tmp_path / "home", monkeypatch, labels.shape, "ZYX", labels)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host, keys = session.host, panel.keys
    live, before = host.current_labels(), labels.copy()
    host.view = full_view(labels.shape, (4, 0, 0))  # the 2D view of plane 4
    assert keys.press("interpolate", (0, 12, 12)) == \
        "Filled the slices between the painted slices of object 5."
    assert all((live[z] == 5).sum() == 36 for z in range(9)) and len(host.undo_stack) == 1
    assert (live[4, 10:16, 13:19] == 5).all()  # midway, moved halfway
    assert (live[before == 1] == 1).all() and session.reviewed.changed[4, 12, 15]
    host.undo()
    np.testing.assert_array_equal(live, before)

    # I in the gap itself (over the background of plane 4): the brush's label, if chosen
    host.set_selected_label(0)
    with pytest.raises(UserError, match="press I over the object on one of its painted slices"):
        keys.press("interpolate", (4, 12, 12))
    host.set_selected_label(5)  # (after painting with it)
    assert keys.press("interpolate", (4, 12, 12)) == \
        "Filled the slices between the painted slices of object 5."
    host.undo()
    np.testing.assert_array_equal(live, before)

    host.set_selected_label(5)  # the button: the brush's label, after painting with it
    panel.interpolate_button.click()
    assert (live[4, 10:16, 13:19] == 5).all() and "object 5" in panel.tool_status.text()
    panel.interpolate_button.click()  # nothing left to fill
    assert panel.tool_status.text() == "Object 5 has no slices to fill between."
    host.undo()
    host.set_selected_label(0)
    panel.interpolate_button.click()
    assert host.notifications[-1] == ("warning", "choose the object's label first: paint with "
                                      "it, or pick it (K)")  # fmt: skip
    # Looking at the ZX plane (Y hidden): the slices of Y are filled instead.
    host.view = ViewState((0, 12, 0), (0, 2), (slice(0, 9), slice(12, 13), slice(0, 32)))
    # (object 5 is on rows 10-15 of both planes: nothing between)
    assert keys.press("interpolate", (0, 12, 12)) == "Object 5 has no slices to fill between."
    live[0, 10:16, 10:16] = live[8, 10:16, 16:22] = 0
    live[0, 10, 10:16] = live[0, 15, 10:16] = 5  # now two rows apart along y
    keys.press("interpolate", (0, 10, 12))
    assert (live[0, 10:16, 10:16] == 5).all()
    session.close_project()


def test_fill_between_slices_in_a_volume_time_series_and_between_time_points(tmp_path, monkeypatch, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    labels = np.zeros((2, 5, 16, 16), np.int32)
    labels[:, 0, 4:8, 4:8] = labels[:, 4, 4:8, 4:8] = 3  # one id at both time points
    session = _studio(tmp_path / "home", monkeypatch, labels.shape, "TZYX", labels)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host, live = session.host, session.host.current_labels()
    host.view = full_view(labels.shape, (1, 2, 0, 0))
    panel.keys.press("interpolate", (1, 0, 5, 5))
    assert (live[1, :, 4:8, 4:8] == 3).all() and not live[0, 1:4].any()
    session.close_project()

    # A 2D time series: a cell outlined at time points 0 and 4, moving right, and another
    # object in the way at time point 2: the time points between get the moving outline.
    movie = np.zeros((5, 16, 24), np.int32)
    movie[0, 4:8, 2:6] = movie[4, 4:8, 10:14] = 1
    movie[2, 0:3, 0:3] = 2
    movie[2, 6, 8] = 2
    session = _studio(tmp_path / "home2", monkeypatch, movie.shape, "TYX", movie)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    live = session.host.current_labels()
    session.host.view = full_view(movie.shape, (4, 0, 0))
    assert panel.keys.press("interpolate", (4, 5, 11)) == \
        "Filled the time points between the painted time points of object 1."
    for t in range(1, 4):
        assert (live[t] == 1).sum() == 16 - (t == 2) and (live[t, 4:8, 2 + 2 * t:6 + 2 * t] > 0).all()
    assert live[2, 6, 8] == 2 and (live[2, 0:3, 0:3] == 2).all()  # never painted over
    session.host.undo()
    live[4] = 0
    with pytest.raises(UserError, match="on one time point only"):
        panel.keys.press("interpolate", (0, 5, 3))
    session.close_project()


def test_adding_a_missed_object_by_key_and_by_click(tmp_path, monkeypatch, qtbot):
    """A over a nucleus the network missed (here: taken away at time point 1 of a real HeLa
    frame shown twice) adds it with a fresh id at that time point only; the Add object
    tool does the same by click, and picks the nucleus channel of a two-channel image."""
    from pathlib import Path

    import tifffile
    from scipy import ndimage as ndi

    from unet_studio.app.host import ViewState
    from unet_studio.app.qt.correct_panel import CorrectPanel

    data = Path(__file__).resolve().parents[2] / "data"
    frame = tifffile.imread(data / "default_hela_f3_img.tif")
    reference = tifffile.imread(data / "default_hela_f3_labels.tif").astype(np.int32)
    nucleus = reference == 57
    centre = tuple(int(c) for c in ndi.center_of_mass(nucleus))
    labels = np.stack([reference, np.where(nucleus, 0, reference)])
    session = _studio(tmp_path / "home", monkeypatch, np.stack([frame, frame]), "TYX", labels)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host, live = session.host, session.host.current_labels()
    before = live.copy()
    # Missed at time point 1 only: it goes on with the id it has at time point 0.
    assert panel.keys.press("add", (1, *centre)) == "Added object 57."
    added = live[1] == 57
    assert (added & nucleus).sum() / (added | nucleus).sum() > 0.8
    assert (live[0] == before[0]).all() and len(host.undo_stack) == 1
    assert session.reviewed.changed[1][centre]
    with pytest.raises(UserError, match="object 57 here already"):
        panel.keys.press("add", (1, *centre))
    host.undo()
    live[0][nucleus] = 0  # missed at both time points: a fresh id
    fresh = int(reference.max()) + 1
    assert panel.keys.press("add", (1, *centre)) == f"Added object {fresh}."
    host.view = ViewState((1, 0, 0), (0, 1, 2), (slice(0, 2), slice(0, 128), slice(0, 128)))
    with pytest.raises(UserError, match="in the 3D rendering press"):  # (no view ray here)
        panel.keys.press("add", (0, *centre))
    session.close_project()

    noise = np.random.default_rng(0).normal(30000, 500, frame.shape).astype(np.uint16)
    session = _studio(tmp_path / "home2", monkeypatch, np.stack([noise, frame]), "CYX", labels[1])
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    panel.tool_buttons["add"].click()
    assert "missed" in panel.tool_status.text()
    session.host.click(centre)
    added = session.host.current_labels() == fresh
    assert (added & nucleus).sum() / (added | nucleus).sum() > 0.8
    session.close_project()


def test_the_keys_can_be_changed_in_the_settings_file(tmp_path, monkeypatch, qtbot):
    """settings.json's "keys" moves a tool to another key; napari's own labels keys, taken
    keys, unknown actions and non-keys are refused with a warning naming the file."""
    import json

    from unet_studio.app.qt.correct_panel import CorrectPanel

    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"keys": {
        "delete": "q", "add": "shift+a", "fill": "E", "merge": "Q", "explode": "J",
        "pick": "Ctrl-Shift"}}))  # fmt: skip
    labels = np.zeros((4, 32, 32), np.int32)
    labels[:, 4:12, 4:12] = 1
    labels[:, 14:24, 14:24] = 2
    session = _studio(home, monkeypatch, labels.shape, "ZYX", labels)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host, live = session.host, session.host.current_labels()
    warnings = [text for level, text in host.notifications if level == "warning"]
    assert len(warnings) == 4 and all(str(home / "settings.json") in w for w in warnings)
    assert any("napari's own key for labels or images" in w for w in warnings)
    assert any('"Q" for merge is taken' in w for w in warnings)
    assert any('no key action "explode"' in w for w in warnings)
    assert any('"Ctrl-Shift" for pick is not a key' in w for w in warnings)
    host.press_key("D", (1, 6, 6))  # D no longer deletes...
    assert (live == 1).any()
    host.press_key("Q", (1, 6, 6))  # ...Q does
    assert not (live == 1).any() and panel.tool_status.text() == "Deleted object 1."
    host.press_key("G", (0, 20, 20))  # merge stays on G
    assert panel.tool_status.text().startswith("Merge: object 2 chosen; press G")
    panel._choose_tool(None)  # (the status line lists the keys in use: no track key here)
    help_line = panel.tool_status.text()
    assert "Q delete" in help_line and "Shift+A add" in help_line and "track" not in help_line
    assert "Shift+A" in panel.tool_buttons["add"].toolTip()
    assert sorted(host.key_handlers) == sorted(["Q", "Shift-A", "G", "S", "Shift-S", "H", "K",
                                                "I", "Shift-I", "U", "R", "Shift-R", "N",
                                                "Shift-N"])  # fmt: skip
    session.close_project()


def test_adding_a_missed_nucleus_in_the_3d_rendering_takes_the_brightest_voxel_on_the_ray(
        tmp_path, monkeypatch, qtbot):  # fmt: skip
    """A over a missed nucleus in the 3D rendering: the view ray's brightest voxel before
    any object (what the rendering shows) is where the nucleus is found, in 3D."""
    from pathlib import Path

    import tifffile
    from scipy import ndimage as ndi

    from unet_studio.app.host import ViewState
    from unet_studio.app.qt.correct_panel import CorrectPanel

    data = Path(__file__).resolve().parents[2] / "data"
    image = tifffile.imread(data / "gui_nuclei3d_img.tif")
    reference = tifffile.imread(data / "gui_nuclei3d_labels.tif").astype(np.int32)
    nucleus = reference == 7
    missed = np.where(nucleus, 0, reference)
    session = _studio(tmp_path / "home", monkeypatch, image, "ZYX", missed)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host, live = session.host, session.host.current_labels()
    host.view = ViewState((6, 0, 0), (0, 1, 2), tuple(slice(0, n) for n in image.shape))
    _, y, x = (int(c) for c in ndi.center_of_mass(nucleus))
    host.ray = np.array([(z, y, x) for z in range(image.shape[0] - 1, -1, -1)])  # looking down
    fresh = int(reference.max()) + 1
    assert panel.keys.press("add", (11, y, x)) == f"Added object {fresh}."
    added = live == fresh
    assert (added & nucleus).sum() / (added | nucleus).sum() > 0.75
    session.close_project()


def test_find_objects_to_check_goes_through_them_in_order(tmp_path, monkeypatch, qtbot):
    """Next measures the objects (in a worker), then brings the smallest into view with its
    label picked; Next and Previous step on; a deleted object is skipped; another order
    starts over; new labels are measured again."""
    from unet_studio.app import corrections
    from unet_studio.app.qt.correct_panel import CorrectPanel

    labels = np.zeros((2, 40, 40), np.int32)  # a time series of two frames
    labels[0, 2:4, 2:4] = 5  # 4 px
    labels[0, 10:20, 10:20] = 6  # 100 px
    labels[1, 30:32, 30:33] = 7  # 6 px
    labels[1, 5:8, 5:25] = 8  # 60 px (a full box, as 5, 6 and 7)
    labels[1, 20:30, 5:15] = 9
    labels[1, 21:30, 6:15] = 0  # 9: an L of 19 px in a 10x10 box, the least compact
    session = _studio(tmp_path / "home", monkeypatch, labels.shape, "TYX", labels)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host = session.host
    worker = panel.find_step(True)
    assert worker is not None
    qtbot.waitUntil(lambda: panel.find_queue is not None and panel.find_worker is None)
    assert host.centered == (0.0, 2.5, 2.5) and host.selected_label() == 5
    assert panel.find_label.text() == "Object 5 at time point 0: 4 px, 1st of 5 (smallest first)."
    host.press_key("N", None)  # the key does what the button does
    assert host.selected_label() == 7 and host.centered[0] == 1.0
    panel.find_order.setCurrentText("least compact")  # the L first, starting over
    panel.find_button.click()
    assert host.selected_label() == 9
    session.apply_edit(corrections.delete_object_edit(host.current_labels(), 9))
    panel.find_order.setCurrentText("smallest")
    panel.find_button.click()
    panel.find_button.click()
    panel.find_button.click()  # 5, 7, then 9 (19 px): deleted, so 8
    assert host.selected_label() == 8
    host.press_key("Shift-N", (0, 0, 0))
    assert host.selected_label() == 7
    panel.find_order.setCurrentText("largest")
    panel.find_button.click()
    assert host.selected_label() == 6
    for _ in range(4):
        panel.find_button.click()
    assert panel.find_label.text().startswith("That was the last of 5 objects; Next measures")
    assert panel.find_queue is None  # (measured again on the next press: 4 objects now)
    panel.find_step(True)
    qtbot.waitUntil(lambda: panel.find_queue is not None and panel.find_worker is None)
    assert len(panel.find_queue) == 4 and host.selected_label() == 6
    session.show_labels(np.zeros_like(labels))  # new labels: measured anew
    assert panel.find_queue is None
    session.close_project()


def _shift_i(tmp_path, monkeypatch, qtbot, labels, point):
    """A Correct panel on ``labels`` (ZYX) with slice ``point[0]`` on screen, after Shift+I
    at ``point``: (session, host, the live labels, what it said)."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    session = _studio(tmp_path / "home", monkeypatch, labels.shape, "ZYX", labels)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    session.host.view = full_view(labels.shape, (point[0], 0, 0))
    said = panel.keys.press("interpolate all", point)
    return session, session.host, session.host.current_labels(), said


def test_shift_i_fills_between_the_painted_slices_of_every_object(tmp_path, monkeypatch, qtbot):
    """Three nuclei each painted on a few slices (one of them leaning), one on one slice
    only, one predicted whole: Shift+I fills the gaps of the first three as one undo step."""

    labels = np.zeros((9, 40, 40), np.int32)
    for z in (0, 4, 8):
        labels[z, 2:8, 2:8] = 1
        labels[z, 12:18, 4 + z:10 + z] = 2  # leaning 1 px per slice
    labels[2, 30:36, 30:36] = labels[6, 30:36, 30:36] = 3
    labels[4, 24:28, 2:6] = 4  # one slice only: nothing to fill
    labels[:, 34:38, 2:6] = 5  # whole already
    session, host, live, said = _shift_i(tmp_path, monkeypatch, qtbot, labels, (4, 39, 39))
    assert said == \
        "Filled the slices between the painted slices of 3 objects."
    assert all((live[z] == 1).sum() == 36 and (live[z] == 2).sum() == 36 for z in range(9))
    assert (live[3, 12:18, 7:13] == 2).all()  # moved with the lean
    assert all((live[z] == 3).sum() == 36 for z in range(2, 7)) and not live[:2, 30:36, 30:36].any()
    assert (live == 4).sum() == 16 and (live == 5).sum() == 9 * 16
    assert len(host.undo_stack) == 1
    host.undo()
    np.testing.assert_array_equal(live, labels)
    session.close_project()


def test_shift_i_on_big_labels_gives_contested_pixels_to_the_first_object(
        tmp_path, monkeypatch, qtbot):  # fmt: skip
    """Two objects painted on slices 0 and 6 whose fills cross the same background between
    (1 fills right-leaning, 2 left-leaning): the result is that of filling object 1, then 2
    on what 1 left (only background painted), on labels counted as big (no whole-stack
    working copy is made for them: Shift+I was refused there)."""
    from unet_studio.app import object_search
    from unet_studio.app.label_edit import apply_edit
    from unet_studio.app.slice_interpolation import interpolate_slices_edit

    monkeypatch.setattr(object_search, "LOCAL_SEARCH_PIXELS", 1000)
    labels = np.zeros((7, 30, 40), np.int32)
    labels[0, 10:20, 4:14], labels[6, 10:20, 24:34] = 1, 1
    labels[0, 10:20, 24:34], labels[6, 10:20, 4:14] = 2, 2
    expected = labels.copy()
    for label in (1, 2):
        apply_edit(expected, interpolate_slices_edit(expected, label, 0), copy=False)
    assert (expected[3] == 1).sum() == 100 and not (expected[3] == 2).any()  # (they cross)
    session, host, live, said = _shift_i(tmp_path, monkeypatch, qtbot, labels, (3, 15, 15))
    assert said == \
        "Filled the slices between the painted slices of 2 objects."
    np.testing.assert_array_equal(live, expected)
    host.undo()
    np.testing.assert_array_equal(live, labels)
    session.close_project()


def test_new_ids_are_free_in_every_time_point_and_follow_the_users_edits(tmp_path, monkeypatch, qtbot):
    """A split at one time point, a new label and a cut track take ids no object holds at
    any time point (one id is one object over time), also after the user painted a higher
    id with napari's brush, undid it or a prediction streamed in: the largest id is read
    once and kept from the edits, never handed out twice."""
    from unet_studio.app.label_edit import LabelEdit
    from unet_studio.app.qt.correct_panel import CorrectPanel

    movie = np.zeros((3, 32, 32), np.int32)
    movie[:, 4:12, 4:20] = 1  # a dumbbell at every time point
    movie[:, 7:9, 11:13] = 0
    movie[2, 20:28, 20:28] = 2  # a cell that appears at time point 2
    session = _studio(tmp_path / "home", monkeypatch, movie.shape, "TYX", movie)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host, live, keys = session.host, session.host.current_labels(), panel.keys
    keys.press("seed", (0, 8, 5))
    keys.press("seed", (0, 8, 18))
    keys.press("split", None)
    assert set(np.unique(live[0])) == {0, 1, 3}  # not 2: that is the other cell's id
    assert set(np.unique(live[2])) == {0, 1, 2}
    host.user_paint(LabelEdit((np.array([1]), np.array([30]), np.array([30])),
                              np.array([0], np.int32), np.array([40], np.int32), "paint"))
    assert panel.tools.fresh_label() == 41  # above the brush's id
    host.undo()
    assert panel.tools.fresh_label() == 41  # (an undone id is not handed out again)
    live[1, 0, 0] = 60  # a prediction streaming in writes outside any edit
    assert session.labels_for_prediction(live.shape) is live
    assert panel.tools.fresh_label() == 61
    session.close_project()


def test_one_time_point_segmented_again_keeps_the_tracks_through_it():
    """Time point 1 of three segmented again: an object continues the track it overlaps at
    time point 0; one that overlaps nothing there but a track at time point 2 (a cell that
    appears at time point 1) takes that track's id, so both tracks stay whole."""
    from unet_studio.app.qt.live_labels import LiveLabelsDestination, id_offset_outside

    live = np.zeros((3, 20, 30), np.int32)
    live[0, 2:8, 2:8] = live[2, 2:8, 3:9] = 5  # one track through time point 1
    live[2, 12:18, 20:26] = 8  # a track that starts at time point 1
    live[1, 2:8, 2:8], live[1, 12:18, 20:26] = 31, 32  # before the new run
    target = (slice(1, 2), slice(None), slice(None))
    out = LiveLabelsDestination(live, target, None, id_offset_outside(live, target), time_axis=0)
    predicted = np.zeros((1, 20, 30), np.int32)
    predicted[0, 2:8, 2:8], predicted[0, 12:18, 19:25], predicted[0, 12:16, 5:9] = 1, 2, 3
    out[...] = predicted
    out.finish()
    assert (live[1, 2:8, 2:8] == 5).all() and (live[1, 12:18, 19:25] == 8).all()
    assert live[1, 13, 6] not in (0, 5, 8)  # a new object, a new id


def _disc(shape, centre, radius):
    yy, xx = np.indices(shape)
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def test_one_time_point_segmented_on_its_own_follows_movers_and_bridges_gaps():
    """Time points 0-3 of a series are linked; time point 4 is segmented on its own for the
    first time. Two nuclei that move steadily 8 px a time point (too far for a pairing with
    the time point before alone) keep their ids, as the engine keeps them; one missed by
    the network at time point 3 takes its id from time point 2 again; the still ones keep
    theirs; none takes another's."""
    from unet_studio.app.qt.live_labels import LiveLabelsDestination, id_offset_outside
    from unet_studio.models.time_links import TimeLinker

    shape, still = (100, 160), [(15, 15), (15, 140), (85, 15), (85, 140), (50, 150)]

    def time_point(t):
        labels = np.zeros(shape, np.int32)
        for k, centre in enumerate(still, start=1):
            labels[_disc(shape, centre, 5)] = k
        labels[_disc(shape, (30, 30 + 8 * t), 5)] = 6
        labels[_disc(shape, (20 + 8 * t * 0.6, 110 - 8 * t * 0.8), 5)] = 7
        if t != 3:  # missed at time point 3
            labels[_disc(shape, (75, 60 + t), 5)] = 8
        return labels

    live = np.zeros((6, *shape), np.int32)
    linker = TimeLinker(6)
    for t in range(4):
        live[t] = time_point(t)
        linker.link(t, live[t])
    right, down_left, missed = live[2][30, 46], live[2][30, 94], live[2][75, 62]
    assert len({right, down_left, missed}) == 3
    target = (slice(4, 5), slice(None), slice(None))
    out = LiveLabelsDestination(live, target, None, id_offset_outside(live, target), time_axis=0)
    predicted = time_point(4)
    out[...] = np.where(predicted > 0, 9 - predicted, 0)[None]  # the run's own ids
    out.finish()
    assert live[4][30, 62] == right and live[4][round(20 + 32 * 0.6), round(110 - 32 * 0.8)] == down_left
    assert live[4][75, 64] == missed
    assert all(live[4][c] == live[3][c] for c in still)


def test_one_time_point_segmented_again_keeps_the_ids_its_objects_had():
    """An object the new run outlines too differently to pair with its track at the time
    points around (a nucleus first found whole, now a part of it) takes the id of the
    object it lies in before the run: the track it belonged to."""
    from unet_studio.app.qt.live_labels import LiveLabelsDestination, id_offset_outside

    live = np.zeros((3, 20, 30), np.int32)
    live[:, 2:14, 2:14] = 6  # a big nucleus, one track
    target = (slice(1, 2), slice(None), slice(None))
    out = LiveLabelsDestination(live, target, None, id_offset_outside(live, target), time_axis=0)
    predicted = np.zeros((1, 20, 30), np.int32)
    predicted[0, 3:7, 3:7] = 1  # a small part of it now (intersection over union 0.11)
    out[...] = predicted
    out.finish()
    assert (live[1, 3:7, 3:7] == 6).all() and (live[1] == 6).sum() == 16


def test_one_plane_of_a_stack_segmented_again_keeps_the_3d_ids():
    """"Current slice" on a Z stack: the plane's objects are sections of 3D objects, so they
    take the ids those have in the planes around (not one new id per section)."""
    from unet_studio.app.qt.live_labels import LiveLabelsDestination, id_offset_outside

    live = np.zeros((5, 20, 30), np.int32)
    live[:, 2:8, 2:8], live[1:4, 10:16, 10:18] = 4, 9  # two nuclei through the planes
    target = (slice(2, 3), slice(None), slice(None))
    out = LiveLabelsDestination(live, target, None, id_offset_outside(live, target), time_axis=None)
    predicted = np.zeros((1, 20, 30), np.int32)
    predicted[0, 2:8, 2:9], predicted[0, 10:16, 10:18], predicted[0, 15:19, 22:27] = 2, 1, 3
    out[...] = predicted
    out.finish()
    assert (live[2, 2:8, 2:9] == 4).all() and (live[2, 10:16, 10:18] == 9).all()
    assert live[2, 16, 24] not in (0, 4, 9)  # a new section: a new object


def test_undoing_an_edit_takes_back_the_marks_it_made(tmp_path, monkeypatch, qtbot):
    """D by mistake, then Ctrl+Z: the labels come back and so do the reviewed and changed
    marks (what was marked before the edit stays marked); Ctrl+Shift+Z marks again."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    labels = np.zeros((2, 32, 32), np.int32)
    labels[:, 4:12, 4:12], labels[:, 20:28, 20:28] = 3, 7  # (not 1..N: relabelling changes ids)
    session = _studio(tmp_path / "home", monkeypatch, labels.shape, "ZYX", labels)
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    host, regions = session.host, session.ensure_reviewed()
    regions.mark_region((slice(1, 2), slice(0, 16), slice(0, 16)))  # reviewed before
    session.reviewed_changed_by_user()
    before = regions.mask.copy(), regions.changed.copy()
    panel.keys.press("delete", (1, 6, 6))
    panel.keys.press("delete", (1, 24, 24))
    marked = regions.mask.copy(), regions.changed.copy()
    assert marked[0].sum() > before[0].sum() and marked[1].any()
    host.undo()
    host.undo()
    np.testing.assert_array_equal(regions.mask, before[0])
    np.testing.assert_array_equal(regions.changed, before[1])
    assert panel.reviewed_label.text().startswith("Reviewed: ")
    host.redo()
    host.redo()
    np.testing.assert_array_equal(regions.mask, marked[0])
    np.testing.assert_array_equal(regions.changed, marked[1])
    # A renumbering marks nothing: undone and redone, it still marks nothing.
    host.undo()
    host.undo()
    panel.relabel_button.click()
    assert set(np.unique(host.current_labels())) == {0, 1, 2}
    host.undo()
    host.redo()
    np.testing.assert_array_equal(regions.mask, before[0])
    np.testing.assert_array_equal(regions.changed, before[1])
    session.close_project()


def test_a_new_project_takes_the_review_marks_along_without_a_copy(tmp_path, monkeypatch, qtbot):
    """New project takes the open image's labels and their reviewed and changed masks
    along (they are its training data): the same masks, not a second copy of each (the size
    of the stack), and the marks of edits made in the new project are undone as before."""
    import weakref

    from unet_studio.app.corrections import delete_object_edit

    labels = np.zeros((2, 32, 32), np.int32)
    labels[:, 4:12, 4:12], labels[:, 20:28, 20:28] = 3, 7
    session = _studio(tmp_path / "home", monkeypatch, labels.shape, "ZYX", labels)
    host = session.host
    session.apply_edit(delete_object_edit(host.current_labels(), 3))
    earlier = weakref.ref(session.reviewed)
    session.open_project(tmp_path / "other", create=True)
    assert session.project.reviewed(session.image_id) is earlier()
    # The marks of edits made in the new project are still taken back by an undo.
    carried = session.reviewed.changed.copy()  # (object 3's pixels, deleted before)
    assert carried.any()
    session.apply_edit(delete_object_edit(host.current_labels(), 7))
    assert (session.reviewed.changed & ~carried).any()
    host.undo()
    np.testing.assert_array_equal(session.reviewed.changed, carried)
    session.close_project()
