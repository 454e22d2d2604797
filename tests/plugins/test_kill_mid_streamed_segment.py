"""A SIGKILL while a Segment run streams tiles into the labels the user corrects loses
nothing the user made: the autosave project, opened again, holds their corrections and
reviewed marks exactly, none of the killed run's provisional tiles as their labels, opens
without error (the dead process's lock taken over) and leaves no temporary file behind.

The app runs in a Python of its own (a real napari window under Xvfb, the tiny model made
slow: every forward pass sleeps, so that tiles stream for seconds, past the autosave's
delay). It reports each tile it shows, with how many pixels of the live labels the run
changed so far; the test kills it after a given number of tiles."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

pytestmark = [pytest.mark.qt, pytest.mark.slow]

APP = textwrap.dedent('''
    import json, sys, time
    from pathlib import Path

    import numpy as np
    import tifffile

    model_dir, image_path, labels_path, out = sys.argv[1:5]
    stroke_after = int(sys.argv[5])  # (tiles shown before a stroke during the run; 0: none)
    from unet_studio.app.qt.live_labels import LiveLabelsDestination

    write = LiveLabelsDestination.__setitem__

    def slow_write(self, key, value):  # (tiles stream for seconds: the kill comes mid-run)
        time.sleep(0.1)
        write(self, key, value)

    LiveLabelsDestination.__setitem__ = slow_write

    import napari
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    from unet_studio.app.corrections import delete_object_edit
    from unet_studio.plugins.widgets import SegmentWidget, session_for

    app = QApplication.instance() or QApplication([])

    def turns(n=10):
        for _ in range(n):
            app.processEvents()

    viewer = napari.Viewer()
    session = session_for(viewer)
    session.set_model(model_dir)
    viewer.add_image(tifffile.imread(image_path), name="nuclei", metadata={"axes": "ZYX"})
    session.show_labels(tifffile.imread(labels_path).astype(np.int32), protect=False)
    # The user's work: an object deleted, a brush stroke (napari's), a slice marked reviewed.
    session.apply_edit(delete_object_edit(session.host.current_labels(), 7))
    session.host.labels_layer().paint((6, 40, 40), 42)
    turns()  # (napari reports a stroke a turn later)
    session.ensure_reviewed().mark_region((slice(3, 4), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    turns()
    deadline = time.monotonic() + 1.5  # the autosave writes it on its own (1 s after)
    while time.monotonic() < deadline:
        turns(1)
        time.sleep(0.05)
    assert session.project.flush(30)  # (all of it written, on a busy machine too)
    live = session.host.current_labels()
    np.savez(Path(out) / "before.npz", labels=live, reviewed=session.reviewed.mask)
    (Path(out) / "project.txt").write_text(str(session.project.path))

    segment = SegmentWidget(viewer)
    segment.tile_combo.setCurrentText("32")
    viewer.window.add_dock_widget(segment, name="Segment")
    before, tiles = live.copy(), []
    shown = segment._on_progress  # (what the panel connects at Run: every step, from the first)

    def on_progress(step):
        shown(step)
        if getattr(step, "stage", None) == "predict" and step.region is not None:
            tiles.append(step)
            changed = int(np.count_nonzero(live != before))
            print(f"TILE {len(tiles)} {changed}", flush=True)
            if len(tiles) == stroke_after:  # a stroke in the plane the run wrote first
                session.host.labels_layer().paint((5, 20, 20), 77)
                QTimer.singleShot(300, note_stroke)  # (once napari reported it, marked)

    def note_stroke():  # the user's work now: their labels at their reviewed pixels
        marks = session.reviewed.mask.copy()
        np.savez(Path(out) / "stroke.npz", labels=np.where(marks, live, 0), reviewed=marks)
        print("STROKE", flush=True)

    segment._on_progress = on_progress
    segment.finished.connect(lambda *_: print("FINISHED", flush=True))  # (too late a kill)
    segment.run()
    assert segment._live is not None and segment._live.labels is live, "not streamed"
    print("RUNNING", flush=True)
    while True:  # the user watches the tiles arrive
        turns(1)
        time.sleep(0.01)
''')


def _start_app(tmp_path: Path, model_dir: Path, nuclei_crop,
               stroke_after: int) -> tuple[subprocess.Popen, Path]:
    image_path, labels_path = tmp_path / "image.tif", tmp_path / "labels.tif"
    tifffile.imwrite(image_path, nuclei_crop[0])
    tifffile.imwrite(labels_path, nuclei_crop[1])
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    env = {**os.environ, "UNET_STUDIO_HOME": str(tmp_path / "home"), "QT_API": "pyside6",
           # (the run's backup of the labels goes to a working file, not RAM: one a kill
           # would leave behind is seen here)
           "UNET_STUDIO_SCRATCH_DIR": str(scratch), "UNET_STUDIO_SCRATCH_RAM_MB": "0.05"}
    app = subprocess.Popen([sys.executable, "-c", APP, str(model_dir), str(image_path),
                            str(labels_path), str(out), str(stroke_after)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return app, out


def _kill_after_tiles(app: subprocess.Popen, tiles: int, stroke: bool) -> tuple[int, int]:
    """Read the app's tile lines until ``tiles`` were shown (and with ``stroke``, until
    2 s after the stroke during the run: past the autosave's delay), then SIGKILL it.
    Returns the tiles shown and the pixels the run had changed in the live labels by then."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in app.stdout], daemon=True).start()
    seen, changed, stroked, deadline = 0, 0, None, time.monotonic() + 180
    try:
        while time.monotonic() < deadline and app.poll() is None:
            if seen >= tiles and (not stroke or stroked and time.monotonic() > stroked + 2):
                break
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line.startswith("TILE "):
                seen, changed = map(int, line.split()[1:])
            elif line.startswith("STROKE"):
                stroked = time.monotonic()
            elif line.startswith("FINISHED"):
                raise AssertionError(f"the run finished after {seen} tiles, before the kill")
    finally:
        app.send_signal(signal.SIGKILL)  # no clean shutdown, no flush, no atexit
        app.wait(20)
    return seen, changed


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


class ProvisionalTilesSaved(AssertionError):
    """Pixels the killed run streamed were saved as the user's (unreviewed) labels."""


# (tiles shown before the kill, before a brush stroke during the run: 0 for none)
KILLS = [(1, 0), (20, 0), (3, 3)]


@pytest.mark.slow
@pytest.mark.parametrize(("tiles", "stroke_after"), KILLS)
def test_kill_mid_streamed_segment_keeps_the_users_work(tmp_path, tiny_model_dir, nuclei_crop,
                                                        tiles, stroke_after):
    from unet_studio.app.project import Project
    from unet_studio.app.project_lock import LOCK_FILE
    from unet_studio.models.files import TEMP_PREFIX

    app, out = _start_app(tmp_path, tiny_model_dir, nuclei_crop, stroke_after)
    seen, changed = _kill_after_tiles(app, tiles, stroke=stroke_after > 0)
    stderr = app.stderr.read()
    assert app.returncode == -signal.SIGKILL, stderr
    assert seen >= tiles, f"only {seen} tiles streamed before it stopped:\n{stderr}"
    assert changed > 0, "the run had streamed no labels into the layer"  # (else nothing tested)
    print(f"killed after {seen} tiles, {changed} pixels of the labels streamed over")

    before = np.load(out / "before.npz")
    user_labels, user_reviewed = before["labels"], before["reviewed"]
    original = nuclei_crop[1].astype(np.int32)
    assert not (user_labels == 7).any() and (user_labels[6] == 42).any()  # (their edits)
    assert user_reviewed[3].all() and user_reviewed[6, 40, 40]  # (a slice, the stroke)
    assert (user_labels != original).any()
    if stroke_after:  # the stroke made during the run is the user's work too
        stroke = np.load(out / "stroke.npz")
        assert stroke["reviewed"][5, 20, 20] and stroke["labels"][5, 20, 20] == 77
        user_reviewed = stroke["reviewed"]
        user_labels = np.where(user_reviewed, stroke["labels"], user_labels)

    folder = Path((out / "project.txt").read_text())
    assert json.loads((folder / LOCK_FILE).read_text())["pid"] == app.pid  # (left by the kill)
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # (one autosave project)
    project = Project.open(folder)
    try:
        assert project.read_only is None, project.read_only  # the dead process's lock: taken over
        assert all("was not closed properly" in p for p in project.problems), project.problems
        image_id = project.images[0].id
        saved = project.labels(image_id)
        assert saved is not None and saved.shape == user_labels.shape
        np.testing.assert_array_equal(project.reviewed(image_id).mask, user_reviewed)
        np.testing.assert_array_equal(saved[user_reviewed], user_labels[user_reviewed])
    finally:
        project.close()
    leftovers = [name for name in _files(folder)
                 if Path(name).name.startswith(TEMP_PREFIX) or "journal" in Path(name).parts]
    assert not leftovers, leftovers
    assert _files(tmp_path / "scratch") == []  # (the run's working files went with it)
    provisional = saved != user_labels  # (outside the reviewed pixels, checked above)
    if provisional.any():
        raise ProvisionalTilesSaved(f"{int(provisional.sum())} pixels of the killed run's tiles "
                                    f"saved as the user's labels (after {seen} tiles)")
