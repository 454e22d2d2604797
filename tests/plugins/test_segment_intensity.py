"""The Segment panel and the intensities microscopists hand over: NaN/inf pixels and an image
of one value are told in a napari warning naming the image layer; an image without a finite
pixel is refused in one error notification, no traceback, the panel ready again. The range
is taken once per run in the worker thread and reused by a second run on the same pixels."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def notifications():
    """The napari notifications shown from now on, as (severity, message)."""
    from napari.utils.notifications import notification_manager

    start = len(notification_manager.records)
    return lambda: [(str(n.severity), n.message) for n in notification_manager.records[start:]]


@pytest.mark.slow
def test_nan_and_inf_pixels_are_a_warning_naming_the_image_layer(studio, qtbot, nuclei_crop,
                                                                 notifications, passes, run_segment, segment_panel_of):
    image = nuclei_crop[0][:4].astype(np.float32)
    image[1, 10:30, 10:40] = np.nan
    image[2, 5, 5] = np.inf
    studio.viewer.add_image(image, name="masked", metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)
    run_segment(panel)
    warnings = [m for s, m in notifications() if s == "warning"]
    assert warnings == ["masked: 601 NaN or infinite pixels, left out of the intensity "
                        "percentiles; segmented as background (NaN, -inf) or as bright (+inf)"]
    assert panel.status.text().startswith("Done: masked segmented with tiny")
    # One pass over the stack, in the worker thread, never on the GUI thread.
    assert [(t is threading.main_thread(), shape) for t, shape in passes] == [(False, image.shape)]


@pytest.mark.slow
def test_an_image_of_one_value_says_there_is_nothing_to_segment(studio, qtbot, notifications, run_segment, segment_panel_of):
    studio.viewer.add_image(np.full((40, 50), 7, np.uint16), name="empty well",
                            metadata={"axes": "YX"})
    panel = segment_panel_of(studio)
    run_segment(panel)
    assert ("warning", "empty well: every pixel has the same value (7): no contrast, nothing "
                       "to segment") in notifications()


@pytest.mark.slow
def test_an_image_without_a_finite_pixel_is_refused_in_one_message(studio, qtbot, nuclei_crop,
                                                                   notifications, caplog, run_segment, segment_panel_of):
    studio.viewer.add_image(np.full((3, 40, 50), np.nan, np.float32), name="blank",
                            metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)
    with caplog.at_level(logging.WARNING):
        panel.run()
        assert panel.worker is not None  # (refused in its worker: the pixels are read there)
        qtbot.waitUntil(lambda: panel.worker is None, timeout=60_000)
    refusal = ("Prediction refused: blank has no finite pixel value (all NaN or infinite): "
               "nothing to normalise its intensities by")
    # (besides the autosave project's note: it starts at Run, see app/qt/live_edits.py)
    assert [told for told in notifications() if told[0] != "info"] == [("error", refusal)]
    assert panel.status.text() == refusal
    assert not [r for r in caplog.records if r.exc_info]  # no traceback anywhere
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    # The panel is ready for an image it can segment.
    studio.viewer.add_image(nuclei_crop[0][:3], name="nuclei", metadata={"axes": "ZYX"})
    run_segment(panel)
    assert studio.viewer.layers["nuclei labels"].data.shape == (3, 96, 96)


@pytest.mark.slow
def test_a_second_run_on_the_same_pixels_reuses_their_range(studio, qtbot, nuclei_crop, passes, run_segment, segment_panel_of):
    """Run twice on one image: one pass over its pixels. Its contrast changed: still one.
    Its data replaced (same shape and dtype, other values): a new pass. The plane on screen
    only: the whole image's range again, no pass, and the plane's labels are those of the
    whole-stack run (normalised by the plane's own range, its objects came out otherwise)."""
    image = nuclei_crop[0][:4]
    layer = studio.viewer.add_image(image, name="nuclei", metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)
    first = np.array(run_segment(panel) and studio.host.current_labels())
    run_segment(panel)
    assert len(passes) == 1
    np.testing.assert_array_equal(studio.host.current_labels(), first)  # the same range
    layer.contrast_limits = (100, 200)  # what the screen shows plays no part
    run_segment(panel)
    assert len(passes) == 1
    dimmer = image // 2
    dimmer[2] //= 3  # (a plane dimmer than the rest: its own range would stretch it)
    layer.data = dimmer  # replaced: the old range must not be used
    run_segment(panel)
    assert [shape for _, shape in passes] == [image.shape] * 2
    whole = np.array(studio.host.current_labels())
    panel.scope_slice.setChecked(True)
    studio.viewer.dims.set_point(0, 2)
    studio.viewer.layers["nuclei labels"].data = np.zeros_like(whole)
    run_segment(panel)
    assert [shape for _, shape in passes] == [image.shape] * 2
    plane = studio.viewer.layers["nuclei labels"].data[2]
    assert plane.any()
    np.testing.assert_array_equal(plane > 0, whole[2] > 0)


@pytest.mark.slow
def test_after_the_intensity_pass_the_bar_starts_again_for_the_tiles(studio, qtbot, nuclei_crop, run_segment,
                                                                     segment_panel_of):  # fmt: skip
    """The intensity pass fills the bar; then the first tile may take seconds: the bar must
    not sit full under "Reading the intensities" meanwhile (it then dropped to a few %)."""
    studio.viewer.add_image(nuclei_crop[0][:4], name="nuclei", metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)
    panel.intensity_block_pixels = 4096  # (several reports: the bar moves through the pass)
    seen = []  # (bar, status) once the range is found, after the panel took it
    panel.intensity_found.connect(lambda _: seen.append((panel.progress.value(), panel.status.text())))
    run_segment(panel)
    assert seen == [(0, "Segmenting nuclei with tiny…")]
