"""Segment runs that do not finish, in a real viewer: Cancel during the pass over the pixels
for their intensity range stops it between two blocks (the bar and the status show it
running), keeps no range and leaves the labels as they were; a cancelled run keeps the
network it loaded for the next run; a refused or cancelled first run on an image closes the
labels layer it made when that holds nothing, and the autosave project it started at Run
(to keep strokes made during it) unless the user did something in it meanwhile."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def passes(monkeypatch):
    """The passes over an image's pixels for its intensity range: one "started" per pass,
    then "finished" when it read every block."""
    from unet_studio.models import normalize

    seen, real = [], normalize.iter_exact_percentiles

    def watched(image, *args, **kwargs):
        seen.append("started")
        census = yield from real(image, *args, **kwargs)
        seen.append("finished")
        return census

    monkeypatch.setattr(normalize, "iter_exact_percentiles", watched)
    return seen


@pytest.fixture
def loads(studio, monkeypatch):
    """The networks the session's model library loads from now on."""
    library = studio.session.library
    loaded, real = [], library.load

    def counted(*args, **kwargs):
        loaded.append(real(*args, **kwargs))
        return loaded[-1]

    monkeypatch.setattr(library, "load", counted)
    return loaded


def _start(panel, after_each_step):
    """Run, recording what the run yields: (stage, done, total, the status line then)."""
    steps = []
    after_each_step(panel, lambda step: steps.append(
        (step.stage, step.done, step.total, panel.status.text())))
    panel.run()
    return steps


def _cancel(panel, qtbot):
    with qtbot.waitSignal(panel.cancelled, timeout=30_000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.worker is None, timeout=10_000)


def _layer_names(studio) -> list[str]:
    return [layer.name for layer in studio.viewer.layers]


def _autosave_folders(studio_home) -> list:
    """The autosave projects started in the user folder."""
    projects = studio_home / "projects"
    return sorted(projects.iterdir()) if projects.exists() else []


@pytest.mark.slow
def test_cancel_during_the_intensity_pass_stops_it_and_keeps_no_range(studio, qtbot, passes, run_segment, segment_panel_of, after_each_step):
    image = np.random.default_rng(0).gamma(2.0, 300.0, (4, 256, 256)).astype(np.uint16)
    studio.viewer.add_image(image, name="big", metadata={"axes": "ZYX"})
    before = np.arange(image.size, dtype=np.int32).reshape(image.shape) % 5
    studio.session.show_labels(before.copy())
    panel = segment_panel_of(studio)
    panel.intensity_block_pixels = 4  # 65536 steps: seconds, as a 20 GiB stack's 4 M blocks
    steps = _start(panel, after_each_step)
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=60_000)  # the bar moves
    _cancel(panel, qtbot)
    assert {stage for stage, *_ in steps} == {"intensity"}  # not one tile ran
    stage, done, total, _ = steps[-1]
    assert done < total  # stopped mid-pass
    assert steps[0][3] == "Reading the intensities of big…"  # (then "Cancelling…")
    assert passes == ["started"]
    np.testing.assert_array_equal(studio.host.current_labels(), before)
    assert panel.status.text() == "Cancelled; the labels were left as they were."
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    # No range was kept from the half pass: the next run takes a whole one, and segments.
    panel.intensity_block_pixels = None
    run_segment(panel)
    assert passes == ["started", "started", "finished"]
    assert panel.status.text().startswith("Done: big segmented with tiny")


@pytest.mark.slow
def test_a_cancelled_run_keeps_its_network_for_the_next_run(studio, qtbot, nuclei_crop, loads,
                                                            tiny_model_dir, run_segment, segment_panel_of, after_each_step):
    studio.viewer.add_image(nuclei_crop[0], name="nuclei", metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)
    panel.tile_combo.setCurrentText("16")  # hundreds of small tiles: time to cancel
    steps = _start(panel, after_each_step)
    qtbot.waitUntil(lambda: any(stage == "predict" for stage, *_ in steps), timeout=60_000)
    _cancel(panel, qtbot)
    assert len(loads) == 1
    panel.tile_combo.setCurrentText("auto")
    assert run_segment(panel).net is loads[0]  # not loaded again
    assert len(loads) == 1
    # The model retrained meanwhile (new weights): loaded again.
    weights = tiny_model_dir / "model.safetensors"
    stamp = weights.stat().st_mtime_ns + 10**9
    os.utime(weights, ns=(stamp, stamp))
    assert run_segment(panel).net is loads[1]


@pytest.mark.slow
def test_a_refused_run_leaves_no_labels_layer_or_project_behind(studio, qtbot, studio_home,
                                                                segment_panel_of):
    studio.viewer.add_image(np.full((3, 40, 50), np.nan, np.float32), name="blank",
                            metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)
    panel.run()
    assert studio.session.project is not None  # (started at Run)
    qtbot.waitUntil(lambda: panel.worker is None, timeout=60_000)
    assert panel.status.text().startswith("Prediction refused: blank has no finite pixel")
    assert _layer_names(studio) == ["blank"]
    assert studio.host.current_labels() is None
    assert studio.session.project is None and _autosave_folders(studio_home) == []
    # (no project models, and the library still lists the others: a KeyError emptied the
    # Models panel and the Train panel's versions)
    assert studio.session.library.folders["project"] is None
    assert studio.session.library.list()


@pytest.mark.slow
def test_a_cancelled_first_run_leaves_no_empty_labels_layer(studio, qtbot, nuclei_crop, run_segment,
                                                            segment_panel_of, studio_home, after_each_step):
    """The image had no labels: Cancel leaves it so (the tiles streamed meanwhile were
    provisional labels of an unfinished run, put back like any others)."""
    studio.viewer.add_image(nuclei_crop[0], name="nuclei", metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)
    panel.tile_combo.setCurrentText("16")
    steps = _start(panel, after_each_step)
    qtbot.waitUntil(lambda: any(stage == "predict" for stage, *_ in steps), timeout=60_000)
    assert _layer_names(studio) == ["nuclei", "nuclei labels"]  # streaming into it
    _cancel(panel, qtbot)
    assert _layer_names(studio) == ["nuclei"]
    assert panel.status.text() == "Cancelled; the labels were left as they were."
    assert studio.session.project is None and _autosave_folders(studio_home) == []
    # The next run makes its layer again and fills it.
    panel.tile_combo.setCurrentText("auto")
    run_segment(panel)
    assert _layer_names(studio) == ["nuclei", "nuclei labels"]
    assert studio.host.current_labels().any()


@pytest.mark.slow
def test_a_new_labels_layer_the_user_drew_in_during_the_run_stays(studio, qtbot, segment_panel_of,
                                                                  studio_home, after_each_step):
    """An object drawn into the new layer while the intensity pass runs (marked reviewed by
    the edit): Cancel keeps the layer and the object, and the project it is saved in."""
    from unet_studio.app.label_edit import edit_from_region

    image = np.random.default_rng(1).gamma(2.0, 300.0, (8, 512, 512)).astype(np.uint16)
    studio.viewer.add_image(image, name="big", metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)
    panel.intensity_block_pixels = 16
    steps = _start(panel, after_each_step)
    qtbot.waitUntil(lambda: len(steps) > 0, timeout=60_000)
    labels = studio.host.current_labels()
    drawn = (2, slice(100, 120), slice(200, 230))
    studio.session.apply_edit(edit_from_region(labels, drawn, 9, "draw"))
    _cancel(panel, qtbot)
    assert {stage for stage, *_ in steps} == {"intensity"}
    assert _layer_names(studio) == ["big", "big labels", "reviewed"]  # (its marks shown)
    kept = studio.host.current_labels()
    assert (kept[drawn] == 9).all() and np.count_nonzero(kept) == 20 * 30
    project = studio.session.project
    assert project is not None and _autosave_folders(studio_home) == [project.path]


@pytest.mark.slow
def test_a_first_run_refused_for_disk_space_leaves_no_project(studio, studio_home, nuclei_crop,
                                                             segment_panel_of, monkeypatch):
    from unet_studio.models.scratch import DiskSpaceError

    def no_space(shape):
        studio.session.ensure_reviewed()  # (as the real one may: the image is in the project)
        raise DiskSpaceError(28, "not enough free space for the labels")

    studio.viewer.add_image(nuclei_crop[0], name="nuclei", metadata={"axes": "ZYX"})
    studio.session.show_labels(np.zeros(nuclei_crop[0].shape, np.int32), save=False)
    monkeypatch.setattr(studio.session, "labels_for_prediction", no_space)
    panel = segment_panel_of(studio)
    panel.run()
    assert panel.status.text() == "Not started: not enough free space for the labels"
    assert studio.session.project is None and _autosave_folders(studio_home) == []
