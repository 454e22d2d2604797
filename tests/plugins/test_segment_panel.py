"""Segment panel in a real viewer: the sample opens, prediction runs off the GUI thread,
results keep reviewed regions, and Cancel leaves the labels as they were."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _assert_saved_in_the_project(studio, shown) -> None:
    """The project, once its autosave is done, reopens with ``shown`` as its one image's labels."""
    from unet_studio.app.project import Project

    project = studio.session.project
    assert project is not None and project.flush(timeout=30)
    reopened = Project.open(project.path)
    (ref,) = reopened.images
    np.testing.assert_array_equal(reopened.labels(ref.id), shown)
    reopened.close()


def _segment_panel(studio, qtbot):
    from unet_studio.app.qt.segment_panel import SegmentPanel

    panel = SegmentPanel(studio.session)
    qtbot.addWidget(panel)
    return panel


@pytest.mark.slow
def test_sample_opens_and_segments_through_the_panel(studio, qtbot):
    viewer = studio.viewer
    viewer.open_sample("unet-studio", "hela_timelapse")
    panel = _segment_panel(studio, qtbot)
    assert panel.image_combo.currentText() == viewer.layers[0].name
    assert panel.axes_edit.text() == "TYX"
    assert panel.device_combo.findText("cpu") >= 0
    panel.scope_slice.setChecked(True)  # the frame on screen: quick
    with qtbot.waitSignal(panel.finished, timeout=60_000) as blocker:
        panel.run_button.click()
        assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    labels = studio.host.current_labels()
    assert labels.shape == (2, 512, 512) and labels.dtype == np.int32
    assert not labels[1].any()  # only the frame on screen was segmented
    assert blocker.args[0].job.target[0] == slice(0, 1)
    assert panel.progress.value() == 100 and panel.run_button.isEnabled()
    found = len(np.unique(labels[0][labels[0] > 0]))  # the status says how many were found
    assert found > 0 and done_line(panel).endswith(f": {found} object{'s' * (found != 1)}.")
    assert [layer.name for layer in viewer.layers] == ["hela_timelapse", "hela_timelapse labels"]


@pytest.mark.slow
def test_new_prediction_keeps_reviewed_regions(corrected, qtbot):
    session, host = corrected.session, corrected.host
    labels = host.current_labels()
    reference = labels.copy()
    session.ensure_reviewed().mark_region((slice(4, 5), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = _segment_panel(corrected, qtbot)
    panel.tile_combo.setCurrentText("64")
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    new = host.current_labels()
    np.testing.assert_array_equal(new[4], reference[4])  # reviewed plane untouched
    assert new.shape == reference.shape
    assert session.reviewed.mask[4].all()  # and still marked reviewed


@pytest.mark.slow
def test_a_closed_labels_layer_comes_back_with_its_reviewed_corrections_on_run(corrected, qtbot,
                                                                              saved_labels):
    """The user closes the labels layer and runs again: the saved corrections come back
    first, and the reviewed plane keeps them (not the empty pixels of new labels)."""
    from unet_studio.app.corrections import delete_object_edit

    viewer, session, host = corrected.viewer, corrected.session, corrected.host
    session.apply_edit(delete_object_edit(host.current_labels(), 7))
    session.ensure_reviewed().mark_region((slice(4, 5), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    corrected_plane = np.array(host.current_labels()[4])
    assert corrected_plane.any() and session.project.flush(10)
    viewer.layers.remove("nuclei labels")
    assert host.current_labels() is None
    panel = _segment_panel(corrected, qtbot)
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    new = host.current_labels()
    np.testing.assert_array_equal(new[4], corrected_plane)
    assert session.ensure_reviewed().mask[4].all()
    np.testing.assert_array_equal(saved_labels(session)[4], corrected_plane)


def test_cancel_leaves_labels_untouched(studio, qtbot, after_each_step):
    studio.viewer.open_sample("unet-studio", "hela_timelapse")
    host = studio.host
    before = np.arange(2 * 512 * 512, dtype=np.int32).reshape(2, 512, 512) % 7
    studio.session.show_labels(before.copy())
    panel = _segment_panel(studio, qtbot)
    panel.tile_combo.setCurrentText("16")  # thousands of small tiles: time to cancel
    steps, streamed = [], []

    def observe(step):
        if step.stage in ("intensity", "backup"):  # (the passes before the first tile)
            return
        steps.append(step)
        if not streamed:  # provisional labels of the first tiles are in the layer
            streamed.append(not np.array_equal(host.current_labels(), before))

    after_each_step(panel, observe)
    panel.run()
    qtbot.waitUntil(lambda: len(steps) > 0, timeout=60_000)
    tasks = studio.viewer.window._task_status_manager  # closing the window would ask first
    assert [s for s in tasks.get_status() if s.startswith("unet-studio: segmenting hela")]
    with qtbot.waitSignal(panel.cancelled, timeout=30_000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.worker is None, timeout=10_000)
    assert not tasks.is_busy()
    assert steps[-1].done < steps[-1].total  # it really stopped early
    assert streamed == [True]  # and had written into the layer
    np.testing.assert_array_equal(host.current_labels(), before)
    assert "Cancelled" in panel.status.text()
    assert panel.run_button.isEnabled()


def test_bad_axes_are_reported_not_raised(studio, qtbot, nuclei_crop):
    studio.viewer.add_image(nuclei_crop[0], name="nuclei")
    panel = _segment_panel(studio, qtbot)
    panel.status.setText("Done: an earlier run.")
    panel.axes_edit.setText("ZZX")
    panel.run()
    assert panel.worker is None and panel.run_button.isEnabled()
    assert panel.status.text().startswith("Not started: ")  # (no stale "Done" beside it)


@pytest.mark.slow
def test_progress_shows_in_napari_activity_dock_when_forced(studio, qtbot, monkeypatch, nuclei_crop):
    from napari.utils import progress

    monkeypatch.setenv("UNET_STUDIO_ACTIVITY_PROGRESS", "1")  # on even under software OpenGL
    studio.viewer.add_image(nuclei_crop[0], name="nuclei", metadata={"axes": "ZYX"})
    panel = _segment_panel(studio, qtbot)
    seen = []
    panel.run()
    seen.append([bar.desc for bar in progress._all_instances])
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        pass
    assert any("Segmenting nuclei" in desc for desc in seen[0])
    assert not any("Segmenting" in bar.desc for bar in progress._all_instances)  # closed


def _instance_model(folder, image) -> str:
    """A tiny U-Net whose background output is shifted so that about 40 % of ``image``
    (Y, X) is foreground (an untouched random net calls everything foreground), saved."""
    import torch

    from unet_studio.models.inference import predict_tiled
    from unet_studio.models.normalize import normalize_intensity, percentile_range
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2).eval()
    lo, hi = percentile_range(image, 1.0, 99.8)
    logits = predict_tiled(net, normalize_intensity(image, lo, hi), device="cpu")
    last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.bias[0] += float(np.quantile(np.logaddexp(logits[1], logits[2]) - logits[0], 0.6))
    return str(save_model(net, folder, metadata={"name": "blobs"}))


@pytest.fixture(scope="module")
def blobs_model(tmp_path_factory, nuclei_crop) -> str:
    return _instance_model(tmp_path_factory.mktemp("models") / "blobs", nuclei_crop[0][7])


@pytest.mark.slow
def test_tiles_stream_in_visible_slice_first_around_reviewed_pixels(studio, qtbot, nuclei_crop,
                                                                   blobs_model, after_each_step):
    import gc

    from unet_studio.models.inference import predict_image
    from unet_studio.models.weights import load_model

    image = nuclei_crop[0][2:8]  # (Z, Y, X) = (6, 96, 96)
    viewer, session, host = studio.viewer, studio.session, studio.host
    viewer.add_image(image, name="nuclei", metadata={"axes": "ZYX"})
    session.set_model(blobs_model)
    viewer.dims.set_current_step(0, 3)  # the user looks at slice 3, zoomed in on a part
    camera = viewer.scene.camera
    camera.center, camera.zoom = (0, 20, 70), camera.zoom * 4
    viewer.window._qt_viewer.canvas.on_draw(None)  # as a paint would: the view's extent
    reviewed = np.zeros(image.shape, np.int32)
    reviewed[3, :40, :50] = 99  # a checked object in the visible slice
    live = session.show_labels(reviewed.copy())
    session.ensure_reviewed().mark_region((slice(3, 4), slice(0, 40), slice(0, 50)))
    session.reviewed_changed_by_user()
    layer = host.labels_layer()
    panel = _segment_panel(studio, qtbot)
    panel.tile_combo.setCurrentText("16")
    seen = []  # observed on the GUI thread at each tile report

    def observe(step):
        if len(seen) < 10:
            panel._redraw.redraw()  # what the redraw timer does: napari re-slices the layer
        drawn = np.asarray(layer._slice.image.view) > 0  # slice 3 as napari shows it
        shown = int(drawn.sum() - drawn[:40, :50].sum())  # new labels, besides the kept one
        z = step.region[0].start if step.region else None  # the watershed: whole volume
        seen.append((step.stage, step.done, step.total, z, shown,
                     bool((live[3, :40, :50] == 99).all()), step.region, gc.get_freeze_count(),
                     panel.status.text()))

    after_each_step(panel, observe)
    panel.run()
    with qtbot.waitSignal(panel.finished, timeout=60_000) as blocker:
        pass
    first = blocker.args[0].job.first
    assert first["Z"] == slice(3, 4) and first["Y"].stop < 60 and first["X"].start > 30
    predicts = [s for s in seen if s[0] == "predict"]
    per_slice = (predicts[0][2] - 1) // image.shape[0]  # total: tiles + 1 watershed step
    assert per_slice >= 9 and [s[3] for s in predicts[:per_slice]] == [3] * per_slice
    assert {s[3] for s in predicts[per_slice:3 * per_slice]} == {2, 4}  # then its neighbours
    in_view = [all(r.start < first[a].stop and first[a].start < r.stop
                   for a, r in zip("ZYX", s[6])) for s in predicts[:per_slice]]
    assert in_view[0] and not in_view[-1] and in_view == sorted(in_view, reverse=True)
    assert any(s[4] > 0 and s[1] < s[2] // 2 for s in seen[:10])  # on screen long before the end
    assert all(s[5] for s in seen)  # the reviewed object never changed, not even for a moment
    assert all(s[7] > 0 for s in seen) and gc.get_freeze_count() == 0  # no full GC meanwhile
    # The labelling of the stack, after its tiles: the bar moves on and the status says so.
    labelling = [s for s in seen if s[0] == "labelling"]
    assert labelling and all(s[8].startswith("Labelling the objects of") for s in labelling)
    assert predicts[-1][1] < labelling[0][1] <= labelling[-1][1] <= predicts[-1][1] + 1
    assert all(s[8].startswith("Segmenting") for s in predicts)
    expected = predict_image(load_model(blobs_model), image, axes="ZYX", tile_shape=16,
                             device="cpu")  # fmt: skip
    final = host.current_labels()
    outside = np.ones(image.shape, bool)
    outside[3, :40, :50] = False
    assert expected.max() >= 5
    np.testing.assert_array_equal(final[3, :40, :50], 99)
    # the non-streamed run's objects, ids made unique against the kept object
    assert np.array_equal(final[outside] > 0, expected[outside] > 0)
    pairs = np.unique(np.stack([final[outside], expected[outside]]), axis=1)
    assert len(pairs[0]) == len(np.unique(pairs[0])) == len(np.unique(pairs[1]))


def test_redraw_regions_map_to_the_labels_and_the_slice_on_screen():
    from unet_studio.app.host import ViewState
    from unet_studio.app.qt.live_redraw import bounding_box, labels_region, on_screen

    target = (slice(4, 5), slice(None), slice(None))  # one frame of (T, Y, X) labels
    region = labels_region((slice(0, 1), slice(16, 32)), target, (9, 64, 80))
    assert region == (slice(4, 5), slice(16, 32), slice(0, 80))
    view = ViewState((4, 0, 0), (1, 2), (slice(4, 5), slice(0, 64), slice(0, 80)))
    assert on_screen(region, view, (0, 1, 2))
    assert not on_screen(region, ViewState((3, 0, 0), (1, 2), view.visible_region), (0, 1, 2))
    # an image with channels (T, C, Y, X): labels axes are image axes 0, 2, 3
    view_c = ViewState((4, 1, 0, 0), (2, 3), (slice(4, 5), slice(1, 2), slice(0, 64), slice(0, 80)))
    assert on_screen(region, view_c, (0, 2, 3)) and on_screen(region, None, (0, 1, 2))
    assert bounding_box([region, (slice(2, 3), slice(40, 50), slice(5, 6))]) == (
        slice(2, 5), slice(16, 50), slice(0, 80))


@pytest.mark.slow
def test_streamed_prediction_of_a_new_image_is_saved_in_the_project(studio, qtbot, nuclei_crop):
    """The empty labels a first run streams into are not snapshotted at the click; the
    finished prediction is, so reopening the project gives back exactly what is shown."""

    image, _ = nuclei_crop
    studio.viewer.add_image(image[:4], name="nuclei", metadata={"axes": "ZYX"})
    panel = _segment_panel(studio, qtbot)
    panel.tile_combo.setCurrentText("64")
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    shown = studio.host.current_labels().copy()
    assert shown.any()
    _assert_saved_in_the_project(studio, shown)


@pytest.mark.slow
def test_labels_too_big_for_memory_live_in_a_file_and_are_saved(studio, qtbot, nuclei_crop,
                                                                 monkeypatch):
    """Above the working-memory limit (set tiny here) a prediction's labels live in a
    temporary file: the layer shows them, napari's brush edits them, the project saves them
    (its complete save reads them chunk by chunk), and reopening gives back what is shown."""
    from unet_studio.app import project_arrays
    from unet_studio.models.scratch import RAM_LIMIT_ENV

    monkeypatch.setenv(RAM_LIMIT_ENV, "0.1")  # 100 KiB: the 12x96x96 labels take 432 KiB
    monkeypatch.setattr(project_arrays, "LAZY_SNAPSHOT_BYTES", 100 << 10)
    image, _ = nuclei_crop
    studio.viewer.add_image(image, name="nuclei", metadata={"axes": "ZYX"})
    panel = _segment_panel(studio, qtbot)
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    layer = studio.viewer.layers["nuclei labels"]
    assert isinstance(layer.data, np.memmap) and layer.data is studio.host.current_labels()
    assert layer.data.any()
    layer.paint((5, 40, 40), 77)  # napari's own brush, on the file-backed labels
    shown = np.array(layer.data)
    assert (shown == 77).any()
    _assert_saved_in_the_project(studio, shown)


@pytest.mark.slow
def test_no_disk_space_for_the_labels_file_is_a_message_not_a_crash(studio, qtbot, nuclei_crop,
                                                                    monkeypatch):
    """Labels too large for RAM need a working file: with the disk full the run does not
    start (said in a notification naming the folder), the panel stays ready, nothing of the
    image's labels changes."""
    import errno
    import os

    from unet_studio.models.scratch import RAM_LIMIT_ENV

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setenv(RAM_LIMIT_ENV, "0.1")
    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    image, labels = nuclei_crop
    studio.viewer.add_image(image, name="nuclei", metadata={"axes": "ZYX"})
    studio.session.show_labels(labels.copy())
    told = []
    monkeypatch.setattr(studio.host, "notify", lambda message, level="info", **_: told.append((level, message)))
    panel = _segment_panel(studio, qtbot)
    panel.run()
    assert panel.worker is None and panel.run_button.isEnabled()
    assert [level for level, _ in told] == ["error"]
    assert told[0][1].startswith("Prediction not started: not enough disk space in ")
    np.testing.assert_array_equal(studio.host.current_labels(), labels)


@pytest.mark.slow
def test_object_options_override_the_models_post_processing(studio, qtbot, test_data_dir):
    """The Objects row: "model" keeps the model's defaults; a minimum size larger than the
    image leaves no object; a deeper split depth than the model's (20 % of the typical radius,
    under 1 px for these small Hoechst nuclei) merges more of them."""
    import tifffile

    from unet_studio.app.model_library import bundled_models_dir

    studio.session.set_model(str(bundled_models_dir() / "default"))
    image = tifffile.imread(test_data_dir / "default_hoechst_f8_img.tif")
    studio.viewer.add_image(image, name="hoechst", metadata={"axes": "YX"})
    panel = _segment_panel(studio, qtbot)
    assert panel.min_size_spin.text() == "model" and panel.split_spin.text() == "model"
    assert panel.request().postprocess_options() == {}

    def segment() -> np.ndarray:
        with qtbot.waitSignal(panel.finished, timeout=60_000):
            panel.run()
        return studio.host.current_labels().copy()

    default = segment()
    panel.split_spin.setValue(4.0)
    merged = segment()
    panel.split_spin.setValue(panel.split_spin.minimum())
    panel.min_size_spin.setValue(image.size + 1)
    assert panel.request().postprocess_options() == {"min_size": image.size + 1}
    nothing = segment()
    assert len(np.unique(default)) > len(np.unique(merged)) > 10
    assert not nothing.any()
    panel.output_combo.setCurrentText("mask")
    assert not panel.min_size_spin.isEnabled() and not panel.split_spin.isEnabled()


@pytest.mark.slow
def test_segmenting_a_second_image_leaves_the_first_images_labels_alone(corrected, qtbot):
    """Two images of one shape: segmenting the second (chosen in the panel while the first
    one's labels are still the active layer) gives it its own labels layer, and neither the
    first image's corrections nor its reviewed marks reach the second."""
    from unet_studio.app.corrections import delete_object_edit

    viewer, session, host = corrected.viewer, corrected.session, corrected.host
    session.apply_edit(delete_object_edit(host.current_labels(), 7))
    session.ensure_reviewed().mark_region((slice(4, 5), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    first = np.array(host.current_labels())
    other = np.array(viewer.layers["nuclei"].data)[:, ::-1].copy()
    viewer.add_image(other, name="other", metadata={"axes": "ZYX"})
    viewer.layers.selection.active = viewer.layers["nuclei labels"]  # still the active layer
    panel = _segment_panel(corrected, qtbot)
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.plugins.napari_host import REVIEWED_LAYER

    correct = CorrectPanel(session)
    qtbot.addWidget(correct)
    assert REVIEWED_LAYER in viewer.layers and correct.reviewed_label.text().startswith("Reviewed: ")
    panel.image_combo.setCurrentText("other")
    panel.image_combo.activated.emit(panel.image_combo.currentIndex())
    assert host.current_labels() is None  # "other" has no labels yet
    # ... nor reviewed marks: the first image's are neither shown over it nor counted
    assert REVIEWED_LAYER not in viewer.layers or not viewer.layers[REVIEWED_LAYER].visible
    assert correct.reviewed_label.text().startswith("Nothing reviewed yet")
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    np.testing.assert_array_equal(viewer.layers["nuclei labels"].data, first)
    assert viewer.layers["other labels"].data is host.current_labels()
    assert not session.ensure_reviewed().any()  # the first image's marks stay with it
    project = session.project
    ids = {ref.name: ref.id for ref in project.images}
    project.flush()
    np.testing.assert_array_equal(project.labels(ids["nuclei"]), first)
    panel.image_combo.setCurrentText("nuclei")  # back to the first image: its own labels
    panel.image_combo.activated.emit(panel.image_combo.currentIndex())
    assert host.current_labels() is viewer.layers["nuclei labels"].data
    assert session.ensure_reviewed().mask[4].all()
    assert viewer.layers[REVIEWED_LAYER].visible and correct.reviewed_label.text().startswith("Reviewed: ")


def test_turning_to_another_image_while_one_is_predicted(corrected, qtbot, after_each_step):
    """While the first image is predicted the user activates the second one's labels and
    paints: the paint is the second image's (saved, marked reviewed there), and the
    prediction still lands in the first image's labels, which becomes current again."""
    viewer, session, host = corrected.viewer, corrected.session, corrected.host
    original = np.array(host.current_labels())
    session.ensure_reviewed().mark_region((slice(4, 5), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    other = np.array(viewer.layers["nuclei"].data)[:, ::-1].copy()
    viewer.add_image(other, name="other", metadata={"axes": "ZYX"})
    other_labels = session.show_labels(np.zeros(original.shape, np.int32), protect=False)
    viewer.layers.selection.active = viewer.layers["nuclei"]
    panel = _segment_panel(corrected, qtbot)
    assert panel.image_combo.currentText() == "nuclei"
    panel.tile_combo.setCurrentText("16")  # many tiles: time to turn away meanwhile
    steps = []
    after_each_step(panel, steps.append)
    panel.run()
    qtbot.waitUntil(lambda: len(steps) > 0, timeout=60_000)
    viewer.layers.selection.active = viewer.layers["other labels"]
    assert host.current_image().name == "other" and host.current_labels() is other_labels
    viewer.layers["other labels"].paint((6, 40, 40), 42)  # a user's brush stroke
    with qtbot.waitSignal(panel.finished, timeout=120_000):
        pass
    assert host.current_image().name == "nuclei"
    nuclei_labels = viewer.layers["nuclei labels"].data
    assert host.current_labels() is nuclei_labels
    np.testing.assert_array_equal(nuclei_labels[4], original[4])  # reviewed: kept
    assert not np.array_equal(nuclei_labels, original)  # the rest is the new prediction
    assert viewer.layers["other labels"].data is other_labels  # not the prediction
    assert not (nuclei_labels == 42).any() and other_labels[6, 40, 40] == 42
    assert session.ensure_reviewed().mask[4].all() and not session.reviewed.mask[6].any()
    project = session.project
    ids = {ref.name: ref.id for ref in project.images}
    assert project.reviewed(ids["other"]).mask[6, 40, 40]
    project.flush()
    from unet_studio.app.chunk_store import ChunkStore

    saved, _ = ChunkStore(project.path / "images" / ids["other"] / "labels").read()
    assert saved[6, 40, 40] == 42


def _start_then(corrected, qtbot, action, after_each_step):
    """Start predicting "nuclei" in many tiles, run ``action()`` once the first tile is in,
    and wait for the run to end. Returns the panel."""
    panel = _segment_panel(corrected, qtbot)
    panel.tile_combo.setCurrentText("16")  # many tiles: time to act meanwhile
    steps = []
    after_each_step(panel, steps.append)
    panel.run()
    qtbot.waitUntil(lambda: len(steps) > 0, timeout=60_000)
    action()
    qtbot.waitUntil(lambda: panel.worker is None, timeout=120_000)
    return panel


def test_closing_the_image_being_predicted_leaves_the_other_images_labels_alone(corrected, qtbot, after_each_step):
    """The user closes the image being segmented and turns to another one: the prediction
    stops, and nothing of it lands in the other image's labels (before, it replaced them and
    their saved corrections)."""
    viewer, session, host = corrected.viewer, corrected.session, corrected.host
    other = np.array(viewer.layers["nuclei"].data)[:, ::-1].copy()
    viewer.add_image(other, name="other", metadata={"axes": "ZYX"})
    other_labels = session.show_labels(np.flip(viewer.layers["nuclei labels"].data, 1).copy(),
                                       protect=False)
    kept = other_labels.copy()
    viewer.layers.selection.active = viewer.layers["nuclei"]

    def close_nuclei():
        viewer.layers.remove("nuclei")
        viewer.layers.selection.active = viewer.layers["other labels"]

    panel = _start_then(corrected, qtbot, close_nuclei, after_each_step)
    assert "was closed" in panel.status.text()
    assert host.current_image().name == "other"
    assert viewer.layers["other labels"].data is other_labels
    np.testing.assert_array_equal(other_labels, kept)
    project = session.project
    project.flush()
    ids = {ref.name: ref.id for ref in project.images}
    np.testing.assert_array_equal(project.labels(ids["other"]), kept)


def test_renaming_the_image_being_predicted_keeps_its_results_with_it(corrected, qtbot, after_each_step):
    """Renamed while it is segmented, the image still gets its prediction, in its labels
    layer (renamed with it), and stays the one worked on."""
    viewer, host = corrected.viewer, corrected.host
    original = np.array(host.current_labels())

    def rename():
        viewer.layers["nuclei"].name = "cells"

    panel = _start_then(corrected, qtbot, rename, after_each_step)
    assert host.current_image().name == "cells"
    assert [layer.name for layer in viewer.layers if "labels" in layer.name] == ["cells labels"]
    assert host.current_labels() is viewer.layers["cells labels"].data
    assert not np.array_equal(host.current_labels(), original)  # the new prediction
    assert panel.status.text().startswith("Done: cells segmented")  # its name now


def test_probabilities_are_shown_over_their_image_and_stand_for_it(corrected, qtbot):
    """Probabilities output: one layer per class over the image; activating one (to adjust
    its contrast, say) keeps working on the image it came from and its labels."""
    viewer, host = corrected.viewer, corrected.host
    labels = host.current_labels()
    panel = _segment_panel(corrected, qtbot)
    panel.output_combo.setCurrentText("probabilities")
    panel.scope_slice.setChecked(True)
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    shown = [layer for layer in viewer.layers if layer.name.startswith("nuclei probabilities")]
    assert len(shown) == 3 and all(layer.data.shape[-2:] == (96, 96) for layer in shown)
    viewer.layers.selection.active = shown[1]
    assert host.current_image().name == "nuclei" and host.current_labels() is labels
    assert panel.image_combo.currentText() == "nuclei"


def test_a_mask_output_is_its_own_layer_and_leaves_the_labels_alone(corrected, qtbot, saved_labels):
    """The objects' foreground mask is a result to look at: shown as its own layer, never
    written over the instance labels being corrected (nor into the project)."""
    viewer, host, session = corrected.viewer, corrected.host, corrected.session
    labels = np.array(host.current_labels())
    panel = _segment_panel(corrected, qtbot)
    panel.output_combo.setCurrentText("mask")
    for scope in (panel.scope_slice, panel.scope_stack):
        scope.setChecked(True)
        with qtbot.waitSignal(panel.finished, timeout=60_000):
            panel.run()
        mask = viewer.layers["nuclei mask"].data
        assert mask.shape == labels.shape and set(np.unique(mask)) <= {0, 1} and mask.any()
    np.testing.assert_array_equal(host.current_labels(), labels)
    np.testing.assert_array_equal(saved_labels(session), labels)
    assert host.current_labels() is viewer.layers["nuclei labels"].data


def test_a_pyramid_image_segments_and_trains_at_full_resolution(studio, nuclei_crop, qtbot, tmp_path):
    """An OME-Zarr pyramid opens as a multiscale layer; prediction and the training data use
    its full-resolution level."""
    from unet_studio.app.io import write_stack
    from unet_studio.app.qt import train_logic

    image = nuclei_crop[0]
    path = write_stack(tmp_path / "pyramid.zarr", image, axes="ZYX", pyramid_levels=2, kind="image")
    studio.viewer.open(str(path), plugin="unet-studio")
    assert studio.viewer.layers["pyramid"].multiscale
    panel = _segment_panel(studio, qtbot)
    panel.scope_slice.setChecked(True)
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    labels = studio.host.current_labels()
    assert labels.shape == image.shape and labels.any()
    z = int(np.flatnonzero(labels.any(axis=(1, 2)))[0])
    studio.session.ensure_reviewed().mark_slice(z)
    pending, _ = train_logic.collect_examples(studio.session, "image")
    example = pending[0].read()
    np.testing.assert_array_equal(example.image[0], image[z])


@pytest.mark.slow
def test_a_time_lapse_segmented_whole_keeps_each_nucleus_id_over_time(studio, qtbot):
    """The default model on the two-frame sample through the panel: a nucleus found in
    both frames has the same id (and colour) in both."""
    from unet_studio.app.model_library import bundled_models_dir

    viewer = studio.viewer
    viewer.open_sample("unet-studio", "hela_timelapse")
    studio.session.set_model(str(bundled_models_dir() / "default"))
    panel = _segment_panel(studio, qtbot)
    panel.scope_stack.setChecked(True)
    with qtbot.waitSignal(panel.finished, timeout=120_000):
        panel.run_button.click()
    assert "in 2 time points" in panel.status.text()
    _assert_nuclei_keep_their_ids(studio.host.current_labels())
    # Segmenting the second time point again on its own: its nuclei take the ids they have
    # in the first, not fresh ones.
    viewer.dims.set_current_step(0, 1)
    panel.scope_slice.setChecked(True)
    with qtbot.waitSignal(panel.finished, timeout=120_000) as blocker:
        panel.run_button.click()
    assert blocker.args[0].job.target[0] == slice(1, 2)
    _assert_nuclei_keep_their_ids(studio.host.current_labels())
    # The first time point reviewed under other ids (an earlier run's, or the user's), then
    # the whole series again: the second time point goes on under the reviewed ids.
    labels = studio.host.current_labels()
    labels[0][labels[0] > 0] += 1000
    studio.host.refresh_labels()
    studio.session.ensure_reviewed().mark_region((slice(0, 1), slice(None), slice(None)))
    studio.session.reviewed_changed_by_user()
    panel.scope_stack.setChecked(True)
    with qtbot.waitSignal(panel.finished, timeout=120_000):
        panel.run_button.click()
    labels = studio.host.current_labels()
    assert labels[0].max() > 1000  # kept
    _assert_nuclei_keep_their_ids(labels)
    # Their tracks, as a napari Tracks layer: one per nucleus found at both time points.
    from unet_studio.app.qt.correct_panel import CorrectPanel

    correct = CorrectPanel(studio.session)
    qtbot.addWidget(correct)
    assert correct.show_tracks() is not None  # (a worker thread)
    qtbot.waitUntil(lambda: correct.tracks_worker is None, timeout=60_000)
    tracks = viewer.layers["hela_timelapse tracks"]
    both = set(np.unique(labels[0])) & set(np.unique(labels[1])) - {0}
    assert set(np.unique(tracks.data[:, 0]).astype(int)) == both
    assert viewer.layers.selection.active is studio.host.labels_layer()


def _assert_nuclei_keep_their_ids(labels):
    both = set(np.unique(labels[0])) & set(np.unique(labels[1])) - {0}
    assert len(both) >= 40  # most of the ~60 nuclei go on with their id
    for label in both:  # the same nucleus: overlapping itself, or moved under a diameter
        first, second = labels[0] == label, labels[1] == label
        overlap = (first & second).sum() / (first | second).sum()
        moved = np.linalg.norm(np.argwhere(first).mean(0) - np.argwhere(second).mean(0))
        assert overlap > 0.25 or moved < 2 * np.sqrt(first.sum() / np.pi), (label, overlap, moved)


def test_done_line_counts_the_objects_shown_with_the_reviewed_ones_kept(corrected, qtbot):
    """Half the planes are reviewed: there the user's objects stay and the prediction is
    dropped, so the Done line counts what the labels layer holds, not what the run made."""
    session, host = corrected.session, corrected.host
    session.ensure_reviewed().mark_region((slice(0, 6), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = _segment_panel(corrected, qtbot)
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    shown = host.current_labels()
    objects = len(np.unique(shown[shown > 0]))
    kept = len(np.unique(shown[:6][shown[:6] > 0]))
    assert kept > 0
    assert done_line(panel).endswith(
        f": {objects} objects, of which {kept} {'lies' if kept == 1 else 'lie'} (at least partly) in "
        "reviewed regions, where your corrections were kept rather than the new prediction.")


def test_image_list_stays_on_the_image_being_segmented_until_the_run_ends(corrected, qtbot, after_each_step):
    viewer, session = corrected.viewer, corrected.session
    viewer.add_image(np.array(viewer.layers["nuclei"].data)[5], name="other", metadata={"axes": "YX"})
    viewer.layers.selection.active = viewer.layers["nuclei"]

    def turn_to_other():
        viewer.layers.selection.active = viewer.layers["other"]
        assert session.host.current_image().name == "other"  # the user works on it meanwhile
        assert panel.image_combo.currentText() == "nuclei"
        assert panel.axes_edit.text() == "ZYX" and not panel.image_combo.isEnabled()

    panel = _segment_panel(corrected, qtbot)
    panel.tile_combo.setCurrentText("16")  # many tiles: time to turn away meanwhile
    steps = []
    after_each_step(panel, steps.append)
    panel.run()
    qtbot.waitUntil(lambda: len(steps) > 0, timeout=60_000)
    turn_to_other()
    qtbot.waitUntil(lambda: panel.worker is None, timeout=120_000)
    assert panel.image_combo.currentText() == "nuclei" and panel.image_combo.isEnabled()
    viewer.layers.selection.active = viewer.layers["other"]  # and follows the layers again
    assert panel.image_combo.currentText() == "other" and panel.axes_edit.text() == "YX"


def test_a_stack_with_z_before_t_gets_each_planes_own_labels(studio, qtbot, nuclei_crop):
    """Axes ZTYX (typed in the Axes field): the engine returns T before Z, and the labels
    come back in the image's order, each plane's objects on that plane."""
    image, _ = nuclei_crop
    planes = image[:6, :48, :48]
    z_first = np.stack([planes[:3], planes[3:]], axis=1)  # (Z=3, T=2, Y, X)
    studio.session.set_model("bundled:default")  # (real nuclei: a mask that differs per plane)
    panel = _segment_panel(studio, qtbot)
    results = {}
    for name, data, axes in (("zt", z_first, "ZTYX"), ("tz", z_first.transpose(1, 0, 2, 3), "TZYX")):
        studio.viewer.add_image(np.ascontiguousarray(data), name=name, metadata={"axes": axes})
        panel.refresh_choices()
        assert panel.image_combo.currentText() == name and panel.axes_edit.text() == axes
        panel.output_combo.setCurrentText("mask")  # what each pixel is, whatever its id
        with qtbot.waitSignal(panel.finished, timeout=60_000):
            panel.run()
        results[name] = np.array(studio.viewer.layers[f"{name} mask"].data)
    assert results["zt"].shape == (3, 2, 48, 48) and 0 < results["zt"].mean() < 1
    np.testing.assert_array_equal(results["zt"], results["tz"].transpose(1, 0, 2, 3))


def test_a_series_run_counts_its_time_points_in_one_status_line(studio, qtbot, nuclei_crop, after_each_step):
    """Through a time series the status line counts the time points done; it no longer
    switches between Segmenting and Labelling at every one of them."""
    frames = nuclei_crop[0][3:6, :48, :48]  # (T, Y, X) = (3, 48, 48)
    studio.viewer.add_image(frames, name="movie", metadata={"axes": "TYX"})
    panel = _segment_panel(studio, qtbot)
    panel.scope_stack.setChecked(True)
    panel.tile_combo.setCurrentText("16")
    lines = []
    after_each_step(panel, lambda _step: lines.append(panel.status.text()))
    panel.run()
    lines.insert(0, panel.status.text())  # (the line Run shows; steps come in the event loop)
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        pass
    counted = [line for line in lines if "time points done" in line]
    assert lines[0] == "Segmenting movie with tiny: 0 of 3 time points done…"
    assert not [line for line in lines if line.startswith("Labelling")]
    done = [int(line.split(": ")[1].split(" of ")[0]) for line in counted]
    assert done == sorted(done) and done[0] == 0 and done[-1] == 2 and 1 in done
    labels = studio.host.current_labels()
    tracks = len(np.unique(labels[labels > 0]))  # (the time points linked: ids are tracks)
    assert f"in 3 time points, {tracks} track" in panel.status.text()


def done_line(panel) -> str:
    """The Done line without its hint of an unsure model (the random-weight test model is
    unsure of everything it finds: the line goes on with that hint)."""
    return panel.status.text().split(" The model was unsure")[0]
