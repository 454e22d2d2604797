"""Fixtures for GUI tests in a real napari viewer (run under Xvfb, see README)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tifffile

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def studio_home(tmp_path, monkeypatch) -> Path:
    """A private user folder: settings, user models, autosave projects."""
    home = tmp_path / "home"
    monkeypatch.setenv("UNET_STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny 2D U-Net (random weights, 3 outputs) saved as a model folder."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    folder = tmp_path_factory.mktemp("models") / "tiny"
    return Path(save_model(net, folder, metadata={"name": "tiny", "date": "2026-01-01"}))


@pytest.fixture(scope="session")
def nuclei_crop() -> tuple[np.ndarray, np.ndarray]:
    """(image, labels), both (Z, Y, X) = (12, 96, 96) uint16, from tests/data/gui_*."""
    image = tifffile.imread(DATA / "gui_nuclei3d_img.tif")
    labels = tifffile.imread(DATA / "gui_nuclei3d_labels.tif").astype(np.int32)
    return image, labels


@dataclass
class Studio:
    viewer: object
    session: object

    @property
    def host(self):
        return self.session.host


@pytest.fixture
def studio(make_napari_viewer, studio_home, tiny_model_dir) -> Studio:
    """A napari viewer with a unet-studio session using the tiny model."""
    from unet_studio.plugins.widgets import session_for

    viewer = make_napari_viewer()
    session = session_for(viewer)
    session.set_model(str(tiny_model_dir))
    yield Studio(viewer, session)
    session.close_project()


@pytest.fixture
def corrected(studio, nuclei_crop) -> Studio:
    """The studio with the nuclei crop and its labels shown as the current labels."""
    image, labels = nuclei_crop
    studio.viewer.add_image(image, name="nuclei", metadata={"axes": "ZYX"}, scale=(0.29, 0.26, 0.26))
    studio.session.show_labels(labels.copy())
    return studio


@pytest.fixture
def models_panel(studio, qtbot):
    """A Models panel on the studio's session."""
    from unet_studio.app.qt.models_panel import ModelsPanel

    widget = ModelsPanel(studio.session)
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def saved_labels():
    """``read(session)``: the labels the session's project saved for its first image, read
    back from disk by a second opening of the project (after its autosave is flushed)."""

    def read(session) -> np.ndarray:
        project = session.project
        assert project.flush(10)
        reopened = type(project).open(project.path)
        try:
            return reopened.labels(reopened.images[0].id).copy()
        finally:
            reopened.close()

    return read


@pytest.fixture
def fail_model_writes(monkeypatch):
    """Call it to make writing a model's weights fail as on a full disk (checkpoints still
    write; each refused path is appended to ``calls``); it returns the real writer, to put
    back when the disk has room again."""
    import errno

    import safetensors.torch

    real = safetensors.torch.save_file

    from safetensors import SafetensorError

    def arm(calls: list | None = None):
        def save_file(tensors, path, metadata=None):
            if "models" in str(path):
                if calls is not None:
                    calls.append(path)
                # (what safetensors raises on a full disk: no OSError)
                raise SafetensorError("Error while serializing: I/O error: No space left on "
                                      f"device (os error {errno.ENOSPC})")
            return real(tensors, path, metadata=metadata)

        monkeypatch.setattr(safetensors.torch, "save_file", save_file)
        return real

    return arm


@pytest.fixture
def refuse_checkpoints(monkeypatch):
    """Writing a checkpoint fails as on a full disk (its temporary file); each refused path
    is listed."""
    import errno
    import pathlib

    from unet_studio.models.files import TEMP_PREFIX

    real_write = pathlib.Path.write_bytes
    refused = []

    def write_bytes(self, data):
        if self.name.startswith(TEMP_PREFIX) and self.suffix == ".safetensors":
            refused.append(self)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)
    return refused


@pytest.fixture
def train(corrected, qtbot):
    """A Train panel (not docked) on ``corrected``, slices 3-8 marked reviewed, not
    segmenting again after Accept."""
    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = TrainPanel(session)
    panel.repredict_check.setChecked(False)
    qtbot.addWidget(panel)
    return panel


EM_CLASSES = ("background", "mitochondria", "membrane")


@pytest.fixture
def em_model(tmp_path):
    """A tiny 2D semantic model of EM_CLASSES (its class map: value = class index), saved
    as a model folder named "em"."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)
    return save_model(net, tmp_path / "em", task=TaskSpec(kind="semantic", class_names=EM_CLASSES),
                      metadata={"name": "em"})


@pytest.fixture
def passes(monkeypatch):
    """The passes over an image's pixels for its intensity range, as (thread, shape)."""
    from unet_studio.models import normalize

    seen, real = [], normalize.iter_exact_percentiles

    def counted(image, *args, **kwargs):
        seen.append((threading.current_thread(), tuple(image.shape)))
        return (yield from real(image, *args, **kwargs))

    monkeypatch.setattr(normalize, "iter_exact_percentiles", counted)
    return seen


@pytest.fixture
def no_verdict_margins(monkeypatch):
    """Any held-out gain counts (``ranking.MARGINS`` at zero): a few steps of a tiny random
    network lower its held-out loss by ~0.04%, a tie under the real margins (2% of the loss:
    tested in tests/models/test_verdict_margins.py), and a tied round makes no model. The
    panel tests using this are about what follows a round that made one."""
    from unet_studio.models.training import ranking

    zero = {key: (0.0, 0.0, higher) for key, (_, _, higher) in ranking.MARGINS.items()}
    monkeypatch.setattr(ranking, "MARGINS", zero)


@pytest.fixture
def quick_round(no_verdict_margins):
    """``quick_round(**overrides)``: the FinetuneConfig of a round that takes seconds on a
    tiny model (3 steps of 2 patches of 32 px, scored once), with ``overrides`` applied.
    Its learning rate lets the tiny random network beat its starting held-out loss in those
    few steps (at the default rate it did not, and a round that keeps its starting weights
    makes no model to accept); the verdict's margins are off (``no_verdict_margins``)."""
    from unet_studio.models.training import FinetuneConfig

    def config(**overrides):
        options = dict(max_seconds=None, max_steps=3, val_every=3, batch_size=2, patch_size=32,
                       augment=None, val_fraction=0.3, checkpoint_seconds=0.0,
                       learning_rate=0.02)
        return FinetuneConfig(**{**options, **overrides})

    return config


@pytest.fixture
def segment_panel_of(qtbot):
    """``segment_panel_of(studio)``: a Segment panel on the studio's session."""
    from unet_studio.app.qt.segment_panel import SegmentPanel

    def make(studio):
        panel = SegmentPanel(studio.session)
        qtbot.addWidget(panel)
        return panel

    return make


@pytest.fixture
def run_segment(qtbot):
    """``run_segment(panel, output="labels")``: Run with that output type and wait for the
    run to finish; returns its result."""

    def run(panel, output: str = "labels"):
        panel.output_combo.setCurrentText(output)
        with qtbot.waitSignal(panel.finished, timeout=60_000) as blocker:
            panel.run()
        return blocker.args[0]

    return run


@pytest.fixture
def after_each_step(monkeypatch):
    """``after_each_step(panel, then)``: call ``then(step)`` after ``panel`` has shown each
    step its next run reports, from the first one. Connecting to ``panel.worker.yielded``
    once the run started missed the steps sent before (a queued signal reaches only the
    slots connected when it is sent): a fast first step was lost on a busy CI machine."""

    def watch(panel, then) -> None:
        shown = panel._on_progress  # (what the panel connects at Run)
        monkeypatch.setattr(panel, "_on_progress", lambda step: (shown(step), then(step)))

    return watch


@pytest.fixture
def stop_keep_after(qtbot):
    """``stop_keep_after(panel, postprocessed)``: Run, and press "Stop, keep done" once
    ``postprocessed`` time points were labelled; returns the "postprocess" steps that came,
    as (time point, linked). The worker waits at that step until the press is made (a loaded
    machine's GUI thread lags behind the worker: it finished the whole run before the press
    once). It waits as it reports the step, after the step's time point was noted done: a
    wait in the noting (``DoneTimePoints.note``, before the report) held back the very step
    the press waits for, and the run went on only after the wait's 30 s."""
    import threading

    from qtpy.QtCore import Qt

    def stop(panel, postprocessed: int) -> list:
        done, pressed, reached = [], threading.Event(), [0]

        def hold(step):  # (the worker thread, as it reports the step)
            if step.stage == "postprocess":
                reached[0] += 1
                if reached[0] == postprocessed:
                    pressed.wait(30)

        def seen(step):  # (the GUI thread)
            if step.stage == "postprocess":
                done.append((step.region[0].start, step.linked))
                if len(done) == postprocessed:
                    panel.stop_keep_button.click()
                    pressed.set()

        panel.run()
        assert panel.stop_keep_button.isEnabled() and panel.cancel_button.isEnabled()
        # (in this order: Qt posts the queued call to ``seen`` before it runs ``hold``,
        # which waits for it)
        panel.worker.yielded.connect(seen)
        panel.worker.yielded.connect(hold, Qt.ConnectionType.DirectConnection)
        with qtbot.waitSignal(panel.cancelled, timeout=60_000):
            pass
        qtbot.waitUntil(lambda: panel.worker is None, timeout=10_000)
        assert not panel.stop_keep_button.isEnabled()
        return done

    return stop


@pytest.fixture
def told(studio, monkeypatch) -> list[tuple[str, str]]:
    """The (level, message) of every notification."""
    messages = []
    monkeypatch.setattr(studio.host, "notify",
                        lambda message, level="info", **_: messages.append((level, message)))
    return messages


@pytest.fixture
def nuclei_file_corrected(studio, nuclei_crop, tmp_path) -> Path:
    """nuclei.tif (the nuclei crop as an ImageJ ZYX stack) opened in the studio with our
    reader, its labels shown and nucleus 7 deleted: an edit, so an autosave project holds
    the file's corrections (``studio.session.project``). Returns the file."""
    import tifffile

    from unet_studio.app.corrections import delete_object_edit

    path = tmp_path / "nuclei.tif"
    tifffile.imwrite(path, nuclei_crop[0], imagej=True, metadata={"axes": "ZYX"})
    studio.viewer.open(str(path), plugin="unet-studio")
    session = studio.session
    session.show_labels(nuclei_crop[1].copy(), protect=False)  # (starts the autosave project)
    session.apply_edit(delete_object_edit(session.host.current_labels(), 7))
    return path
