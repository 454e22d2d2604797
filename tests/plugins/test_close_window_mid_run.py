"""Closing the napari window while a Segment run or a Train round is under way, then the
program ending (a script, or napari driven without its event loop: Qt's application never
quits), stops the work cleanly: no traceback from the worker thread ("Signal source has been
deleted" when PySide's exit teardown deleted the worker's signals under it), the engine's
generator closed before the interpreter went away, a round's checkpoint kept.

Each case runs a real viewer in a Python of its own (the exit is what is tested), with a
slow network (every forward pass sleeps) so that the work is surely mid-way at the exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import tifffile

pytestmark = [pytest.mark.qt, pytest.mark.slow]

SCRIPT = textwrap.dedent('''
    import atexit, inspect, json, sys, time
    from pathlib import Path

    import numpy as np
    import tifffile

    model_dir, image_path, labels_path, report = sys.argv[1:5]
    from unet_studio.models import network

    forward = network.SegmentationNetwork.forward

    def slow_forward(self, x):  # (a slow network: the work is mid-step when the program ends)
        time.sleep(0.2)
        return forward(self, x)

    network.SegmentationNetwork.forward = slow_forward
    T = time.monotonic()

    import napari
    from qtpy.QtWidgets import QApplication

    from unet_studio.models.training import FinetuneConfig
    from unet_studio.plugins.widgets import SegmentWidget, TrainWidget, session_for

    viewer = napari.Viewer()
    session = session_for(viewer)
    session.set_model(model_dir)
    viewer.add_image(tifffile.imread(image_path), name="nuclei", metadata={"axes": "ZYX"})
    session.show_labels(tifffile.imread(labels_path).astype(np.int32))
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    train, segment = TrainWidget(viewer), SegmentWidget(viewer)
    train.repredict_check.setChecked(False)
    segment.tile_combo.setCurrentText("32")
    viewer.window.add_dock_widget(train, name="Train")
    viewer.window.add_dock_widget(segment, name="Segment")
    print("viewer ready", round(time.monotonic() - T, 1), flush=True)
    generators, steps = {}, {"train": [], "segment": []}

    def at_exit():  # (registered before the work starts: runs after the app's own exit hooks)
        folder = train.round.checkpoint_dir
        Path(report).write_text(json.dumps({
            "generators": {name: inspect.getgeneratorstate(generator)
                           for name, generator in generators.items()},
            "checkpoints": sorted(p.name for p in Path(folder).glob("*.safetensors"))}))

    atexit.register(at_exit)
    train.start(config=FinetuneConfig(max_seconds=120.0, max_steps=100_000, val_every=2,
        batch_size=2, patch_size=32, augment=None, val_fraction=0.3, checkpoint_seconds=0.0,
        learning_rate=0.02))
    segment.run()
    generators.update(train=train.worker._gen, segment=segment.worker._gen)
    train.worker.yielded.connect(lambda p: hasattr(p, "step") and steps["train"].append(p))
    segment.worker.yielded.connect(steps["segment"].append)
    deadline = time.monotonic() + 120
    while min(map(len, steps.values())) < 3 and time.monotonic() < deadline:  # (mid-way)
        QApplication.processEvents()
        time.sleep(0.01)
    viewer.close()  # (a script's close: not asked about, see close_guard)
    print("closed mid-run after", {k: len(v) for k, v in steps.items()}, "steps",
          round(time.monotonic() - T, 1), flush=True)
''')


@pytest.mark.slow
def test_closing_the_viewer_mid_run_then_exiting_stops_the_work_cleanly(tmp_path, tiny_model_dir,
                                                                        nuclei_crop):
    """A Segment run and a Train round, both streaming steps, when the script closes its
    viewer and ends: both generators closed before the exit's teardown (their cleanup ran),
    the round's checkpoint kept (the close guard's promise for a stopped round), and no
    traceback from the worker threads."""
    image_path, labels_path = tmp_path / "image.tif", tmp_path / "labels.tif"
    tifffile.imwrite(image_path, nuclei_crop[0])
    tifffile.imwrite(labels_path, nuclei_crop[1])
    script, report = tmp_path / "close_mid_run.py", tmp_path / "report.json"
    script.write_text(SCRIPT)
    env = {**os.environ, "UNET_STUDIO_HOME": str(tmp_path / "home"), "QT_API": "pyside6"}
    done = subprocess.run([sys.executable, str(script), str(tiny_model_dir), str(image_path),
                           str(labels_path), str(report)],
                          capture_output=True, text=True, env=env, timeout=240)
    assert "closed mid-run" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0, done.stderr
    for sign in ("Traceback", "Error calling Python override", "Signal source has been deleted"):
        assert sign not in done.stderr, done.stderr
    outcome = json.loads(report.read_text())
    assert outcome["generators"] == {"train": "GEN_CLOSED", "segment": "GEN_CLOSED"}
    assert outcome["checkpoints"], (outcome, done.stdout)
